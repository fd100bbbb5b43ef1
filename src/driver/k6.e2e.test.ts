/**
 * The k6 driver against a stand-in `k6` (testing/k6-standin.mjs) that writes k6's documented outputs
 * and exit codes, with a loopback server as the gateway for the pre-flight checks.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { plannedRequest, trafficFromEnv } from '../../load/lib/traffic.ts';
import { InfraError } from '../core/errors.ts';
import { constantProfile } from './driver.ts';
import type { LoadPlan } from './driver.ts';
import { K6Driver, k6Env, k6ExitMeaning } from './k6.ts';
import { decodeSeriesHistogram } from './recorder.ts';
import { startLoopback } from './testing/loopback.ts';
import type { LoopbackServer } from './testing/loopback.ts';

const STANDIN = fileURLToPath(new URL('./testing/k6-standin.mjs', import.meta.url));
const traffic = trafficFromEnv({ COHORTS: 'user=10:0.5,canary-tester=2:0.25,baseline-tester=2:0.25' });
let gateway: LoopbackServer;
beforeAll(async () => {
  gateway = await startLoopback();
});
afterAll(async () => {
  await gateway.close();
});

function plan(rate: number, durationS: number): LoadPlan {
  return { target: gateway.url, model: { kind: 'open', profile: constantProfile(rate, durationS) }, traffic };
}

async function withMode<T>(mode: string, fn: () => Promise<T>): Promise<T> {
  const before = process.env.STANDIN_MODE;
  process.env.STANDIN_MODE = mode;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.STANDIN_MODE;
    else process.env.STANDIN_MODE = before;
  }
}

describe('k6 driver', () => {
  it('passes the plan as --env and reads points per cohort × track × route, with snapshots while it runs', async () => {
    const run = await withMode('ok', () => new K6Driver({ binary: STANDIN, pollMs: 100 }).start(plan(100, 2)));
    // Points arrive while k6 runs, not only at the end: two snapshots with points before it exits.
    let done = false;
    const whileRunning: number[] = [];
    const resultP = run.result().then((r) => ((done = true), r));
    for (let i = 0; i < 2; i++) {
      await vi.waitFor(
        async () => {
          const completed = (await run.snapshot()).completed;
          whileRunning.push(completed);
          expect(completed).toBeGreaterThan(0);
        },
        { timeout: 15_000, interval: 50 },
      );
      expect(done).toBe(false);
    }
    const result = await resultP;
    const rest = await run.snapshot();
    expect(whileRunning.reduce((a, b) => a + b, 0) + rest.completed).toBe(200);
    expect(result.status).toBe('completed');
    expect(result.exit).toEqual({ code: 0, meaning: 'ok' });
    expect(result.requests).toBe(200);
    // The stand-in serves every 4th request from friend only; the others from the cohort's track.
    expect(result.byTrack['-']).toBe(50);
    expect(result.byWorkload.bff).toBe(200);
    expect(result.byTrack['account-canary']).toBeGreaterThan(40);
    expect(result.byCohort).toEqual({ user: 67, 'canary-tester': 67, 'baseline-tester': 66 });
    expect(result.latencyMs.p50).toBeGreaterThanOrEqual(5);
    expect(result.latencyMs.max).toBeCloseTo(14, 1);
    for (const s of result.series) expect(decodeSeriesHistogram(s).totalCount).toBe(s.requests);
    expect(result.thresholds).toContainEqual({ metric: 'canary_request_duration', expression: 'p(99)<1000', ok: true });
    expect(result.reason).toBeUndefined();
  });

  it('send mode: the plan as --env becomes real requests through the gateway, tracks read from x-served-by', async () => {
    const before = gateway.received;
    const result = await withMode('send', async () =>
      (await new K6Driver({ binary: STANDIN }).start(plan(200, 1))).result(),
    );
    expect(result.status, result.reason).toBe('completed');
    expect(result.requests).toBe(200);
    // Every request reached the gateway, and the cohorts are the model's own for seq 0..199.
    expect(gateway.received - before).toBe(200 + 2); // + the driver's and the script's pre-flights
    const expected: Record<string, number> = {};
    for (let seq = 0; seq < 200; seq++) {
      const cohort = plannedRequest(traffic, seq).cohort;
      expected[cohort] = (expected[cohort] ?? 0) + 1;
    }
    expect(result.byCohort).toEqual(expected);
    // The loopback gateway answers like the committed routes: canary testers on the canary.
    expect(result.byTrack['account-canary']).toBeGreaterThan(0);
    expect(result.byTrack['account-canary']).toBeLessThanOrEqual(expected['canary-tester']!);
    expect(result.byWorkload.bff).toBe(200);
  });

  it.each([
    ['thresholds', 99, 'completed', /thresholds failed: http_req_failed\{cohort:canary-tester\} rate<0.05/],
    ['fail', 110, 'completed', /test.fail/],
    ['script-error', 107, 'failed', /script error.*moduleSpecifier/],
  ])('maps stand-in mode %s (exit %i) to status %s with the reason', async (mode, code, status, reason) => {
    const result = await withMode(mode, async () =>
      (await new K6Driver({ binary: STANDIN }).start(plan(50, 0.5))).result(),
    );
    expect(result.exit?.code).toBe(code);
    expect(result.status).toBe(status);
    expect(result.reason).toMatch(reason);
  });

  it('stops k6 with SIGINT and keeps the partial result, marked interrupted', async () => {
    const run = await withMode('ok', () => new K6Driver({ binary: STANDIN, pollMs: 100 }).start(plan(100, 30)));
    let seen = 0;
    await vi.waitFor(async () => expect((seen += (await run.snapshot()).completed)).toBeGreaterThan(0), {
      timeout: 15_000,
      interval: 50,
    });
    const result = await run.stop('interrupted');
    expect(result.status).toBe('interrupted');
    expect(result.exit?.code).toBe(105);
    expect(result.requests).toBeGreaterThan(0);
    // Far fewer than the 3,000 of the 30 s plan: k6 stopped at the signal.
    expect(result.requests).toBeLessThan(3_000);
  });

  it('fails with InfraError when the k6 binary is missing or the target is down', async () => {
    await expect(new K6Driver({ binary: '/nonexistent/k6' }).start(plan(10, 1))).rejects.toThrow(
      /cannot run k6 .*\/nonexistent\/k6/,
    );
    const down = await startLoopback();
    const url = down.url;
    await down.close();
    const err = await new K6Driver({ binary: STANDIN }).start({ ...plan(10, 1), target: url }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfraError);
    expect((err as Error).message).toContain(url);
  });

  it('maps every documented exit code, and unknown ones to failed', () => {
    expect(k6ExitMeaning(108, null)).toEqual({ meaning: 'script aborted (test.abort())', status: 'failed' });
    expect(k6ExitMeaning(42, null).status).toBe('failed');
    expect(k6ExitMeaning(null, 'SIGKILL')).toEqual({ meaning: 'killed by SIGKILL', status: 'interrupted' });
  });

  it('builds --env for ramping and closed plans', () => {
    const ramp = k6Env(
      {
        ...plan(1, 1),
        model: { kind: 'open', profile: { kind: 'ramping', startRate: 5, stages: [{ durationS: 10, target: 50 }] } },
      },
      '/s.json',
    );
    expect(ramp).toMatchObject({
      PROFILE: 'ramping',
      START_RATE: '5',
      STAGES: '10s:50',
      SUMMARY_FILE: '/s.json',
      COHORTS: 'user=10:0.5,canary-tester=2:0.25,baseline-tester=2:0.25',
    });
    expect(k6Env({ ...plan(1, 1), model: { kind: 'closed', connections: 8, durationS: 20 } }, '/s.json')).toMatchObject(
      { MODEL: 'closed', VUS: '8', DURATION: '20s' },
    );
  });
});
