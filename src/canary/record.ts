/**
 * Builds the `RunResult` from what the runner saw, event by event. Holds no I/O and no clock: every
 * event carries its own time, so the runner's tests can check the record exactly.
 */
import type { Measurement, WorkloadMeasurement } from '../telemetry/measurement.ts';
import type { StageAssessment } from '../judge/verdict.ts';
import type { CanaryPlan, TrackName } from './plan-types.ts';
import {
  RESULT_SCHEMA_VERSION,
  type LoadSummary,
  type RouteChange,
  type RunConfig,
  type RunResult,
  type StageOutcome,
  type StageResult,
  type TrafficSplit,
} from './result.ts';
import { untaggedShares, type RoutePlan } from './route-plan.ts';
import { describeRoute } from './routes.ts';
import type { RunOutcome } from './step.ts';

export class RunRecord {
  private readonly stages: StageResult[];
  private readonly routes: RouteChange[] = [];
  private load: LoadSummary | null = null;
  /** When the latest safe route took effect. */
  private safeRouteAt: number | null = null;
  private readonly notes: string[] = [];
  /**
   * Whether the data plane may hold a route that sends untagged or tester traffic off the primary:
   * set as soon as such a route is asked for (a push can apply to some proxies and fail on others),
   * cleared only when the safe route has been applied everywhere. Deploy starts on the safe route.
   */
  private offPrimary: RoutePlan | null = null;

  constructor(
    private readonly runId: string,
    private readonly startedAtMs: number,
    private readonly plan: CanaryPlan,
    private readonly config: RunConfig,
  ) {
    this.stages = plan.stages.map((s) => ({
      name: s.name,
      kind: s.kind,
      route: s.route,
      startedAt: null,
      endedAt: null,
      timeToDecisionMs: null,
      minDurationMs: s.minDurationMs,
      maxDurationMs: s.maxDurationMs,
      minSamples: s.minSamples,
      intervals: [],
      outcome: 'skipped',
      reason: 'not reached',
    }));
  }

  /** Called before a route is pushed: from then on, until the safe route is back, traffic may be off the primary. */
  routeRequested(route: RoutePlan): void {
    if (route.kind !== 'safe') this.offPrimary = route;
  }

  routeApplied(at: number, route: RoutePlan, stage: string | null): void {
    this.routes.push({ at: iso(at), stage, route, shares: untaggedShares(route) });
    if (route.kind === 'safe') {
      this.safeRouteAt = at;
      this.offPrimary = null;
    }
  }

  /** A route change that failed: kept in the log of notes, so a report can say the route may be stale. */
  note(line: string): void {
    this.notes.push(line);
  }

  beginStage(index: number, at: number): void {
    this.stages[index].startedAt = iso(at);
  }

  interval(index: number, at: number, measurement: Measurement, assessment: StageAssessment | null): void {
    const stage = this.stages[index];
    const started = stage.startedAt === null ? at : Date.parse(stage.startedAt);
    const { control, treatment } = this.plan.comparison;
    stage.intervals.push({
      index: stage.intervals.length,
      elapsedMs: at - started,
      measurement,
      baseline: workload(measurement, control.workload),
      canary: workload(measurement, treatment.workload),
      split: splitOf(measurement, this.plan),
      assessment,
    });
  }

  endStage(index: number, outcome: StageOutcome, reason: string, at: number): void {
    const stage = this.stages[index];
    stage.endedAt = iso(at);
    stage.outcome = outcome;
    stage.reason = reason;
    if (outcome !== 'aborted' && stage.startedAt !== null) stage.timeToDecisionMs = at - Date.parse(stage.startedAt);
  }

  loadSummary(load: LoadSummary): void {
    this.load = load;
  }

  /** What the load-health check reads before a promotion: the load's summary and the stages so far. */
  loadEvidence(): { load: LoadSummary | null; stages: StageResult[] } {
    return { load: this.load, stages: this.stages };
  }

  /**
   * The exit code follows what the record shows, never the other way round: any end but a promotion
   * whose data plane may still route off the primary is exit 4, naming the route that could not be
   * undone (so 130 means "interrupted, and all traffic is back on the primary").
   */
  finish(outcome: RunOutcome, at: number): RunResult {
    const unsafe = outcome.status !== 'promoted' && this.offPrimary !== null;
    const notes = unsafe
      ? [
          ...this.notes,
          `the safe route could not be applied: the data plane may still hold route ${describeRoute(this.offPrimary!)}`,
        ]
      : this.notes;
    const exitCode = unsafe ? 4 : outcome.exitCode;
    return {
      schemaVersion: RESULT_SCHEMA_VERSION,
      runId: this.runId,
      startedAt: iso(this.startedAtMs),
      endedAt: iso(at),
      status: outcome.status,
      exitCode,
      // A step of the shutdown that failed (a route not applied, a teardown that threw) is part of the story.
      reason: notes.length > 0 ? `${outcome.reason}; ${notes.join('; ')}` : outcome.reason,
      responsible: outcome.responsible,
      abort: outcome.abort
        ? {
            cause: outcome.abort.cause,
            detail: outcome.abort.detail,
            noticedAt: iso(outcome.abort.at),
            // Only a safe route applied after the abort counts (deploy sets one before the first stage).
            safeRouteAt:
              this.safeRouteAt !== null && this.safeRouteAt >= outcome.abort.at ? iso(this.safeRouteAt) : null,
          }
        : null,
      engine: this.plan.engine,
      scenario: this.plan.scenario,
      config: this.config,
      plan: this.plan,
      stages: this.stages,
      routes: this.routes,
      load: this.load,
      durationMs: at - this.startedAtMs,
    };
  }
}

function workload(m: Measurement, name: string): WorkloadMeasurement | null {
  const w = m.workloads[name];
  return w && w.requests > 0 ? w : null;
}

function splitOf(m: Measurement, plan: CanaryPlan): TrafficSplit {
  const requests = { primary: 0, baseline: 0, canary: 0 };
  for (const t of plan.tracks) requests[t.track as TrackName] = m.workloads[t.workload]?.requests ?? 0;
  const total = requests.primary + requests.baseline + requests.canary;
  const pct = (n: number) => (total === 0 ? 0 : Number(((100 * n) / total).toFixed(2)));
  return {
    requests,
    percent: { primary: pct(requests.primary), baseline: pct(requests.baseline), canary: pct(requests.canary) },
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
