/**
 * Latency histogram bucket bounds (ms) for `istio_request_duration_milliseconds`, shared by the local
 * data plane, the manifests' `sidecar.istio.io/statsHistogramBuckets` annotation and the judge.
 *
 * Istio's default buckets (0.5, 1, 5, 10, 25, 50, 100, ...) are too coarse to tell a 10 % shift
 * apart. These grow geometrically by 5 % from 0.5 ms to 60 s (rounded to 3 significant digits),
 * so a 10 % shift moves a quantile across about two bucket bounds at any latency the app has.
 */
export const LATENCY_BUCKETS_MS: readonly number[] = buildBuckets(0.5, 60_000, 1.05);

function buildBuckets(first: number, last: number, ratio: number): number[] {
  const out: number[] = [];
  for (let b = first; b <= last * ratio; b *= ratio) {
    const rounded = Number(b.toPrecision(3));
    if (out.length === 0 || rounded > out[out.length - 1]) out.push(rounded);
  }
  return out;
}
