import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../core/errors.ts';
import { ScrapeSource } from './scrape.ts';
import { IstioMetricsEndpoint } from './testing/istio-metrics-endpoint.ts';

describe('ScrapeSource', () => {
  let baseline: IstioMetricsEndpoint;
  let canaryA: IstioMetricsEndpoint;
  let canaryB: IstioMetricsEndpoint;
  let otherService: IstioMetricsEndpoint;
  let silent: Server;
  let silentUrl: string;

  beforeAll(async () => {
    baseline = await IstioMetricsEndpoint.start('account-baseline', 'account');
    canaryA = await IstioMetricsEndpoint.start('account-canary', 'account');
    canaryB = await IstioMetricsEndpoint.start('account-canary', 'account');
    otherService = await IstioMetricsEndpoint.start('friend', 'friend');
    // Accepts connections and never answers: the scrape must time out, not hang.
    silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/metrics`;
  });
  afterAll(async () => {
    await Promise.all([baseline, canaryA, canaryB, otherService].map((e) => e.stop()));
    silent.closeAllConnections();
    await new Promise((r) => silent.close(r));
  });

  // Answering endpoints get a timeout no busy machine reaches; only the silent one is meant to time out.
  const source = (targets: string[], workloads = ['account-baseline', 'account-canary'], timeoutMs = 10_000) =>
    new ScrapeSource({ service: 'account', workloads, targets, timeoutMs });

  it('reports per-interval increases per workload, summing replicas and ignoring source-side and other services', async () => {
    baseline.record(5, 200, 3); // before begin(): not part of any interval
    const s = source([baseline.url, canaryA.url, canaryB.url, otherService.url]);
    await s.begin();
    baseline.record(40, 200, 3);
    baseline.record(2, 503, 3);
    canaryA.record(30, 200, 12);
    canaryB.record(10, 200, 12);
    canaryB.record(1, 500, 40);
    canaryA.recordSourceSide(99, 200);
    otherService.record(77, 200, 1);
    const m = await s.measure();
    expect(m.status).toBe('ok');
    expect(m.workloads['account-baseline']).toMatchObject({
      requests: 42,
      errors: 2,
      byClass: { '2xx': 40, '5xx': 2 },
    });
    expect(m.workloads['account-canary']).toMatchObject({ requests: 41, errors: 1, byClass: { '2xx': 40, '5xx': 1 } });
    const h = m.workloads['account-canary']!.latency;
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(41);
    expect(h.sum).toBeCloseTo(40 * 12 + 40, 6);
    // 40 observations of 12 ms fall in the bucket whose upper bound is the first >= 12
    const i12 = h.bounds.findIndex((b) => b >= 12);
    expect(h.counts[i12]).toBe(40);
    expect(m.end).toBeGreaterThanOrEqual(m.start);

    const next = await s.measure();
    expect(next.start).toBe(m.end);
    expect(next.status).toBe('nodata');
    expect(next.reason).toMatch(/no requests to account-baseline, account-canary \(service account\)/);
  });

  it('survives a counter reset: a restarted replica counts from zero', async () => {
    const s = source([canaryA.url], ['account-canary']);
    await s.begin();
    canaryA.record(50, 200, 5);
    expect((await s.measure()).workloads['account-canary']!.requests).toBe(50);
    canaryA.restart();
    canaryA.record(20, 200, 5);
    canaryA.record(3, 503, 5);
    const after = await s.measure();
    expect(after.workloads['account-canary']).toMatchObject({ requests: 23, errors: 3 });
    expect(after.workloads['account-canary']!.latency.counts.reduce((a, b) => a + b, 0)).toBe(23);
    canaryA.record(4, 200, 5);
    expect((await s.measure()).workloads['account-canary']!.requests).toBe(4);
  });

  it('counts a series born after begin() in full (a response code seen for the first time)', async () => {
    const s = source([baseline.url], ['account-baseline']);
    await s.begin();
    baseline.record(6, 418, 2);
    expect((await s.measure()).workloads['account-baseline']).toMatchObject({ requests: 6, byClass: { '4xx': 6 } });
  });

  it('turns an unreachable or silent target into an error measurement naming the URL', async () => {
    const refused = 'http://127.0.0.1:9/metrics';
    const s = source([canaryA.url, refused, silentUrl], undefined, 1_500);
    await s.begin();
    canaryA.record(3, 200, 1);
    const m = await s.measure();
    expect(m.status).toBe('error');
    expect(m.reason).toContain(`${refused}: ECONNREFUSED`);
    expect(m.reason).toContain(`${silentUrl}: timed out after 1500 ms`);
    // what could be read is still reported, for the record
    expect(m.workloads['account-canary']!.requests).toBe(3);
  });

  it('measures a target that was down at begin() from its first good reading, never from zero', async () => {
    canaryB.record(9, 200, 1); // counted before the source started: must never show up
    canaryB.down = true;
    const s = source([canaryB.url], ['account-canary']);
    await s.begin();
    const whileDown = await s.measure();
    expect(whileDown.status).toBe('error');
    expect(whileDown.reason).toContain(`${canaryB.url}: HTTP 503`);
    canaryB.down = false;
    // First good reading: the starting point of this target; what it counted before is unknowable.
    expect((await s.measure()).workloads['account-canary']!.requests).toBe(0);
    canaryB.record(2, 200, 1);
    expect((await s.measure()).workloads['account-canary']!.requests).toBe(2);
  });

  it('has no history: measureWindow is a usage error', async () => {
    await expect(source([canaryA.url]).measureWindow(0, 1000, 1000)).rejects.toThrow(UsageError);
  });

  it('rejects bad options, naming them', () => {
    expect(() => new ScrapeSource({ service: 'account', workloads: ['a'], targets: [] })).toThrow(
      /targets: expected at least one/,
    );
    expect(() => new ScrapeSource({ service: 'account', workloads: ['a'], targets: ['ftp://x'] })).toThrow(
      /targets: expected an http\(s\) URL/,
    );
    expect(() => new ScrapeSource({ service: '', workloads: ['a'], targets: ['http://x'] })).toThrow(/service:/);
    expect(() => new ScrapeSource({ service: 's', workloads: [], targets: ['http://x'] })).toThrow(/workloads:/);
  });
});
