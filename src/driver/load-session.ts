/**
 * `canary load` as a typed function: validates the options into a `LoadPlan`, runs one driver with
 * snapshots every interval, handles Ctrl-C (partial result, marked interrupted), and writes
 * `reports/<run-id>/load.json`. The CLI command (src/cli/commands/load.ts) only maps flags onto it.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CohortSpecError, parseCohorts } from '../../load/lib/cohorts.ts';
import { MixSpecError, parseMix } from '../../load/lib/mix.ts';
import { ProfileSpecError, parseDurationS, parseRate } from '../../load/lib/profile.ts';
import type { TrafficModel } from '../../load/lib/traffic.ts';
import { UsageError } from '../core/errors.ts';
import type { LoadPlan, LoadResult, LoadSnapshot } from './driver.ts';
import { createDriver } from './factory.ts';
import { parseTarget } from './target.ts';

export interface LoadOptions {
  driver: string;
  target: string;
  /** Open model: requests per second. Exactly one of `rate` and `connections`. */
  rate?: string | number;
  /** Closed model: concurrent connections. */
  connections?: string | number;
  /** Seconds, or `20s`, `1m30s`. */
  duration: string | number;
  /** `name=size:share,…` (load/lib/cohorts.ts); default 90/5/5. */
  cohorts?: string;
  /** `route=weight,…` (load/lib/mix.ts). */
  mix?: string;
  seed?: number;
  /** k6 only: the script (default load/canary.ts). */
  script?: string;
  reportsDir: string;
  runId?: string;
  /** Snapshot interval in seconds for `intervals` in load.json (default 5). */
  intervalS?: number;
  rawSamples?: number;
  progress?: 'auto' | 'off';
}

/** What `--json` prints. */
export interface LoadSummary {
  runId: string;
  file: string;
  driver: string;
  status: LoadResult['status'];
  reason?: string;
  target: string;
  targetRate: number | null;
  requests: number;
  errors: number;
  dropped: number;
  achievedRate: number;
  elapsedS: number;
  latencyMs: { p50: number | null; p90: number | null; p99: number | null; max: number | null };
  byWorkload: Record<string, number>;
  byTrack: Record<string, number>;
  byCohort: Record<string, number>;
}

export interface LoadReport {
  runId: string;
  summary: LoadSummary;
  plan: LoadPlan;
  intervals: LoadSnapshot[];
  result: LoadResult;
}

/** Validates options into a plan; every problem is a `UsageError` naming the flag. */
export function planFromOptions(o: LoadOptions): LoadPlan {
  parseTarget(o.target, '--target');
  const hasRate = o.rate !== undefined && o.rate !== '';
  const hasConnections = o.connections !== undefined && o.connections !== '';
  if (hasRate === hasConnections)
    throw new UsageError('--rate', 'give either --rate (open model) or --connections (closed model), exactly one');
  const durationS = asUsage('--duration', () => parseDurationS(o.duration, '--duration'));
  const traffic: TrafficModel = {
    cohorts: asUsage('--cohorts', () => parseCohorts(o.cohorts ?? '')),
    mix: asUsage('--mix', () => parseMix(o.mix ?? '')),
    seed: o.seed ?? 1,
  };
  if (!Number.isInteger(traffic.seed)) throw new UsageError('--seed', `expected an integer, got ${o.seed}`);
  const common = {
    target: o.target.replace(/\/+$/, ''),
    traffic,
    rawSampleCap: o.rawSamples ?? 0,
    progress: o.progress ?? 'off',
  } as const;
  if (hasRate) {
    const rate = asUsage('--rate', () => parseRate(o.rate!, '--rate'));
    return { ...common, model: { kind: 'open', profile: { kind: 'constant', rate, durationS } } };
  }
  const connections = Number(o.connections);
  if (!Number.isInteger(connections) || connections < 1)
    throw new UsageError('--connections', `expected a positive integer, got "${o.connections}"`);
  return { ...common, model: { kind: 'closed', connections, durationS } };
}

function asUsage<T>(flag: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ProfileSpecError || err instanceof CohortSpecError || err instanceof MixSpecError)
      throw new UsageError(flag, err.message.replace(/^--[a-z-]+: /, ''));
    throw err;
  }
}

export function newRunId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `load-${stamp}-${randomBytes(2).toString('hex')}`;
}

/**
 * Runs the load. Resolves the report once load.json is written; `signal` (Ctrl-C) stops the load
 * early and the report says `interrupted`. Throws `InfraError` when the target or k6 is unavailable.
 */
export async function runLoad(o: LoadOptions, signal?: AbortSignal): Promise<LoadReport> {
  const plan = planFromOptions(o);
  const runId = o.runId ?? newRunId();
  if (!/^[A-Za-z0-9._-]+$/.test(runId))
    throw new UsageError('--run-id', `expected letters, digits, '.', '_' or '-', got "${runId}"`);
  const driver = createDriver(o.driver, { script: o.script });
  const run = await driver.start(plan, signal);
  // Asked in order, answered in order: the snapshots partition the run.
  const asked: Promise<LoadSnapshot>[] = [];
  const every = setInterval(() => asked.push(run.snapshot()), (o.intervalS ?? 5) * 1000);
  let result: LoadResult;
  try {
    result = await run.result();
  } finally {
    clearInterval(every);
  }
  const intervals = await Promise.all(asked);
  const last = await run.snapshot();
  if (last.completed > 0 || last.sent > 0) intervals.push(last);
  const dir = join(o.reportsDir, runId);
  const file = join(dir, 'load.json');
  const summary = summarizeLoad(runId, file, result);
  const report: LoadReport = { runId, summary, plan, intervals, result };
  await mkdir(dir, { recursive: true });
  await writeFile(`${file}.tmp`, `${JSON.stringify(report, null, 2)}\n`);
  await rename(`${file}.tmp`, file);
  return report;
}

export function summarizeLoad(runId: string, file: string, r: LoadResult): LoadSummary {
  return {
    runId,
    file,
    driver: r.driver,
    status: r.status,
    ...(r.reason ? { reason: r.reason } : {}),
    target: r.target,
    targetRate: r.model.kind === 'open' ? r.model.targetRate : null,
    requests: r.requests,
    errors: r.errors,
    dropped: r.dropped,
    achievedRate: Math.round(r.achievedRate * 1000) / 1000,
    elapsedS: Math.round(r.elapsedS * 1000) / 1000,
    latencyMs: { p50: r.latencyMs.p50, p90: r.latencyMs.p90, p99: r.latencyMs.p99, max: r.latencyMs.max },
    byWorkload: r.byWorkload,
    byTrack: r.byTrack,
    byCohort: r.byCohort,
  };
}

/** Human-readable lines for stdout without `--json`. */
export function formatSummary(s: LoadSummary): string {
  const ms = (v: number | null) => (v === null ? '-' : `${v.toFixed(2)} ms`);
  const counts = (c: Record<string, number>) =>
    Object.entries(c)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  return [
    `load ${s.status}${s.reason ? ` (${s.reason})` : ''}: ${s.requests} requests, ${s.errors} errors, ${s.dropped} dropped in ${s.elapsedS} s`,
    `rate: achieved ${s.achievedRate.toFixed(2)}/s${s.targetRate === null ? '' : ` of ${s.targetRate}/s`}`,
    `latency: p50 ${ms(s.latencyMs.p50)}, p90 ${ms(s.latencyMs.p90)}, p99 ${ms(s.latencyMs.p99)}, max ${ms(s.latencyMs.max)}`,
    `by workload: ${counts(s.byWorkload)}`,
    `by cohort: ${counts(s.byCohort)}`,
    `written: ${s.file}`,
  ].join('\n');
}
