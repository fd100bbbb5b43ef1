/**
 * The Istio standard metrics the sources read (https://istio.io/latest/docs/reference/config/metrics/),
 * as the local data plane exposes them (DESIGN.md, "Local data plane"). A histogram appears in
 * the exposition as its `_bucket`, `_sum` and `_count` series.
 */
export const ISTIO_METRICS: ReadonlySet<string> = new Set([
  'istio_requests_total',
  'istio_request_duration_milliseconds_bucket',
  'istio_request_duration_milliseconds_sum',
]);
