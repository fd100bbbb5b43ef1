/**
 * The load driver contract (DESIGN.md, "One pipeline, two engines"): something that sends the traffic
 * model of `load/lib/` to a target and reports, per interval, what the client saw.
 *
 * How the canary runner uses it:
 *
 * ```ts
 * const driver = createDriver('builtin');                  // or 'k6' (src/driver/factory.ts)
 * const run = await driver.start({                         // rejects with InfraError if the target is down
 *   target: mesh.gatewayUrl,
 *   model: { kind: 'open', profile: constantProfile(200, 600) },   // one load across all stages
 *   traffic: defaultTrafficModel(),                        // cohorts × request mix (load/lib/traffic.ts)
 * });
 * every interval: const s = await run.snapshot();              // what happened since the previous snapshot
 *   s.series → per cohort × track × x-served-by × route: counts, errors, byStatus, quantiles and an
 *              HDR histogram; recorder.ts has `seriesLatencyHistogram(series, LATENCY_BUCKETS_MS)`
 *              (judge buckets), `decodeSeriesHistogram`, `requestsByWorkload`, `requestsBy`
 * on early end:  const result = await run.stop('stopped'); // or 'interrupted' on Ctrl-C
 * on normal end: const result = await run.result();        // resolves when the plan's duration is over
 * ```
 *
 * Everything a driver returns is plain JSON (no class instances, no Maps): the runner stores snapshots
 * and the `LoadResult` in `result.json` as they are.
 */
import type { StageProfile } from '../../load/lib/profile.ts';
import type { TrafficModel } from '../../load/lib/traffic.ts';

export type DriverName = 'builtin' | 'k6' | 'k6-operator';

/** What traffic to send, where, and for how long. */
export interface LoadPlan {
  /** Base URL of the gateway, e.g. `http://127.0.0.1:8080` (loopback only). */
  target: string;
  /**
   * `open`: requests arrive on a schedule (constant or ramping rate) whatever the target does; latency
   * is measured from each request's intended start time, so stalls show up (no coordinated omission).
   * `closed`: N connections each send the next request when the previous answered (saturation).
   */
  model: OpenModel | ClosedModel;
  /** Cohorts, request mix and seed (load/lib/traffic.ts); both drivers send the same sequence. */
  traffic: TrafficModel;
  /** The service under canary: its track (e.g. `account-canary`) is read from `x-served-by`. Default `account`. */
  canaryService?: string;
  /** Keep up to this many raw per-request samples in the result (default 0: histograms only). */
  rawSampleCap?: number;
  /** Per-request timeout in ms (default 10,000); a timed-out request is a transport error. */
  requestTimeoutMs?: number;
  /** Progress output on stderr: `auto` = a live line on a TTY, a plain line every 5 s otherwise. Default `off`. */
  progress?: 'auto' | 'off';
}

export interface OpenModel {
  kind: 'open';
  profile: StageProfile;
  /** Upper bound on concurrent requests; arrivals beyond it are counted as `dropped`. Default 4096. */
  maxInFlight?: number;
  /** Upper bound on connections; requests beyond it queue (latency still from the intended time). Default 256. */
  maxConnections?: number;
  /**
   * How long before a request's intended time the scheduler stops sleeping and polls, in ms (default 1):
   * dispatch then lands within ~0.1 ms of schedule, for about 0.2 cores at 200 requests/s. 0 sleeps on
   * timers only, for when the load shares a small machine with the system under test: a request may
   * leave up to a timer tick late, and that lateness still counts in its latency (measured from the
   * intended time), equally for every track.
   */
  spinMs?: number;
}

export interface ClosedModel {
  kind: 'closed';
  connections: number;
  durationS: number;
}

export interface Driver {
  readonly name: DriverName;
  /**
   * Checks that the target answers (any HTTP status counts; refused or silent → `InfraError` naming the
   * URL within 5 s), then starts sending and returns at once. `signal` aborting is the same as
   * `run.stop('interrupted')`.
   */
  start(plan: LoadPlan, signal?: AbortSignal): Promise<LoadRun>;
}

/** A load that is running. One per `start`; snapshots are cheap and may be taken at any time. */
export interface LoadRun {
  /** Unix epoch ms at which the first request was scheduled. */
  readonly startedAt: number;
  /** What completed since the previous snapshot (or since the start): counts and histograms per series. */
  snapshot(): Promise<LoadSnapshot>;
  /** Stops scheduling new requests, waits for the in-flight ones (bounded by the request timeout), and resolves the result. Idempotent. */
  stop(reason: 'stopped' | 'interrupted'): Promise<LoadResult>;
  /** Resolves when the plan has run its course or was stopped; never rejects (failures are in `status`). */
  result(): Promise<LoadResult>;
}

/** Latency quantiles in ms; `null` when there were no responses (no data is never a number). */
export interface LatencySummary {
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

/**
 * One series: requests of one cohort to one route, served by one track of the service under canary
 * and one full `x-served-by` chain. Transport errors (no response) have `status` 0 in `byStatus`,
 * workload `-` and servedBy ``.
 */
export interface LoadSeries {
  cohort: string;
  /** Track of the service under canary that served it (`account-canary`, …), `-` if none did. */
  workload: string;
  /** The whole `x-served-by` header as received (e.g. `bff, account-canary, friend`). */
  servedBy: string;
  /** Route template, e.g. `/api/account/:id`. */
  route: string;
  requests: number;
  /** 5xx responses plus transport errors. */
  errors: number;
  /** Requests that got no response (refused, reset, timed out). */
  transportErrors: number;
  byStatus: Record<string, number>;
  latencyMs: LatencySummary;
  /** HDR histogram of latencies in microseconds (hdr-histogram-js `encodeIntoCompressedBase64`); responses only. */
  histogram: string;
}

export interface LoadSnapshot {
  /** Interval [start, end) in Unix epoch ms. */
  start: number;
  end: number;
  /** Requests sent (scheduled and dispatched) in the interval. */
  sent: number;
  /** Requests that completed (response or transport error) in the interval. */
  completed: number;
  inFlight: number;
  /** Open model: arrivals not sent because `maxInFlight` was reached (k6: `dropped_iterations`). */
  dropped: number;
  series: LoadSeries[];
}

export type LoadStatus = 'completed' | 'stopped' | 'interrupted' | 'failed';

export interface RawSample {
  seq: number;
  /** Intended start, ms after `startedAt` (open model) or actual start (closed model). */
  atMs: number;
  latencyMs: number;
  status: number;
  cohort: string;
  route: string;
  workload: string;
}

export interface LoadResult {
  driver: DriverName;
  target: string;
  status: LoadStatus;
  /** Why the status is not `completed` (k6 exit code meaning, error text). */
  reason?: string;
  /** k6 only: the process exit code and its meaning (0 ok, 99 thresholds failed, 107 script error, …). */
  exit?: { code: number | null; meaning: string };
  model:
    | { kind: 'open'; targetRate: number; profile: StageProfile }
    | { kind: 'closed'; connections: number; durationS: number };
  startedAt: number;
  endedAt: number;
  /** Seconds over which requests were sent (the planned duration, or less when stopped, more when the client lagged). */
  elapsedS: number;
  sent: number;
  requests: number;
  errors: number;
  dropped: number;
  /** Requests started per second over `elapsedS`. */
  achievedRate: number;
  latencyMs: LatencySummary;
  /** Requests per workload named in `x-served-by` (each distinct workload of a request counts once). */
  byWorkload: Record<string, number>;
  /** Requests per track of the service under canary (`-`: did not reach it). */
  byTrack: Record<string, number>;
  byCohort: Record<string, number>;
  /** Whole-run series (same shape as a snapshot's). */
  series: LoadSeries[];
  /** Raw samples, at most `rawSampleCap`, in completion order. */
  samples?: RawSample[];
  /** k6 only: every threshold of the script and whether it held (from the handleSummary data). */
  thresholds?: { metric: string; expression: string; ok: boolean }[];
  /** Open model: how late the scheduler dispatched requests after their intended time (ms). */
  schedulerLagMs?: { p99: number; max: number };
  /** Share of the host's CPU time that was busy while the load ran (set by whoever samples the host). */
  hostCpu?: { busyShare: number; cores: number };
}

/** A constant-rate open-model profile: `rate` requests/s for `durationS` seconds. */
export function constantProfile(rate: number, durationS: number): StageProfile {
  return { kind: 'constant', rate, durationS };
}
