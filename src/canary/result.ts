/**
 * `reports/<run-id>/result.json`: everything a canary run did and saw, as plain JSON data. The
 * reports (Markdown, HTML, JUnit) and the run history are rendered from this alone, so the shape is
 * a contract: add optional fields freely, but bump `schemaVersion` before renaming or removing one.
 *
 * Conventions: instants are ISO-8601 strings in UTC (`startedAt`), interval bounds inside a
 * `Measurement` are epoch milliseconds (as the telemetry source returns them), durations are
 * milliseconds (`...Ms`), shares are percentages 0..100, no `NaN` / `Infinity` (unknown is `null`).
 * JSON has no Infinity: the last latency bucket bound (`+Inf`) of every histogram is written as
 * `null`; read a `null` bound as +Infinity.
 */
import type { Measurement, WorkloadMeasurement } from '../telemetry/measurement.ts';
import type { StageAssessment } from '../judge/verdict.ts';
import type { CanaryPlan, Engine, Scenario } from './plan-types.ts';
import type { RoutePlan } from './route-plan.ts';

export const RESULT_SCHEMA_VERSION = 1;

/**
 * - `promoted`: every stage passed (or an inconclusive end with policy `promote`); the canary serves all traffic.
 * - `rolled-back`: a stage failed; traffic is back on the primary.
 * - `inconclusive`: the evidence did not decide (maximum duration, sample ratio mismatch, no data) and the
 *   policy rolled back (or promoted, see `reason`).
 * - `aborted`: a signal, a crashed workload or a telemetry source that stopped answering ended the run
 *   before a verdict; traffic is back on the primary. Never a verdict.
 * - `error`: the harness itself failed (an exception, or manifests it could not use); traffic is back on the primary.
 */
export type RunStatus = 'promoted' | 'rolled-back' | 'inconclusive' | 'aborted' | 'error';

/** What ended a run that did not reach a verdict. */
export type AbortCause = 'signal' | 'crash' | 'telemetry' | 'infrastructure' | 'configuration' | 'exception';

/** The final decision of one stage; `aborted` when the run ended before the stage decided, `skipped` when it never started. */
export type StageOutcome = 'promote' | 'rollback' | 'inconclusive' | 'aborted' | 'skipped';

export interface RunResult {
  schemaVersion: typeof RESULT_SCHEMA_VERSION;
  /** `YYYYMMDD-HHMMSS-<4 hex>` in UTC; also the directory name under the reports directory. */
  runId: string;
  startedAt: string;
  endedAt: string;
  status: RunStatus;
  /** The process exit code (0 promoted, 1 rolled back, 2 inconclusive, 3 configuration, 4 infrastructure, 130 interrupted). */
  exitCode: number;
  /** One line, for people: why the run ended this way, naming the metric or the cause. */
  reason: string;
  /** The metrics responsible for a rollback / inconclusive end (from the deciding assessment); empty otherwise. */
  responsible: string[];
  /** Set when `status` is `aborted` or `error`. */
  abort: RunAbort | null;
  engine: Engine;
  scenario: Scenario;
  config: RunConfig;
  plan: CanaryPlan;
  /** One entry per planned stage, in plan order (stages never reached have outcome `skipped`). */
  stages: StageResult[];
  /** Every route the run applied, in order, with the time it took effect (the traffic split over time). */
  routes: RouteChange[];
  /** Client-side view from the load driver over the whole run; null if the load never started. */
  load: LoadSummary | null;
  /** Wall time from start to the end of cleanup. */
  durationMs: number;
  /** Set by `canary analyze` / `canary compare`: what was judged; nothing was deployed or routed. */
  retrospective?: string;
}

export interface RunAbort {
  cause: AbortCause;
  /** Signal name, crashed workload, URL of the failing source, or error message. */
  detail: string;
  /** When the runner noticed the cause (the signal arrived, the source failed its last read, ...). */
  noticedAt: string;
  /** When the safe route was in effect after that (every proxy had applied it); null if it could not be applied
   * or nothing was routing yet (an abort during deploy). */
  safeRouteAt: string | null;
}

export interface RunConfig {
  /** Analysis configuration file, as given. */
  file: string;
  /** The parsed and validated analysis configuration, as loaded (src/config/analysis.ts). */
  analysis: unknown;
  /** The command-line flags that shaped the plan. */
  flags: Record<string, string | number | boolean | null>;
}

export interface RouteChange {
  at: string;
  stage: string | null;
  route: RoutePlan;
  /** Share (0..100) of untagged traffic each track got under this route. */
  shares: { primary: number; baseline: number; canary: number };
}

export interface StageResult {
  name: string;
  kind: 'header' | 'weighted';
  route: RoutePlan;
  /** Null when the stage never started. */
  startedAt: string | null;
  endedAt: string | null;
  /** From the stage start to the look that decided it (promote / rollback / inconclusive); null if none did. */
  timeToDecisionMs: number | null;
  minDurationMs: number;
  maxDurationMs: number;
  minSamples: number;
  intervals: IntervalRecord[];
  outcome: StageOutcome;
  /** The deciding assessment's reason, or why the stage was aborted / skipped. */
  reason: string;
}

/** One look: what the telemetry source measured over one interval and what the judge concluded. */
export interface IntervalRecord {
  /** 0-based within the stage. */
  index: number;
  /** Milliseconds since the stage started, at the end of this interval. */
  elapsedMs: number;
  /** Everything the source returned for this interval (every workload, scalars, status). */
  measurement: Measurement;
  /** The compared arms, picked out of `measurement` (null when the source had no data for the workload). */
  baseline: WorkloadMeasurement | null;
  canary: WorkloadMeasurement | null;
  /** Requests per track of the service under canary in this interval, and each track's share (0..100). */
  split: TrafficSplit;
  /** The judge's look at the stage so far (cumulative since the stage start); null when the measurement
   * was not `ok` and the judge was not asked. */
  assessment: StageAssessment | null;
}

export interface TrafficSplit {
  requests: { primary: number; baseline: number; canary: number };
  /** Percent of the service's requests per track; all 0 when there were none. */
  percent: { primary: number; baseline: number; canary: number };
}

/** The load driver's client-side summary (latency measured from the intended start: no coordinated omission). */
export interface LoadSummary {
  driver: string;
  /**
   * How the load ended (absent in older results): `failed` is a load that did not run as planned
   * (a k6 exit code such as 99 or 107, a failed k6-operator runner), never a pass.
   */
  status?: 'completed' | 'stopped' | 'interrupted' | 'failed';
  /** Why, when `failed` or `interrupted`. */
  reason?: string;
  targetRate: number;
  achievedRate: number;
  requests: number;
  errors: number;
  latencyMs: { p50: number | null; p90: number | null; p99: number | null; max: number | null };
  /** Requests per serving workload of the service under canary, from `x-served-by`. */
  byWorkload: Record<string, number>;
  /** Requests per cohort (`users`, `canary-testers`, `baseline-testers`). */
  byCohort: Record<string, number>;
  /** Open model: arrivals never sent because too many were in flight (absent in older results). */
  dropped?: number;
  /** Open model: how late requests left after their intended time, ms. */
  schedulerLagMs?: { p99: number; max: number };
  /** Share of the host's CPU time that was busy while the load ran, over all cores. */
  hostCpu?: { busyShare: number; cores: number };
}
