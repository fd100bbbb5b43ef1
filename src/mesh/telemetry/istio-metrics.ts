/**
 * Istio's standard request metrics (https://istio.io/latest/docs/reference/config/metrics/), one
 * prom-client Registry per process, exposed on the proxy's `/metrics`, with the 25 standard labels
 * and Istio's values for them. Buckets are LATENCY_BUCKETS_MS (5 % apart) instead of Istio's coarse defaults, the same
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

/** One side of a request, as Istio's metadata exchange describes a workload. Made once per identity. */
export interface WorkloadLabels {
  /** Identifies the label values below, for the series lookup. */
  readonly key: string;
  readonly workload: string;
  readonly namespace: string;
  /** `spiffe://cluster.local/ns/<ns>/sa/<sa>`, or `unknown`. */
  readonly principal: string;
  readonly app: string;
  readonly version: string;
  readonly canonicalService: string;
  readonly canonicalRevision: string;
}

export interface WorkloadDescription {
  workload: string;
  namespace: string;
  serviceAccount: string;
  labels: Readonly<Record<string, string>>;
  /** The workload's version when it is known apart from its labels (the `VERSION` of a replica). */
  version?: string;
}

const UNKNOWN = 'unknown';

export const UNKNOWN_WORKLOAD: WorkloadLabels = {
  key: '?',
  workload: UNKNOWN,
  namespace: UNKNOWN,
  principal: UNKNOWN,
  app: UNKNOWN,
  version: UNKNOWN,
  canonicalService: UNKNOWN,
  canonicalRevision: UNKNOWN,
};

/** Istio's values: canonical service and revision from their labels, else `app` / `version`, else the workload / `latest`. */
export function workloadLabels(w: WorkloadDescription): WorkloadLabels {
  const l = w.labels;
  const values = {
    workload: w.workload,
    namespace: w.namespace,
    principal: `spiffe://cluster.local/ns/${w.namespace}/sa/${w.serviceAccount}`,
    app: l.app ?? UNKNOWN,
    version: w.version ?? l.version ?? UNKNOWN,
    canonicalService: l['service.istio.io/canonical-name'] ?? l['app.kubernetes.io/name'] ?? l.app ?? w.workload,
    canonicalRevision:
      l['service.istio.io/canonical-revision'] ?? l['app.kubernetes.io/version'] ?? l.version ?? 'latest',
  };
  return { key: Object.values(values).join('\u0001'), ...values };
}

/** The destination service: `destination_service` is its host name, as Istio reports it. */
export interface ServiceLabels {
  readonly key: string;
  readonly name: string;
  readonly namespace: string;
  readonly host: string;
}

export function serviceLabels(name: string, namespace: string | undefined): ServiceLabels {
  if (name === UNKNOWN || namespace === undefined)
    return { key: `${name}\u0001?`, name, namespace: UNKNOWN, host: name };
  return { key: `${name}\u0001${namespace}`, name, namespace, host: `${name}.${namespace}.svc.cluster.local` };
}

export interface RequestRecord {
  reporter: Reporter;
  source: WorkloadLabels;
  destination: WorkloadLabels;
  service: ServiceLabels;
  /** 0 when no response was sent (a disconnect, a cancelled try). */
  code: number;
  /** Envoy response flags (`-` when none, `FI`, `DI`, `UT`, `UH`, `UF`, `NR`, `DC`, `URX`, comma-joined). */
  flags: string;
  /** Destination side: whether the peer proved its identity (Istio's `mutual_tls`, else `none`). */
  authenticated?: boolean;
}

/** The 25 labels of Istio's standard `istio_requests_total`, in Istio's order. */
export const LABEL_NAMES = [
  'reporter',
  'source_workload',
  'source_workload_namespace',
  'source_principal',
  'source_app',
  'source_version',
  'source_canonical_service',
  'source_canonical_revision',
  'source_cluster',
  'destination_workload',
  'destination_workload_namespace',
  'destination_principal',
  'destination_app',
  'destination_version',
  'destination_service',
  'destination_service_name',
  'destination_service_namespace',
  'destination_canonical_service',
  'destination_canonical_revision',
  'destination_cluster',
  'request_protocol',
  'response_code',
  'grpc_response_status',
  'response_flags',
  'connection_security_policy',
] as const;
type LabelName = (typeof LABEL_NAMES)[number];
type LabelValues = Record<LabelName, string>;

/** Istio's default cluster name, as its proxies report it without multi-cluster setup. */
const CLUSTER = 'Kubernetes';

function labelValues(r: RequestRecord): LabelValues {
  const { source: s, destination: d, service } = r;
  return {
    reporter: r.reporter,
    source_workload: s.workload,
    source_workload_namespace: s.namespace,
    source_principal: s.principal,
    source_app: s.app,
    source_version: s.version,
    source_canonical_service: s.canonicalService,
    source_canonical_revision: s.canonicalRevision,
    source_cluster: s === UNKNOWN_WORKLOAD ? UNKNOWN : CLUSTER,
    destination_workload: d.workload,
    destination_workload_namespace: d.namespace,
    destination_principal: d.principal,
    destination_app: d.app,
    destination_version: d.version,
    destination_service: service.host,
    destination_service_name: service.name,
    destination_service_namespace: service.namespace,
    destination_canonical_service: d.canonicalService,
    destination_canonical_revision: d.canonicalRevision,
    destination_cluster: d === UNKNOWN_WORKLOAD ? UNKNOWN : CLUSTER,
    request_protocol: 'http',
    response_code: String(r.code),
    grpc_response_status: '',
    response_flags: r.flags,
    connection_security_policy: r.reporter === 'source' ? UNKNOWN : r.authenticated ? 'mutual_tls' : 'none',
  };
}

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

  record(r: RequestRecord, durationMs: number): void {
    const key = `${r.reporter}\u0000${r.source.key}\u0000${r.destination.key}\u0000${r.service.key}\u0000${r.code}\u0000${r.flags}\u0000${r.authenticated === true}`;
    let s = this.series.get(key);
    if (!s) {
      s = new Series(labelValues(r));
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
