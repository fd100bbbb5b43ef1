/**
 * What a telemetry source returns: per interval, per workload, request counts by response class and a
 * latency histogram, plus any user-configured scalar. A failed or empty query is a measurement in an
 * `error` or `nodata` state (Argo Rollouts' habit), never an exception and never a pass.
 */

/** Non-cumulative latency histogram in milliseconds. `counts[i]` counts observations in
 * (`bounds[i-1]`, `bounds[i]`]; the last bound may be `Infinity`. */
export interface LatencyHistogram {
  bounds: number[];
  counts: number[];
  /** Sum of all observations in ms, when the source knows it (Prometheus `_sum`). */
  sum?: number;
}

export type ResponseClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx';

export interface WorkloadMeasurement {
  workload: string;
  requests: number;
  /** Requests the analysis counts as errors: the error classes (5xx by default), plus code 0 and the
   * failure flags DC, UT, URX, UF, UH whatever the code. */
  errors: number;
  byClass: Partial<Record<ResponseClass, number>>;
  latency: LatencyHistogram;
  /**
   * The part of `requests` that falls between two scrapes read of each replica, and the time in ms
   * between them (the mean over the workload's replicas), when a source knows it: Prometheus scrapes
   * each target at its own phase, so two workloads' counts over one interval cover different times.
   * Absent: `requests` cover the interval itself.
   */
  covered?: { requests: number; ms: number };
}

export type MeasurementStatus = 'ok' | 'nodata' | 'error';

export interface Measurement {
  /** Unix epoch milliseconds; the interval is [start, end). */
  start: number;
  end: number;
  status: MeasurementStatus;
  /** Why the status is not `ok`, naming the query or URL. */
  reason?: string;
  workloads: Record<string, WorkloadMeasurement>;
  /** User-configured PromQL scalars by metric name; `null` when the query returned nothing. */
  scalars: Record<string, number | null>;
}
