/**
 * Operations on binned latency (`LatencyHistogram`) shared by the judge and the reports: adding
 * intervals up, a quantile, and the empirical CDF at the bucket bounds.
 */
import type { LatencyHistogram } from './measurement.ts';

/**
 * Adds `h` into `target` in place (or copies it when `target` is null) and returns the total.
 * Throws RangeError, naming `where`, when the bucket bounds differ: adding them would be meaningless.
 */
export function addHistogram(target: LatencyHistogram | null, h: LatencyHistogram, where: string): LatencyHistogram {
  if (target === null)
    return { bounds: [...h.bounds], counts: [...h.counts], ...(h.sum !== undefined ? { sum: h.sum } : {}) };
  if (target.bounds.length !== h.bounds.length || target.bounds.some((b, i) => b !== h.bounds[i])) {
    throw new RangeError(`${where}: latency histogram bounds differ from earlier intervals`);
  }
  for (let i = 0; i < h.counts.length; i++) target.counts[i] += h.counts[i];
  if (target.sum !== undefined && h.sum !== undefined) target.sum += h.sum;
  else delete target.sum;
  return target;
}

/** The sum of several histograms with the same bounds; null for none. */
export function mergeHistograms(hs: readonly LatencyHistogram[], where = 'histograms'): LatencyHistogram | null {
  let total: LatencyHistogram | null = null;
  for (const h of hs) total = addHistogram(total, h, where);
  return total;
}

/**
 * Quantile p, interpolating linearly inside the bucket (Prometheus' `histogram_quantile`); the last
 * finite bound when the quantile falls in the +Inf bucket. NaN for an empty histogram.
 */
export function histogramQuantile(h: LatencyHistogram, p: number): number {
  const total = h.counts.reduce((s, c) => s + c, 0);
  if (total === 0) return Number.NaN;
  const target = p * total;
  let cumulative = 0;
  for (let i = 0; i < h.counts.length; i++) {
    const next = cumulative + h.counts[i];
    if (next >= target && h.counts[i] > 0) {
      const lower = i === 0 ? 0 : h.bounds[i - 1];
      const upper = h.bounds[i];
      // A bound read back from JSON as null is the +Inf bucket.
      if (!Number.isFinite(upper)) return lower;
      return lower + ((upper - lower) * (target - cumulative)) / h.counts[i];
    }
    cumulative = next;
  }
  return h.bounds[h.bounds.length - 1];
}

/** Share of observations (0..1) at or below each finite bound. */
export function histogramCdf(h: LatencyHistogram): { bound: number; cdf: number }[] {
  const total = h.counts.reduce((a, b) => a + b, 0);
  const out: { bound: number; cdf: number }[] = [];
  let seen = 0;
  for (let i = 0; i < h.bounds.length; i++) {
    seen += h.counts[i];
    if (Number.isFinite(h.bounds[i])) out.push({ bound: h.bounds[i], cdf: total ? seen / total : 0 });
  }
  return out;
}
