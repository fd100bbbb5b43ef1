import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, InfraError, UsageError } from '../../core/errors.ts';
import type { Measurement } from '../../telemetry/measurement.ts';
import type { Source } from '../../telemetry/source.ts';
import { IntervalTally } from '../../telemetry/tally.ts';
import { type AnalyzeOptions, analyzeWindow, checkNames, parseDuration, parseTime } from './analyze.ts';

const dir = mkdtempSync(join(tmpdir(), 'analyze-'));
const config = join(dir, 'analysis.yaml');
writeFileSync(
  config,
  [
    'stage: { minDuration: 1s, maxDuration: 10m }',
    'minSamples: 100',
    'metrics:',
    '  - { name: errors, kind: errors, direction: increase, tolerance: { relative: 0.5, absolute: 0.002 }, critical: true }',
    '  - name: queue-depth',
    '    kind: promql',
    '    direction: increase',
    '    tolerance: { relative: 0.2 }',
    '    queries: { baseline: \'max(queue{workload="b"})\', canary: \'max(queue{workload="c"})\' }',
  ].join('\n'),
);

const options = (o: Partial<AnalyzeOptions> = {}): AnalyzeOptions => ({
  prometheus: 'http://prometheus.test',
  service: 'account',
  start: 1_000_000,
  end: 1_120_000,
  configFile: config,
  baseline: 'account-baseline',
  canary: 'account-canary',
  intervalMs: 60_000,
  resolutionMs: 15_000,
  json: true,
  ...o,
});

/** A source that records how it was built and returns the given measurements. */
function fakeSource(measurements: Measurement[], begin: () => Promise<number> = async () => 0) {
  const built: unknown[] = [];
  const create = ((kind: string, opts: unknown) => {
    built.push({ kind, opts });
    const source: Source = {
      kind: 'prometheus',
      begin,
      measure: async () => measurements[0]!,
      measureWindow: async () => measurements,
    };
    return source;
  }) as never;
  return { create, built };
}

function interval(
  start: number,
  counts: { b: [number, number]; c: [number, number] },
  scalars: Record<string, number | null> = {},
): Measurement {
  const t = new IntervalTally(['account-baseline', 'account-canary']);
  t.addRequests('account-baseline', '200', counts.b[0] - counts.b[1]);
  t.addRequests('account-baseline', '500', counts.b[1]);
  t.addRequests('account-canary', '200', counts.c[0] - counts.c[1]);
  t.addRequests('account-canary', '500', counts.c[1]);
  return { start, end: start + 60_000, status: 'ok', workloads: t.build(), scalars };
}

describe('analyzeWindow', () => {
  it('judges the window with the configured judge mode too (kayenta), once, at the window end', async () => {
    const kayenta = join(dir, 'kayenta.yaml');
    writeFileSync(
      kayenta,
      [
        'judge: kayenta',
        'stage: { minDuration: 1s, maxDuration: 10m }',
        'minSamples: 100',
        'metrics:',
        '  - { name: errors, kind: errors, direction: increase, tolerance: { relative: 0.5, absolute: 0.002 }, critical: true, group: errors }',
      ].join('\n'),
    );
    const bad = [0, 1, 2].map((i) => interval(1_000_000 + i * 60_000, { b: [2000, 2], c: [2000, 200] }));
    const r = await analyzeWindow(options({ configFile: kayenta, end: 1_180_000 }), {
      out: () => {},
      listTargets: async () => [],
      createSource: fakeSource(bad).create,
    });
    expect(r.judge).toBe('kayenta');
    expect(r.verdict).toBe('rollback');
    expect(r.assessment.metrics[0].test).toBe('kayenta');
    const good = [0, 1, 2].map((i) => interval(1_000_000 + i * 60_000, { b: [2000, 2], c: [2000, 2] }));
    const ok = await analyzeWindow(options({ configFile: kayenta, end: 1_180_000 }), {
      out: () => {},
      listTargets: async () => [],
      createSource: fakeSource(good).create,
    });
    expect(ok.verdict).not.toBe('rollback');
  });

  it('judges the window with the promql metrics as per-arm scalars and rolls back a bad canary', async () => {
    const ms = [0, 1].map((i) =>
      interval(
        1_000_000 + i * 60_000,
        { b: [2000, 2], c: [2000, 200] },
        { 'queue-depth.baseline': 3, 'queue-depth.canary': 3 },
      ),
    );
    const { create, built } = fakeSource(ms);
    let printed = '';
    const r = await analyzeWindow(options(), {
      out: (t) => (printed += t),
      listTargets: async () => [],
      createSource: create,
    });
    expect(built[0]).toMatchObject({
      kind: 'prometheus',
      opts: {
        url: 'http://prometheus.test',
        service: 'account',
        workloads: ['account-baseline', 'account-canary'],
        scalars: {
          'queue-depth.baseline': 'max(queue{workload="b"})',
          'queue-depth.canary': 'max(queue{workload="c"})',
        },
      },
    });
    expect(r.verdict).toBe('rollback');
    expect(r.exitCode).toBe(1);
    expect(r.assessment.responsible).toContain('errors');
    expect(JSON.parse(printed).verdict).toBe('rollback');
    expect(r.intervals).toHaveLength(2);

    let text = '';
    await analyzeWindow(options({ json: false }), {
      out: (t) => (text += t),
      listTargets: async () => [],
      createSource: fakeSource(ms).create,
    });
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('verdict: rollback');
    expect(lines[1]).toMatch(/^reason: regression in errors/);
    expect(text).toContain('service account: account-baseline vs account-canary; http://prometheus.test');
    expect(text).toContain('requests: baseline 4000, canary 4000');
    expect(lines.some((l) => /^ {2}errors\s+fail\s+estimate \S+ \(ratio\) ci \[/.test(l))).toBe(true);
  });

  it('8 of 10 intervals missing: a promote becomes inconclusive (exit 2), and the gap is in every output', async () => {
    const errorsOnly = join(dir, 'errors-only.yaml');
    writeFileSync(
      errorsOnly,
      [
        'stage: { minDuration: 1s, maxDuration: 10m }',
        'minSamples: 100',
        'metrics:',
        '  - { name: errors, kind: errors, direction: increase, tolerance: { absolute: 0.01 }, critical: true }',
      ].join('\n'),
    );
    const ms: Measurement[] = Array.from({ length: 10 }, (_, i) =>
      i < 2
        ? interval(1_000_000 + i * 60_000, { b: [20_000, 0], c: [20_000, 0] })
        : {
            start: 1_000_000 + i * 60_000,
            end: 1_060_000 + i * 60_000,
            status: 'error' as const,
            reason: 'query timed out after 10000 ms',
            workloads: {},
            scalars: {},
          },
    );
    const o = options({ configFile: errorsOnly, end: 1_600_000 });
    const full = await analyzeWindow(
      { ...o, end: 1_120_000 },
      { out: () => {}, createSource: fakeSource(ms.slice(0, 2)).create },
    );
    expect(full.verdict).toBe('promote');
    expect(full.missing).toEqual({ intervals: 0, of: 2, share: 0, maxShare: 0.2 });

    let json = '';
    const r = await analyzeWindow(o, { out: (t) => (json += t), createSource: fakeSource(ms).create });
    expect(r.verdict).toBe('inconclusive');
    expect(r.exitCode).toBe(2);
    expect(r.assessment.reason).toMatch(
      /^8 of 10 intervals have no data \(80 %, above the configured 20 %\): inconclusive, since a pass cannot rest on missing data \(the judge alone: promote/,
    );
    expect(JSON.parse(json).missing).toEqual({ intervals: 8, of: 10, share: 0.8, maxShare: 0.2 });
    let text = '';
    await analyzeWindow({ ...o, json: false }, { out: (t) => (text += t), createSource: fakeSource(ms).create });
    expect(text).toContain('verdict: inconclusive');
    expect(text).toContain('missing: 8 of 10 interval(s) without data (80 %; inconclusive above 20 %)');
  });

  it('8 of 10 intervals missing: a rollback on the intervals read stands (exit 1), the gap still shown', async () => {
    const errorsOnly = join(dir, 'errors-only-rollback.yaml');
    writeFileSync(
      errorsOnly,
      [
        'stage: { minDuration: 1s, maxDuration: 10m }',
        'minSamples: 100',
        'metrics:',
        '  - { name: errors, kind: errors, direction: increase, tolerance: { absolute: 0.01 }, critical: true }',
      ].join('\n'),
    );
    const ms: Measurement[] = Array.from({ length: 10 }, (_, i) =>
      i < 2
        ? interval(1_000_000 + i * 60_000, { b: [20_000, 0], c: [20_000, 2_000] })
        : {
            start: 1_000_000 + i * 60_000,
            end: 1_060_000 + i * 60_000,
            status: 'error' as const,
            reason: 'query timed out after 10000 ms',
            workloads: {},
            scalars: {},
          },
    );
    let json = '';
    const r = await analyzeWindow(
      { ...options({ configFile: errorsOnly, end: 1_600_000 }) },
      { out: (t) => (json += t), createSource: fakeSource(ms).create },
    );
    expect(r.verdict).toBe('rollback');
    expect(r.exitCode).toBe(1);
    expect(r.assessment.reason).toMatch(/^regression in errors/);
    expect(JSON.parse(json).missing).toEqual({ intervals: 8, of: 10, share: 0.8, maxShare: 0.2 });
  });

  it('refuses bucket values that are not counts with a clear InfraError naming the series, the workload and the interval', async () => {
    const m = interval(1_000_000, { b: [2000, 2], c: [2000, 2] });
    m.workloads['account-canary']!.latency.counts[3] = 2.5;
    const err = await analyzeWindow(options(), { out: () => {}, createSource: fakeSource([m]).create }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InfraError);
    expect((err as Error).message).toMatch(
      /istio_request_duration_milliseconds_bucket\{le="[^"]+"\} of account-canary in the interval from 1970-01-01T00:16:40.000Z is 2.5, not a count/,
    );
  });

  it('makes a metric without data inconclusive, never a pass (NaN or empty scalar)', async () => {
    const ms = [0, 1].map((i) =>
      interval(
        1_000_000 + i * 60_000,
        { b: [2000, 2], c: [2000, 2] },
        { 'queue-depth.baseline': null, 'queue-depth.canary': null },
      ),
    );
    const r = await analyzeWindow(options(), {
      out: () => {},
      listTargets: async () => [],
      createSource: fakeSource(ms).create,
    });
    expect(r.verdict).toBe('inconclusive');
    expect(r.exitCode).toBe(2);
    expect(r.assessment.reason).toMatch(/no data for queue-depth/);
  });

  it('lets an unreachable Prometheus through as InfraError and prints nothing', async () => {
    let printed = '';
    const { create } = fakeSource([], async () => {
      throw new InfraError('Prometheus not usable: http://prometheus.test/api/v1/query: ECONNREFUSED');
    });
    await expect(
      analyzeWindow(options(), { out: (t) => (printed += t), listTargets: async () => [], createSource: create }),
    ).rejects.toThrow(/http:\/\/prometheus\.test/);
    expect(printed).toBe('');
  });

  it('turns a window where every query failed into InfraError naming the URL', async () => {
    const failed: Measurement = {
      start: 0,
      end: 1,
      status: 'error',
      reason: 'prometheus query failed: http://prometheus.test/api/v1/query_range: HTTP 503',
      workloads: {},
      scalars: {},
    };
    let printed = '';
    const err = await analyzeWindow(options(), {
      out: (t) => (printed += t),
      listTargets: async () => [],
      createSource: fakeSource([failed, failed]).create,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfraError);
    expect((err as Error).message).toMatch(
      /^Prometheus at http:\/\/prometheus\.test: every query for the window failed: .*HTTP 503/,
    );
    expect(printed).toBe('');
  });

  it('rejects a reversed window, equal arms and a bad config with the flag or file named', async () => {
    const io = { out: () => {}, listTargets: async () => [], createSource: fakeSource([]).create };
    await expect(analyzeWindow(options({ end: 999 }), io)).rejects.toThrow(/--end: expected a time after --start/);
    await expect(analyzeWindow(options({ canary: 'account-baseline' }), io)).rejects.toThrow(UsageError);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'metrics:\n  - { name: x, kind: throughput }\n');
    const err = await analyzeWindow(options({ configFile: bad }), io).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/bad\.yaml metrics\[0\]\.kind: expected one of latency, errors, promql/);
  });
});

describe('parseTime and parseDuration', () => {
  const now = Date.parse('2026-11-25T20:00:00Z');
  it('reads RFC 3339, Unix seconds, now and now-<duration>', () => {
    expect(parseTime('--start', '2026-11-25T19:00:00Z', now)).toBe(now - 3_600_000);
    expect(parseTime('--start', '2026-11-25T21:00:00+01:00', now)).toBe(now);
    expect(parseTime('--start', '1795636800.5', now)).toBe(1_795_636_800_500);
    expect(parseTime('--end', 'now', now)).toBe(now);
    expect(parseTime('--start', 'now-15m', now)).toBe(now - 900_000);
  });
  it('names the flag on bad input', () => {
    expect(() => parseTime('--start', 'yesterday', now)).toThrow(/--start: expected an RFC 3339 time/);
    expect(() => parseTime('--start', '2026-11-25 19:00', now)).toThrow(UsageError);
    expect(() => parseDuration('--interval', '5 minutes')).toThrow(
      /--interval: expected a duration like 500ms, 30s, 5m/,
    );
    expect(parseDuration('--interval', '90s')).toBe(90_000);
    expect(parseDuration('--resolution', '250ms')).toBe(250);
  });
});

describe('a mistyped service or workload', () => {
  const targets = [
    { service: 'account', workload: 'account-baseline' },
    { service: 'account', workload: 'account-canary' },
    { service: 'friend', workload: 'friend' },
  ];
  const base: AnalyzeOptions = {
    prometheus: 'http://127.0.0.1:9',
    service: 'acount',
    start: 0,
    end: 60_000,
    configFile: 'analysis/default.yaml',
    baseline: 'account-baseline',
    canary: 'account-canary',
    intervalMs: 60_000,
    resolutionMs: 15_000,
    json: false,
  };

  it('is a usage error listing the services that exist, not an inconclusive run', () => {
    expect(() => checkNames(base, targets)).toThrow(
      "--service: no such service 'acount' in istio_requests_total over the window (did you mean 'account'?); these exist: account, friend",
    );
  });

  it('names the workload flag and the workloads of the service', () => {
    expect(() => checkNames({ ...base, service: 'account', canary: 'account-canry' }, targets)).toThrow(
      "--canary-workload: no workload 'account-canry' of service account in the window (did you mean 'account-canary'?); these exist: account-baseline, account-canary",
    );
  });

  it('says nothing when Prometheus saw nothing at all (that is the no-data case)', () => {
    expect(() => checkNames(base, [])).not.toThrow();
  });
});

describe('analyze --reports-dir', () => {
  it('writes the same report set as canary run, leading with the effect and the limit', async () => {
    const { mkdtempSync, readFileSync, existsSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'analyze-reports-'));
    const ms = [0, 1].map((i) =>
      interval(
        1_000_000 + i * 60_000,
        { b: [2000, 2], c: [2000, 200] },
        { 'queue-depth.baseline': 3, 'queue-depth.canary': 3 },
      ),
    );
    const r = await analyzeWindow(
      { ...options(), reportsDir: dir },
      { out: () => {}, listTargets: async () => [], createSource: fakeSource(ms).create },
    );
    expect(r.verdict).toBe('rollback');
    for (const f of ['result.json', 'report.md', 'report.html', 'junit.xml'])
      expect(existsSync(join(r.reportDir!, f)), f).toBe(true);
    const md = readFileSync(join(r.reportDir!, 'report.md'), 'utf8');
    expect(md.split('\n')[0]).toBe('# ❌ Canary account: ROLLED BACK');
    expect(md).toMatch(/\*\*error ratio .* vs .*, allowed .*\*\*/);
    expect(readFileSync(join(r.reportDir!, 'junit.xml'), 'utf8')).toContain('<failure');
    rmSync(dir, { recursive: true, force: true });
  });
});
