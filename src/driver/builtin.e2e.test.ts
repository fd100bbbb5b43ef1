import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plannedRequest, trafficFromEnv } from '../../load/lib/traffic.ts';
import { LATENCY_BUCKETS_MS } from '../telemetry/buckets.ts';
import { InfraError } from '../core/errors.ts';
import { BuiltinDriver } from './builtin.ts';
import { constantProfile } from './driver.ts';
import type { LoadPlan } from './driver.ts';
import { decodeSeriesHistogram, seriesLatencyHistogram } from './recorder.ts';
import { accountTrackFor, startLoopback } from './testing/loopback.ts';
import type { LoopbackServer } from './testing/loopback.ts';

const traffic = trafficFromEnv({ COHORTS: 'user=50:0.6,canary-tester=5:0.2,baseline-tester=5:0.2', SEED: '3' });
const servers: LoopbackServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});
async function server(opts: Parameters<typeof startLoopback>[0] = {}) {
  const s = await startLoopback(opts);
  servers.push(s);
  return s;
}

describe('builtin driver, open model', () => {
  let target: LoopbackServer;
  beforeAll(async () => {
    target = await server({ status: (req) => (req.url === '/api/friend' ? 503 : 200) });
  });

  it('sends exactly rate × duration requests, attributed to cohort × track × route', async () => {
    const plan: LoadPlan = {
      target: target.url,
      model: { kind: 'open', profile: constantProfile(200, 3) },
      traffic,
      rawSampleCap: 100,
    };
    const before = target.received;
    const run = await new BuiltinDriver().start(plan);
    await new Promise((r) => setTimeout(r, 1500));
    const first = run.snapshot();
    const result = await run.result();
    const second = run.snapshot();
    expect(result.status).toBe('completed');
    expect(result.sent).toBe(600);
    expect(result.requests).toBe(600);
    // The server also saw the pre-flight probe.
    expect(target.received - before).toBe(601);
    // 1 % of 3 s is 30 ms of scheduler lag at the very end: allow 3 % on a shared machine (the 1 %
    // requirement is held over 20 s against the mesh in mesh-load.e2e.test.ts).
    expect(Math.abs(result.achievedRate - 200) / 200).toBeLessThan(0.03);
    // The two intervals partition the run.
    const count = (s: typeof first) => s.series.reduce((n, x) => n + x.requests, 0);
    expect(count(first) + count(second)).toBe(600);
    expect(first.completed + second.completed).toBe(600);
    expect(count(first)).toBeGreaterThan(200);

    // Client-side attribution matches what the traffic model planned, request by request.
    const expected: Record<string, number> = {};
    let expectedErrors = 0;
    for (let seq = 0; seq < 600; seq++) {
      const r = plannedRequest(traffic, seq);
      const track = r.path.startsWith('/api/friend') ? '-' : accountTrackFor(r.user);
      expected[track] = (expected[track] ?? 0) + 1;
      if (r.path === '/api/friend') expectedErrors++;
    }
    expect(result.byTrack).toEqual(expected);
    expect(result.errors).toBe(expectedErrors);
    expect(result.byWorkload.bff).toBe(600);
    expect(result.byCohort['canary-tester']).toBe(
      result.byTrack['account-canary'] +
        result.series
          .filter((s) => s.cohort === 'canary-tester' && s.workload === '-')
          .reduce((n, s) => n + s.requests, 0),
    );
    for (const s of result.series) {
      expect(decodeSeriesHistogram(s).totalCount).toBe(s.requests);
      if (s.route === '/api/friend') expect(s.byStatus).toEqual({ 503: s.requests });
    }
    const buckets = seriesLatencyHistogram(result.series, LATENCY_BUCKETS_MS);
    expect(buckets.counts.reduce((a, b) => a + b, 0)).toBe(600);
    expect(result.samples).toHaveLength(100);
    expect(result.latencyMs.p50).toBeGreaterThan(0);
  });

  it('keeps the schedule on timers alone (spinMs 0), as the canary runner uses it, and does not poll', async () => {
    const plan: LoadPlan = {
      target: target.url,
      model: { kind: 'open', profile: constantProfile(200, 3), spinMs: 0 },
      traffic,
    };
    const cpuBefore = process.cpuUsage();
    const run = await new BuiltinDriver().start(plan);
    const result = await run.result();
    const cpu = process.cpuUsage(cpuBefore);
    expect(result.sent).toBe(600);
    expect(Math.abs(result.achievedRate - 200) / 200).toBeLessThan(0.03);
    // Late by at most a few timer ticks, and that lateness is inside the measured latency.
    expect(result.schedulerLagMs!.p99).toBeLessThan(20);
    // Sleeping on timers costs about a third of polling: measured here 0.10 cores against 0.30 with
    // the default spinMs (this process also runs the test server). CPU time, not wall time, so a busy
    // machine does not inflate it much.
    expect((cpu.user + cpu.system) / 1e6 / 3).toBeLessThan(0.2);
  });

  it('shows a server that stalls 1 s in every 5 s in its p99 (no coordinated omission)', async () => {
    let t0 = 0;
    // Stalls during [4 s, 5 s) of every 5 s after the load starts.
    const stalling = await server({ stalled: () => t0 > 0 && (Date.now() - t0) % 5000 >= 4000 });
    const plan: LoadPlan = {
      target: stalling.url,
      model: { kind: 'open', profile: constantProfile(100, 6) },
      traffic,
      rawSampleCap: 1000,
    };
    const driver = new BuiltinDriver();
    const runP = driver.start(plan);
    t0 = Date.now();
    const run = await runP;
    const result = await run.result();
    expect(result.requests).toBe(600);
    expect(result.latencyMs.p99).toBeGreaterThanOrEqual(500);
    expect(result.latencyMs.p50).toBeLessThan(100);
    // The requests sent into the stall waited until it ended: the later, the shorter.
    const slow = result.samples!.filter((s) => s.latencyMs > 300);
    expect(slow.length).toBeGreaterThan(30);
    expect(Math.min(...slow.map((s) => s.atMs))).toBeGreaterThan(3500);
  });

  it('stops early on request and marks the result', async () => {
    const run = await new BuiltinDriver().start({
      target: target.url,
      model: { kind: 'open', profile: constantProfile(100, 30) },
      traffic,
    });
    await new Promise((r) => setTimeout(r, 500));
    const result = await run.stop('interrupted');
    expect(result.status).toBe('interrupted');
    expect(result.requests).toBeGreaterThan(20);
    expect(result.requests).toBeLessThan(200);
    expect(result.elapsedS).toBeLessThan(2);
    expect(await run.stop('stopped')).toBe(result);
  });

  it('counts reset connections as transport errors', async () => {
    const flaky = await server({ reset: (req) => (req.url ?? '').startsWith('/api/friend/') });
    const result = await (
      await new BuiltinDriver().start({
        target: flaky.url,
        model: { kind: 'open', profile: constantProfile(100, 1) },
        traffic,
      })
    ).result();
    const resets = result.series.filter((s) => s.route === '/api/friend/:id');
    expect(resets.length).toBeGreaterThan(0);
    for (const s of resets) {
      expect(s.transportErrors).toBe(s.requests);
      expect(s.byStatus).toEqual({ 0: s.requests });
    }
    expect(result.errors).toBe(resets.reduce((n, s) => n + s.requests, 0));
  });
});

describe('builtin driver, closed model', () => {
  it('keeps exactly N requests in flight', async () => {
    const slow = await server({ delayMs: 20 });
    const result = await (
      await new BuiltinDriver().start({
        target: slow.url,
        model: { kind: 'closed', connections: 8, durationS: 1 },
        traffic,
      })
    ).result();
    expect(slow.maxConcurrent).toBe(8);
    // 8 connections × ~20 ms service time → about 400 requests/s.
    expect(result.requests).toBeGreaterThan(200);
    expect(result.requests).toBeLessThan(420);
    expect(result.latencyMs.p50).toBeGreaterThanOrEqual(19);
  });
});

describe('builtin driver, target down', () => {
  it('rejects with InfraError naming the URL within 5 s', async () => {
    const closed = await server();
    const url = closed.url;
    await closed.close();
    const t = Date.now();
    const err = await new BuiltinDriver()
      .start({ target: url, model: { kind: 'open', profile: constantProfile(10, 1) }, traffic })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfraError);
    expect((err as Error).message).toContain(url);
    expect(Date.now() - t).toBeLessThan(5000);
  });
});
