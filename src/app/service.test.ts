import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.ts';
import { knobsFromEnv, requestFates } from './knobs.ts';
import { seededRandom } from '../core/random.ts';
import { createService, type RunningService, type ServiceOptions } from './service.ts';
import { call, type LoopbackServer, serveOnLoopback } from '../../test/support/http.ts';

const started: { service: RunningService; server: LoopbackServer }[] = [];

async function start(opts: Partial<ServiceOptions> & { env?: Record<string, string> }): Promise<string> {
  const service = await createService({
    service: 'account',
    workload: 'account-canary',
    version: 'v2',
    knobs: knobsFromEnv(opts.env ?? {}),
    ...opts,
  });
  const server = await serveOnLoopback(service.handler);
  started.push({ service, server });
  return server.url;
}

afterEach(async () => {
  for (const { service, server } of started.splice(0)) {
    await server.close();
    await service.close();
  }
});

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

describe('createService knobs', () => {
  it('fails ERROR_RATE of 400 requests (within a 99.9 % binomial bound) with ERROR_STATUS', async () => {
    const url = await start({ env: { ERROR_RATE: '0.2', ERROR_STATUS: '500' }, random: seededRandom(2024) });
    const n = 400;
    const answers = [];
    for (let batch = 0; batch < n / 100; batch++) {
      answers.push(...(await Promise.all(Array.from({ length: 100 }, () => call(`${url}/api/account?id=3`)))));
    }
    const failed = answers.filter((a) => a.status === 500);
    const ok = answers.filter((a) => a.status === 200);
    expect(failed.length + ok.length).toBe(n);
    expect(Math.abs(failed.length - n * 0.2)).toBeLessThanOrEqual(3.29 * Math.sqrt(n * 0.2 * 0.8));
    expect(JSON.parse(failed[0].body).error).toMatch(/injected error \(ERROR_RATE=0.2\) from account-canary/);
    expect(failed[0].headers['x-served-by']).toBe('account-canary');
  });

  it('delays each answer by a draw from LATENCY (seeded: the scheduled delays are the drawn ones)', async () => {
    const env = { LATENCY: 'lognormal:median=150,sigma=0.3' };
    const delays = recordedDelays();
    const url = await start({ env, random: seededRandom(99), schedule: delays.schedule });
    const n = 60;
    const answers = await Promise.all(Array.from({ length: n }, () => call(`${url}/api/account?id=1`)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    // The same seed replays the delays the service drew, in some order.
    const fate = requestFates(knobsFromEnv(env), { random: seededRandom(99), now: () => 0, startedAt: 0 });
    const drawn = Array.from({ length: n }, () => fate().delayMs).sort((a, b) => a - b);
    expect([...delays.ms].sort((a, b) => a - b)).toEqual(drawn);
    expect(median(drawn)).toBeGreaterThan(150 * 0.8);
    expect(median(drawn)).toBeLessThan(150 * 1.25);
  });

  it('adds slow-start latency that decays with the clock', async () => {
    let now = 0;
    const delays = recordedDelays();
    const url = await start({
      env: { SLOW_START_SECONDS: '10', SLOW_START_EXTRA_MS: '300' },
      now: () => now,
      schedule: delays.schedule,
    });
    await call(`${url}/api/account?id=1`);
    now = 5_000;
    await call(`${url}/api/account?id=1`);
    now = 10_000;
    const warm = await call(`${url}/api/account?id=1`);
    expect(warm.status).toBe(200);
    // 300 ms at start, half of it halfway, nothing once warm (no delay is scheduled at all).
    expect(delays.ms).toEqual([300, 150]);
  });

  it('leaves /healthz outside the knobs', async () => {
    const delays = recordedDelays();
    const url = await start({ env: { ERROR_RATE: '1', LATENCY: 'constant:ms=500' }, schedule: delays.schedule });
    const health = await call(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(delays.ms).toEqual([]);
    const api = await call(`${url}/api/account?id=1`);
    expect(api.status).toBe(503);
    expect(delays.ms).toEqual([500]);
  });
});

/** A `schedule` that records each delay and answers on the next turn of the event loop. */
function recordedDelays(): { ms: number[]; schedule: (answer: () => void, delayMs: number) => void } {
  const ms: number[] = [];
  return {
    ms,
    schedule: (answer, delayMs) => {
      ms.push(delayMs);
      setImmediate(answer);
    },
  };
}

describe('createService options', () => {
  it('rejects a bff without an upstream and a workload with a comma', async () => {
    await expect(
      createService({ service: 'bff', workload: 'bff', version: 'v1', knobs: knobsFromEnv({}) }),
    ).rejects.toThrow(/upstream: the bff needs an Upstream/);
    await expect(
      createService({ service: 'account', workload: 'a, b', version: 'v1', knobs: knobsFromEnv({}) }),
    ).rejects.toThrow(ConfigError);
  });
});
