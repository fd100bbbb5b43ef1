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
