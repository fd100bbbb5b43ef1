/**
 * Summaries of binned latency for the charts: a quantile by linear interpolation inside the bucket
 * (the estimate Prometheus' `histogram_quantile` makes), and the empirical CDF at the bucket bounds.
 */
import type { LatencyHistogram } from '../telemetry/measurement.ts';

export function histogramQuantile(h: LatencyHistogram, q: number): number | null {
  const total = h.counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < h.counts.length; i++) {
    const c = h.counts[i];
    if (c > 0 && seen + c >= rank) {
      const lower = i === 0 ? 0 : h.bounds[i - 1];
      const upper = h.bounds[i];
      // Past the last finite bound nothing better than that bound is known.
      if (!Number.isFinite(upper)) return lower;
      return lower + ((upper - lower) * (rank - seen)) / c;
    }
    seen += c;
  }
  return h.bounds[h.bounds.length - 1] ?? null;
}

/** Adds histograms that share bucket bounds; histograms with other bounds are an error. */
export function mergeHistograms(hs: readonly LatencyHistogram[]): LatencyHistogram | null {
  if (hs.length === 0) return null;
  const bounds = hs[0].bounds;
  const counts = new Array<number>(bounds.length).fill(0);
  for (const h of hs) {
    if (h.bounds.length !== bounds.length) throw new RangeError('cannot merge histograms with different bucket bounds');
    for (let i = 0; i < counts.length; i++) counts[i] += h.counts[i];
  }
  return { bounds: [...bounds], counts };
}

/** CDF (0..1) at each finite bound. */
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
