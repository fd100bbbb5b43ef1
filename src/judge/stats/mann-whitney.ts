/**
 * Mann-Whitney U test (Wilcoxon rank-sum) for two independent samples, on raw samples or on binned
 * histograms.
 *
 * Definition: U_x = sum over pairs (x_i, y_j) of [x_i > y_j] + 1/2 [x_i = y_j]
 *   (= R_x - n_x(n_x+1)/2 with mid-ranks), U_y = n_x n_y - U_x.
 *   Null variance with ties: sigma^2 = n_x n_y / 12 * ((N+1) - sum(t^3 - t) / (N(N-1))).
 *   Asymptotic: two-sided z = (|U_x - n_x n_y/2| - c) / sigma with c = 0.5 under continuity correction;
 *   "greater" (x tends to be larger): z = (U_x - n_x n_y/2 - c)/sigma, p = P(Z >= z);
 *   "less": z = (U_x - n_x n_y/2 + c)/sigma, p = P(Z <= z).
 *   Exact (no ties): the null distribution of U by the recursion
 *   p_{i,j}(u) = i/(i+j) p_{i-1,j}(u-j) + j/(i+j) p_{i,j-1}(u) (Mann & Whitney 1947); two-sided
 *   p = min(1, 2 min(P(U <= u), P(U >= u))), as R's wilcox.test and SciPy's mannwhitneyu.
 * Reference: Mann & Whitney, Ann. Math. Statist. 18 (1947) 50-60; Hollander, Wolfe & Chicken,
 *   Nonparametric Statistical Methods, 3rd ed., section 4.1; STATS.md section 5 (vectors F1-F3).
 * Method 'auto' follows R: exact when both samples have fewer than 50 observations and there are no ties.
 * Complexity: O(n log n) to sort raw samples, then one O(n_x + n_y) merge for U and the tie term
 *   (binned: O(buckets)); exact distribution O(n_x^2 n_y^2 / 4), allowed up to n_x n_y <= 10,000.
 * Throws: RangeError for an empty sample, a non-finite value (naming the sample and index), mismatched
 *   bucket arrays, or an exact test requested with ties or beyond the size limit.
 * Example: mannWhitney([19,22,16,29,24], [20,11,17,12]) ->
 *   { u: 17, uOther: 3, method: 'exact', pValue: 0.11111111111111138, ... }
 */
import { normalCdf, normalSf } from './normal.ts';

export type Alternative = 'two-sided' | 'greater' | 'less';
export type PValueMethod = 'exact' | 'asymptotic';

export interface MannWhitneyOptions {
  /** 'greater': x tends to be larger than y. Default 'two-sided'. */
  alternative?: Alternative;
  /** Default 'auto' (exact for n < 50 per sample without ties, else asymptotic). */
  method?: 'auto' | PValueMethod;
  /** Continuity correction of the asymptotic test. Default true. */
  continuity?: boolean;
}

export interface RankSummary {
  nX: number;
  nY: number;
  /** U statistic of x: pairs with x > y, ties counted one half. */
  u: number;
  /** sum over tie groups of t^3 - t (0 when there are no ties). */
  tieTerm: number;
}

export interface MannWhitneyResult extends RankSummary {
  /** U of y = nX nY - u. */
  uOther: number;
  alternative: Alternative;
  method: PValueMethod;
  continuity: boolean;
  /** Tie-corrected standard deviation of U under the null. */
  sigma: number;
  /** Standardized statistic (signed as U_x - nX nY / 2, corrected); null for the exact method. */
  z: number | null;
  pValue: number;
}

/** Largest n_x n_y for which the exact distribution is computed. */
export const EXACT_MAX_PAIRS = 10_000;

/** Copies a sample into a sorted Float64Array, rejecting non-finite values by name and index. */
export function toSortedSample(values: ArrayLike<number>, name: string): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) throw new RangeError(`${name}[${i}] must be a finite number, got ${v}`);
    out[i] = v;
  }
  return out.sort();
}

/** U and tie term of two ascending samples by a single merge. */
export function rankSummarySorted(xs: Float64Array, ys: Float64Array): RankSummary {
  const nX = xs.length;
  const nY = ys.length;
  let i = 0;
  let j = 0;
  let u = 0;
  let tieTerm = 0;
  while (i < nX || j < nY) {
    const v = j >= nY || (i < nX && xs[i] <= ys[j]) ? xs[i] : ys[j];
    const yBelow = j;
    let tx = 0;
    let ty = 0;
    while (i < nX && xs[i] === v) {
      i++;
      tx++;
    }
    while (j < nY && ys[j] === v) {
      j++;
      ty++;
    }
    u += tx * (yBelow + ty / 2);
    const t = tx + ty;
    if (t > 1) tieTerm += t * t * t - t;
  }
  return { nX, nY, u, tieTerm };
}

/** U and tie term from counts per bucket; observations in one bucket are tied with each other. */
export function rankSummaryBinned(xCounts: ArrayLike<number>, yCounts: ArrayLike<number>): RankSummary {
  if (xCounts.length !== yCounts.length) {
    throw new RangeError(`bucket counts must have the same length: x has ${xCounts.length}, y has ${yCounts.length}`);
  }
  let nX = 0;
  let nY = 0;
  let u = 0;
  let tieTerm = 0;
  for (let k = 0; k < xCounts.length; k++) {
    const cx = xCounts[k];
    const cy = yCounts[k];
    if (!(cx >= 0 && Number.isInteger(cx)))
      throw new RangeError(`x bucket ${k} must be a non-negative integer count, got ${cx}`);
    if (!(cy >= 0 && Number.isInteger(cy)))
      throw new RangeError(`y bucket ${k} must be a non-negative integer count, got ${cy}`);
    u += cx * (nY + cy / 2);
    const t = cx + cy;
    if (t > 1) tieTerm += t * t * t - t;
    nX += cx;
    nY += cy;
  }
  return { nX, nY, u, tieTerm };
}

/** Null standard deviation of U with the tie correction. */
export function uSigma(nX: number, nY: number, tieTerm: number): number {
  const n = nX + nY;
  const variance = ((nX * nY) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  return Math.sqrt(Math.max(0, variance));
}

/** Mann-Whitney test on raw samples. */
export function mannWhitney(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  options: MannWhitneyOptions = {},
): MannWhitneyResult {
  return mannWhitneySorted(toSortedSample(x, 'x'), toSortedSample(y, 'y'), options);
}

/** Mann-Whitney test on samples already sorted ascending (lets callers share one sort with Hodges-Lehmann). */
export function mannWhitneySorted(
  xs: Float64Array,
  ys: Float64Array,
  options: MannWhitneyOptions = {},
): MannWhitneyResult {
  return mannWhitneyFromSummary(rankSummarySorted(xs, ys), options);
}

/** Mann-Whitney test on two histograms over the same buckets (always asymptotic: buckets are ties). */
export function mannWhitneyBinned(
  xCounts: ArrayLike<number>,
  yCounts: ArrayLike<number>,
  options: MannWhitneyOptions = {},
): MannWhitneyResult {
  return mannWhitneyFromSummary(rankSummaryBinned(xCounts, yCounts), options);
}

export function mannWhitneyFromSummary(summary: RankSummary, options: MannWhitneyOptions = {}): MannWhitneyResult {
  const { nX, nY, u, tieTerm } = summary;
  if (nX === 0) throw new RangeError('x must have at least one observation');
  if (nY === 0) throw new RangeError('y must have at least one observation');
  const alternative = options.alternative ?? 'two-sided';
  const continuity = options.continuity ?? true;
  const requested = options.method ?? 'auto';
  const ties = tieTerm > 0;
  const method: PValueMethod =
    requested === 'auto' ? (nX < 50 && nY < 50 && !ties ? 'exact' : 'asymptotic') : requested;
  const sigma = uSigma(nX, nY, tieTerm);
  const base = { ...summary, uOther: nX * nY - u, alternative, continuity, sigma };

  if (method === 'exact') {
    if (ties) throw new RangeError('the exact Mann-Whitney distribution needs samples without ties');
    const dist = exactUDistribution(nX, nY);
    const lower = cumulativeAtMost(dist, u);
    const upper = 1 - cumulativeAtMost(dist, u - 1);
    const pValue =
      alternative === 'greater' ? upper : alternative === 'less' ? lower : Math.min(1, 2 * Math.min(lower, upper));
    return { ...base, method, z: null, pValue: clampProbability(pValue) };
  }

  const centered = u - (nX * nY) / 2;
  if (sigma === 0) {
    // Every observation tied: no evidence of a shift in either direction.
    return { ...base, method, z: 0, pValue: 1 };
  }
  const c = continuity ? 0.5 : 0;
  let z: number;
  let pValue: number;
  if (alternative === 'greater') {
    z = (centered - c) / sigma;
    pValue = normalSf(z);
  } else if (alternative === 'less') {
    z = (centered + c) / sigma;
    pValue = normalCdf(z);
  } else {
    const magnitude = (Math.abs(centered) - c) / sigma;
    z = centered < 0 ? -magnitude : magnitude;
    pValue = Math.min(1, 2 * normalSf(magnitude));
  }
  return { ...base, method, z, pValue: clampProbability(pValue) };
}

/**
 * Null distribution of U_x without ties: element u is P(U = u), u = 0..nX nY.
 * Builds p_{i,j} row by row over j, keeping one row of i (all probabilities, no cancellation).
 */
export function exactUDistribution(nX: number, nY: number): Float64Array {
  if (!(Number.isInteger(nX) && Number.isInteger(nY) && nX >= 0 && nY >= 0)) {
    throw new RangeError(`sample sizes must be non-negative integers, got ${nX} and ${nY}`);
  }
  if (nX * nY > EXACT_MAX_PAIRS) {
    throw new RangeError(
      `the exact Mann-Whitney distribution is limited to nX*nY <= ${EXACT_MAX_PAIRS}, got ${nX * nY}`,
    );
  }
  // row[i] = p_{i, j} for the current j.
  let row: Float64Array[] = [];
  for (let i = 0; i <= nX; i++) row.push(Float64Array.of(1)); // j = 0: U = 0 surely
  for (let j = 1; j <= nY; j++) {
    const next: Float64Array[] = [Float64Array.of(1)]; // i = 0
    for (let i = 1; i <= nX; i++) {
      const cur = new Float64Array(i * j + 1);
      const fromX = next[i - 1]; // p_{i-1, j}: the largest element is an x, above all j y's
      const fromY = row[i]; // p_{i, j-1}: the largest element is a y
      const wx = i / (i + j);
      const wy = j / (i + j);
      for (let v = 0; v < fromX.length; v++) cur[v + j] += wx * fromX[v];
      for (let v = 0; v < fromY.length; v++) cur[v] += wy * fromY[v];
      next.push(cur);
    }
    row = next;
  }
  return row[nX];
}

function cumulativeAtMost(dist: Float64Array, u: number): number {
  const top = Math.min(dist.length - 1, Math.floor(u));
  let s = 0;
  for (let v = 0; v <= top; v++) s += dist[v];
  return s;
}

function clampProbability(p: number): number {
  return Math.min(1, Math.max(0, p));
}
