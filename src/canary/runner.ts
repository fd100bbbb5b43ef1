/**
 * The thin, imperative shell around `step`: it feeds observations in, executes the actions that come
 * out against a Platform, a load Driver and a telemetry Source, and records everything into a
 * RunResult. It makes no decision of its own beyond "an action failed" (an observation like any
 * other). Safe on every exit: a signal, a crashed workload, a failing source or an exception all go
 * through `step`, whose abort actions put the safe route first; the runner then always tears down.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Driver, LoadResult, LoadRun } from '../driver/driver.ts';
import { constantProfile } from '../driver/driver.ts';
import { ConfigError, ExitCode, InfraError, UsageError } from '../core/errors.ts';
import { type AbortSubscription, processAborts } from '../core/process-abort.ts';
import { redactDeep, redactSecrets } from '../core/redact.ts';
import { writeFileAtomic } from '../report/write-file.ts';
import type { StageAssessment } from '../judge/verdict.ts';
import type { Deployment, Platform } from '../platform/platform.ts';
import type { Measurement } from '../telemetry/measurement.ts';
import type { Source } from '../telemetry/source.ts';
import { DEFAULT_MIX } from '../../load/lib/mix.ts';
import { DEFAULT_SEED } from '../../load/lib/traffic.ts';
import type { CanaryPlan, StagePlan } from './plan-types.ts';
import { RunRecord } from './record.ts';
import type { LoadSummary, RunConfig, RunResult } from './result.ts';
import { applyLoadHealthPolicy } from '../report/load-health.ts';
import { describeRoute } from './routes.ts';
import { INITIAL_STATE, step, type Action, type CanaryState, type Observation, type RunOutcome } from './step.ts';

/** The judge's view of one stage so far; pure (src/judge/), adapted in `judge-adapter.ts`. */
export interface StageJudge {
  assess(input: StageJudgeInput): StageAssessment;
}

export interface StageJudgeInput {
  stage: StagePlan;
  /** Every `ok`/`nodata` measurement so far, oldest first: of this stage (`plan.evidence` `stage`) or of the run (`run`). */
  measurements: Measurement[];
  elapsedMs: number;
  /** Workload names of the compared arms. */
  control: string;
  treatment: string;
  /** Planned canary share of the compared traffic (0.5: equal traffic by construction). */
  expectedCanaryShare: number;
}

/** Where aborts come from (signals, parent exit, stdin closed): `core/process-abort.ts` by default, a fake in tests. */
export type SignalSubscription = AbortSubscription;

export interface RunnerDeps {
  platform: Platform;
  driver: Driver;
  /** Built after deploy, because only then are the telemetry endpoints known. */
  createSource: (deployment: Deployment, plan: CanaryPlan) => Source;
  judge: StageJudge;
  /** Asks a person; resolves true to promote. Required when `plan.confirm`. `signal` aborts on Ctrl-C & co. */
  confirm?: (question: string, signal: AbortSignal) => Promise<boolean>;
  /** Receives the reports hook; default: none (result.json only). */
  renderReports?: (result: RunResult, runDir: string) => void;
  signals?: SignalSubscription;
  now?: () => number;
  log?: (line: string) => void;
}

export interface RunnerOptions {
  reportsDir: string;
  config: RunConfig;
  runId?: string;
}

export interface RunOutput {
  result: RunResult;
  runDir: string;
  /** True when the report hook ran without error (report.html etc. sit next to result.json). */
  rendered: boolean;
  /** The error that kept the report hook from rendering, if any. */
  reportError: string | null;
  /** Why result.json could not be written (a full disk, …); null once it is on disk. */
  resultError: string | null;
}

/** `20261125-193142-a1b2`: sortable, unique enough for one machine, safe as a directory name. */
export function newRunId(now: number): string {
  const d = new Date(now).toISOString();
  return `${d.slice(0, 10).replaceAll('-', '')}-${d.slice(11, 19).replaceAll(':', '')}-${randomBytes(2).toString('hex')}`;
}

/** Runs the plan to its end; never throws for anything that happens after the start (it is in the result). */
export async function runCanary(plan: CanaryPlan, deps: RunnerDeps, options: RunnerOptions): Promise<RunOutput> {
  const now = deps.now ?? Date.now;
  const log = deps.log ?? (() => {});
  const startedAt = now();
  const runId = options.runId ?? newRunId(startedAt);
  const record = new RunRecord(runId, startedAt, plan, options.config);
  const exec = new Execution(plan, deps, record, now, (line) => log(redactSecrets(line)));
  // Subscribed until the reports are written: a signal meanwhile is acknowledged, never fatal.
  const unsubscribe = (deps.signals ?? processAborts)((t) =>
    exec.urgent({
      kind: 'signal',
      at: now(),
      signal: t.name,
      ...(t.name.startsWith('SIG') ? {} : { detail: t.detail }),
    }),
  );
  const runDir = join(options.reportsDir, runId);
  let reportError: string | null = null;
  let resultError: string | null = null;
  let rendered = false;
  let result: RunResult;
  try {
    // Nothing that leaves the run (result.json, every report rendered from it) carries a credential.
    result = redactDeep(applyLoadHealthPolicy(await exec.run(), plan.inconclusive.onUnreliableLoad));
    try {
      writeResult(runDir, result);
    } catch (err) {
      resultError = redactSecrets(message(err));
      log(`result.json: could not be written (${resultError}); the verdict is only on stdout`);
    }
    if (deps.renderReports && resultError === null) {
      try {
        deps.renderReports(result, runDir);
        rendered = true;
      } catch (err) {
        reportError = redactSecrets(message(err));
        log(`reports: could not render (${reportError}); result.json is complete`);
      }
    }
  } finally {
    unsubscribe();
  }
  return { result, runDir, rendered, reportError, resultError };
}

/** Temp file + rename: a reader never sees half a result, even if the process dies mid-write. */
export function writeResult(runDir: string, result: RunResult): string {
  const file = join(runDir, 'result.json');
  writeFileAtomic(file, `${JSON.stringify(result, null, 2)}\n`, { createDir: true });
  return file;
}

/** One run's mutable shell state. */
class Execution {
  private state: CanaryState = INITIAL_STATE;
  private readonly queue: Observation[] = [];
  private wake: (() => void) | null = null;
  /** Aborted when an urgent observation arrives, to cut short an interval wait. */
  private interrupt = new AbortController();
  private deployment: Deployment | null = null;
  private source: Source | null = null;
  private load: LoadRun | null = null;
  private loadResult: LoadResult | null = null;
  /** What the judge looks at: the stage's or the run's measurements (`plan.evidence`). */
  private stageMeasurements: Measurement[] = [];
  private stageStartedAt = 0;
  private outcome: { outcome: RunOutcome; at: number } | null = null;

  constructor(
    private readonly plan: CanaryPlan,
    private readonly deps: RunnerDeps,
    private readonly record: RunRecord,
    private readonly now: () => number,
    private readonly log: (line: string) => void,
  ) {}

  /** Signals, crashes and failures: jump the queue and cut short whatever is being waited for. */
  urgent(obs: Observation): void {
    if (this.state.phase === 'done') {
      if (obs.kind === 'signal')
        this.log(`${obs.signal}: already stopping (the route is made safe first, then the reports are written)`);
      return;
    }
    this.queue.unshift(obs);
    this.interrupt.abort();
    this.wake?.();
  }

  private push(obs: Observation): void {
    this.queue.push(obs);
    this.wake?.();
  }

  async run(): Promise<RunResult> {
    try {
      await this.loop();
    } catch (err) {
      // A bug in the state machine or the recorder: no decision can be trusted any more, but the
      // routes must still end safe and every child must still stop.
      await this.emergencyStop(err);
    }
    const { outcome, at } = this.outcome!;
    return this.record.finish(outcome, at);
  }

  private async emergencyStop(err: unknown): Promise<void> {
    this.log(`harness error: ${message(err)}; restoring the safe route and stopping everything`);
    const at = this.now();
    const tries: [string, () => Promise<unknown>][] = [
      [
        'setRoute',
        () =>
          this.deployment
            ? this.deps.platform
                .setRoute({ kind: 'safe' })
                .then(() => this.record.routeApplied(this.now(), { kind: 'safe' }, null))
            : Promise.resolve(),
      ],
      ['stopLoad', () => this.load?.stop('stopped') ?? Promise.resolve()],
      ['cleanup', () => this.deps.platform.teardown()],
    ];
    for (const [name, attempt] of tries)
      await attempt().catch((e: unknown) => this.record.note(`${name} failed: ${message(e)}`));
    this.outcome = {
      outcome: {
        status: 'error',
        exitCode: ExitCode.infrastructure,
        reason: `harness error: ${message(err)}`,
        responsible: [],
        abort: { cause: 'exception', detail: message(err), at },
      },
      at: this.now(),
    };
  }

  private async loop(): Promise<void> {
    this.push({ kind: 'start', at: this.now() });
    while (!this.outcome) {
      const obs = await this.next();
      const { state, actions } = step(this.state, obs, this.plan);
      const terminal = state.phase === 'done' && this.state.phase !== 'done';
      this.state = state;
      if (obs.kind !== 'tick') this.log(observationText(obs));
      for (const action of actions) {
        // A non-terminal list yields to an urgent observation; a terminal list (safe route,
        // cleanup) always runs to the end, each action best effort.
        if (!terminal && this.hasUrgent()) break;
        try {
          await this.execute(action);
        } catch (err) {
          if (terminal) {
            this.log(`${action.kind} failed during shutdown: ${message(err)}`);
            this.record.note(`${action.kind} failed: ${message(err)}`);
            continue;
          }
          this.urgent({
            kind: 'failed',
            at: this.now(),
            cause:
              err instanceof ConfigError || err instanceof UsageError
                ? 'configuration'
                : err instanceof InfraError
                  ? 'infrastructure'
                  : 'exception',
            message: message(err),
          });
          break;
        }
      }
    }
  }

  private hasUrgent(): boolean {
    return this.queue.some((o) => o.kind === 'signal' || o.kind === 'crashed' || o.kind === 'failed');
  }

  private async next(): Promise<Observation> {
    while (this.queue.length === 0) {
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
    return this.queue.shift()!;
  }

  private async execute(action: Action): Promise<void> {
    switch (action.kind) {
      case 'deploy': {
        this.log(`deploying ${action.tracks.map((t) => `${t.workload} ${t.version}`).join(', ')}`);
        this.deployment = await this.deps.platform.deploy(action.tracks, {
          onUnexpectedExit: (e) =>
            this.urgent({ kind: 'crashed', at: this.now(), workload: e.workload, detail: e.detail }),
        });
        this.push({ kind: 'deployed', at: this.now() });
        return;
      }
      case 'setRoute': {
        this.record.routeRequested(action.route);
        await this.deps.platform.setRoute(action.route);
        this.record.routeApplied(this.now(), action.route, action.stage);
        this.log(`route: ${describeRoute(action.route)}${action.stage ? ` (${action.stage})` : ''}`);
        return;
      }
      case 'startLoad': {
        if (!this.deployment) throw new InfraError('cannot start the load: nothing is deployed');
        const source = this.deps.createSource(this.deployment, this.plan);
        await source.begin();
        this.source = source;
        // One open-model load across all stages: each stage's longest run, plus a margin the
        // runner never reaches because it stops the load itself.
        const durationS = Math.ceil(this.plan.stages.reduce((s, st) => s + st.maxDurationMs, 0) / 1000) + 60;
        this.load = await this.deps.driver.start({
          target: this.deployment.gatewayUrl,
          // The load shares the machine with every track: sleep on timers rather than spin (driver.ts).
          model: { kind: 'open', profile: constantProfile(this.plan.load.ratePerSecond, durationS), spinMs: 0 },
          traffic: {
            cohorts: this.plan.cohorts.map((c) => ({ ...c })),
            mix: { ...DEFAULT_MIX, weights: { ...DEFAULT_MIX.weights } },
            seed: DEFAULT_SEED,
          },
          canaryService: this.plan.target.service,
        });
        this.log(`load: ${this.plan.load.ratePerSecond} requests/s through ${this.deployment.gatewayUrl}`);
        return;
      }
      case 'beginStage': {
        if (this.plan.evidence === 'stage') this.stageMeasurements = [];
        this.stageStartedAt = action.at;
        this.record.beginStage(action.stage, action.at);
        this.log(`stage ${this.plan.stages[action.stage].name}: started`);
        return;
      }
      case 'measure':
        return this.measure(action.stage);
      case 'endStage': {
        this.record.endStage(action.stage, action.outcome, action.reason, action.at);
        const took = ((action.at - this.stageStartedAt) / 1000).toFixed(1);
        this.log(`stage ${this.plan.stages[action.stage].name}: ${action.outcome} after ${took} s: ${action.reason}`);
        return;
      }
      case 'confirm': {
        if (!this.deps.confirm) throw new InfraError('promotion needs confirmation, but no prompt is available');
        if (this.interrupt.signal.aborted) this.interrupt = new AbortController();
        const interrupted = this.interrupt.signal;
        // A person may take their time; a signal or a crash meanwhile must not wait for the answer.
        const approved = await orAborted(this.deps.confirm(action.question, interrupted), interrupted);
        if (approved === null) return;
        this.push({ kind: 'confirmed', at: this.now(), approved });
        return;
      }
      case 'promote':
        return this.deps.platform.conclude('promote');
      case 'rollback':
        return this.deps.platform.conclude('rollback');
      case 'stopLoad': {
        if (!this.load) return;
        const run = this.load;
        this.load = null;
        const interrupted = this.state.outcome?.abort?.cause === 'signal';
        this.loadResult = await run.stop(interrupted ? 'interrupted' : 'stopped');
        this.record.loadSummary(loadSummary(this.loadResult, this.plan));
        return;
      }
      case 'cleanup': {
        if (this.load) {
          const run = this.load;
          this.load = null;
          await run.stop('stopped').catch(() => undefined);
        }
        await this.deps.platform.teardown();
        return;
      }
      case 'finish':
        this.outcome = { outcome: action.outcome, at: this.now() };
        return;
    }
  }

  /**
   * Waits out one interval, reads the source, asks the judge. An urgent observation cuts the wait
   * short and abandons a read in progress (a scrape under load can take a second or more; the safe
   * route must not wait for it).
   */
  private async measure(stageIndex: number): Promise<void> {
    if (!this.source) throw new InfraError('cannot measure: the telemetry source was not started');
    if (this.interrupt.signal.aborted) this.interrupt = new AbortController();
    const interrupted = this.interrupt.signal;
    const waited = await sleep(this.plan.intervalMs, interrupted);
    if (!waited) return;
    const read = this.source.measure();
    const measurement = await orAborted(read, interrupted);
    if (measurement === null) {
      read.catch(() => undefined);
      return;
    }
    const at = this.now();
    let assessment: StageAssessment | null = null;
    if (measurement.status !== 'error') {
      this.stageMeasurements.push(measurement);
      const stage = this.plan.stages[stageIndex];
      assessment = this.deps.judge.assess({
        stage,
        measurements: this.stageMeasurements,
        elapsedMs: at - this.stageStartedAt,
        control: this.plan.comparison.control.workload,
        treatment: this.plan.comparison.treatment.workload,
        expectedCanaryShare: 0.5,
      });
    }
    this.record.interval(stageIndex, at, measurement, assessment);
    if (assessment) {
      const s = assessment.samples;
      this.log(
        `  ${this.plan.stages[stageIndex].name} +${((at - this.stageStartedAt) / 1000).toFixed(0)} s: ${assessment.decision} (n ${s.baseline}/${s.canary}) ${assessment.reason}`,
      );
    } else {
      this.log(`  telemetry: ${measurement.reason ?? measurement.status}`);
    }
    this.push({ kind: 'tick', at, measurement, assessment });
  }
}

/**
 * `work`'s value, or null as soon as `signal` aborts. The abort listener is removed once `work`
 * settles: the run's signal lives across every interval, and a listener left per interval would pile
 * up (Node warns past ten, MaxListenersExceededWarning).
 */
function orAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T | null> {
  if (signal.aborted) return Promise.resolve(null);
  return new Promise<T | null>((resolve, reject) => {
    const onAbort = () => resolve(null);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function loadSummary(r: LoadResult, plan: CanaryPlan): LoadSummary {
  const prefix = `${plan.target.service}-`;
  return {
    driver: r.driver,
    status: r.status,
    ...(r.reason ? { reason: r.reason } : {}),
    targetRate: plan.load.ratePerSecond,
    achievedRate: r.achievedRate,
    requests: r.requests,
    errors: r.errors,
    latencyMs: { p50: r.latencyMs.p50, p90: r.latencyMs.p90, p99: r.latencyMs.p99, max: r.latencyMs.max },
    byWorkload: Object.fromEntries(Object.entries(r.byTrack).filter(([w]) => w.startsWith(prefix))),
    byCohort: { ...r.byCohort },
    dropped: r.dropped,
    ...(r.schedulerLagMs ? { schedulerLagMs: r.schedulerLagMs } : {}),
    ...(r.hostCpu ? { hostCpu: r.hostCpu } : {}),
  };
}

/** The log line of an observation: a declined confirmation must not read "confirmed". */
function observationText(obs: Observation): string {
  if (obs.kind === 'confirmed') return obs.approved ? 'promotion confirmed' : 'promotion declined';
  return `${obs.kind}${'signal' in obs ? ` ${obs.signal}` : ''}`;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
