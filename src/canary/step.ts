/**
 * The canary state machine, pure: `step(state, observation, plan) → { state, actions }`. It decides;
 * the runner (runner.ts) does. Actions are data, executed in order. Every path that ends the run
 * without promoting puts the safe route first, then stops the load, then cleans up, then finishes:
 * the safe route must not wait for anything slower than itself.
 */
import { ExitCode } from '../core/errors.ts';
import type { Measurement } from '../telemetry/measurement.ts';
import type { StageAssessment } from '../judge/verdict.ts';
import type { CanaryPlan, TrackPlan } from './plan-types.ts';
import type { AbortCause, RunStatus, StageOutcome } from './result.ts';
import type { RoutePlan } from './route-plan.ts';

/** Consecutive failed reads of the telemetry source after which the run is aborted (cause `telemetry`). */
export const TELEMETRY_FAILURES_BEFORE_ABORT = 2;

export type Observation =
  | { kind: 'start'; at: number }
  | { kind: 'deployed'; at: number }
  /** One interval measured; `assessment` is null when the measurement was not usable (status `error`). */
  | { kind: 'tick'; at: number; measurement: Measurement; assessment: StageAssessment | null }
  | { kind: 'confirmed'; at: number; approved: boolean }
  /** The load-health check after the load stopped and before the promotion (`checkLoad`). */
  /** `failed`: the load itself failed (a k6 exit code, a failed runner), which `warn` does not excuse. */
  | { kind: 'loadChecked'; at: number; reliable: boolean; failed?: boolean; reason: string }
  /** A signal, or another stop request from outside (`parent-exit`, `stdin-closed`, with a `detail`). */
  | { kind: 'signal'; at: number; signal: string; detail?: string }
  | { kind: 'crashed'; at: number; workload: string; detail: string }
  /** An action failed: `configuration` (bad manifests, exit 3), `infrastructure` / `telemetry` (exit 4), `exception` (a harness bug, exit 4). */
  | {
      kind: 'failed';
      at: number;
      cause: 'configuration' | 'infrastructure' | 'telemetry' | 'exception';
      message: string;
    };

export interface RunOutcome {
  status: RunStatus;
  exitCode: number;
  reason: string;
  responsible: string[];
  /** `at`: when the cause was noticed (the observation's time). */
  abort: { cause: AbortCause; detail: string; at: number } | null;
}

export type Action =
  | { kind: 'deploy'; tracks: TrackPlan[] }
  | { kind: 'setRoute'; route: RoutePlan; stage: string | null }
  | { kind: 'startLoad' }
  | { kind: 'beginStage'; stage: number; at: number }
  /** Wait one interval, read the source, ask the judge, and report a `tick`. */
  | { kind: 'measure'; stage: number }
  | { kind: 'endStage'; stage: number; outcome: StageOutcome; reason: string; at: number }
  /** Ask a person before promoting; report `confirmed`. */
  | { kind: 'confirm'; question: string }
  | { kind: 'promote' }
  | { kind: 'rollback' }
  | { kind: 'stopLoad' }
  /** Judge whether the load that just stopped was reliable; report `loadChecked`. */
  | { kind: 'checkLoad' }
  | { kind: 'cleanup' }
  | { kind: 'finish'; outcome: RunOutcome };

/** `promoting`: the load has stopped and its health is being checked; `outcome` holds the promotion to be. */
export type Phase = 'idle' | 'deploying' | 'running' | 'confirming' | 'promoting' | 'done';

export interface CanaryState {
  phase: Phase;
  /** Index of the current stage; -1 before the first. */
  stage: number;
  stageStartedAt: number | null;
  /** The current stage has begun and not yet ended (an abort then ends it as `aborted`). */
  stageOpen: boolean;
  /** Something was (or is being) deployed, so a route can be set and there is something to clean up. */
  deployed: boolean;
  loadStarted: boolean;
  telemetryFailures: number;
  outcome: RunOutcome | null;
}

export const INITIAL_STATE: CanaryState = {
  phase: 'idle',
  stage: -1,
  stageStartedAt: null,
  stageOpen: false,
  deployed: false,
  loadStarted: false,
  telemetryFailures: 0,
  outcome: null,
};

export interface Step {
  state: CanaryState;
  actions: Action[];
}

const SAFE: RoutePlan = { kind: 'safe' };
const PROMOTED: RoutePlan = { kind: 'promoted' };

export function step(state: CanaryState, obs: Observation, plan: CanaryPlan): Step {
  if (state.phase === 'done') return { state, actions: [] };
  switch (obs.kind) {
    case 'signal':
      return abort(
        state,
        obs.at,
        { cause: 'signal', detail: obs.detail ? `${obs.signal}: ${obs.detail}` : obs.signal },
        'aborted',
        ExitCode.interrupted,
        obs.detail ? `interrupted: ${obs.detail}` : `interrupted by ${obs.signal}`,
      );
    case 'crashed':
      return abort(
        state,
        obs.at,
        { cause: 'crash', detail: `${obs.workload}: ${obs.detail}` },
        'aborted',
        ExitCode.infrastructure,
        `workload ${obs.workload} exited unexpectedly (${obs.detail})`,
      );
    case 'failed': {
      const harness = obs.cause === 'exception' || obs.cause === 'configuration';
      return abort(
        state,
        obs.at,
        { cause: obs.cause, detail: obs.message },
        harness ? 'error' : 'aborted',
        obs.cause === 'configuration' ? ExitCode.usage : ExitCode.infrastructure,
        `${obs.cause === 'exception' ? 'harness error' : `${obs.cause} failure`}: ${obs.message}`,
      );
    }
    case 'start':
      if (state.phase !== 'idle') return { state, actions: [] };
      return {
        state: { ...state, phase: 'deploying', deployed: true },
        actions: [{ kind: 'deploy', tracks: plan.tracks }],
      };
    case 'deployed':
      if (state.phase !== 'deploying') return { state, actions: [] };
      return enterStage({ ...state, phase: 'running', loadStarted: true }, 0, obs.at, plan, [{ kind: 'startLoad' }]);
    case 'loadChecked':
      return loadChecked(state, obs, plan);
    case 'tick':
      if (state.phase !== 'running') return { state, actions: [] };
      return onTick(state, obs, plan);
    case 'confirmed':
      if (state.phase !== 'confirming') return { state, actions: [] };
      return obs.approved
        ? promote(state, {
            status: 'promoted',
            exitCode: ExitCode.pass,
            reason: 'every stage passed; promotion confirmed',
            responsible: [],
            abort: null,
          })
        : rollBack(state, {
            status: 'rolled-back',
            exitCode: ExitCode.fail,
            reason: 'every stage passed, but promotion was declined at the confirmation prompt',
            responsible: [],
            abort: null,
          });
  }
}

/** Starts stage `index`: its route first, then (for the first stage) the load, then the first look. */
function enterStage(state: CanaryState, index: number, at: number, plan: CanaryPlan, after: Action[] = []): Step {
  const stage = plan.stages[index];
  return {
    state: { ...state, stage: index, stageStartedAt: at, stageOpen: true, telemetryFailures: 0 },
    actions: [
      { kind: 'setRoute', route: stage.route, stage: stage.name },
      ...after,
      { kind: 'beginStage', stage: index, at },
      { kind: 'measure', stage: index },
    ],
  };
}

function onTick(state: CanaryState, obs: Extract<Observation, { kind: 'tick' }>, plan: CanaryPlan): Step {
  const stage = plan.stages[state.stage];
  const elapsed = obs.at - (state.stageStartedAt ?? obs.at);
  const measureAgain: Action = { kind: 'measure', stage: state.stage };

  if (obs.measurement.status === 'error' || obs.assessment === null) {
    const failures = state.telemetryFailures + 1;
    if (failures >= TELEMETRY_FAILURES_BEFORE_ABORT) {
      const why = obs.measurement.reason ?? 'the telemetry source returned no usable measurement';
      return abort(
        state,
        obs.at,
        { cause: 'telemetry', detail: why },
        'aborted',
        ExitCode.infrastructure,
        `telemetry source stopped answering ${failures} times in a row: ${why}`,
      );
    }
    return { state: { ...state, telemetryFailures: failures }, actions: [measureAgain] };
  }
  const ok = { ...state, telemetryFailures: 0 };
  const closed = { ...ok, stageOpen: false };
  const a = obs.assessment;
  const atMax = elapsed >= stage.maxDurationMs;

  // A failed critical metric rolls back at once, whatever the combined evidence says (issue 5).
  const criticalFailures = a.metrics.filter((m) => m.critical && m.classification === 'fail');
  if (a.decision === 'rollback' || criticalFailures.length > 0) {
    const reason =
      a.decision === 'rollback'
        ? a.reason
        : `critical metric failed: ${criticalFailures.map((m) => `${m.name}: ${m.reason}`).join('; ')}`;
    return endRun(closed, obs.at, 'rollback', reason, {
      status: 'rolled-back',
      exitCode: ExitCode.fail,
      reason: `${stage.name}: ${reason}`,
      responsible: a.decision === 'rollback' ? a.responsible : criticalFailures.map((m) => m.name),
      abort: null,
    });
  }
  // The judge owns the statistics; the plan's bounds are enforced here too, so a judge that promotes
  // early cannot shorten a stage below its minimum duration or samples.
  const enough =
    elapsed >= stage.minDurationMs && a.samples.baseline >= stage.minSamples && a.samples.canary >= stage.minSamples;
  if (
    a.decision === 'inconclusive' ||
    ((a.decision === 'continue' || (a.decision === 'promote' && !enough)) && atMax)
  ) {
    const reason =
      a.decision === 'inconclusive'
        ? a.reason
        : `no decision within the stage's maximum duration (${stage.maxDurationMs / 1000} s): ${a.reason}`;
    return inconclusive(closed, obs.at, reason, a.responsible, plan);
  }
  if (a.decision === 'promote' && enough) {
    const ended: Action = { kind: 'endStage', stage: ok.stage, outcome: 'promote', reason: a.reason, at: obs.at };
    if (ok.stage + 1 < plan.stages.length) {
      const next = enterStage(closed, ok.stage + 1, obs.at, plan);
      return { state: next.state, actions: [ended, ...next.actions] };
    }
    const outcome: RunOutcome = {
      status: 'promoted',
      exitCode: ExitCode.pass,
      reason: `every stage passed (last: ${stage.name}: ${a.reason})`,
      responsible: [],
      abort: null,
    };
    if (plan.confirm) {
      return {
        state: { ...closed, phase: 'confirming' },
        actions: [
          ended,
          {
            kind: 'confirm',
            question: `All ${plan.stages.length} stages passed. Promote ${plan.target.service} ${canaryVersion(plan)} to all traffic?`,
          },
        ],
      };
    }
    const promoted = promote(closed, outcome);
    return { state: promoted.state, actions: [ended, ...promoted.actions] };
  }
  return { state: ok, actions: [measureAgain] };
}

function inconclusive(state: CanaryState, at: number, reason: string, responsible: string[], plan: CanaryPlan): Step {
  const stage = plan.stages[state.stage];
  const policy = plan.inconclusive;
  const outcome: RunOutcome = {
    status: 'inconclusive',
    exitCode: policy.exitCode,
    reason: `${stage.name}: ${reason} (policy: ${policy.action === 'rollback' ? 'rolled back' : 'promoted'})`,
    responsible,
    abort: null,
  };
  if (policy.action === 'promote') {
    const promoted = promote(state, outcome);
    return {
      state: promoted.state,
      actions: [{ kind: 'endStage', stage: state.stage, outcome: 'inconclusive', reason, at }, ...promoted.actions],
    };
  }
  return endRun(state, at, 'inconclusive', reason, outcome);
}

/** Ends the current stage with a verdict that rolls back (a failed stage, or inconclusive under the default policy). */
function endRun(state: CanaryState, at: number, stageOutcome: StageOutcome, reason: string, outcome: RunOutcome): Step {
  const back = rollBack(state, outcome);
  return {
    state: back.state,
    actions: [{ kind: 'endStage', stage: state.stage, outcome: stageOutcome, reason, at }, ...back.actions],
  };
}

function rollBack(state: CanaryState, outcome: RunOutcome): Step {
  return {
    state: { ...state, phase: 'done', outcome },
    actions: [
      { kind: 'setRoute', route: SAFE, stage: null },
      { kind: 'stopLoad' },
      { kind: 'rollback' },
      { kind: 'cleanup' },
      { kind: 'finish', outcome },
    ],
  };
}

/**
 * A promotion waits for the load-health check: the load stops first (as before), then `checkLoad`
 * reports whether the traffic the verdict rests on was the traffic planned (report/load-health.ts).
 */
function promote(state: CanaryState, outcome: RunOutcome): Step {
  return {
    state: { ...state, phase: 'promoting', outcome },
    actions: [{ kind: 'stopLoad' }, { kind: 'checkLoad' }],
  };
}

/**
 * Reliable load (or `onUnreliableLoad: warn`, unless the load failed outright): the promotion goes ahead. Unreliable: the run is
 * inconclusive, and the inconclusive policy decides (by default the safe route and a rollback), so a
 * promoted route never stands beside an inconclusive result.
 */
function loadChecked(state: CanaryState, obs: Extract<Observation, { kind: 'loadChecked' }>, plan: CanaryPlan): Step {
  if (state.phase !== 'promoting' || !state.outcome) return { state, actions: [] };
  const pending = state.outcome;
  if (obs.reliable || (plan.inconclusive.onUnreliableLoad === 'warn' && !obs.failed))
    return completePromotion(state, pending);
  const said = pending.status === 'promoted' ? 'promoted' : `was inconclusive (${pending.reason})`;
  const judge = pending.status === 'promoted' ? ` (${pending.reason})` : '';
  const outcome: RunOutcome = {
    status: 'inconclusive',
    exitCode: plan.inconclusive.exitCode,
    reason: `${obs.reason}; the judge ${said}${judge}, but on distorted traffic (policy: ${plan.inconclusive.action === 'promote' ? 'promoted' : 'rolled back'})`,
    responsible: pending.responsible,
    abort: null,
  };
  if (plan.inconclusive.action === 'promote') return completePromotion(state, outcome);
  return {
    state: { ...state, phase: 'done', outcome },
    actions: [
      { kind: 'setRoute', route: SAFE, stage: null },
      { kind: 'rollback' },
      { kind: 'cleanup' },
      { kind: 'finish', outcome },
    ],
  };
}

function completePromotion(state: CanaryState, outcome: RunOutcome): Step {
  return {
    state: { ...state, phase: 'done', outcome },
    actions: [
      { kind: 'setRoute', route: PROMOTED, stage: null },
      { kind: 'promote' },
      { kind: 'cleanup' },
      { kind: 'finish', outcome },
    ],
  };
}

/** Every abort: the safe route first (if anything is deployed), the load stopped, everything torn down, no verdict. */
function abort(
  state: CanaryState,
  at: number,
  cause: { cause: AbortCause; detail: string },
  status: RunStatus,
  exitCode: number,
  reason: string,
): Step {
  const outcome: RunOutcome = { status, exitCode, reason, responsible: [], abort: { ...cause, at } };
  const actions: Action[] = [];
  // While deploying, nothing routes yet: the safe route would fail against a half-started platform.
  if (state.deployed && state.phase !== 'deploying') actions.push({ kind: 'setRoute', route: SAFE, stage: null });
  if (state.stageOpen) actions.push({ kind: 'endStage', stage: state.stage, outcome: 'aborted', reason, at });
  if (state.loadStarted) actions.push({ kind: 'stopLoad' });
  actions.push({ kind: 'cleanup' }, { kind: 'finish', outcome });
  return { state: { ...state, phase: 'done', stageOpen: false, outcome }, actions };
}

function canaryVersion(plan: CanaryPlan): string {
  return plan.tracks.find((t) => t.track === 'canary')?.version ?? 'canary';
}
