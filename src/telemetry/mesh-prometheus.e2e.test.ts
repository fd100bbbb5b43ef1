import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { loadAnalysisConfig } from '../config/load.ts';
import { assessStage } from '../judge/assess.ts';
import { accumulateMeasurements } from '../judge/comparison-data.ts';
import { startMesh, type Mesh } from '../mesh/mesh.ts';
import { startPrometheus, type PrometheusServer } from '../../test/support/prometheus.ts';
import type { Measurement } from './measurement.ts';
import { PrometheusClient } from './prometheus-api.ts';
import { createSource } from './factory.ts';
import type { Source } from './source.ts';

/**
 * A real Prometheus (Debian package) scrapes the whole local mesh started from manifests/
 * (issue 2, "Done means"): what it stores is exactly the traffic the test sent, and the prometheus
 * source reports what the scrape source reports, and `canary analyze` reaches the verdict the
 * scrape source leads to. The canary (two replicas) fails 5 % of its requests.
 */
describe('a real Prometheus scraping the local mesh', { timeout: 90_000 }, () => {
  let mesh: Mesh;
  let prom: PrometheusServer;
  const workloads = ['account-baseline', 'account-canary', 'account-primary'];

  beforeAll(async () => {
    mesh = await startMesh({
      manifestsDir: 'manifests',
      port: 0,
      overrides: { 'account-canary': { replicas: 2, env: { ERROR_RATE: '0.05' } } },
    });
    prom = await startPrometheus({ targets: mesh.metricsUrls });
    await prom.waitForScrapes(Date.now(), 30_000);
  }, 120_000);
  afterAll(async () => {
    await prom?.stop();
    await mesh?.stop();
  });

  /** Sends `count` GET /api/account/1 through the gateway as `user(i)`, 8 at a time; returns the statuses. */
  async function send(count: number, user: (i: number) => string): Promise<number[]> {
    const statuses: number[] = [];
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const i = next++;
        const res = await request(`${mesh.gatewayUrl}/api/account/1`, { headers: { 'end-user': user(i) } });
        await res.body.dump();
        statuses.push(res.statusCode);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    return statuses;
  }

  it('stores exactly the requests sent, per destination workload, and both sources agree', async () => {
    expect(mesh.workloads.find((w) => w.name === 'account-canary')!.replicas).toHaveLength(2);
    const scrape: Source = createSource('scrape', { service: 'account', workloads, targets: mesh.metricsUrls });
    const prometheus: Source = createSource('prometheus', {
      url: prom.url,
      service: 'account',
      workloads,
      resolutionMs: 500,
    });
    await scrape.begin();
    await prom.waitForScrapes(Date.now());
    const start = await prometheus.begin();

    const statuses = [
      ...(await send(150, (i) => `canary-tester-${i}`)),
      ...(await send(120, (i) => `baseline-tester-${i}`)),
      ...(await send(60, (i) => `user-${i}`)),
    ];
    expect(statuses).toHaveLength(330);
    expect(statuses.slice(150).every((s) => s === 200)).toBe(true);
    await prom.waitForScrapes(Date.now());
    const fromScrape: Measurement = await scrape.measure();
    const end = Date.now();

    const client = new PrometheusClient({ url: prom.url });
    const r = await client.query('sum by (destination_workload) (istio_requests_total{reporter="destination"})', end);
    const stored =
      r.resultType === 'scalar'
        ? {}
        : Object.fromEntries(r.series.map((s) => [s.metric.destination_workload, Number(s.values[0]![1])]));
    // Each GET /api/account/1 is one request to the bff and one to the account track it was routed to.
    expect(stored).toEqual({ bff: 330, 'account-canary': 150, 'account-baseline': 120, 'account-primary': 60 });

    const [fromPrometheus] = await prometheus.measureWindow(start, end, end - start);
    for (const w of workloads) {
      expect(fromPrometheus!.workloads[w]!.requests, w).toBe(fromScrape.workloads[w]!.requests);
      expect(fromPrometheus!.workloads[w]!.latency.counts, w).toEqual(fromScrape.workloads[w]!.latency.counts);
    }
    expect(fromScrape.workloads['account-canary']!.requests).toBe(150);
    expect(fromScrape.workloads['account-baseline']!.requests).toBe(120);
    expect(fromScrape.workloads['account-primary']!.requests).toBe(60);
    expect(fromScrape.workloads['account-canary']!.errors).toBe(statuses.slice(0, 150).filter((s) => s >= 500).length);
  });

  it('canary analyze reaches the verdict the scrape source leads to for the same traffic', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mesh-analyze-'));
    const config = join(dir, 'analysis.yaml');
    writeFileSync(
      config,
      [
        'stage: { minDuration: 1s, maxDuration: 10m }',
        'minSamples: 500',
        'expectedSamplesPerArm: 1000',
        'metrics:',
        '  - { name: latency-p90, kind: latency, quantile: 0.9, direction: increase, tolerance: { relative: 0.2, absolute: 5 } }',
        '  - { name: errors, kind: errors, direction: increase, tolerance: { relative: 0.5, absolute: 0.002 }, critical: true }',
      ].join('\n'),
    );
    const arms = { baseline: 'account-baseline', canary: 'account-canary' };
    const scrape = createSource('scrape', {
      service: 'account',
      workloads: Object.values(arms),
      targets: mesh.metricsUrls,
    });
    await scrape.begin();
    await prom.waitForScrapes(Date.now());
    const start = Date.now();
    await send(800, (i) => (i % 2 === 0 ? `canary-tester-${i}` : `baseline-tester-${i}`));
    await send(800, (i) => (i % 2 === 0 ? `baseline-tester-${i}` : `canary-tester-${i}`));
    await prom.waitForScrapes(Date.now());
    const measured = await scrape.measure();
    const end = Date.now();

    const fromScrape = assessStage({
      config: await loadAnalysisConfig(config),
      data: accumulateMeasurements([measured], arms),
      elapsedMs: end - start,
      maxDurationMs: end - start,
    });
    const cli = await promisify(execFile)(
      process.execPath,
      [
        'bin/canary.js',
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
        config,
        '--interval',
        '2s',
        '--resolution',
        '500ms',
        '--json',
      ],
      { timeout: 60_000 },
    ).catch((err: { code: number; stdout: string; stderr: string }) => err);
    const out = JSON.parse(cli.stdout);
    expect(out.assessment.samples).toEqual(fromScrape.samples);
    expect(out.assessment.samples).toMatchObject({ baseline: 800, canary: 800 });
    expect(out.assessment.decision).toBe(fromScrape.decision);
    expect(out.assessment.metrics.map((m: { classification: string }) => m.classification)).toEqual(
      fromScrape.metrics.map((m) => m.classification),
    );
    expect(out.verdict, `${out.assessment.reason}; missing ${JSON.stringify(out.missing)}`).toBe('rollback');
    expect('code' in cli ? cli.code : 0).toBe(1);
  });
});
