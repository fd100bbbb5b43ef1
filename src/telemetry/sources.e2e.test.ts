import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfraError } from '../core/errors.ts';
import { startPrometheus, type PrometheusServer } from '../../test/support/prometheus.ts';
import type { Measurement, WorkloadMeasurement } from './measurement.ts';
import { PrometheusClient } from './prometheus-api.ts';
import { createSource } from './factory.ts';
import { IstioMetricsEndpoint } from './testing/istio-metrics-endpoint.ts';

/**
 * A real Prometheus (Debian package) scrapes loopback endpoints that expose the data plane's
 * metrics every second; the prometheus source must report exactly what the scrape source reports
 * for the same traffic, including across a replica restart.
 */
describe('scrape and prometheus sources against a real Prometheus', { timeout: 60_000 }, () => {
  let baseline: IstioMetricsEndpoint;
  let canaryA: IstioMetricsEndpoint;
  let canaryB: IstioMetricsEndpoint;
  let friend: IstioMetricsEndpoint;
  let prom: PrometheusServer;
  const workloads = ['account-baseline', 'account-canary'];

  beforeAll(async () => {
    baseline = await IstioMetricsEndpoint.start('account-baseline', 'account');
    canaryA = await IstioMetricsEndpoint.start('account-canary', 'account');
    canaryB = await IstioMetricsEndpoint.start('account-canary', 'account');
    friend = await IstioMetricsEndpoint.start('friend', 'friend');
    prom = await startPrometheus({ targets: [baseline, canaryA, canaryB, friend].map((e) => e.url) });
  });
  afterAll(async () => {
    await prom?.stop();
    await Promise.all([baseline, canaryA, canaryB, friend].filter(Boolean).map((e) => e.stop()));
  });

  const targets = () => [baseline, canaryA, canaryB, friend].map((e) => e.url);

  it('sum by (destination_workload) (istio_requests_total{reporter="destination"}) equals the requests sent', async () => {
    baseline.record(120, 200, 4);
    baseline.record(3, 503, 4);
    canaryA.record(61, 200, 5);
    canaryB.record(39, 200, 5);
    canaryB.recordSourceSide(500, 200); // source-side reports must not be counted
    friend.record(17, 200, 1);
    await prom.waitForScrapes(Date.now());
    const client = new PrometheusClient({ url: prom.url });
    const r = await client.query(
      'sum by (destination_workload) (istio_requests_total{reporter="destination"})',
      Date.now(),
    );
    const byWorkload =
      r.resultType === 'scalar'
        ? {}
        : Object.fromEntries(r.series.map((s) => [s.metric.destination_workload, Number(s.values[0]![1])]));
    expect(byWorkload).toEqual({ 'account-baseline': 123, 'account-canary': 100, friend: 17 });
  });

  it('reports the same counts and histograms from both sources, across a counter reset', async () => {
    const scrape = createSource('scrape', { service: 'account', workloads, targets: targets() });
    const prometheus = createSource('prometheus', { url: prom.url, service: 'account', workloads, resolutionMs: 500 });
    await scrape.begin();
    // Prometheus' state at `start` must also be "before the traffic": wait for a scrape after begin().
    await prom.waitForScrapes(Date.now());
    const start = await prometheus.begin();

    baseline.record(200, 200, 8);
    baseline.record(4, 500, 30);
    canaryA.record(50, 200, 9);
    canaryB.record(70, 200, 11);
    canaryB.record(6, 503, 2);
    await prom.waitForScrapes(Date.now());
    const first = await scrape.measure();

    canaryA.restart(); // counters of one canary replica start again at zero
    canaryA.record(20, 200, 9);
    canaryA.record(1, 504, 100);
    await prom.waitForScrapes(Date.now());
    const second = await scrape.measure();
    const end = Date.now();

    const fromScrape = add(first, second);
    expect(fromScrape['account-baseline']).toMatchObject({ requests: 204, errors: 4 });
    expect(fromScrape['account-canary']).toMatchObject({ requests: 147, errors: 7 });

    const [window] = await prometheus.measureWindow(start, end, end - start);
    expect(window!.status).toBe('ok');
    for (const w of workloads) {
      expect(window!.workloads[w]!.requests, w).toBe(fromScrape[w]!.requests);
      expect(window!.workloads[w]!.errors, w).toBe(fromScrape[w]!.errors);
      expect(window!.workloads[w]!.byClass, w).toEqual(fromScrape[w]!.byClass);
      expect(window!.workloads[w]!.latency.bounds, w).toEqual(fromScrape[w]!.latency.bounds);
      expect(window!.workloads[w]!.latency.counts, w).toEqual(fromScrape[w]!.latency.counts);
      expect(window!.workloads[w]!.latency.sum!, w).toBeCloseTo(fromScrape[w]!.latency.sum!, 6);
    }

    // Live use gives the same; so does the window split into 1 s intervals, added up.
    const live = await prometheus.measure();
    expect(live.workloads['account-canary']!.requests).toBe(147);
    const perSecond = await prometheus.measureWindow(start, end, 1_000);
    expect(perSecond.length).toBeGreaterThanOrEqual(Math.floor((end - start) / 1_000));
    expect(perSecond.reduce((acc, m) => acc + m.workloads['account-canary']!.requests, 0)).toBe(147);
    expect(perSecond.reduce((acc, m) => acc + m.workloads['account-baseline']!.errors, 0)).toBe(4);
    perSecond.slice(1).forEach((m, i) => expect(m.start).toBe(perSecond[i]!.end));
    expect(perSecond[0]!.start).toBe(start);
  });

  it('treats a hostile service name as a value, not as PromQL', async () => {
    const prometheus = createSource('prometheus', {
      url: prom.url,
      service: 'account"} or vector(1) or up{x="',
      workloads: ['account-canary"} or vector(1) or up{x="'],
      resolutionMs: 500,
    });
    const end = Date.now();
    const [m] = await prometheus.measureWindow(end - 5_000, end, 5_000);
    expect(m!.status).toBe('nodata');
    expect(Object.values(m!.workloads).every((w) => w.requests === 0)).toBe(true);
  });

  it('evaluates user scalars; NaN and empty results are no data, a bad query is an error', async () => {
    const end = Date.now();
    const prometheus = createSource('prometheus', {
      url: prom.url,
      service: 'account',
      workloads,
      resolutionMs: 1_000,
      scalars: {
        canaryRequests:
          'sum(istio_requests_total{reporter="destination", destination_service_name="{{service}}", destination_workload="account-canary"})',
        nan: 'vector(0) / 0',
        empty: 'sum(istio_requests_total{destination_service_name="nope"})',
      },
    });
    const [m] = await prometheus.measureWindow(end - 2_000, end, 2_000);
    expect(m!.scalars.canaryRequests).toBe(21 + 39 + 70 + 6); // canaryA restarted (21 since); canaryB all along; source side excluded
    expect(m!.scalars.nan).toBeNull();
    expect(m!.scalars.empty).toBeNull();

    const bad = createSource('prometheus', {
      url: prom.url,
      service: 'account',
      workloads,
      retries: 0,
      scalars: { broken: 'sum(' },
    });
    const [b] = await bad.measureWindow(end - 2_000, end, 2_000);
    expect(b!.status).toBe('error');
    expect(b!.reason).toMatch(
      new RegExp(`scalar broken: prometheus query failed: ${prom.url}/api/v1/query: HTTP 400, bad_data`),
    );
  });

  it('cannot begin against a Prometheus that is down: InfraError naming the URL', async () => {
    const down = createSource('prometheus', {
      url: 'http://127.0.0.1:9',
      service: 'account',
      workloads,
      retries: 1,
      backoffMs: 10,
    });
    await expect(down.begin()).rejects.toThrow(InfraError);
    await expect(down.begin()).rejects.toThrow(/http:\/\/127\.0\.0\.1:9\/api\/v1\/query: ECONNREFUSED/);
    const [m] = await down.measureWindow(0, 1_000, 1_000);
    expect(m!.status).toBe('error');
    expect(m!.reason).toContain('http://127.0.0.1:9/api/v1/query_range');
  });
});

function add(...ms: Measurement[]): Record<string, WorkloadMeasurement> {
  const out: Record<string, WorkloadMeasurement> = {};
  for (const m of ms) {
    for (const [name, w] of Object.entries(m.workloads)) {
      const acc = out[name];
      if (!acc) {
        out[name] = structuredClone(w);
        continue;
      }
      acc.requests += w.requests;
      acc.errors += w.errors;
      for (const [cls, n] of Object.entries(w.byClass))
        acc.byClass[cls as keyof typeof acc.byClass] = (acc.byClass[cls as keyof typeof acc.byClass] ?? 0) + (n ?? 0);
      expect(acc.latency.bounds).toEqual(w.latency.bounds);
      acc.latency.counts = acc.latency.counts.map((c, i) => c + w.latency.counts[i]!);
      acc.latency.sum = (acc.latency.sum ?? 0) + (w.latency.sum ?? 0);
    }
  }
  return out;
}
