/**
 * Per-interval series and bucket summaries of one arm, for the judges that compare series of values
 * (Kayenta) or whole distributions from histograms (fixed horizon).
 */
import type { LatencyHistogram } from '../telemetry/measurement.ts';
import type { ArmAccumulation } from './comparison-data.ts';
import { histogramQuantile } from '../telemetry/histogram.ts';

/**
 * A representative value per bucket: the geometric midpoint of (lower, upper]; half the first
 * bound for the first bucket; the last finite bound for the +Inf bucket.
 */
export function bucketRepresentatives(bounds: readonly number[]): number[] {
  return bounds.map((upper, i) => {
    if (!Number.isFinite(upper)) return bounds[i - 1] ?? 0;
    const lower = i === 0 ? upper / 2 : bounds[i - 1];
    return lower > 0 ? Math.sqrt(lower * upper) : upper / 2;
  });
}

/** Mean of a histogram: `sum / count` when the source reports the sum, else from bucket representatives. */
export function histogramMean(h: LatencyHistogram): number {
  const total = h.counts.reduce((s, c) => s + c, 0);
  if (total === 0) return NaN;
  if (h.sum !== undefined) return h.sum / total;
  const values = bucketRepresentatives(h.bounds);
  return h.counts.reduce((s, c, i) => s + c * values[i], 0) / total;
}

/**
 * The arm's per-interval values of a latency summary (a quantile, or the mean without one). With
 * raw samples and no intervals (e.g. `canary compare`) the samples themselves are the series.
 */
export function latencySeries(arm: ArmAccumulation, quantile: number | undefined): number[] {
  if (arm.intervals.length === 0 && arm.latency && 'samples' in arm.latency) return Array.from(arm.latency.samples);
  return arm.intervals
    .filter((i) => i.latency !== null)
    .map((i) => (quantile !== undefined ? histogramQuantile(i.latency!, quantile) : histogramMean(i.latency!)));
}

/** Per-interval error ratios (intervals without requests are left out). */
export function errorRatioSeries(arm: ArmAccumulation): number[] {
  return arm.intervals.filter((i) => i.requests > 0).map((i) => i.errors / i.requests);
}
