import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAnalysisConfig } from '../../config/load.ts';
import { assessStage } from '../../judge/assess.ts';
import { accumulateMeasurements } from '../../judge/comparison-data.ts';
import { seededGenerator } from '../../core/random.ts';
import type { Measurement } from '../../telemetry/measurement.ts';
import { createSource } from '../../telemetry/factory.ts';
import { IstioMetricsEndpoint } from '../../telemetry/testing/istio-metrics-endpoint.ts';
import { startPrometheus, type PrometheusServer } from '../../../test/support/prometheus.ts';

const run = promisify(execFile);

/** Runs the real CLI; resolves to its exit code and output. */
async function canary(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/canary.js', ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/**
 * `canary analyze` against a real Prometheus scraping loopback endpoints that expose the data
 * plane's metrics: the verdict from Prometheus must be the verdict the scrape source leads to for
 * the same traffic.
 */
describe('canary analyze with a real Prometheus', { timeout: 60_000 }, () => {
  let baseline: IstioMetricsEndpoint;
  let canaryEndpoint: IstioMetricsEndpoint;
  let prom: PrometheusServer;
  const dir = mkdtempSync(join(tmpdir(), 'analyze-e2e-'));
  const config = join(dir, 'analysis.yaml');
  const workloads = ['account-baseline', 'account-canary'];
  const random = seededGenerator(20261125);

  beforeAll(async () => {
    writeFileSync(
      config,
      [
        'stage: { minDuration: 1s, maxDuration: 10m }',
        'minSamples: 500',
        'expectedSamplesPerArm: 3000',
        'metrics:',
        '  - { name: latency-p50, kind: latency, quantile: 0.5, direction: increase, tolerance: { relative: 0.1, absolute: 2 } }',
        '  - { name: latency-p90, kind: latency, quantile: 0.9, direction: increase, tolerance: { relative: 0.1, absolute: 5 } }',
        '  - { name: errors, kind: errors, direction: increase, tolerance: { relative: 0.5, absolute: 0.002 }, critical: true }',
      ].join('\n'),
    );
    baseline = await IstioMetricsEndpoint.start('account-baseline', 'account');
    canaryEndpoint = await IstioMetricsEndpoint.start('account-canary', 'account');
    prom = await startPrometheus({ targets: [baseline.url, canaryEndpoint.url] });
  });
  afterAll(async () => {
    await prom?.stop();
    await Promise.all([baseline, canaryEndpoint].filter(Boolean).map((e) => e.stop()));
  });

  /** Sends `batches` of traffic; returns the window and what the scrape source measured. */
  async function traffic(canary: { latencyFactor: number; errorRate: number }, batches = 3, perBatch = 1000) {
    const scrape = createSource('scrape', {
      service: 'account',
      workloads,
      targets: [baseline.url, canaryEndpoint.url],
    });
    await scrape.begin();
    await prom.waitForScrapes(Date.now());
    const start = Date.now();
    const measured: Measurement[] = [];
    for (let b = 0; b < batches; b++) {
      for (let i = 0; i < perBatch; i++) {
        const latency = random.lognormal(Math.log(20), 0.3);
        baseline.record(1, random.uniform() < 0.005 ? 503 : 200, latency);
        canaryEndpoint.record(1, random.uniform() < canary.errorRate ? 503 : 200, latency * canary.latencyFactor);
      }
      await prom.waitForScrapes(Date.now());
      measured.push(await scrape.measure());
    }
    return { start, end: Date.now(), measured };
  }

  async function scrapeVerdict(measured: Measurement[], elapsedMs: number) {
    const data = accumulateMeasurements(measured, { baseline: 'account-baseline', canary: 'account-canary' });
    return assessStage({ config: await loadAnalysisConfig(config), data, elapsedMs, maxDurationMs: elapsedMs });
  }

  const analyzeArgs = (start: number, end: number, cfg = config) => [
    'analyze',
    '--prometheus',
    prom.url,
    '--service',
    'account',
    '--start',
    new Date(start).toISOString(),
    '--end',
    new Date(end).toISOString(),
    '--config',
    cfg,
    '--interval',
    '1s',
    '--resolution',
    '500ms',
    '--json',
  ];

  it('rolls back a canary with 10x the errors (exit 1), as the scrape source does', async () => {
    const { start, end, measured } = await traffic({ latencyFactor: 1, errorRate: 0.05 });
    const r = await canary(analyzeArgs(start, end));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.verdict).toBe('rollback');
    expect(out.assessment.responsible).toContain('errors');
    const fromScrape = await scrapeVerdict(measured, end - start);
    expect(out.assessment.samples).toEqual(fromScrape.samples);
    expect(out.assessment.samples).toMatchObject({ baseline: 3000, canary: 3000 });
    expect(out.assessment.decision).toBe(fromScrape.decision);
    expect(out.assessment.metrics.map((m: { classification: string }) => m.classification)).toEqual(
      fromScrape.metrics.map((m) => m.classification),
    );
  });

  it('reaches the same verdict from both sources for a good canary, and it is not a rollback', async () => {
    const { start, end, measured } = await traffic({ latencyFactor: 1, errorRate: 0.005 });
    const r = await canary(analyzeArgs(start, end));
    const out = JSON.parse(r.stdout);
    const fromScrape = await scrapeVerdict(measured, end - start);
    expect(out.assessment.samples).toEqual(fromScrape.samples);
    expect(out.assessment.decision).toBe(fromScrape.decision);
    expect(out.assessment.combined.eValue).toBeCloseTo(fromScrape.combined.eValue, 9);
    expect(out.verdict).not.toBe('rollback');
    expect(r.code).toBe(out.verdict === 'promote' ? 0 : 2);
  });

  it('makes a PromQL metric with an empty or NaN result no data, and the stage inconclusive (exit 2)', async () => {
    const cfg = join(dir, 'promql.yaml');
    writeFileSync(
      cfg,
      [
        'stage: { minDuration: 1s, maxDuration: 10m }',
        'minSamples: 10',
        'metrics:',
        '  - { name: errors, kind: errors, direction: increase, tolerance: { relative: 0.5, absolute: 0.002 } }',
        '  - name: saturation',
        '    kind: promql',
        '    direction: increase',
        '    tolerance: { relative: 0.2 }',
        '    queries: { baseline: "vector(0) / 0", canary: \'sum(no_such_metric{service="{{service}}"})\' }',
      ].join('\n'),
    );
    const { start, end } = await traffic({ latencyFactor: 1, errorRate: 0.005 }, 1, 200);
    const r = await canary(analyzeArgs(start, end, cfg));
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout);
    expect(out.verdict).toBe('inconclusive');
    expect(out.assessment.metrics.find((m: { name: string }) => m.name === 'saturation').classification).toBe('nodata');
    expect(out.assessment.reason).toMatch(/no data for saturation/);
  });

  it('exits 4 naming the URL, and prints no verdict, when Prometheus is down', async () => {
    const now = Date.now();
    const r = await canary([
      'analyze',
      '--prometheus',
      'http://127.0.0.1:9',
      '--service',
      'account',
      '--start',
      new Date(now - 60_000).toISOString(),
      '--end',
      new Date(now).toISOString(),
      '--config',
      config,
      '--json',
    ]);
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/http:\/\/127\.0\.0\.1:9\/api\/v1\/query: ECONNREFUSED/);
  });

  it('exits 3 naming the flag for a bad time', async () => {
    const r = await canary([
      'analyze',
      '--prometheus',
      prom.url,
      '--service',
      'account',
      '--start',
      'yesterday',
      '--end',
      'now',
      '--config',
      config,
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/--start: expected an RFC 3339 time/);
  });
});
