import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.ts';
import {
  DEFAULT_KNOBS,
  formatLatency,
  knobsFromEnv,
  parseLatency,
  requestFates,
  sampleLatencyMs,
  slowStartExtraMs,
} from './knobs.ts';
import { seededRandom } from '../core/random.ts';

/** Half-width of a 99.9 % normal-approximation interval for a binomial count (z = 3.29). */
function binomialTolerance(n: number, p: number): number {
  return 3.29 * Math.sqrt(n * p * (1 - p));
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))];
}

describe('parseLatency', () => {
  it.each([
    ['none', { kind: 'none' }],
    ['constant:ms=12.5', { kind: 'constant', ms: 12.5 }],
    ['normal:mean=20,sd=4', { kind: 'normal', mean: 20, sd: 4 }],
    [' lognormal: sigma=0.4 , median=20 ', { kind: 'lognormal', median: 20, sigma: 0.4 }],
  ])('reads %j', (text, expected) => {
    expect(parseLatency(text)).toEqual(expected);
  });

  it('round-trips through formatLatency', () => {
    for (const text of ['none', 'constant:ms=3', 'normal:mean=20,sd=4', 'lognormal:median=20,sigma=0.4']) {
      expect(formatLatency(parseLatency(text))).toBe(text);
    }
  });

  it.each([
    ['gamma:k=2', /expected 'none', 'constant:ms=M'/],
    ['constant', /constant needs ms/],
    ['normal:mean=20', /normal needs sd/],
    ['lognormal:median=20,sigma=0.4,shift=3', /unknown parameter 'shift'/],
    ['constant:ms=-1', /ms must be a number ≥ 0, got '-1'/],
    ['constant:ms=abc', /ms must be a number ≥ 0, got 'abc'/],
    ['constant:ms=1,ms=2', /'ms' given twice/],
    ['lognormal:median=0,sigma=1', /median must be > 0/],
  ])('rejects %j naming LATENCY', (text, message) => {
    let error: unknown;
    try {
      parseLatency(text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/^environment LATENCY: /);
    expect((error as ConfigError).message).toMatch(message);
  });
});

describe('knobsFromEnv', () => {
  it('gives the defaults for an empty environment', () => {
    expect(knobsFromEnv({})).toEqual(DEFAULT_KNOBS);
    expect(DEFAULT_KNOBS.errorStatus).toBe(503);
  });

  it('reads every knob', () => {
    expect(
      knobsFromEnv({
        LATENCY: 'lognormal:median=20,sigma=0.4',
        ERROR_RATE: '0.05',
        ERROR_STATUS: '500',
        SLOW_START_SECONDS: '30',
        SLOW_START_EXTRA_MS: '150',
        VERSION: 'v2',
      }),
    ).toEqual({
      latency: { kind: 'lognormal', median: 20, sigma: 0.4 },
      errorRate: 0.05,
      errorStatus: 500,
      slowStartSeconds: 30,
      slowStartExtraMs: 150,
      version: 'v2',
    });
  });

  it.each([
    [{ ERROR_RATE: '1.5' }, 'ERROR_RATE', /expected a probability between 0 and 1, got '1.5'/],
    [{ ERROR_RATE: 'often' }, 'ERROR_RATE', /got 'often'/],
    [{ ERROR_STATUS: '200' }, 'ERROR_STATUS', /expected an HTTP error status 400..599, got '200'/],
    [{ ERROR_STATUS: '503.5' }, 'ERROR_STATUS', /400..599/],
    [{ SLOW_START_SECONDS: '-1' }, 'SLOW_START_SECONDS', /≥ 0, got '-1'/],
    [{ SLOW_START_EXTRA_MS: 'x' }, 'SLOW_START_EXTRA_MS', /got 'x'/],
    [{ VERSION: '2' }, 'VERSION', /expected a version like 'v1'/],
    [{ LATENCY: 'fast' }, 'LATENCY', /got 'fast'/],
  ])('rejects %j naming %s', (env, variable, message) => {
    expect(() => knobsFromEnv(env)).toThrow(ConfigError);
    expect(() => knobsFromEnv(env)).toThrow(new RegExp(`^environment ${variable}: `));
    expect(() => knobsFromEnv(env)).toThrow(message);
  });
});

describe('sampleLatencyMs', () => {
  const draws = (text: string, n: number, seed = 7) => {
    const random = seededRandom(seed);
    const latency = parseLatency(text);
    return Array.from({ length: n }, () => sampleLatencyMs(latency, random)).sort((a, b) => a - b);
  };

  it('draws a lognormal with the configured median and log-spread', () => {
    const samples = draws('lognormal:median=20,sigma=0.4', 20_000);
    // Standard error of the median of log(X) is about 1.2533·σ/√n ≈ 0.0035: 2 % is > 5 SE.
    expect(quantile(samples, 0.5)).toBeGreaterThan(20 * 0.98);
    expect(quantile(samples, 0.5)).toBeLessThan(20 * 1.02);
    const logs = samples.map(Math.log);
    const mean = logs.reduce((a, b) => a + b, 0) / logs.length;
    const sd = Math.sqrt(logs.reduce((a, b) => a + (b - mean) ** 2, 0) / (logs.length - 1));
    expect(sd).toBeGreaterThan(0.4 * 0.97);
    expect(sd).toBeLessThan(0.4 * 1.03);
    // p90 of a lognormal is median·e^(1.2816·σ) = 33.4 ms.
    expect(quantile(samples, 0.9)).toBeGreaterThan(33.4 * 0.96);
    expect(quantile(samples, 0.9)).toBeLessThan(33.4 * 1.04);
  });

  it('draws a normal with the configured mean and sd, never below 0', () => {
    const samples = draws('normal:mean=10,sd=2', 20_000);
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    expect(mean).toBeGreaterThan(9.9);
    expect(mean).toBeLessThan(10.1);
    expect(quantile(samples, 0.8413)).toBeGreaterThan(11.8);
    expect(quantile(samples, 0.8413)).toBeLessThan(12.2);
    expect(draws('normal:mean=1,sd=5', 2_000)[0]).toBe(0);
  });

  it('gives the constant and none exactly', () => {
    expect(new Set(draws('constant:ms=12', 100))).toEqual(new Set([12]));
    expect(new Set(draws('none', 100))).toEqual(new Set([0]));
  });

  it('is reproducible from the seed and differs across seeds', () => {
    expect(draws('lognormal:median=20,sigma=0.4', 50, 1)).toEqual(draws('lognormal:median=20,sigma=0.4', 50, 1));
    expect(draws('lognormal:median=20,sigma=0.4', 50, 1)).not.toEqual(draws('lognormal:median=20,sigma=0.4', 50, 2));
  });
});

describe('slowStartExtraMs', () => {
  const knobs = { slowStartSeconds: 10, slowStartExtraMs: 200 };
  it('decays linearly from the extra to 0 over the window', () => {
    expect(slowStartExtraMs(knobs, 0)).toBe(200);
    expect(slowStartExtraMs(knobs, 2_500)).toBe(150);
    expect(slowStartExtraMs(knobs, 5_000)).toBe(100);
    expect(slowStartExtraMs(knobs, 9_999)).toBeCloseTo(0.02, 5);
    expect(slowStartExtraMs(knobs, 10_000)).toBe(0);
    expect(slowStartExtraMs(knobs, 60_000)).toBe(0);
  });
  it('is off when the window is 0', () => {
    expect(slowStartExtraMs({ slowStartSeconds: 0, slowStartExtraMs: 200 }, 0)).toBe(0);
  });
});

describe('requestFates', () => {
  it('fails a fraction of requests within a binomial bound of ERROR_RATE', () => {
    for (const [rate, seed] of [
      [0.2, 11],
      [0.01, 12],
      [0.5, 13],
    ] as const) {
      const fate = requestFates(
        { ...DEFAULT_KNOBS, errorRate: rate },
        { random: seededRandom(seed), now: () => 0, startedAt: 0 },
      );
      const n = 10_000;
      let failed = 0;
      for (let i = 0; i < n; i++) if (fate().fail) failed++;
      expect(Math.abs(failed - n * rate)).toBeLessThanOrEqual(binomialTolerance(n, rate));
    }
  });

  it('never fails at rate 0 and always at rate 1', () => {
    const never = requestFates(
      { ...DEFAULT_KNOBS, errorRate: 0 },
      { random: seededRandom(1), now: () => 0, startedAt: 0 },
    );
    const always = requestFates(
      { ...DEFAULT_KNOBS, errorRate: 1 },
      { random: seededRandom(1), now: () => 0, startedAt: 0 },
    );
    for (let i = 0; i < 1_000; i++) {
      expect(never().fail).toBe(false);
      expect(always().fail).toBe(true);
    }
  });

  it('adds the slow-start extra to the latency draw, by the clock', () => {
    let now = 1_000;
    const fate = requestFates(
      { ...DEFAULT_KNOBS, latency: { kind: 'constant', ms: 5 }, slowStartSeconds: 4, slowStartExtraMs: 100 },
      { random: seededRandom(1), now: () => now, startedAt: 1_000 },
    );
    expect(fate().delayMs).toBe(105);
    now = 3_000;
    expect(fate().delayMs).toBe(55);
    now = 5_000;
    expect(fate().delayMs).toBe(5);
  });
});

describe('seededRandom', () => {
  it('is uniform on [0, 1): mean and decile counts', () => {
    const random = seededRandom(42);
    const n = 100_000;
    const deciles = new Array<number>(10).fill(0);
    let sum = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const u = random();
      if (!(u >= 0 && u < 1)) outside++;
      sum += u;
      deciles[Math.floor(u * 10)]++;
    }
    expect(outside).toBe(0);
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.005);
    for (const count of deciles) expect(Math.abs(count - n / 10)).toBeLessThanOrEqual(binomialTolerance(n, 0.1));
  });
});
