import type { Argv } from 'yargs';
import { type AnalysisConfig, promqlScalarKey } from '../../config/analysis.ts';
import { loadAnalysisConfig } from '../../config/load.ts';
import { ExitCode, InfraError, UsageError } from '../../core/errors.ts';
import { assessStage } from '../../judge/assess.ts';
import { accumulateMeasurements } from '../../judge/comparison-data.ts';
import type { StageAssessment } from '../../judge/verdict.ts';
import type { Measurement } from '../../telemetry/measurement.ts';
import { createSource } from '../../telemetry/factory.ts';
import type { Source } from '../../telemetry/source.ts';
import { suggest } from '../../core/suggest.ts';
import { PrometheusClient } from '../../telemetry/prometheus-api.ts';
import { newRunId } from '../../canary/runner.ts';
import { retrospectiveResult, writeRetrospectiveReports } from '../../report/retrospective.ts';
import { defineCommand } from '../command.ts';
import { durationFlag } from '../flags.ts';

/**
 * `canary analyze`: judges a window that already happened (retrospective mode), from a
 * Prometheus-compatible API. The window is measured in intervals and judged as one stage that has
 * reached its end: promote (exit 0), roll back (1), or inconclusive (2). Prometheus unreachable is
 * exit 4, and then no verdict is printed.
 */
export interface AnalyzeOptions {
  prometheus: string;
  service: string;
  /** Epoch ms. */
  start: number;
  end: number;
  configFile: string;
  baseline: string;
  canary: string;
  /** Length of one measured interval, ms. */
  intervalMs: number;
  /** Spacing of Prometheus points, at most its scrape interval, ms. */
  resolutionMs: number;
  bearerTokenFile?: string;
  json: boolean;
  /** Where `<run-id>/` with result.json, report.md, report.html and junit.xml goes; none when absent. */
  reportsDir?: string;
}

export interface AnalyzeResult {
  verdict: 'promote' | 'rollback' | 'inconclusive';
  exitCode: number;
  prometheus: string;
  service: string;
  arms: { baseline: string; canary: string };
  window: { start: string; end: string; intervalMs: number };
  judge: AnalysisConfig['judge'];
  assessment: StageAssessment;
  /** Intervals without data (a failed read or no series); above `maxShare` no promote (a rollback stands). */
  missing: { intervals: number; of: number; share: number; maxShare: number };
  /** Set with --reports-dir: the directory of result.json and the reports. */
  reportDir?: string;
  /** Per interval: its state and requests per arm (the full histograms stay out of the output). */
  intervals: {
    start: string;
    end: string;
    status: Measurement['status'];
    reason?: string;
    requests: { baseline: number; canary: number };
  }[];
}

/** A service and one of its workloads, as Prometheus' `istio_requests_total` labels them. */
export interface TelemetryTarget {
  service: string;
  workload: string;
}

export interface AnalyzeIo {
  out: (text: string) => void;
  /** Lists the services and workloads Prometheus saw in the window; tests may inject. */
  listTargets?: (o: AnalyzeOptions) => Promise<TelemetryTarget[]>;
  /** Builds the source; tests may inject. */
  createSource?: typeof createSource;
}

/** The typed core of the command, callable without argv. */
export async function analyzeWindow(o: AnalyzeOptions, io: AnalyzeIo): Promise<AnalyzeResult> {
  if (o.end <= o.start)
    throw new UsageError(
      '--end',
      `expected a time after --start (${new Date(o.start).toISOString()}), got ${new Date(o.end).toISOString()}`,
    );
  if (o.baseline === o.canary)
    throw new UsageError('--canary-workload', `expected a workload other than the baseline (${o.baseline})`);
  const config = await loadAnalysisConfig(o.configFile);
  const arms = { baseline: o.baseline, canary: o.canary };
  const scalars: Record<string, string> = {};
  const scalarKeys: Record<string, { baseline: string; canary: string }> = {};
  for (const m of config.metrics) {
    if (m.kind !== 'promql') continue;
    const keys = { baseline: promqlScalarKey(m.name, 'baseline'), canary: promqlScalarKey(m.name, 'canary') };
    scalars[keys.baseline] = m.queries.baseline;
    scalars[keys.canary] = m.queries.canary;
    scalarKeys[m.name] = keys;
  }
  const source: Source = (io.createSource ?? createSource)('prometheus', {
    url: o.prometheus,
    service: o.service,
    workloads: [o.baseline, o.canary],
    bearerTokenFile: o.bearerTokenFile,
    resolutionMs: o.resolutionMs,
    scalars,
  });
  await source.begin(); // InfraError (exit 4) when the API does not answer
  const measurements = await source.measureWindow(o.start, o.end, o.intervalMs);
  if (measurements.every((m) => m.status === 'error')) {
    // Nothing could be read: that is the infrastructure failing, not a canary without data.
    throw new InfraError(
      `Prometheus at ${o.prometheus}: every query for the window failed: ${measurements[0]?.reason ?? 'no measurement'}`,
    );
  }
  const seen = (w: string) => measurements.some((m) => (m.workloads[w]?.requests ?? 0) > 0);
  if (!seen(o.baseline) || !seen(o.canary)) {
    // Before calling it "no data" forever: is a name mistyped? Say which names Prometheus has.
    await checkNames(o, await (io.listTargets ?? listTargets)(o));
  }
  assertCounts(measurements, arms, o.prometheus);
  const data = accumulateMeasurements(measurements, arms, scalarKeys);
  const elapsedMs = o.end - o.start;
  // The window is over: judge it as a stage at its end (no more data will come).
  const assessment = assessStage({
    config,
    data,
    elapsedMs,
    maxDurationMs: Math.min(elapsedMs, config.stage.maxDuration),
  });
  const missingCount = measurements.filter((m) => m.status !== 'ok').length;
  const missing = {
    intervals: missingCount,
    of: measurements.length,
    share: measurements.length === 0 ? 1 : missingCount / measurements.length,
    maxShare: config.maxMissingShare,
  };
  // A promote on a window mostly without data would speak for intervals nobody saw; a rollback
  // stands, since the evidence of harm in the intervals that were read cannot be undone by the
  // ones that were not (the sequential e-values stay valid on any subset of the window).
  const tooSparse = missing.share > missing.maxShare && assessment.decision !== 'rollback';
  if (tooSparse) {
    assessment.reason = `${missing.intervals} of ${missing.of} intervals have no data (${pct(missing.share)} %, above the configured ${pct(missing.maxShare)} %): inconclusive, since a pass cannot rest on missing data (the judge alone: ${assessment.decision}, ${assessment.reason})`;
  }
  const verdict = tooSparse
    ? 'inconclusive'
    : assessment.decision === 'promote' || assessment.decision === 'rollback'
      ? assessment.decision
      : 'inconclusive';
  const exitCode =
    verdict === 'promote' ? ExitCode.pass : verdict === 'rollback' ? ExitCode.fail : ExitCode.inconclusive;
  const result: AnalyzeResult = {
    verdict,
    exitCode,
    prometheus: o.prometheus,
    service: o.service,
    arms,
    window: { start: new Date(o.start).toISOString(), end: new Date(o.end).toISOString(), intervalMs: o.intervalMs },
    judge: config.judge,
    assessment,
    missing,
    intervals: measurements.map((m) => ({
      start: new Date(m.start).toISOString(),
      end: new Date(m.end).toISOString(),
      status: m.status,
      ...(m.reason ? { reason: m.reason } : {}),
      requests: { baseline: m.workloads[o.baseline]?.requests ?? 0, canary: m.workloads[o.canary]?.requests ?? 0 },
    })),
  };
  if (o.reportsDir !== undefined) {
    const run = retrospectiveResult({
      command: 'analyze',
      source: `${o.prometheus}, ${result.window.start} .. ${result.window.end}`,
      runId: `analyze-${newRunId(o.end)}`,
      startedAt: o.start,
      endedAt: o.end,
      service: o.service,
      arms,
      assessment,
      measurements,
      configFile: o.configFile,
      analysis: config,
      flags: {},
    });
    result.reportDir = writeRetrospectiveReports(run, o.reportsDir).dir;
  }
  io.out(
    o.json
      ? `${JSON.stringify(result, null, 2)}\n`
      : `${formatText(result)}${result.reportDir ? `report: ${result.reportDir}/report.html\n` : ''}`,
  );
  return result;
}

/** The destination services and workloads that had requests in the window. */
async function listTargets(o: AnalyzeOptions): Promise<TelemetryTarget[]> {
  const client = new PrometheusClient({ url: o.prometheus, bearerTokenFile: o.bearerTokenFile, retries: 1 });
  const seconds = Math.max(1, Math.ceil((o.end - o.start) / 1000));
  try {
    const r = await client.query(
      `group by (destination_service_name, destination_workload) (last_over_time(istio_requests_total[${seconds}s]))`,
      o.end,
    );
    if (r.resultType === 'scalar') return [];
    return r.series.map((s) => ({
      service: s.metric.destination_service_name ?? '',
      workload: s.metric.destination_workload ?? '',
    }));
  } catch {
    return []; // the window's own queries already told what failed; the names cannot be checked
  }
}

/** A service or workload Prometheus never saw in the window, while others exist: a typo, exit 3. */
export function checkNames(o: AnalyzeOptions, targets: TelemetryTarget[]): void {
  if (targets.length === 0) return;
  const services = [...new Set(targets.map((t) => t.service).filter(Boolean))].sort();
  if (!services.includes(o.service)) {
    const near = suggest(o.service, services);
    throw new UsageError(
      '--service',
      `no such service '${o.service}' in istio_requests_total over the window${near.length ? ` (did you mean '${near[0]}'?)` : ''}; these exist: ${services.join(', ')}`,
    );
  }
  const workloads = [...new Set(targets.filter((t) => t.service === o.service).map((t) => t.workload))].sort();
  for (const [flag, name] of [
    ['--baseline-workload', o.baseline],
    ['--canary-workload', o.canary],
  ] as const) {
    if (workloads.includes(name)) continue;
    const near = suggest(name, workloads);
    throw new UsageError(
      flag,
      `no workload '${name}' of service ${o.service} in the window${near.length ? ` (did you mean '${near[0]}'?)` : ''}; these exist: ${workloads.join(', ')}`,
    );
  }
}

function formatText(r: AnalyzeResult): string {
  const a = r.assessment;
  const lines = [
    `verdict: ${r.verdict}`,
    `reason: ${a.reason}`,
    `window: ${r.window.start} .. ${r.window.end} (${r.intervals.length} interval(s)); service ${r.service}: ${r.arms.baseline} vs ${r.arms.canary}; ${r.prometheus}`,
    `requests: baseline ${a.samples.baseline}, canary ${a.samples.canary}`,
    `missing: ${r.missing.intervals} of ${r.missing.of} interval(s) without data (${pct(r.missing.share)} %; inconclusive above ${pct(r.missing.maxShare)} %)`,
  ];
  for (const m of a.metrics) {
    const ci = m.ci ? `[${fmt(m.ci[0])}, ${fmt(m.ci[1])}]` : '-';
    lines.push(
      `  ${m.name.padEnd(16)} ${m.classification.padEnd(12)} estimate ${fmt(m.estimate)} (${m.scale}) ci ${ci}  ${m.reason}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function pct(share: number): string {
  return Number((100 * share).toFixed(1)).toString();
}

/**
 * Request and bucket values must be counts (finite, non-negative integers): a window whose series are
 * not (a gauge named like a counter, a recording rule that averages) cannot be judged as counts.
 * InfraError (exit 4) naming the workload, the field and the interval.
 */
function assertCounts(
  measurements: Measurement[],
  arms: { baseline: string; canary: string },
  prometheus: string,
): void {
  const isCount = (x: number): boolean => Number.isInteger(x) && x >= 0;
  for (const m of measurements) {
    if (m.status !== 'ok') continue;
    for (const name of [arms.baseline, arms.canary]) {
      const w = m.workloads[name];
      if (!w) continue;
      const bad: [string, number][] = [
        ['istio_requests_total', w.requests],
        ['errors', w.errors],
        ...w.latency.counts.map((c, i): [string, number] => [
          `istio_request_duration_milliseconds_bucket{le="${w.latency.bounds[i] ?? '+Inf'}"}`,
          c,
        ]),
      ];
      const found = bad.find(([, v]) => !isCount(v));
      if (found) {
        throw new InfraError(
          `Prometheus at ${prometheus}: ${found[0]} of ${name} in the interval from ${new Date(m.start).toISOString()} is ${found[1]}, not a count (expected a whole number of requests); check that the series are counters`,
        );
      }
    }
  }
}

function fmt(x: number | null): string {
  return x === null ? '∞' : Number(x.toPrecision(4)).toString();
}

/** A flag's duration in ms, in the one syntax of every flag. */
export const parseDuration = durationFlag;

/**
 * A point in time as Prometheus' API accepts it: RFC 3339 (`2026-11-25T20:00:00Z`) or Unix seconds
 * (`1795636800`, decimals allowed); plus `now` and `now-15m` for convenience.
 */
export function parseTime(flag: string, text: string, now: number = Date.now()): number {
  const t = text.trim();
  if (t === 'now') return now;
  const rel = /^now-(.+)$/.exec(t);
  if (rel) return now - parseDuration(flag, rel[1]!);
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(t)) {
    const ms = Date.parse(t);
    if (Number.isFinite(ms)) return ms;
  }
  throw new UsageError(
    flag,
    `expected an RFC 3339 time (2026-11-25T20:00:00Z), Unix seconds, now or now-<duration>, got ${JSON.stringify(text)}`,
  );
}

export const analyzeCommand = defineCommand({
  command: 'analyze',
  describe: 'judge a time window that already happened, from a Prometheus-compatible API',
  examples: [
    [
      '$0 analyze --prometheus http://127.0.0.1:9090 --service account --start now-30m --end now',
      'the last 30 minutes of account-baseline vs account-canary',
    ],
    [
      '$0 analyze --prometheus http://127.0.0.1:9090 --service account --start 2026-11-25T20:00:00Z --end 2026-11-25T20:30:00Z --interval 30s',
      'a fixed window in 30 s intervals',
    ],
  ],
  renamed: [
    { old: 'baseline', hint: 'use --baseline-workload NAME (--baseline meant a track in run and a file in compare)' },
    { old: 'canary', hint: 'use --canary-workload NAME' },
  ],
  builder: (y: Argv) =>
    y
      .option('prometheus', { type: 'string', demandOption: true, describe: 'base URL of a Prometheus-compatible API' })
      .option('service', {
        type: 'string',
        demandOption: true,
        describe: 'destination_service_name of the service under canary',
      })
      .option('start', {
        type: 'string',
        demandOption: true,
        describe: 'window start: RFC 3339, Unix seconds, or now-<duration>',
      })
      .option('end', {
        type: 'string',
        demandOption: true,
        describe: 'window end: RFC 3339, Unix seconds, now, or now-<duration>',
      })
      .option('config', { type: 'string', default: 'analysis/default.yaml', describe: 'analysis configuration (YAML)' })
      .option('baseline-workload', {
        type: 'string',
        default: 'account-baseline',
        describe: 'baseline workload (destination_workload)',
      })
      .option('canary-workload', {
        type: 'string',
        default: 'account-canary',
        describe: 'canary workload (destination_workload)',
      })
      .option('interval', { type: 'string', default: '1m', describe: 'length of one measured interval' })
      .option('resolution', {
        type: 'string',
        default: '15s',
        describe: 'spacing of Prometheus points; at most its scrape interval',
      })
      .option('bearer-token-file', {
        type: 'string',
        describe: 'file holding a bearer token for the API (never logged)',
      })
      .option('reports-dir', {
        type: 'string',
        default: 'reports',
        describe: 'where <run-id>/ with result.json, report.md, report.html and junit.xml goes',
      })
      .option('json', { type: 'boolean', default: false, describe: 'print the full result as JSON' }),
  run: async (args) => {
    const now = Date.now();
    const result = await analyzeWindow(
      {
        prometheus: args.prometheus,
        service: args.service,
        start: parseTime('--start', args.start, now),
        end: parseTime('--end', args.end, now),
        configFile: args.config,
        baseline: args['baseline-workload'],
        canary: args['canary-workload'],
        intervalMs: parseDuration('--interval', args.interval),
        resolutionMs: parseDuration('--resolution', args.resolution),
        bearerTokenFile: args['bearer-token-file'],
        json: args.json,
        reportsDir: args['reports-dir'],
      },
      { out: (text) => process.stdout.write(text) },
    );
    return result.exitCode;
  },
});
