/**
 * In-memory stand-ins for the runner's collaborators: a platform that records what it was asked, a
 * driver that sends nothing, a source and a judge that follow a script. Test support only.
 */
import type { AbortSubscription, AbortTrigger } from '../../core/process-abort.ts';
import type { Driver, LoadPlan, LoadResult, LoadRun } from '../../driver/driver.ts';
import type { StageAssessment, StageDecision } from '../../judge/verdict.ts';
import type { DeployOptions, Deployment, Platform } from '../../platform/platform.ts';
import type { Measurement } from '../../telemetry/measurement.ts';
import type { Source } from '../../telemetry/source.ts';
import type { RoutePlan } from '../route-plan.ts';
import type { TrackPlan } from '../plan-types.ts';
import type { StageJudge, StageJudgeInput } from '../runner.ts';
import { assessment, measurement } from './fixtures.ts';

export class FakePlatform implements Platform {
  readonly engine = 'local' as const;
  readonly calls: string[] = [];
  routes: RoutePlan[] = [];
  crash: DeployOptions['onUnexpectedExit'];
  /** Set to make the next call of that method fail. */
  failOn: Partial<Record<'deploy' | 'setRoute' | 'teardown', Error>> = {};
  tornDown = false;
  routeAt: number[] = [];

  async deploy(tracks: TrackPlan[], options: DeployOptions = {}): Promise<Deployment> {
    this.calls.push(`deploy ${tracks.map((t) => t.track).join(',')}`);
    this.crash = options.onUnexpectedExit;
    if (this.failOn.deploy) throw this.failOn.deploy;
    return { gatewayUrl: 'http://127.0.0.1:1', metricsUrls: ['http://127.0.0.1:1/metrics'] };
  }
  async setRoute(route: RoutePlan): Promise<void> {
    this.calls.push(`setRoute ${route.kind}`);
    if (this.failOn.setRoute) {
      const e = this.failOn.setRoute;
      delete this.failOn.setRoute;
      throw e;
    }
    this.routes.push(route);
    this.routeAt.push(Date.now());
  }
  async conclude(verdict: 'promote' | 'rollback'): Promise<void> {
    this.calls.push(verdict);
  }
  async teardown(): Promise<void> {
    this.calls.push('teardown');
    this.tornDown = true;
    if (this.failOn.teardown) throw this.failOn.teardown;
  }
  get currentRoute(): RoutePlan['kind'] | undefined {
    return this.routes[this.routes.length - 1]?.kind;
  }
}

export class FakeDriver implements Driver {
  readonly name = 'builtin' as const;
  plan: LoadPlan | null = null;
  stopped: string | null = null;
  /** Share of the planned rate the fake achieves: below 0.9 the load-health check finds the load unreliable. */
  achievedShare = 1;

  async start(plan: LoadPlan): Promise<LoadRun> {
    this.plan = plan;
    const startedAt = Date.now();
    // By default the fake keeps the planned rate, so the load-health check finds the load healthy.
    const rate = plan.model.kind === 'open' && plan.model.profile.kind === 'constant' ? plan.model.profile.rate : 10;
    const achieved = rate * this.achievedShare;
    const result = (status: LoadResult['status']): LoadResult => ({
      driver: 'builtin',
      target: plan.target,
      status,
      model: { kind: 'open', targetRate: rate, profile: { kind: 'constant', rate, durationS: 1 } },
      startedAt,
      endedAt: Date.now(),
      elapsedS: 1,
      sent: 10,
      requests: 10,
      errors: 0,
      dropped: 0,
      achievedRate: achieved,
      latencyMs: { p50: 20, p90: 25, p99: 30, max: 40, mean: 21 },
      byWorkload: { bff: 10, 'account-canary': 2 },
      byTrack: { 'account-primary': 6, 'account-baseline': 2, 'account-canary': 2, '-': 0 },
      byCohort: { user: 8, 'canary-tester': 1, 'baseline-tester': 1 },
      series: [],
    });
    return {
      startedAt,
      snapshot: async () => ({
        start: startedAt,
        end: Date.now(),
        sent: 0,
        completed: 0,
        inFlight: 0,
        dropped: 0,
        series: [],
      }),
      stop: async (reason) => {
        this.stopped ??= reason;
        return result(reason);
      },
      result: async () => result('completed'),
    };
  }
}

export class FakeSource implements Source {
  readonly kind = 'scrape' as const;
  reads = 0;
  /** Statuses to return in order; `ok` after the list runs out. */
  constructor(private readonly statuses: Measurement['status'][] = []) {}
  async begin(): Promise<number> {
    return Date.now();
  }
  async measure(): Promise<Measurement> {
    const status = this.statuses[this.reads++] ?? 'ok';
    return measurement(Date.now(), status);
  }
  async measureWindow(): Promise<Measurement[]> {
    throw new Error('not used');
  }
}

/** Decides per look from a script: `decide(stageName, look)`, looks counted from 1 within each stage. */
export class ScriptedJudge implements StageJudge {
  readonly inputs: StageJudgeInput[] = [];
  private readonly looks = new Map<string, number>();
  constructor(private readonly decide: (stage: string, look: number) => StageDecision) {}
  assess(input: StageJudgeInput): StageAssessment {
    this.inputs.push({ ...input, measurements: [...input.measurements] });
    const look = (this.looks.get(input.stage.name) ?? 0) + 1;
    this.looks.set(input.stage.name, look);
    const decision = this.decide(input.stage.name, look);
    return assessment(decision, {
      reason: decision === 'rollback' ? 'latency-p99: canary 20 % slower' : `judge: ${decision}`,
      elapsedMs: input.elapsedMs,
      samples: {
        baseline: 100 * input.measurements.length,
        canary: 100 * input.measurements.length,
        minimum: input.stage.minSamples,
      },
    });
  }
}

/** A signal source the test fires by hand. */
export function manualSignals(): {
  subscribe: AbortSubscription;
  /** A signal name (`SIGINT`), or `parent-exit` / `stdin-closed` with a detail. */
  fire: (s: string, detail?: string) => void;
  listeners: number;
} {
  const listeners = new Set<(t: AbortTrigger) => void>();
  return {
    subscribe: (l) => {
      listeners.add(l);
      return () => void listeners.delete(l);
    },
    fire: (s, detail) => listeners.forEach((l) => l({ name: s, detail: detail ?? `received ${s}` })),
    get listeners() {
      return listeners.size;
    },
  };
}
