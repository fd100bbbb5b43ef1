/**
 * The k6 driver: runs `k6 run` on one of the scripts in `load/` with the plan in `--env`, follows the
 * `--out json` lines while it runs (the `canary_request_duration` points carry cohort, route, track
 * and x-served-by; see load/gateway.ts) and reads the handleSummary JSON at the end.
 *
 * Snapshots lag k6 by up to its JSON output flush period (about a second) plus `pollMs`: a point
 * k6 has not written yet belongs to the next snapshot, never lost.
 *
 * To use a real k6: install it (https://grafana.com/docs/k6/latest/set-up/install-k6/), put it on
 * PATH or set K6_BINARY, then `canary load --driver k6 …`. k6 ≥ 0.57 runs TypeScript by default.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { type FileHandle, open, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatCohorts } from '../../load/lib/cohorts.ts';
import { formatMix } from '../../load/lib/mix.ts';
import { profileDurationS } from '../../load/lib/profile.ts';
import { InfraError } from '../core/errors.ts';
import type { Driver, LoadPlan, LoadResult, LoadRun, LoadSnapshot, LoadStatus } from './driver.ts';
import { LoadRecorder, recordedTotals } from './recorder.ts';
import { assertTargetReachable, parseTarget } from './target.ts';

/** k6's exit codes (go.k6.io/k6/errext/exitcodes) and what they mean for a load. */
export const K6_EXIT_CODES: Readonly<Record<number, { meaning: string; status: LoadStatus }>> = {
  0: { meaning: 'ok', status: 'completed' },
  97: { meaning: 'cloud test run failed', status: 'failed' },
  98: { meaning: 'cloud: failed to get progress', status: 'failed' },
  99: { meaning: 'thresholds failed', status: 'completed' },
  100: { meaning: 'setup() timed out', status: 'failed' },
  101: { meaning: 'teardown() timed out', status: 'failed' },
  102: { meaning: 'timed out', status: 'failed' },
  103: { meaning: 'engine error', status: 'failed' },
  104: { meaning: 'invalid configuration', status: 'failed' },
  105: { meaning: 'aborted from outside (signal or REST API)', status: 'interrupted' },
  106: { meaning: 'cannot start the REST API', status: 'failed' },
  107: { meaning: 'script error', status: 'failed' },
  108: { meaning: 'script aborted (test.abort())', status: 'failed' },
  109: { meaning: 'k6 panicked', status: 'failed' },
  110: { meaning: 'test marked as failed (test.fail())', status: 'completed' },
};

export function k6ExitMeaning(code: number | null, signal: string | null): { meaning: string; status: LoadStatus } {
  if (code === null) return { meaning: `killed by ${signal ?? 'a signal'}`, status: 'interrupted' };
  return K6_EXIT_CODES[code] ?? { meaning: `unknown exit code ${code}`, status: 'failed' };
}

export interface K6DriverOptions {
  /** The k6 executable; default `K6_BINARY` from the environment, else `k6` on PATH. */
  binary?: string;
  /** Script to run; default `load/canary.ts` of this checkout. */
  script?: string;
  /** How often to read new `--out json` lines, ms (default 250). */
  pollMs?: number;
}

const REPO_ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));
const REQUEST_METRIC = 'canary_request_duration';

export class K6Driver implements Driver {
  readonly name = 'k6' as const;
  private readonly binary: string;
  private readonly script: string;

  constructor(private readonly opts: K6DriverOptions = {}) {
    this.binary = opts.binary ?? process.env.K6_BINARY ?? 'k6';
    this.script = resolve(opts.script ?? join(REPO_ROOT, 'load', 'canary.ts'));
  }

  async start(plan: LoadPlan, signal?: AbortSignal): Promise<LoadRun> {
    parseTarget(plan.target);
    await assertTargetReachable(plan.target);
    const run = new K6Run(plan, this.binary, this.script, this.opts.pollMs ?? 250);
    await run.spawned;
    if (signal) {
      if (signal.aborted) void run.stop('interrupted');
      else signal.addEventListener('abort', () => void run.stop('interrupted'), { once: true });
    }
    return run;
  }
}

/** The `--env` values of a plan (names as in load/lib/traffic.ts `TrafficEnv`). */
export function k6Env(plan: LoadPlan, summaryFile: string): Record<string, string> {
  const env: Record<string, string> = {
    TARGET: plan.target,
    COHORTS: formatCohorts(plan.traffic.cohorts),
    MIX: formatMix(plan.traffic.mix),
    ID_RANGE: String(plan.traffic.mix.idRange),
    SEED: String(plan.traffic.seed),
    CANARY_SERVICE: plan.canaryService ?? 'account',
    SUMMARY_FILE: summaryFile,
  };
  const m = plan.model;
  if (m.kind === 'closed')
    Object.assign(env, {
      MODEL: 'closed',
      VUS: String(m.connections),
      PROFILE: 'constant',
      DURATION: `${m.durationS}s`,
    });
  else if (m.profile.kind === 'constant')
    Object.assign(env, { PROFILE: 'constant', RATE: String(m.profile.rate), DURATION: `${m.profile.durationS}s` });
  else {
    Object.assign(env, {
      PROFILE: 'ramping',
      START_RATE: String(m.profile.startRate),
      STAGES: m.profile.stages.map((s) => `${s.durationS}s:${s.target}`).join(','),
    });
  }
  if (m.kind === 'open' && m.maxInFlight) env.MAX_VUS = String(m.maxInFlight);
  return env;
}

interface K6Point {
  type: 'Point';
  metric: string;
  data: { time: string; value: number; tags: Record<string, string> | null };
}

class K6Run implements LoadRun {
  readonly startedAt = Date.now();
  readonly spawned: Promise<void>;
  private readonly recorder: LoadRecorder;
  private readonly dir = mkdtempSync(join(tmpdir(), 'canary-k6-'));
  private readonly jsonFile = join(this.dir, 'points.json');
  private readonly summaryFile = join(this.dir, 'summary.json');
  private readonly exportFile = join(this.dir, 'summary-export.json');
  private readonly child: ChildProcess;
  private readonly stderrTail: string[] = [];
  private readonly exited: Promise<{ code: number | null; signal: string | null }>;
  private readonly finished: Promise<LoadResult>;
  private offset = 0;
  private partial = '';
  private reading: Promise<void> = Promise.resolve();
  private stopReason: 'stopped' | 'interrupted' | undefined;
  private stoppedAt: number | undefined;
  private seq = 0;
  private readonly poll: NodeJS.Timeout;

  constructor(
    private readonly plan: LoadPlan,
    binary: string,
    script: string,
    pollMs: number,
  ) {
    this.recorder = new LoadRecorder(this.startedAt, plan.rawSampleCap ?? 0);
    const env = k6Env(plan, this.summaryFile);
    const args = ['run', '--out', `json=${this.jsonFile}`, '--summary-export', this.exportFile];
    for (const [k, v] of Object.entries(env)) args.push('--env', `${k}=${v}`);
    args.push(script);
    this.child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.spawned = new Promise<void>((resolveSpawn, reject) => {
      this.child.once('spawn', () => resolveSpawn());
      this.child.once('error', (err: NodeJS.ErrnoException) => {
        this.cleanup();
        reject(
          new InfraError(`cannot run k6 ("${binary}": ${err.code ?? err.message}); install k6 or set K6_BINARY`, {
            cause: err,
          }),
        );
      });
    });
    this.exited = new Promise((resolveExit) =>
      this.child.once('exit', (code, signal) => resolveExit({ code, signal })),
    );
    const keepTail = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') this.stderrTail.push(line);
      this.stderrTail.splice(0, Math.max(0, this.stderrTail.length - 20));
      if (plan.progress === 'auto') process.stderr.write(chunk);
    };
    this.child.stderr!.on('data', keepTail);
    this.child.stdout!.on('data', (chunk: Buffer) => {
      if (plan.progress === 'auto') process.stderr.write(chunk);
    });
    this.poll = setInterval(() => void this.readPoints(), pollMs);
    this.poll.unref();
    this.finished = this.spawned.then(
      () => this.finish(),
      () => new Promise<LoadResult>(() => undefined),
    );
  }

  async snapshot(): Promise<LoadSnapshot> {
    return this.recorder.snapshot();
  }

  async stop(reason: 'stopped' | 'interrupted'): Promise<LoadResult> {
    if (this.stopReason === undefined && this.child.exitCode === null && this.child.signalCode === null) {
      this.stopReason = reason;
      this.stoppedAt = Date.now();
      // k6 stops gracefully on the first SIGINT (runs teardown and handleSummary); kill if it lingers.
      this.child.kill('SIGINT');
      const kill = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
      kill.unref();
      void this.exited.then(() => clearTimeout(kill));
    }
    return this.finished;
  }

  result(): Promise<LoadResult> {
    return this.finished;
  }

  /** Reads whatever k6 appended to the JSON output since the last read. Serialized. */
  private readPoints(): Promise<void> {
    this.reading = this.reading.then(async () => {
      let fh: FileHandle;
      try {
        fh = await open(this.jsonFile, 'r');
      } catch {
        return; // not created yet
      }
      try {
        for (;;) {
          const buf = Buffer.alloc(1 << 20);
          const { bytesRead } = await fh.read(buf, 0, buf.length, this.offset);
          if (bytesRead === 0) break;
          this.offset += bytesRead;
          const text = this.partial + buf.toString('utf8', 0, bytesRead);
          const lines = text.split('\n');
          this.partial = lines.pop() ?? '';
          for (const line of lines) this.ingest(line);
        }
      } finally {
        await fh.close();
      }
    });
    return this.reading;
  }

  private ingest(line: string): void {
    if (line.trim() === '') return;
    let parsed: { type?: string; metric?: string };
    try {
      parsed = JSON.parse(line) as { type?: string; metric?: string };
    } catch {
      return; // a torn line can only be the last one, which is kept in `partial`
    }
    if (parsed.type !== 'Point') return;
    const p = parsed as K6Point;
    if (p.metric === 'dropped_iterations') {
      this.recorder.noteDropped(p.data.value);
      return;
    }
    if (p.metric !== REQUEST_METRIC) return;
    const tags = p.data.tags ?? {};
    const at = Date.parse(p.data.time);
    this.recorder.noteSent();
    this.recorder.record({
      seq: this.seq++,
      cohort: tags.cohort ?? '-',
      route: tags.route ?? tags.name ?? '-',
      workload: tags.track ?? '-',
      servedBy: tags.served_by ?? '',
      status: Number(tags.status ?? 0),
      latencyMs: p.data.value,
      atMs: Number.isFinite(at) ? at - p.data.value - this.startedAt : 0,
    });
  }

  private async finish(): Promise<LoadResult> {
    const { code, signal } = await this.exited;
    clearInterval(this.poll);
    await this.readPoints();
    if (this.partial.trim() !== '') {
      this.ingest(this.partial);
      this.partial = '';
    }
    const summary = await readJson<K6SummaryData>(this.summaryFile);
    const exported = await readJson<{ metrics?: { http_reqs?: { count?: number } } }>(this.exportFile);
    this.cleanup();
    return this.buildResult(code, signal, summary, exported?.metrics?.http_reqs?.count);
  }

  private buildResult(
    code: number | null,
    signal: string | null,
    summary: K6SummaryData | undefined,
    httpReqs: number | undefined,
  ): LoadResult {
    const exit = k6ExitMeaning(code, signal);
    let status: LoadStatus = exit.status;
    if (this.stopReason && (status === 'interrupted' || code === 0)) status = this.stopReason;
    const m = this.plan.model;
    const plannedS = m.kind === 'open' ? profileDurationS(m.profile) : m.durationS;
    const elapsedS =
      this.stoppedAt !== undefined
        ? (this.stoppedAt - this.startedAt) / 1000
        : (summary?.state?.testRunDurationMs ?? plannedS * 1000) / 1000;
    const rec = this.recorder;
    const thresholds = thresholdsOf(summary);
    const failed = thresholds.filter((t) => !t.ok);
    const reasons: string[] = [];
    if (code !== 0) reasons.push(`k6 exited with ${code ?? signal}: ${exit.meaning}`);
    if (failed.length > 0)
      reasons.push(`thresholds failed: ${failed.map((t) => `${t.metric} ${t.expression}`).join('; ')}`);
    if (status === 'failed' && this.stderrTail.length > 0) reasons.push(this.stderrTail.slice(-3).join(' | '));
    if (httpReqs !== undefined && httpReqs !== rec.completed)
      reasons.push(`k6 counted ${httpReqs} http_reqs but ${rec.completed} ${REQUEST_METRIC} points were read`);
    const result: LoadResult = {
      driver: 'k6',
      target: this.plan.target,
      status,
      ...(reasons.length > 0 ? { reason: reasons.join('; ') } : {}),
      exit: { code, meaning: exit.meaning },
      startedAt: this.startedAt,
      endedAt: Date.now(),
      elapsedS,
      ...recordedTotals(rec, this.plan),
      achievedRate: elapsedS > 0 ? rec.completed / elapsedS : 0,
      thresholds,
    };
    return result;
  }

  private cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The handleSummary data k6 passes to the script (k6 docs, "Custom summary"); the script writes it as is. */
interface K6SummaryData {
  state?: { testRunDurationMs?: number };
  metrics?: Record<string, { thresholds?: Record<string, { ok: boolean }> }>;
}

function thresholdsOf(summary: K6SummaryData | undefined): { metric: string; expression: string; ok: boolean }[] {
  const out: { metric: string; expression: string; ok: boolean }[] = [];
  for (const [metric, m] of Object.entries(summary?.metrics ?? {})) {
    for (const [expression, t] of Object.entries(m.thresholds ?? {})) out.push({ metric, expression, ok: t.ok });
  }
  return out;
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}
