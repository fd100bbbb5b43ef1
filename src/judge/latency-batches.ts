/**
 * The latency batches the distribution test judges (stats/rank-score-e-process.ts): one batch per
 * measurement interval that has latency in both arms, matched by the interval's start; without
 * intervals (e.g. two files given to `canary compare`), all the data as one batch. Raw samples are
 * binned on the data plane's bucket bounds, so client-side and telemetry data are judged the same way.
 * Throws RangeError when the two arms' histograms of one interval have different bounds.
 */
import { LATENCY_BUCKETS_MS } from '../telemetry/buckets.ts';
import type { LatencyHistogram } from '../telemetry/measurement.ts';
import type { ComparisonData } from './comparison-data.ts';
import type { ArmData } from './stats/empirical-cdf.ts';
import type { BinnedBatch } from './stats/rank-score-e-process.ts';

const BOUNDS: readonly number[] = [...LATENCY_BUCKETS_MS, Infinity];

/** Index of the bucket (bounds[i-1], bounds[i]] holding x, by bisection. */
export function bucketIndex(bounds: readonly number[], x: number): number {
  let lo = 0;
  let hi = bounds.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x <= bounds[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Counts of raw samples per bucket (bounds[i-1], bounds[i]]. */
export function binSamples(samples: ArrayLike<number>, bounds: readonly number[] = BOUNDS): number[] {
  const counts = new Array<number>(bounds.length).fill(0);
  for (let s = 0; s < samples.length; s++) {
    const x = samples[s];
    if (!Number.isFinite(x)) throw new RangeError(`samples[${s}]: expected a finite number, got ${x}`);
    counts[bucketIndex(bounds, x)]++;
  }
  return counts;
}

function sameBounds(a: LatencyHistogram, b: LatencyHistogram, where: string): void {
  if (a.bounds.length !== b.bounds.length || a.bounds.some((x, i) => x !== b.bounds[i])) {
    throw new RangeError(`${where}: baseline and canary histograms must have the same bucket bounds`);
  }
}

function armCounts(arm: ArmData): { counts: ArrayLike<number>; bounds: readonly number[] } {
  if ('samples' in arm) return { counts: binSamples(arm.samples), bounds: BOUNDS };
  return { counts: arm.histogram.counts, bounds: arm.histogram.bounds };
}

export function latencyBatches(data: ComparisonData): BinnedBatch[] {
  const canaryByStart = new Map<number, LatencyHistogram>();
  for (const i of data.canary.intervals) if (i.latency) canaryByStart.set(i.start, i.latency);
  const batches: BinnedBatch[] = [];
  for (const i of data.baseline.intervals) {
    const c = i.latency ? canaryByStart.get(i.start) : undefined;
    if (!i.latency || !c) continue;
    sameBounds(i.latency, c, `interval at ${new Date(i.start).toISOString()}`);
    batches.push({ baseline: i.latency.counts, canary: c.counts });
  }
  if (batches.length > 0 || data.baseline.intervals.length > 0 || data.canary.intervals.length > 0) return batches;
  const a = data.baseline.latency;
  const b = data.canary.latency;
  if (!a || !b) return [];
  const ca = armCounts(a);
  const cb = armCounts(b);
  if (ca.bounds.length !== cb.bounds.length || ca.bounds.some((x, i) => x !== cb.bounds[i])) {
    throw new RangeError('baseline and canary latency must be binned on the same bucket bounds');
  }
  return [{ baseline: ca.counts, canary: cb.counts }];
}

/**
 * Both arms' latency over every matched interval but the one most against the canary at quantile
 * `quantile`, for the quantile tests' burst guard (evaluate.ts): a descheduled process slows one
 * interval's requests at once, and a test that treats requests as independent takes that one
 * interval for strong evidence. The interval is the one whose canary has the most observations
 * above the pooled quantile beyond what the interval's own pooled counts predict (the permutation
 * z-score of that count; for `decrease` the fewest, for `either` the largest in size), and by how
 * much that z-score stands out above the median of the other intervals' (0 with one interval: nothing
 * to compare it with). Null when the data has no intervals (two files: no time order), when no
 * interval has both arms, or when the intervals' histograms do not share bounds.
 */
export function latencyWithoutWorstInterval(
  data: ComparisonData,
  quantile: number,
  direction: 'increase' | 'decrease' | 'either',
): { baseline: ArmData; canary: ArmData; standsOut: number } | null {
  const canaryByStart = new Map<number, LatencyHistogram>();
  for (const i of data.canary.intervals) if (i.latency) canaryByStart.set(i.start, i.latency);
  const pairs: { a: LatencyHistogram; c: LatencyHistogram }[] = [];
  for (const i of data.baseline.intervals) {
    const c = i.latency ? canaryByStart.get(i.start) : undefined;
    if (i.latency && c) pairs.push({ a: i.latency, c });
  }
  if (pairs.length === 0) return null;
  const bounds = pairs[0].a.bounds;
  const width = pairs[0].a.counts.length;
  const same = (h: LatencyHistogram) =>
    h.counts.length === width && h.bounds.length === bounds.length && h.bounds.every((x, i) => x === bounds[i]);
  if (!pairs.every((p) => same(p.a) && same(p.c))) return null;
  const totalA = new Array<number>(width).fill(0);
  const totalC = new Array<number>(width).fill(0);
  for (const { a, c } of pairs)
    for (let j = 0; j < width; j++) {
      totalA[j] += a.counts[j];
      totalC[j] += c.counts[j];
    }
  // The pooled quantile's bin: observations in later bins are "above" it.
  let pooled = 0;
  for (let j = 0; j < width; j++) pooled += totalA[j] + totalC[j];
  let cut = 0;
  for (let below = 0; cut < width - 1; cut++) {
    below += totalA[cut] + totalC[cut];
    if (below >= quantile * pooled) break;
  }
  let worst = -1;
  let worstScore = Number.NEGATIVE_INFINITY;
  const scores: number[] = [];
  pairs.forEach(({ a, c }, k) => {
    let nA = 0;
    let nC = 0;
    let aboveA = 0;
    let aboveC = 0;
    for (let j = 0; j < width; j++) {
      nA += a.counts[j];
      nC += c.counts[j];
      if (j > cut) {
        aboveA += a.counts[j];
        aboveC += c.counts[j];
      }
    }
    const n = nA + nC;
    const above = aboveA + aboveC;
    if (nA === 0 || nC === 0 || n < 2) return;
    // Hypergeometric mean and variance of the canary's count above, given the interval's pooled counts.
    const variance = ((nA * nC) / (n * (n - 1))) * ((above * (n - above)) / n);
    const z = variance > 0 ? (aboveC - (nC * above) / n) / Math.sqrt(variance) : 0;
    const s = direction === 'increase' ? z : direction === 'decrease' ? -z : Math.abs(z);
    scores.push(s);
    if (s > worstScore) {
      worstScore = s;
      worst = k;
    }
  });
  if (worst < 0) return null;
  const { a, c } = pairs[worst];
  const minus = (total: number[], h: LatencyHistogram) => total.map((x, j) => x - h.counts[j]);
  const others = [...scores].sort((x, y) => x - y);
  others.splice(others.lastIndexOf(worstScore), 1);
  const middle = others.length === 0 ? worstScore : median(others);
  return {
    baseline: { histogram: { bounds: [...bounds], counts: minus(totalA, a) } },
    canary: { histogram: { bounds: [...bounds], counts: minus(totalC, c) } },
    standsOut: worstScore - middle,
  };
}

/** Median of sorted values. */
function median(sorted: readonly number[]): number {
  const m = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
}
