import { describe, expect, it } from 'vitest';
import {
  INITIAL_STATE,
  step,
  TELEMETRY_FAILURES_BEFORE_ABORT,
  type Action,
  type CanaryState,
  type Observation,
} from './step.ts';
import { assessment, measurement, testPlan } from './testing/fixtures.ts';
import type { CanaryPlan } from './plan-types.ts';
import type { MetricVerdict } from '../judge/verdict.ts';

// Stage bounds of the fixture plan: min 2 s, max 10 s, 100 samples per arm; stages header, weighted-5, weighted-50.
const plan = testPlan();
const confirmPlan = testPlan({ confirm: true });
const promoteOnInconclusive = testPlan({ onInconclusive: 'promote' });

const deploying: CanaryState = { ...INITIAL_STATE, phase: 'deploying', deployed: true };
const running = (stage: number, over: Partial<CanaryState> = {}): CanaryState => ({
  ...INITIAL_STATE,
  phase: 'running',
  deployed: true,
  loadStarted: true,
  stage,
  stageStartedAt: 0,
  stageOpen: true,
  ...over,
});
const confirming: CanaryState = { ...running(2), phase: 'confirming', stageOpen: false };
const warnOnUnreliable: CanaryPlan = {
  ...plan,
  inconclusive: { ...plan.inconclusive, onUnreliableLoad: 'warn' },
};
/** The load stopped before a promotion, its health being checked. */
const promoting = (status: 'promoted' | 'inconclusive'): CanaryState => ({
  ...running(2),
  phase: 'promoting',
  stageOpen: false,
  outcome: {
    status,
    exitCode: status === 'promoted' ? 0 : 2,
    reason: 'every stage passed',
    responsible: [],
    abort: null,
  },
});
const done: CanaryState = { ...running(1), phase: 'done', stageOpen: false };

const tick = (at: number, a: ReturnType<typeof assessment> | null, status: 'ok' | 'error' = 'ok'): Observation => ({
  kind: 'tick',
  at,
  measurement: measurement(at, status),
  assessment: a,
});

function criticalErrors(classification: MetricVerdict['classification']): MetricVerdict {
  return {
    name: 'errors',
    kind: 'errors',
    classification,
    test: 'beta-binomial-e-process',
    direction: 'increase',
    baseline: 0.001,
    canary: 0.03,
    scale: 'difference',
    estimate: 0.029,
    ci: [0.02, 0.04],
    confidence: 0.95,
    eValue: 40,
    n: { baseline: 900, canary: 900 },
    tolerance: { absolute: 0.002 },
    alpha: 0.0125,
    critical: true,
    weight: 1,
    reason: 'error ratio 3 % vs 0.1 %',
  };
}

/** Action kinds with the detail that matters: the route of a setRoute, the outcome of endStage. */
function summary(actions: Action[]): string[] {
  return actions.map((a) => {
    switch (a.kind) {
      case 'setRoute':
        return `setRoute:${a.route.kind}${a.route.kind === 'weighted' ? `-${a.route.canary}` : ''}`;
      case 'endStage':
        return `endStage:${a.stage}:${a.outcome}`;
      case 'beginStage':
      case 'measure':
        return `${a.kind}:${a.stage}`;
      case 'finish':
        return `finish:${a.outcome.status}:${a.outcome.exitCode}`;
      default:
        return a.kind;
    }
  });
}

interface Row {
  name: string;
  plan?: CanaryPlan;
  state: CanaryState;
  obs: Observation;
  actions: string[];
  phase: CanaryState['phase'];
  check?: (next: CanaryState, actions: Action[]) => void;
}

const SAFE_EXIT = ['setRoute:safe'];
const rows: Row[] = [
  {
    name: 'start deploys every track',
    state: INITIAL_STATE,
    obs: { kind: 'start', at: 0 },
    actions: ['deploy'],
    phase: 'deploying',
    check: (_, a) =>
      expect(a[0].kind === 'deploy' && a[0].tracks.map((t) => t.track)).toEqual(['primary', 'baseline', 'canary']),
  },
  {
    name: 'deployed: header route, then load, then the first look',
    state: deploying,
    obs: { kind: 'deployed', at: 5 },
    actions: ['setRoute:header', 'startLoad', 'beginStage:0', 'measure:0'],
    phase: 'running',
    check: (s) => expect(s.stageStartedAt).toBe(5),
  },
  {
    name: 'continue before the maximum: look again',
    state: running(0),
    obs: tick(3000, assessment('continue')),
    actions: ['measure:0'],
    phase: 'running',
  },
  {
    name: 'promote: next stage, its route first',
    state: running(0),
    obs: tick(3000, assessment('promote')),
    actions: ['endStage:0:promote', 'setRoute:weighted-5', 'beginStage:1', 'measure:1'],
    phase: 'running',
    check: (s) => expect([s.stage, s.stageStartedAt, s.stageOpen]).toEqual([1, 3000, true]),
  },
  {
    name: 'promote before the minimum duration: look again',
    state: running(0),
    obs: tick(1000, assessment('promote')),
    actions: ['measure:0'],
    phase: 'running',
  },
  {
    name: 'promote with too few samples: look again',
    state: running(0),
    obs: tick(3000, assessment('promote', { samples: { baseline: 99, canary: 500, minimum: 100 } })),
    actions: ['measure:0'],
    phase: 'running',
  },
  {
    name: 'promote too early at the maximum duration: inconclusive',
    state: running(0),
    obs: tick(10_000, assessment('promote', { samples: { baseline: 50, canary: 50, minimum: 100 } })),
    actions: ['endStage:0:inconclusive', ...SAFE_EXIT, 'stopLoad', 'rollback', 'cleanup', 'finish:inconclusive:2'],
    phase: 'done',
  },
  {
    name: 'last stage promotes: stop load, then check it before promoting',
    state: running(2),
    obs: tick(3000, assessment('promote')),
    actions: ['endStage:2:promote', 'stopLoad', 'checkLoad'],
    phase: 'promoting',
    check: (s) => expect(s.outcome?.status).toBe('promoted'),
  },
  {
    name: 'load reliable: promoted route, promote, clean up',
    state: promoting('promoted'),
    obs: { kind: 'loadChecked', at: 4000, reliable: true, reason: '' },
    actions: ['setRoute:promoted', 'promote', 'cleanup', 'finish:promoted:0'],
    phase: 'done',
  },
  {
    name: 'load unreliable: inconclusive, safe route, roll back, exit 2 (no promoted route beside an inconclusive result)',
    state: promoting('promoted'),
    obs: { kind: 'loadChecked', at: 4000, reliable: false, reason: 'load unreliable: host CPU 99 % busy' },
    actions: [...SAFE_EXIT, 'rollback', 'cleanup', 'finish:inconclusive:2'],
    phase: 'done',
    check: (s) =>
      expect(s.outcome?.reason).toBe(
        'load unreliable: host CPU 99 % busy; the judge promoted (every stage passed), but on distorted traffic (policy: rolled back)',
      ),
  },
  {
    name: 'load unreliable with onUnreliableLoad warn: the promotion goes ahead',
    plan: warnOnUnreliable,
    state: promoting('promoted'),
    obs: { kind: 'loadChecked', at: 4000, reliable: false, reason: 'load unreliable: host CPU 99 % busy' },
    actions: ['setRoute:promoted', 'promote', 'cleanup', 'finish:promoted:0'],
    phase: 'done',
  },
  {
    name: 'a failed load (a k6 exit code) is not excused by warn: inconclusive, safe route, roll back',
    plan: warnOnUnreliable,
    state: promoting('promoted'),
    obs: { kind: 'loadChecked', at: 4000, reliable: false, failed: true, reason: 'the load failed: k6 exited 99' },
    actions: [...SAFE_EXIT, 'rollback', 'cleanup', 'finish:inconclusive:2'],
    phase: 'done',
  },
  {
    name: 'a signal while the load is checked: safe route, aborted, exit 130',
    state: promoting('promoted'),
    obs: { kind: 'signal', at: 4000, signal: 'SIGINT' },
    actions: [...SAFE_EXIT, 'stopLoad', 'cleanup', 'finish:aborted:130'],
    phase: 'done',
  },
  {
    name: 'a stray loadChecked while running is ignored',
    state: running(1),
    obs: { kind: 'loadChecked', at: 4000, reliable: false, reason: 'x' },
    actions: [],
    phase: 'running',
  },
  {
    name: 'last stage promotes with --confirm: ask first',
    plan: confirmPlan,
    state: running(2),
    obs: tick(3000, assessment('promote')),
    actions: ['endStage:2:promote', 'confirm'],
    phase: 'confirming',
  },
  {
    name: 'confirmation approved: promote',
    plan: confirmPlan,
    state: confirming,
    obs: { kind: 'confirmed', at: 4000, approved: true },
    actions: ['stopLoad', 'checkLoad'],
    phase: 'promoting',
  },
  {
    name: 'confirmation declined: roll back',
    plan: confirmPlan,
    state: confirming,
    obs: { kind: 'confirmed', at: 4000, approved: false },
    actions: [...SAFE_EXIT, 'stopLoad', 'rollback', 'cleanup', 'finish:rolled-back:1'],
    phase: 'done',
  },
  {
    name: 'rollback: at once, even before the minimum duration',
    state: running(1),
    obs: tick(500, assessment('rollback')),
    actions: ['endStage:1:rollback', ...SAFE_EXIT, 'stopLoad', 'rollback', 'cleanup', 'finish:rolled-back:1'],
    phase: 'done',
    check: (s) => expect(s.outcome?.responsible).toEqual(['latency-p99']),
  },
  {
    name: 'a failed critical metric rolls back at once, even while the combined evidence says continue',
    state: running(1),
    obs: tick(500, assessment('continue', { metrics: [criticalErrors('fail')] })),
    actions: ['endStage:1:rollback', ...SAFE_EXIT, 'stopLoad', 'rollback', 'cleanup', 'finish:rolled-back:1'],
    phase: 'done',
    check: (s) =>
      expect([s.outcome?.responsible, s.outcome?.reason]).toEqual([
        ['errors'],
        expect.stringMatching(/critical metric failed: errors/),
      ]),
  },
  {
    name: 'a failed metric that is not critical waits for the combined evidence',
    state: running(1),
    obs: tick(3000, assessment('continue', { metrics: [{ ...criticalErrors('fail'), critical: false }] })),
    actions: ['measure:1'],
    phase: 'running',
  },
  {
    name: 'inconclusive (SRM): default policy rolls back, exit 2',
    state: running(1),
    obs: tick(3000, assessment('inconclusive', { reason: 'sample ratio mismatch' })),
    actions: ['endStage:1:inconclusive', ...SAFE_EXIT, 'stopLoad', 'rollback', 'cleanup', 'finish:inconclusive:2'],
    phase: 'done',
  },
  {
    name: 'continue at the maximum duration: inconclusive',
    state: running(1),
    obs: tick(10_000, assessment('continue')),
    actions: ['endStage:1:inconclusive', ...SAFE_EXIT, 'stopLoad', 'rollback', 'cleanup', 'finish:inconclusive:2'],
    phase: 'done',
  },
  {
    name: 'inconclusive with policy promote: promotes, still exit 2',
    plan: promoteOnInconclusive,
    state: running(1),
    obs: tick(3000, assessment('inconclusive')),
    actions: ['endStage:1:inconclusive', 'stopLoad', 'checkLoad'],
    phase: 'promoting',
    check: (s) => expect(s.outcome?.exitCode).toBe(2),
  },
  {
    name: 'one failed read: look again, counted',
    state: running(1),
    obs: tick(3000, null, 'error'),
    actions: ['measure:1'],
    phase: 'running',
    check: (s) => expect(s.telemetryFailures).toBe(1),
  },
  {
    name: 'a good read resets the failure count',
    state: running(1, { telemetryFailures: 1 }),
    obs: tick(3000, assessment('continue')),
    actions: ['measure:1'],
    phase: 'running',
    check: (s) => expect(s.telemetryFailures).toBe(0),
  },
  {
    name: 'telemetry down: aborted, safe route first, exit 4',
    state: running(1, { telemetryFailures: TELEMETRY_FAILURES_BEFORE_ABORT - 1 }),
    obs: tick(3000, null, 'error'),
    actions: [...SAFE_EXIT, 'endStage:1:aborted', 'stopLoad', 'cleanup', 'finish:aborted:4'],
    phase: 'done',
    check: (s) => expect(s.outcome?.abort?.cause).toBe('telemetry'),
  },
  {
    name: 'SIGINT mid-stage: aborted, safe route first, exit 130',
    state: running(1),
    obs: { kind: 'signal', at: 3000, signal: 'SIGINT' },
    actions: [...SAFE_EXIT, 'endStage:1:aborted', 'stopLoad', 'cleanup', 'finish:aborted:130'],
    phase: 'done',
  },
  {
    name: 'SIGTERM while deploying: no route to set, clean up, exit 130',
    state: deploying,
    obs: { kind: 'signal', at: 10, signal: 'SIGTERM' },
    actions: ['cleanup', 'finish:aborted:130'],
    phase: 'done',
  },
  {
    name: 'SIGINT at the confirmation prompt: safe route, stage already decided',
    plan: confirmPlan,
    state: confirming,
    obs: { kind: 'signal', at: 4000, signal: 'SIGINT' },
    actions: [...SAFE_EXIT, 'stopLoad', 'cleanup', 'finish:aborted:130'],
    phase: 'done',
  },
  {
    name: 'canary crashed: aborted, never a verdict, exit 4',
    state: running(0),
    obs: { kind: 'crashed', at: 3000, workload: 'account-canary', detail: 'exit code 1' },
    actions: [...SAFE_EXIT, 'endStage:0:aborted', 'stopLoad', 'cleanup', 'finish:aborted:4'],
    phase: 'done',
    check: (s) => expect(s.outcome?.abort).toEqual({ cause: 'crash', detail: 'account-canary: exit code 1', at: 3000 }),
  },
  {
    name: 'infrastructure failure: aborted, exit 4',
    state: running(2),
    obs: { kind: 'failed', at: 3000, cause: 'infrastructure', message: 'proxy did not apply the route' },
    actions: [...SAFE_EXIT, 'endStage:2:aborted', 'stopLoad', 'cleanup', 'finish:aborted:4'],
    phase: 'done',
  },
  {
    name: 'exception: error, safe route first, exit 4',
    state: running(0),
    obs: { kind: 'failed', at: 3000, cause: 'exception', message: 'TypeError: x is undefined' },
    actions: [...SAFE_EXIT, 'endStage:0:aborted', 'stopLoad', 'cleanup', 'finish:error:4'],
    phase: 'done',
  },
  {
    name: 'bad manifests while deploying: error, exit 3',
    state: deploying,
    obs: { kind: 'failed', at: 10, cause: 'configuration', message: 'manifests/app/account.yaml: bad' },
    actions: ['cleanup', 'finish:error:3'],
    phase: 'done',
  },
  {
    name: 'a stale tick while deploying is ignored',
    state: deploying,
    obs: tick(3000, assessment('promote')),
    actions: [],
    phase: 'deploying',
  },
  {
    name: 'a second start is ignored',
    state: running(0),
    obs: { kind: 'start', at: 1 },
    actions: [],
    phase: 'running',
  },
  {
    name: 'after the end nothing happens, not even on a signal',
    state: done,
    obs: { kind: 'signal', at: 1, signal: 'SIGINT' },
    actions: [],
    phase: 'done',
  },
];

describe('step: one row per transition', () => {
  it.each(rows)('$name', (row) => {
    const { state, actions } = step(row.state, row.obs, row.plan ?? plan);
    expect(summary(actions)).toEqual(row.actions);
    expect(state.phase).toBe(row.phase);
    row.check?.(state, actions);
  });

  it('every path that ends without promoting leaves the safe route (when anything routes) and cleans up last', () => {
    for (const row of rows.filter((r) => r.phase === 'done' && r.state.phase !== 'done')) {
      const { state, actions } = step(row.state, row.obs, row.plan ?? plan);
      const kinds = summary(actions);
      expect(kinds.slice(-2), row.name).toEqual(['cleanup', kinds[kinds.length - 1]]);
      expect(kinds[kinds.length - 1], row.name).toMatch(/^finish:/);
      if (
        state.outcome?.status !== 'promoted' &&
        !(row.plan === promoteOnInconclusive) &&
        row.state.phase !== 'deploying'
      ) {
        const routes = kinds.filter((k) => k.startsWith('setRoute'));
        expect(routes, row.name).toEqual(['setRoute:safe']);
        // The safe route comes before stopping the load and before tearing down.
        expect(kinds.indexOf('setRoute:safe'), row.name).toBeLessThan(kinds.indexOf('cleanup'));
      }
    }
  });

  it('walks a healthy run from start to promotion', () => {
    let s = INITIAL_STATE;
    const seen: string[] = [];
    const feed = (o: Observation) => {
      const r = step(s, o, plan);
      s = r.state;
      seen.push(...summary(r.actions));
    };
    feed({ kind: 'start', at: 0 });
    feed({ kind: 'deployed', at: 0 });
    for (let i = 0; i < plan.stages.length; i++) feed(tick(3000 * (i + 1), assessment('promote')));
    expect(s.phase).toBe('promoting');
    feed({ kind: 'loadChecked', at: 10_000, reliable: true, reason: '' });
    expect(seen.filter((k) => k.startsWith('setRoute'))).toEqual([
      'setRoute:header',
      'setRoute:weighted-5',
      'setRoute:weighted-50',
      'setRoute:promoted',
    ]);
    expect(s.outcome?.status).toBe('promoted');
  });
});
