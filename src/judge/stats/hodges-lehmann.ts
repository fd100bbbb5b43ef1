/**
 * Hodges-Lehmann estimate of the shift x - y and its distribution-free confidence interval, on raw
 * samples or on binned histograms, without ever building the n_x n_y pairwise differences.
 *
 * Definition: D_(1) <= ... <= D_(M), M = n_x n_y, the ordered differences x_i - y_j.
 *   Estimate: median of the D (mean of D_(M/2) and D_(M/2+1) when M is even).
 *   Interval at confidence 1 - alpha: [D_(k), D_(M+1-k)], where k - 1 is the largest u with
 *   P(U <= u) <= alpha/2 under the null distribution of the Mann-Whitney U; exact distribution for
 *   samples without ties and fewer than 50 per arm, else the normal approximation with continuity and
 *   tie correction, k = floor(M/2 - 1/2 - z_{1-alpha/2} sigma) + 1. Coverage is 1 - 2 P(U <= k-1).
 * Reference: Hodges & Lehmann, Ann. Math. Statist. 34 (1963) 598-611; Bauer, JASA 67 (1972) 687-690;
 *   Hollander, Wolfe & Chicken, Nonparametric Statistical Methods, 3rd ed., section 4.3; STATS.md F4, F5.
 * Selection: D_(k) is the smallest d with #{D <= d} >= k. Counting #{x_i - y_j <= d} on sorted samples
 *   is one two-pointer pass, O(n_x + n_y); a bracket on d narrows (interpolation on the count, else a
 *   random difference inside the bracket as pivot) until at most (n_x + n_y)/16 differences remain,
 *   which are then listed and sorted (Monahan, ACM TOMS 10 (1984) 265-270).
 * Complexity: O((n_x + n_y) log(n_x + n_y)) for the sort, then O((n_x + n_y) * steps) per order
 *   statistic, steps = O(log(n_x n_y)) expected (about 10 on 10^6 vs 10^6 samples). Memory O(n_x + n_y).
 * Throws: RangeError for an empty sample, a non-finite value, a confidence outside (0, 1), or
 *   mismatched bucket arrays.
 * Example: hodgesLehmann([19,22,16,29,24], [20,11,17,12]) ->
 *   { estimate: 7, ci: [-1, 13], coverage: 0.9682539682539683, method: 'exact', ... }
 */
import { normalCdf, normalQuantile } from './normal.ts';
import {
  EXACT_MAX_PAIRS,
  exactUDistribution,
  rankSummaryBinned,
  rankSummarySorted,
  toSortedSample,
  uSigma,
} from './mann-whitney.ts';
import type { PValueMethod } from './mann-whitney.ts';

export interface HodgesLehmannOptions {
  /** Two-sided confidence of the interval. Default 0.95. */
  confidence?: number;
  /** Default 'auto': exact when both samples are below 50 and have no ties. */
  method?: 'auto' | PValueMethod;
}

export interface HodgesLehmannResult {
  /** Median of the pairwise differences x - y. */
  estimate: number;
  /** [D_(k), D_(M+1-k)]; an end is infinite when the samples are too small for the requested confidence. */
  ci: [number, number];
  confidence: number;
  /** Achieved coverage of `ci` (>= confidence for the exact method). */
  coverage: number;
  method: PValueMethod;
  /** 1-based rank k of the lower end among the M differences. */
  rankLower: number;
  nX: number;
  nY: number;
}

/** Sorted values with optional integer weights (bucket counts); weights absent means all 1. */
interface WeightedSorted {
  values: Float64Array;
  weights: Float64Array | null;
  total: number;
}

export function hodgesLehmann(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  options: HodgesLehmannOptions = {},
): HodgesLehmannResult {
  return hodgesLehmannSorted(toSortedSample(x, 'x'), toSortedSample(y, 'y'), options);
}

/** As `hodgesLehmann` on samples already sorted ascending. */
export function hodgesLehmannSorted(
  xs: Float64Array,
  ys: Float64Array,
  options: HodgesLehmannOptions = {},
): HodgesLehmannResult {
  const { tieTerm } = rankSummarySorted(xs, ys);
  return estimate(
    { values: xs, weights: null, total: xs.length },
    { values: ys, weights: null, total: ys.length },
    tieTerm,
    options,
  );
}

/**
 * Hodges-Lehmann on two histograms over the same buckets: each observation sits at its bucket's
 * representative value (`values[i]`, ascending, e.g. the bucket's upper bound or midpoint).
 */
export function hodgesLehmannBinned(
  values: ArrayLike<number>,
  xCounts: ArrayLike<number>,
  yCounts: ArrayLike<number>,
  options: HodgesLehmannOptions = {},
): HodgesLehmannResult {
  if (values.length !== xCounts.length || values.length !== yCounts.length) {
    throw new RangeError(
      `values, x counts and y counts must have the same length, got ${values.length}, ${xCounts.length}, ${yCounts.length}`,
    );
  }
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new RangeError(`values[${i}] must be a finite number, got ${values[i]}`);
    if (i > 0 && !(values[i] > values[i - 1]))
      throw new RangeError(`values must be strictly ascending (values[${i}] = ${values[i]})`);
  }
  const { tieTerm } = rankSummaryBinned(xCounts, yCounts);
  return estimate(compact(values, xCounts), compact(values, yCounts), tieTerm, { ...options, method: 'asymptotic' });
}

function compact(values: ArrayLike<number>, counts: ArrayLike<number>): WeightedSorted {
  let k = 0;
  for (let i = 0; i < counts.length; i++) if (counts[i] > 0) k++;
  const v = new Float64Array(k);
  const w = new Float64Array(k);
  let total = 0;
  k = 0;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] > 0) {
      v[k] = values[i];
      w[k] = counts[i];
      total += counts[i];
      k++;
    }
  }
  return { values: v, weights: w, total };
}

function estimate(
  x: WeightedSorted,
  y: WeightedSorted,
  tieTerm: number,
  options: HodgesLehmannOptions,
): HodgesLehmannResult {
  const confidence = options.confidence ?? 0.95;
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  const nX = x.total;
  const nY = y.total;
  if (nX === 0) throw new RangeError('x must have at least one observation');
  if (nY === 0) throw new RangeError('y must have at least one observation');
  const pairs = nX * nY;
  const ties = tieTerm > 0;
  const requested = options.method ?? 'auto';
  let method: PValueMethod = requested === 'auto' ? (nX < 50 && nY < 50 && !ties ? 'exact' : 'asymptotic') : requested;
  if (method === 'exact' && (ties || pairs > EXACT_MAX_PAIRS)) method = 'asymptotic';
  const alpha = 1 - confidence;

  // Rank of the lower end, and the coverage it achieves.
  let rankLower: number;
  let coverage: number;
  if (method === 'exact') {
    const dist = exactUDistribution(nX, nY);
    let cumulative = 0;
    let u = -1; // largest u with P(U <= u) <= alpha/2
    while (u + 1 < dist.length && cumulative + dist[u + 1] <= alpha / 2 + 1e-12) {
      cumulative += dist[u + 1];
      u++;
    }
    rankLower = u + 1;
    coverage = 1 - 2 * cumulative;
  } else {
    const sigma = uSigma(nX, nY, tieTerm);
    const z = normalQuantile(1 - alpha / 2);
    rankLower = Math.floor(pairs / 2 - 0.5 - z * sigma) + 1;
    coverage = sigma > 0 ? 1 - 2 * normalCdf((rankLower - 1 + 0.5 - pairs / 2) / sigma) : 1;
  }

  const selector = new DifferenceSelector(x, y);
  const half = Math.floor(pairs / 2);
  let center: number;
  let lowMid: number;
  if (pairs % 2 === 1) {
    lowMid = selector.kth(half + 1);
    center = lowMid;
  } else {
    lowMid = selector.kth(half);
    center = (lowMid + selector.next(lowMid, half)) / 2;
  }
  let ci: [number, number];
  if (rankLower < 1) {
    ci = [-Infinity, Infinity];
    coverage = 1;
  } else {
    // The interval's ends lie on either side of the middle difference: start their searches there.
    ci = [selector.kth(rankLower, { hi: lowMid }), selector.kth(pairs + 1 - rankLower, { lo: lowMid })];
  }
  return { estimate: center, ci, confidence, coverage, method, rankLower, nX, nY };
}

/** Order statistics of the differences x_i - y_j (weighted), found by counting. */
export class DifferenceSelector {
  private readonly xs: Float64Array;
  private readonly ys: Float64Array;
  private readonly wx: Float64Array | null;
  /** ySuffix[j] = total weight of y[j..]. */
  private readonly ySuffix: Float64Array | null;

  /** Total weight of all differences. */
  private readonly total: number;

  constructor(x: WeightedSorted, y: WeightedSorted) {
    this.total = x.total * y.total;
    this.xs = x.values;
    this.ys = y.values;
    this.wx = x.weights;
    if (x.weights || y.weights) {
      const wy = y.weights ?? new Float64Array(y.values.length).fill(1);
      this.wx = x.weights ?? new Float64Array(x.values.length).fill(1);
      const suffix = new Float64Array(wy.length + 1);
      for (let j = wy.length - 1; j >= 0; j--) suffix[j] = suffix[j + 1] + wy[j];
      this.ySuffix = suffix;
    } else {
      this.ySuffix = null;
    }
  }

  /** Number (weight) of differences <= d. */
  countAtMost(d: number): number {
    const { xs, ys } = this;
    const nY = ys.length;
    let p = 0;
    let count = 0;
    if (this.ySuffix === null) {
      for (let i = 0; i < xs.length; i++) {
        const xi = xs[i];
        while (p < nY && xi - ys[p] > d) p++;
        count += nY - p;
      }
    } else {
      const wx = this.wx as Float64Array;
      const suffix = this.ySuffix;
      for (let i = 0; i < xs.length; i++) {
        const xi = xs[i];
        while (p < nY && xi - ys[p] > d) p++;
        count += wx[i] * suffix[p];
      }
    }
    return count;
  }

  /**
   * One counting pass at d: the number (weight) of differences <= d, the largest difference <= d and
   * the smallest difference > d (so the bracket can snap to values that occur).
   */
  probe(d: number): { count: number; maxAtMost: number; minAbove: number } {
    const { xs, ys } = this;
    const nY = ys.length;
    const wx = this.wx;
    const suffix = this.ySuffix;
    let p = 0;
    let count = 0;
    let maxAtMost = -Infinity;
    let minAbove = Infinity;
    for (let i = 0; i < xs.length; i++) {
      const xi = xs[i];
      while (p < nY && xi - ys[p] > d) p++;
      if (suffix === null) count += nY - p;
      else count += (wx as Float64Array)[i] * suffix[p];
      if (p < nY) {
        const atMost = xi - ys[p];
        if (atMost > maxAtMost) maxAtMost = atMost;
      }
      if (p > 0) {
        const above = xi - ys[p - 1];
        if (above < minAbove) minAbove = above;
      }
    }
    return { count, maxAtMost, minAbove };
  }

  /**
   * What `probe` returns at the smallest difference x_0 - y_last, from the ties at the ends alone:
   * its count is (weight of x_0) x (weight of y_last); the next difference up moves one end inward.
   */
  private smallestDifferences(): { count: number; maxAtMost: number; minAbove: number } {
    const { xs, ys } = this;
    const last = ys.length - 1;
    const min = xs[0] - ys[last];
    const weightX = this.ySuffix === null ? 1 : (this.wx as Float64Array)[0];
    const weightY = this.ySuffix === null ? 1 : this.ySuffix[last];
    let minAbove = Infinity;
    if (xs.length > 1) minAbove = Math.min(minAbove, xs[1] - ys[last]);
    if (last > 0) minAbove = Math.min(minAbove, xs[0] - ys[last - 1]);
    if (minAbove === min) return this.probe(min); // values tied in a raw sample: count them properly
    return { count: weightX * weightY, maxAtMost: min, minAbove };
  }

  /** The k-th smallest difference (1-based, counting weights). */
  kth(k: number, bracket: { lo?: number; hi?: number } = {}): number {
    const { xs, ys } = this;
    // Optional bracket from earlier selections (any lo, and any hi with at least k differences <= hi).
    let lo = bracket.lo ?? xs[0] - ys[ys.length - 1];
    const first = bracket.lo === undefined ? this.smallestDifferences() : this.probe(lo);
    if (first.count >= k) return bracket.lo === undefined ? lo : this.kth(k, { hi: bracket.hi });
    let countLo = first.count;
    let nextAboveLo = first.minAbove;
    let hi = bracket.hi ?? xs[xs.length - 1] - ys[0];
    let countHi = bracket.hi === undefined ? this.total : this.countAtMost(hi);
    if (countHi < k) return this.kth(k, { lo: bracket.lo });
    // Floyd-Rivest start: quantiles of a random sample of differences bracket D_(k) tightly with high
    // probability; two probes check them, and a wrong guess only costs those probes.
    const guess = this.sampleBracket(k);
    if (guess !== null) {
      const [guessLo, guessHi] = guess;
      if (guessLo > lo && guessLo < hi) {
        const at = this.probe(guessLo);
        if (at.count < k) {
          lo = guessLo;
          countLo = at.count;
          nextAboveLo = at.minAbove;
        } else {
          hi = at.maxAtMost;
          countHi = at.count;
        }
      }
      if (guessHi > lo && guessHi < hi) {
        const at = this.probe(guessHi);
        if (at.count >= k) {
          hi = at.maxAtMost;
          countHi = at.count;
        } else {
          lo = guessHi;
          countLo = at.count;
          nextAboveLo = at.minAbove;
        }
      }
    }
    // Few enough to list and sort cheaply, yet reached in a handful of counting passes.
    const listLimit = Math.max(4096, (xs.length + ys.length) >> 4);
    let movedHi = true;
    let previousPairs = Infinity;
    const random = lcg(k);
    // Invariant: countAtMost(lo) < k <= countAtMost(hi), hi is a difference that occurs, and
    // nextAboveLo is the smallest difference above lo. The pivot interpolates the count linearly between
    // the bracket ends (the differences' distribution is smooth for continuous data), aiming a quarter
    // of the list limit past k on alternating sides so both ends close in. When that fails to cut a quarter of the
    // pairs inside (ties, or clusters of nearly equal differences from rounded timers), the pivot is a
    // difference drawn at random from the bracket, which halves it in expectation whatever the values
    // (Monahan's selection). The result does not depend on the draws.
    for (;;) {
      if (nextAboveLo >= hi) return hi; // every difference in (lo, hi] equals hi
      const pairs = this.ySuffix === null ? countHi - countLo : this.distinctPairsBetween(lo, hi);
      if (pairs <= listLimit) return this.listAndPick(lo, hi, k - countLo, pairs);
      let pivot = NaN;
      if (pairs <= previousPairs * 0.75) {
        const target = movedHi ? k - listLimit / 4 : k + listLimit / 4;
        pivot = lo + ((hi - lo) * (target - countLo)) / (countHi - countLo);
      }
      if (!(pivot > lo && pivot < hi)) pivot = this.randomDifferenceBetween(lo, hi, pairs, random);
      // Drawing hi itself (a large tie at the top of the bracket) would not move it: probe just below.
      if (pivot >= hi) pivot = nextDown(hi);
      previousPairs = pairs;
      const at = this.probe(pivot);
      if (at.count >= k) {
        hi = at.maxAtMost;
        countHi = at.count;
        movedHi = true;
      } else {
        lo = pivot;
        countLo = at.count;
        nextAboveLo = at.minAbove;
        movedHi = false;
      }
    }
  }

  private sample: Float64Array | null = null;

  /**
   * Sample quantiles around rank k (unweighted samples only, and only when the pairs are many):
   * p = k/M, p -/+ 4 sd of a sample quantile, from 65,536 random pairs.
   */
  private sampleBracket(k: number): [number, number] | null {
    const { xs, ys } = this;
    const pairs = xs.length * ys.length;
    if (this.ySuffix !== null || pairs < 1 << 24) return null;
    const size = 1 << 16;
    if (this.sample === null) {
      const random = lcg(20_240_611);
      const sample = new Float64Array(size);
      for (let s = 0; s < size; s++)
        sample[s] = xs[Math.floor(random() * xs.length)] - ys[Math.floor(random() * ys.length)];
      this.sample = sample.sort();
    }
    const p = k / pairs;
    const spread = 4 * Math.sqrt((p * (1 - p)) / size) + 1 / size;
    const at = (q: number) => this.sample![Math.min(size - 1, Math.max(0, Math.floor(q * size)))];
    return [p - spread > 0 ? at(p - spread) : -Infinity, p + spread < 1 ? at(p + spread) : Infinity];
  }

  /** A difference x_i - y_j in (lo, hi], uniform over the `pairs` index pairs there. */
  private randomDifferenceBetween(lo: number, hi: number, pairs: number, random: () => number): number {
    const { xs, ys } = this;
    let r = Math.floor(random() * pairs);
    let pHi = 0;
    let pLo = 0;
    for (let i = 0; i < xs.length; i++) {
      const xi = xs[i];
      while (pHi < ys.length && xi - ys[pHi] > hi) pHi++;
      while (pLo < ys.length && xi - ys[pLo] > lo) pLo++;
      const size = pLo - pHi;
      if (r < size) return xi - ys[pHi + r];
      r -= size;
    }
    return hi;
  }

  /** The (k+1)-th smallest difference given the k-th, d: d itself if tied, else the least difference above d. */
  next(d: number, k: number): number {
    if (this.countAtMost(d) >= k + 1) return d;
    const { xs, ys } = this;
    let p = 0;
    let best = Infinity;
    for (let i = 0; i < xs.length; i++) {
      const xi = xs[i];
      while (p < ys.length && xi - ys[p] > d) p++;
      // ys[p-1] is the largest y with xi - y > d: the smallest difference above d for this xi.
      if (p > 0) best = Math.min(best, xi - ys[p - 1]);
    }
    return best;
  }

  /** Number of (x, y) index pairs (unweighted) with lo < x - y <= hi. */
  private distinctPairsBetween(lo: number, hi: number): number {
    const { xs, ys } = this;
    let pHi = 0;
    let pLo = 0;
    let n = 0;
    for (let i = 0; i < xs.length; i++) {
      const xi = xs[i];
      while (pHi < ys.length && xi - ys[pHi] > hi) pHi++;
      while (pLo < ys.length && xi - ys[pLo] > lo) pLo++;
      n += pLo - pHi;
    }
    return n;
  }

  /** Lists the differences in (lo, hi] and returns the r-th smallest (1-based, weighted). */
  private listAndPick(lo: number, hi: number, r: number, pairs: number): number {
    const { xs, ys } = this;
    const diffs = new Float64Array(pairs);
    const owners = this.ySuffix === null ? null : new Float64Array(diffs.length);
    let pHi = 0;
    let pLo = 0;
    let n = 0;
    for (let i = 0; i < xs.length; i++) {
      const xi = xs[i];
      while (pHi < ys.length && xi - ys[pHi] > hi) pHi++;
      while (pLo < ys.length && xi - ys[pLo] > lo) pLo++;
      for (let j = pHi; j < pLo; j++) {
        if (owners !== null)
          owners[n] =
            (this.wx as Float64Array)[i] * ((this.ySuffix as Float64Array)[j] - (this.ySuffix as Float64Array)[j + 1]);
        diffs[n++] = xi - ys[j];
      }
    }
    if (owners === null) {
      diffs.sort();
      return diffs[r - 1];
    }
    const order = Array.from(diffs.keys()).sort((a, b) => diffs[a] - diffs[b]);
    let seen = 0;
    for (const idx of order) {
      seen += owners[idx];
      if (seen >= r) return diffs[idx];
    }
    return hi;
  }
}

/** Small deterministic generator for pivots (Park-Miller style LCG on 2^31 - 1); seeded per rank. */
function lcg(seed: number): () => number {
  let state = (Math.floor(Math.abs(seed)) % 2147483646) + 1;
  return () => {
    state = (state * 48271) % 2147483647;
    return (state - 1) / 2147483646;
  };
}

const bits = new Float64Array(1);
const bitsAsInt = new BigInt64Array(bits.buffer);
/** The largest double below v (v finite). */
function nextDown(v: number): number {
  if (v === 0) return -Number.MIN_VALUE;
  bits[0] = v;
  bitsAsInt[0] += v > 0 ? -1n : 1n;
  return bits[0];
}
