import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InfraError, UsageError } from '../core/errors.ts';
import { PrometheusSource, pointGrid } from './prometheus.ts';
import { createSource } from './factory.ts';

describe('pointGrid', () => {
  it('puts interval edges on points and ends exactly at the window end', () => {
    const g = pointGrid(10_000, 13_100, 1_000, 500);
    expect(g.resolutionMs).toBe(500);
    expect(g.times).toEqual([10_000, 10_500, 11_000, 11_500, 12_000, 12_500, 13_000, 13_100]);
    expect(g.uniform).toBe(7);
    expect(g.intervals).toEqual([
      [0, 2],
      [2, 4],
      [4, 6],
      [6, 7],
    ]);
    expect(g.intervalOfPoint.slice(1)).toEqual([0, 0, 1, 1, 2, 2, 3]);
  });

  it('shrinks the resolution to divide the step', () => {
    const g = pointGrid(0, 60_000, 60_000, 15_000);
    expect(g.resolutionMs).toBe(15_000);
    expect(g.intervals).toEqual([[0, 4]]);
    const h = pointGrid(0, 10_000, 10_000, 3_000);
    expect(h.resolutionMs).toBe(2_500);
    expect(h.times.at(-1)).toBe(10_000);
  });

  it('never has fewer than two points, even for a window shorter than the resolution', () => {
    const g = pointGrid(0, 700, 700, 15_000);
    expect(g.times).toEqual([0, 700]);
    expect(g.intervals).toEqual([[0, 1]]);
  });

  it('coarsens a window far past the points limit', () => {
    const day = 86_400_000;
    const g = pointGrid(0, 30 * day, day, 1_000);
    expect(g.times.length).toBeLessThanOrEqual(500_001);
    expect(g.intervals).toHaveLength(30);
  });
});

describe('PrometheusSource options', () => {
  const base = { url: 'http://127.0.0.1:9', service: 'account', workloads: ['account-canary'] };
  it('rejects bad options, naming them', () => {
    expect(() => new PrometheusSource({ ...base, url: 'nope' })).toThrow(/--prometheus: expected an http\(s\) URL/);
    expect(() => new PrometheusSource({ ...base, resolutionMs: 0 })).toThrow(/resolutionMs: expected at least 1 ms/);
    expect(() => new PrometheusSource({ ...base, scalars: { x: '' } })).toThrow(/scalars\.x: expected a PromQL query/);
    expect(() => new PrometheusSource({ ...base, scalars: { x: 'up{a="{{pod}}"}' } })).toThrow(
      /scalars x: unknown placeholder \{\{pod\}\}/,
    );
    expect(() => new PrometheusSource({ ...base, templatesFile: '/nonexistent.yaml' })).toThrow(
      /\/nonexistent\.yaml: cannot read PromQL templates/,
    );
  });

  it('rejects an empty or reversed window', async () => {
    const s = new PrometheusSource(base);
    await expect(s.measureWindow(2_000, 1_000, 1_000)).rejects.toThrow(UsageError);
    await expect(s.measureWindow(1_000, 2_000, 0)).rejects.toThrow(/step: expected an interval of at least 1 ms/);
  });
});

describe('createSource', () => {
  it('builds each kind and refuses an unknown kind', () => {
    expect(
      createSource('scrape', { service: 'a', workloads: ['w'], targets: ['http://127.0.0.1:1/metrics'] }).kind,
    ).toBe('scrape');
    expect(createSource('prometheus', { url: 'http://127.0.0.1:1', service: 'a', workloads: ['w'] }).kind).toBe(
      'prometheus',
    );
    expect(() => createSource('graphite', { url: 'http://x', service: 'a', workloads: ['w'] })).toThrow(UsageError);
    expect(() => createSource('graphite', { url: 'http://x', service: 'a', workloads: ['w'] })).toThrow(
      /source: unknown telemetry source kind "graphite"; expected one of scrape, prometheus/,
    );
  });
});

describe('PrometheusSource.begin with awaitTargetsMs', () => {
  let server: Server;
  let url: string;
  /** The `workload` labels of the targets up, per answer to the targets query (the last repeats). */
  let upByLook: string[][];
  let targetQueries: string[];

  beforeEach(async () => {
    targetQueries = [];
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const query = new URLSearchParams(body).get('query') ?? '';
        let result: unknown[] = [{ metric: {}, value: [1, '1'] }];
        if (query.includes('up{')) {
          targetQueries.push(query);
          const up = upByLook[Math.min(targetQueries.length - 1, upByLook.length - 1)]!;
          result = up.map((w) => ({ metric: { workload: w, pod: `${w}-5d9c8b7f4-x2x9q` }, value: [1, '1'] }));
        }
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => new Promise<void>((r) => server.close(() => r())));

  const workloads = ['account-primary', 'account-baseline', 'account-canary'];

  it('resolves only once every workload has a target up, asking with the pods of exactly those Deployments', async () => {
    upByLook = [['account-primary'], ['account-primary', 'account-canary'], workloads];
    const s = new PrometheusSource({ url, service: 'account', workloads, awaitTargetsMs: 10_000, targetsPollMs: 1 });
    await s.begin();
    expect(targetQueries).toHaveLength(3);
    expect(targetQueries[0]).toContain(
      'up{pod=~"(account-primary|account-baseline|account-canary)-[a-z0-9]+-[a-z0-9]+"}',
    );
  });

  it('throws InfraError naming the workloads Prometheus does not scrape when the time runs out', async () => {
    upByLook = [['account-primary']];
    const s = new PrometheusSource({ url, service: 'account', workloads, awaitTargetsMs: 50, targetsPollMs: 5 });
    const err = await s.begin().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfraError);
    expect((err as Error).message).toMatch(/scrapes no target of account-baseline, account-canary after 50 ms/);
  });

  it('does not ask for targets without awaitTargetsMs', async () => {
    upByLook = [[]];
    await new PrometheusSource({ url, service: 'account', workloads }).begin();
    expect(targetQueries).toEqual([]);
  });
});

describe('PrometheusSource.measure across looks', () => {
  let server: Server;
  let url: string;
  /** The fake's clock (epoch ms); the source's `now` reads the same. */
  let clock: number;
  /**
   * One replica's `istio_requests_total` as Prometheus stores it: each sample has the time its
   * scrape began (`t`) and is readable only from the time the scrape ended (`stored`).
   */
  let samples: { t: number; v: number; stored: number }[];
  /** Range queries answer 422 while set. */
  let failing = false;
  /** A second replica of the same workload (instance `idle`) in range queries; none unless a test sets it. */
  let idleSamples: { t: number; v: number; stored: number }[] = [];

  /**
   * What `query` reads at `at` with Prometheus' look-back: the newest sample stamped at or before it,
   * if stored by now: its value, or its time in seconds for the `scrapeTimes` query (`timestamp()`).
   */
  const valueAt = (query: string, at: number, of = samples) => {
    if (!query.includes('istio_requests_total')) return undefined;
    const sample = of.filter((s) => s.t <= at && s.stored <= clock && at - s.t <= 300_000).at(-1);
    if (sample === undefined) return undefined;
    return query.includes('timestamp(') ? sample.t / 1000 : sample.v;
  };

  beforeEach(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const p = new URLSearchParams(body);
        const query = p.get('query') ?? '';
        if (failing && req.url!.startsWith('/api/v1/query_range')) {
          res.writeHead(422, { 'content-type': 'application/json' }).end(
            JSON.stringify({
              status: 'error',
              errorType: 'execution',
              error: 'query processing would load too many samples',
            }),
          );
          return;
        }
        const metricOf = (instance: string) => ({
          destination_workload: 'account-canary',
          response_code: '200',
          instance,
          job: 'j',
        });
        const metric = metricOf('a');
        let data: unknown;
        if (req.url!.startsWith('/api/v1/query_range')) {
          const [start, end, step] = ['start', 'end', 'step'].map((k) => Number(p.get(k)));
          const series = Object.entries({ a: samples, idle: idleSamples }).flatMap(([instance, of]) => {
            const values: [number, string][] = [];
            for (let t = start!; t <= end! + 1e-9; t += step!) {
              const v = valueAt(query, Math.round(t * 1000), of);
              if (v !== undefined) values.push([t, String(v)]);
            }
            return values.length > 0 ? [{ metric: metricOf(instance), values }] : [];
          });
          data = { resultType: 'matrix', result: series };
        } else {
          const at = Math.round(Number(p.get('time')) * 1000);
          const v = valueAt(query, at);
          const result = query === 'vector(1)' ? [{ metric: {}, value: [at / 1000, '1'] }] : [];
          if (v !== undefined) result.push({ metric, value: [at / 1000, String(v)] });
          data = { resultType: 'vector', result };
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'success', data }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => new Promise<void>((r) => server.close(() => r())));

  /** A source on the fake's clock, begun at `at` (a run's start). */
  async function begunAt(at: number): Promise<PrometheusSource> {
    clock = at;
    const source = new PrometheusSource({
      url,
      service: 'account',
      workloads: ['account-canary'],
      resolutionMs: 500,
      now: () => clock,
    });
    await source.begin();
    return source;
  }

  it('counts a scrape stored after a look, stamped before it, in the next interval instead of losing it', async () => {
    // Scrapes every second at .990, each stored 20 ms later; 100 requests a second.
    const t0 = 1_800_000_000_000;
    samples = Array.from({ length: 8 }, (_, i) => ({
      t: t0 + i * 1000 + 990,
      v: 100 * i,
      stored: t0 + i * 1000 + 1010,
    }));
    const source = await begunAt(t0 + 1000);
    const counted: number[] = [];
    const covered: ({ requests: number; ms: number } | undefined)[] = [];
    // A look every second, at .000: the scrape begun at .990 before it is not stored yet.
    for (let look = 2; look <= 7; look++) {
      clock = t0 + look * 1000;
      const m = await source.measure();
      counted.push(m.workloads['account-canary']?.requests ?? 0);
      covered.push(m.workloads['account-canary']?.covered);
    }
    // Each look reads the scrape stored a second before it: the first look sees sample 0 at both
    // edges; the last sees sample 5. Read again from each window's start, every look would count 0.
    expect(counted).toEqual([0, 100, 100, 100, 100, 100]);
    // And the time those counts cover: from one scrape read to the next.
    expect(covered).toEqual([
      { requests: 0, ms: 0 },
      ...Array.from({ length: 5 }, () => ({ requests: 100, ms: 1000 })),
    ]);
  });

  it("gives a run's looks the requests between scrapes they read and the time between them", async () => {
    // Scrapes at .300 of every second, stored at once. The replica's first request comes after the
    // run's begin (t0+1000): its counter first appears at the scrape of t0+1300, at 30.
    const t0 = 1_800_000_000_000;
    samples = Array.from({ length: 4 }, (_, i) => ({
      t: t0 + (i + 1) * 1000 + 300,
      v: 30 + 40 * i,
      stored: t0 + (i + 1) * 1000 + 300,
    }));
    const source = await begunAt(t0 + 1000);
    clock = t0 + 4000;
    const first = (await source.measure()).workloads['account-canary']!;
    clock = t0 + 5000;
    const second = (await source.measure()).workloads['account-canary']!;
    // The first look counts all 110 (the 30 before the first scrape too), but only the 80 between
    // the scrapes of t0+1300 and t0+3300 go with the 2 s those cover: whenever the 30 came, no
    // time is known for them.
    expect([first.requests, first.covered]).toEqual([110, { requests: 80, ms: 2000 }]);
    // The next look reads the scrape of t0+4300: one scrape later, carried from the last one read.
    expect([second.requests, second.covered]).toEqual([40, { requests: 40, ms: 1000 }]);
    // A replica of the same workload that serves nothing (a deleted pod still draining) adds no
    // time: read again with one scraped every second at a constant 500, the look is the same.
    idleSamples = Array.from({ length: 6 }, (_, i) => ({
      t: t0 + i * 1000 + 700,
      v: 500,
      stored: t0 + i * 1000 + 700,
    }));
    const again = await begunAt(t0 + 1000);
    clock = t0 + 4000;
    expect((await again.measure()).workloads['account-canary']!.covered).toEqual({ requests: 80, ms: 2000 });
    idleSamples = [];
    // A past window is not weighed: its traffic may have begun and ended inside it.
    const [past] = await source.measureWindow(t0 + 1000, t0 + 4000, 3000);
    expect(past!.workloads['account-canary']!.covered).toBeUndefined();
  });

  it('after a look whose queries failed, the next still takes its first values as the zero, not as requests', async () => {
    // The counter stood at 4,000 before the run (a primary that served long before it).
    const t0 = 1_800_000_000_000;
    samples = Array.from({ length: 6 }, (_, i) => ({
      t: t0 + i * 1000 + 300,
      v: 4000 + 40 * i,
      stored: t0 + i * 1000 + 300,
    }));
    const source = await begunAt(t0 + 1000);
    failing = true;
    clock = t0 + 2000;
    expect((await source.measure()).status).toBe('error');
    failing = false;
    clock = t0 + 3000;
    // From t0+2000 (the scrape of t0+1300, 4,040) to t0+3000 (t0+2300, 4,080): 40, not 4,080.
    expect((await source.measure()).workloads['account-canary']!.requests).toBe(40);
  });

  it('still reads a past window from its own start (measureWindow), as canary analyze does', async () => {
    const t0 = 1_800_000_000_000;
    samples = Array.from({ length: 4 }, (_, i) => ({ t: t0 + i * 1000, v: 50 * i, stored: t0 + i * 1000 }));
    clock = t0 + 10_000;
    const source = new PrometheusSource({ url, service: 'account', workloads: ['account-canary'], resolutionMs: 500 });
    const [m] = await source.measureWindow(t0 + 1000, t0 + 3000, 2000);
    expect(m!.workloads['account-canary']!.requests).toBe(100);
  });
});
