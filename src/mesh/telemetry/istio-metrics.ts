/**
 * Istio's standard request metrics (https://istio.io/latest/docs/reference/config/metrics/), one
 * prom-client Registry per process, exposed on the proxy's `/metrics`. Only the labels DESIGN.md names
 * are kept. Buckets are LATENCY_BUCKETS_MS (5 % apart) instead of Istio's coarse defaults, the same
 * bounds the manifests set with `sidecar.istio.io/statsHistogramBuckets`.
 *
 * The request path must stay cheap, and prom-client's `labels(...).observe()` hashes and validates the
 * labels on every call and searches ~230 buckets linearly. So each label combination gets one series
 * object, found by a single Map lookup, whose counters are plain numbers and whose bucket is found by
 * binary search. `istio_requests_total` is a real prom-client Counter that takes the accumulated
 * increments when it is collected; the histogram is a small metric of its own, registered in the same
 * Registry, that renders exactly what prom-client's Histogram would (cumulative `_bucket`, `+Inf`,
 * `_sum`, `_count`).
 */
import { Counter, Registry, type Metric } from 'prom-client';
import { LATENCY_BUCKETS_MS } from '../../telemetry/buckets.ts';

export type Reporter = 'source' | 'destination';

export interface RequestLabels {
  reporter: Reporter;
  source_workload: string;
  destination_workload: string;
  destination_service_name: string;
  destination_version: string;
  response_code: number;
  /** Envoy response flags (`-` when none, `FI`, `DI`, `UT`, `UH`, `UF`, `NR`, comma-joined). */
  response_flags: string;
}

const LABEL_NAMES = [
  'reporter',
  'source_workload',
  'destination_workload',
  'destination_service_name',
  'destination_version',
  'response_code',
  'response_flags',
] as const;
type LabelName = (typeof LABEL_NAMES)[number];
type LabelValues = Record<LabelName, string>;

const BOUNDS = Float64Array.from(LATENCY_BUCKETS_MS);

/** One label combination: its request count and latency distribution since the process started. */
class Series {
  count = 0;
  /** Part of `count` already handed to the prom-client Counter. */
  counted = 0;
  sum = 0;
  /** Non-cumulative: `buckets[i]` counts observations in (BOUNDS[i-1], BOUNDS[i]]; the last is +Inf. */
  readonly buckets = new Float64Array(BOUNDS.length + 1);

  constructor(readonly labels: LabelValues) {}

  observe(ms: number): void {
    this.count += 1;
    this.sum += ms;
    // First bound >= ms (Prometheus buckets are upper-inclusive).
    let lo = 0;
    let hi = BOUNDS.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (BOUNDS[mid] < ms) lo = mid + 1;
      else hi = mid;
    }
    this.buckets[lo] += 1;
  }
}

const DURATION_NAME = 'istio_request_duration_milliseconds';
const DURATION_HELP = 'Request duration seen by the proxy, in milliseconds.';

export class IstioTelemetry {
  readonly registry = new Registry();
  private readonly series = new Map<string, Series>();

  constructor() {
    const series = this.series;
    new Counter<LabelName>({
      name: 'istio_requests_total',
      help: 'Requests handled by the proxy, by reporter, source, destination, response code and flags.',
      labelNames: LABEL_NAMES,
      registers: [this.registry],
      collect() {
        for (const s of series.values()) {
          if (s.count > s.counted) {
            this.labels(s.labels).inc(s.count - s.counted);
            s.counted = s.count;
          }
        }
      },
    });
    const histogram = {
      name: DURATION_NAME,
      help: DURATION_HELP,
      type: 'histogram',
      aggregator: 'sum',
      get: async () => ({
        name: DURATION_NAME,
        help: DURATION_HELP,
        type: 'histogram',
        aggregator: 'sum',
        values: this.durationValues(),
      }),
      reset: () => series.clear(),
    };
    this.registry.registerMetric(histogram as unknown as Metric);
  }

  record(l: RequestLabels, durationMs: number): void {
    const key = `${l.reporter}\u0000${l.source_workload}\u0000${l.destination_workload}\u0000${l.destination_service_name}\u0000${l.destination_version}\u0000${l.response_code}\u0000${l.response_flags}`;
    let s = this.series.get(key);
    if (!s) {
      s = new Series({ ...l, response_code: String(l.response_code) });
      this.series.set(key, s);
    }
    s.observe(durationMs);
  }

  /** The Prometheus text exposition of this process's metrics. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private durationValues(): { labels: Record<string, string | number>; value: number; metricName: string }[] {
    const out: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const s of this.series.values()) {
      let cumulative = 0;
      for (let i = 0; i < BOUNDS.length; i++) {
        cumulative += s.buckets[i];
        out.push({ labels: { le: BOUNDS[i], ...s.labels }, value: cumulative, metricName: `${DURATION_NAME}_bucket` });
      }
      out.push({ labels: { le: '+Inf', ...s.labels }, value: s.count, metricName: `${DURATION_NAME}_bucket` });
      out.push({ labels: { ...s.labels }, value: s.sum, metricName: `${DURATION_NAME}_sum` });
      out.push({ labels: { ...s.labels }, value: s.count, metricName: `${DURATION_NAME}_count` });
    }
    return out;
  }
}
