/**
 * The k6-operator driver: the load runs inside the cluster as a `TestRun` (k6.io/v1alpha1) of the
 * k6-operator (https://grafana.com/docs/k6/latest/set-up/set-up-distributed-k6/), which starts
 * `parallelism` runner Jobs, each running its segment of the same script. The harness never runs k6
 * itself: it bundles the TypeScript script of `load/` into a ConfigMap, applies the TestRun with the
 * plan in `--env`, follows `status.stage` to `finished` or `error`, and then reads the runner Jobs
 * and their pods (labels `app=k6`, `k6_cr=NAME`, `runner=true`): `finished` does not mean passed,
 * so a failed runner or a non-zero k6 exit code (99 thresholds, 107 script error, 108, 110) is a
 * `failed` load. The TestRun and the ConfigMap are deleted at the end, whatever happened.
 *
 * It has no client-side view of the requests (snapshots are empty): the judge reads Prometheus.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CanaryPlan } from '../canary/plan-types.ts';
import { InfraError } from '../core/errors.ts';
import { KubeClient, type KubeObject } from '../platform/kube-client.ts';
import type { Driver, LoadPlan, LoadResult, LoadRun, LoadSnapshot, LoadStatus } from './driver.ts';
import { k6Env, k6ExitMeaning } from './k6.ts';

const REPO_ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));

/** The stages of a TestRun the operator reports, the last two final. */
export type TestRunStage = 'initialization' | 'initialized' | 'created' | 'started' | 'stopped' | 'finished' | 'error';

export interface K6OperatorOptions {
  connect: () => Promise<KubeClient>;
  namespace: string;
  /** Runner Jobs; default 1. */
  parallelism?: number;
  /** TestRun and ConfigMap name; default `canary-load-<random>`. */
  name?: string;
  /** Bundles the script to one k6 module; default `bundleLoadScript` (esbuild). */
  bundle?: (file: string) => Promise<string>;
  /** The script; default `load/canary.ts`. */
  script?: string;
  /** How long after the planned duration the TestRun may take to finish (default 5 min). */
  graceMs?: number;
  now?: () => number;
  log?: (line: string) => void;
}

/** Bundles a TypeScript k6 script of `load/` and its `lib/` imports into one ES module for k6. */
export async function bundleLoadScript(file: string): Promise<string> {
  const { build } = await import('esbuild');
  const out = await build({
    entryPoints: [file],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2020',
    external: ['k6', 'k6/*'],
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

export function createK6OperatorDriver(ctx: { plan: CanaryPlan; log: (line: string) => void }): Driver {
  return new K6OperatorDriver({
    connect: () =>
      KubeClient.connect(
        { kubeconfig: ctx.plan.platform.kubeconfig, context: ctx.plan.platform.context },
        { caller: 'run', log: (l) => ctx.log(`k6-operator: ${l}`) },
      ),
    namespace: ctx.plan.platform.namespace,
    parallelism: ctx.plan.load.parallelism ?? 1,
    log: ctx.log,
  });
}

export class K6OperatorDriver implements Driver {
  readonly name = 'k6-operator' as const;
  constructor(private readonly opts: K6OperatorOptions) {}

  async start(plan: LoadPlan, signal?: AbortSignal): Promise<LoadRun> {
    const client = await this.opts.connect();
    const name = this.opts.name ?? `canary-load-${Math.random().toString(36).slice(2, 8)}`;
    const script = await (this.opts.bundle ?? bundleLoadScript)(
      this.opts.script ?? resolve(REPO_ROOT, 'load', 'canary.ts'),
    );
    const run = new OperatorRun(client, plan, name, script, this.opts);
    await run.begin();
    if (signal) {
      if (signal.aborted) void run.stop('interrupted');
      else signal.addEventListener('abort', () => void run.stop('interrupted'), { once: true });
    }
    return run;
  }
}

interface TestRun extends KubeObject {
  status?: { stage?: TestRunStage };
}

interface Job extends KubeObject {
  status?: { succeeded?: number; failed?: number; conditions?: { type: string; status: string; reason?: string }[] };
}

interface Pod extends KubeObject {
  status?: { containerStatuses?: { name: string; state?: { terminated?: { exitCode?: number; reason?: string } } }[] };
}

class OperatorRun implements LoadRun {
  startedAt = 0;
  private readonly done: Promise<LoadResult>;
  private resolveDone!: (r: LoadResult) => void;
  private readonly abort = new AbortController();
  private stopReason: 'stopped' | 'interrupted' | null = null;
  private lastSnapshot: number;
  private readonly now: () => number;
  private readonly ns: string;

  constructor(
    private readonly client: KubeClient,
    private readonly plan: LoadPlan,
    private readonly name: string,
    private readonly script: string,
    private readonly opts: K6OperatorOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.ns = opts.namespace;
    this.lastSnapshot = this.now();
    this.done = new Promise((r) => {
      this.resolveDone = r;
    });
  }

  /** Applies the ConfigMap and the TestRun, then follows it in the background. */
  async begin(): Promise<void> {
    const labels = { app: 'k6', 'app.kubernetes.io/managed-by': 'sprincube-canary', k6_cr: this.name };
    await this.client.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: this.name, namespace: this.ns, labels },
      data: { 'canary.js': this.script },
    });
    const env = k6Env(this.plan, '/tmp/summary.json');
    try {
      await this.client.apply(testRunObject(this.name, this.ns, this.opts.parallelism ?? 1, env, labels));
    } catch (err) {
      await this.client.delete('ConfigMap', this.ns, this.name).catch(() => false);
      throw err;
    }
    this.startedAt = this.now();
    this.lastSnapshot = this.startedAt;
    this.opts.log?.(`k6-operator: TestRun ${this.ns}/${this.name} applied (parallelism ${this.opts.parallelism ?? 1})`);
    void this.follow();
  }

  private async follow(): Promise<void> {
    let status: LoadStatus = 'completed';
    let reason: string | undefined;
    let exit: LoadResult['exit'];
    const timeoutMs = plannedMs(this.plan) + (this.opts.graceMs ?? 300_000);
    const timer = setTimeout(
      () => this.abort.abort(new InfraError(`TestRun ${this.name}: not finished within ${timeoutMs} ms`)),
      timeoutMs,
    );
    try {
      const stage = await this.client.follow<TestRun, TestRunStage>(
        'TestRun',
        this.ns,
        { fieldSelector: `metadata.name=${this.name}` },
        (items) => {
          const s = items.find((i) => i.metadata.name === this.name)?.status?.stage;
          return s === 'finished' || s === 'error' ? s : undefined;
        },
        this.abort.signal,
      );
      const runners = await this.runnerOutcome();
      if (stage === 'error') {
        status = 'failed';
        reason = `TestRun ${this.name}: stage error${runners.reason ? `; ${runners.reason}` : ''}`;
      } else if (runners.status !== 'completed') {
        status = runners.status;
        reason = runners.reason;
      }
      exit = runners.exit;
    } catch (err) {
      status = this.stopReason ?? 'failed';
      reason = this.stopReason ? `stopped (${this.stopReason})` : (err as Error).message;
    } finally {
      clearTimeout(timer);
      await this.cleanUp();
    }
    this.resolveDone(this.resultOf(status, reason, exit));
  }

  /** The runner Jobs and their pods' k6 exit codes: any failure or non-zero exit fails the load. */
  private async runnerOutcome(): Promise<{ status: LoadStatus; reason?: string; exit?: LoadResult['exit'] }> {
    const selector = `app=k6,k6_cr=${this.name},runner=true`;
    const jobs = (await this.client.list<Job>('Job', this.ns, selector)).items;
    const pods = (await this.client.list<Pod>('Pod', this.ns, selector)).items;
    if (jobs.length === 0) return { status: 'failed', reason: `TestRun ${this.name}: no runner Jobs (${selector})` };
    const failedJobs = jobs.filter(
      (j) =>
        (j.status?.failed ?? 0) > 0 || j.status?.conditions?.some((c) => c.type === 'Failed' && c.status === 'True'),
    );
    for (const p of pods) {
      for (const c of p.status?.containerStatuses ?? []) {
        const code = c.state?.terminated?.exitCode;
        if (code !== undefined && code !== 0) {
          const { meaning } = k6ExitMeaning(code, null);
          return {
            status: 'failed',
            reason: `runner pod ${p.metadata.name}: k6 exited ${code} (${meaning})`,
            exit: { code, meaning },
          };
        }
      }
    }
    if (failedJobs.length)
      return {
        status: 'failed',
        reason: `runner Job${failedJobs.length > 1 ? 's' : ''} ${failedJobs.map((j) => j.metadata.name).join(', ')} failed`,
      };
    const unfinished = jobs.filter((j) => (j.status?.succeeded ?? 0) < 1);
    if (unfinished.length)
      return {
        status: 'failed',
        reason: `runner Jobs not succeeded: ${unfinished.map((j) => j.metadata.name).join(', ')}`,
      };
    return { status: 'completed', exit: { code: 0, meaning: 'ok' } };
  }

  private async cleanUp(): Promise<void> {
    for (const kind of ['TestRun', 'ConfigMap'] as const) {
      try {
        await this.client.delete(kind, this.ns, this.name);
      } catch (err) {
        this.opts.log?.(`k6-operator: could not delete ${kind} ${this.ns}/${this.name}: ${(err as Error).message}`);
      }
    }
  }

  async snapshot(): Promise<LoadSnapshot> {
    const end = this.now();
    const s: LoadSnapshot = {
      start: this.lastSnapshot,
      end,
      sent: 0,
      completed: 0,
      inFlight: 0,
      dropped: 0,
      series: [],
    };
    this.lastSnapshot = end;
    return s;
  }

  stop(reason: 'stopped' | 'interrupted'): Promise<LoadResult> {
    this.stopReason ??= reason;
    this.abort.abort(new InfraError(`load ${reason}`));
    return this.done;
  }

  result(): Promise<LoadResult> {
    return this.done;
  }

  private resultOf(status: LoadStatus, reason: string | undefined, exit: LoadResult['exit']): LoadResult {
    const endedAt = this.now();
    const m = this.plan.model;
    return {
      driver: 'k6-operator',
      target: this.plan.target,
      status,
      ...(reason ? { reason } : {}),
      ...(exit ? { exit } : {}),
      model:
        m.kind === 'open'
          ? { kind: 'open', targetRate: 'rate' in m.profile ? m.profile.rate : 0, profile: m.profile }
          : { kind: 'closed', connections: m.connections, durationS: m.durationS },
      startedAt: this.startedAt,
      endedAt,
      elapsedS: (endedAt - this.startedAt) / 1000,
      sent: 0,
      requests: 0,
      errors: 0,
      dropped: 0,
      achievedRate: 0,
      latencyMs: { p50: null, p90: null, p99: null, max: null, mean: null },
      byWorkload: {},
      byTrack: {},
      byCohort: {},
      series: [],
    };
  }
}

/** The TestRun: `parallelism` runners of the ConfigMap's script, the plan in `--env`. */
export function testRunObject(
  name: string,
  namespace: string,
  parallelism: number,
  env: Record<string, string>,
  labels: Record<string, string>,
): KubeObject {
  if (!(Number.isInteger(parallelism) && parallelism >= 1))
    throw new InfraError(`TestRun ${name}: parallelism must be a whole number ≥ 1, got ${parallelism}`);
  // The operator splits `arguments` on whitespace: a value with a space would become two arguments.
  const spaced = Object.entries(env).find(([, v]) => /\s/.test(v));
  if (spaced)
    throw new InfraError(
      `TestRun ${name}: --env ${spaced[0]} has whitespace in its value (${JSON.stringify(spaced[1])})`,
    );
  return {
    apiVersion: 'k6.io/v1alpha1',
    kind: 'TestRun',
    metadata: { name, namespace, labels },
    spec: {
      parallelism,
      script: { configMap: { name, file: 'canary.js' } },
      arguments: Object.entries(env)
        .map(([k, v]) => `--env ${k}=${v}`)
        .join(' '),
    },
  };
}

function plannedMs(plan: LoadPlan): number {
  const m = plan.model;
  if (m.kind === 'closed') return m.durationS * 1000;
  const p = m.profile as { durationS?: number; stages?: { durationS: number }[] };
  return 1000 * (p.durationS ?? (p.stages ?? []).reduce((s, x) => s + x.durationS, 0));
}
