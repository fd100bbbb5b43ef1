import { describe, expect, it } from 'vitest';
import { compare } from './compare.ts';
import { binSamples } from './latency-batches.ts';
import { normalQuantile } from './stats/normal.ts';
import { seededGenerator } from '../core/random.ts';
import { rankScoreEProcess } from './stats/rank-score-e-process.ts';

// Deterministic lognormal-like samples: exp(Φ⁻¹((i - 1/2)/n)) scaled to ~50 ms.
const grid = (n: number, scale = 50) =>
  Array.from({ length: n }, (_, i) => scale * Math.exp(0.5 * normalQuantile((i + 0.5) / n)));

describe('compare (sequential judge)', () => {
  it('fails a 20 % slower canary with e-values on p50/p90/p99', () => {
    const r = compare(
      { metric: 'latency', samples: { baseline: grid(2000), canary: grid(2000, 60) } },
      { judge: 'sequential', direction: 'increase' },
    );
    expect(r.verdict).toBe('fail');
    expect(r.metrics.map((m) => m.name)).toEqual(['latency-p50', 'latency-p90', 'latency-p99', 'latency-distribution']);
    expect(r.metrics[3].test).toBe('rank-score-e-process');
    expect(r.metrics[0].eValue!).toBeGreaterThan(60);
    expect(r.metrics[0].estimate!).toBeCloseTo(1.2, 2);
  });
  it('passes identical samples of 10000 per arm (non-inferiority within 15 %), and not within 10 % at p99', () => {
    const input = { metric: 'latency' as const, samples: { baseline: grid(10000), canary: grid(10000) } };
    expect(compare(input, { judge: 'sequential', direction: 'increase' }).metrics[2].classification).toBe(
      'inconclusive',
    );
    const r = compare(input, { judge: 'sequential', direction: 'increase', tolerance: { relative: 0.15 } });
    expect(r.metrics.map((m) => m.classification)).toEqual(['pass', 'pass', 'pass', 'pass']);
    expect(r.verdict).toBe('pass');
  });
  it('is inconclusive, never a pass, on identical but small samples (below 500 per arm)', () => {
    const r = compare(
      { metric: 'latency', samples: { baseline: grid(100), canary: grid(100) } },
      { judge: 'sequential', direction: 'increase' },
    );
    expect(r.verdict).toBe('inconclusive');
  });
  it('is inconclusive with an empty canary (no data is never a pass)', () => {
    const r = compare(
      { metric: 'latency', samples: { baseline: grid(1000), canary: [] } },
      { judge: 'sequential', direction: 'increase' },
    );
    expect(r.verdict).toBe('inconclusive');
    expect(r.metrics[0].classification).toBe('nodata');
  });
  it('judges error counts, and 0/1 files as counts', () => {
    const counts = compare(
      { metric: 'errors', counts: { baseline: { errors: 5, total: 5000 }, canary: { errors: 60, total: 5000 } } },
      { judge: 'sequential', direction: 'increase' },
    );
    expect(counts.verdict).toBe('fail');
    expect(counts.metrics[0].test).toBe('beta-binomial-e-process');
    const outcomes = (errors: number, total: number) => Array.from({ length: total }, (_, i) => (i < errors ? 1 : 0));
    const files = compare(
      { metric: 'errors', samples: { baseline: outcomes(5, 5000), canary: outcomes(60, 5000) } },
      { judge: 'sequential', direction: 'increase' },
    );
    expect(files.metrics[0].eValue).toBeCloseTo(counts.metrics[0].eValue!, 6);
  });
  it('does not pass the sparse error series of STATS.md §6 that Kayenta passes', () => {
    const input = { metric: 'errors' as const, samples: { baseline: [0, 0, 0, 0, 0, 0], canary: [0, 1, 2, 1, 0, 0] } };
    expect(compare(input, { judge: 'kayenta', direction: 'increase' }).verdict).toBe('pass');
    expect(compare(input, { judge: 'sequential', direction: 'increase' }).verdict).not.toBe('pass');
  });
  it('does not pass [100 x7, 1 x3] vs [1 x10] (STATS.md §6) that Kayenta passes', () => {
    const input = {
      metric: 'latency' as const,
      samples: { baseline: Array(10).fill(1), canary: [...Array(7).fill(100), 1, 1, 1] },
    };
    expect(compare(input, { judge: 'kayenta', direction: 'increase' }).verdict).toBe('pass');
    expect(compare(input, { judge: 'sequential', direction: 'increase' }).verdict).not.toBe('pass');
  });
});

describe('compare (fixed and kayenta judges)', () => {
  it('fixed: Hodges-Lehmann estimate and Mann-Whitney p-value of canary - baseline (STATS.md F1, F5)', () => {
    const r = compare(
      { metric: 'latency', samples: { baseline: [20, 11, 17, 12], canary: [19, 22, 16, 29, 24] } },
      { judge: 'fixed', direction: 'either', tolerance: { absolute: 100 } },
    );
    expect(r.metrics[0].estimate).toBe(7);
    expect(r.metrics[0].ci![0]).toBe(-1);
    expect(r.metrics[0].pValue!).toBeCloseTo(0.111111, 5);
  });
  it('kayenta: E = [10,10,10,10,10] vs B = [1,1,1,1,1] is High, so fail', () => {
    const r = compare(
      { metric: 'latency', samples: { baseline: [1, 1, 1, 1, 1], canary: [10, 10, 10, 10, 10] } },
      { judge: 'kayenta', direction: 'either' },
    );
    expect(r.verdict).toBe('fail');
    expect(r.reason).toMatch(/High/);
  });
  it('kayenta refuses counts', () => {
    expect(() =>
      compare(
        { metric: 'errors', counts: { baseline: { errors: 1, total: 10 }, canary: { errors: 1, total: 10 } } },
        { judge: 'kayenta', direction: 'increase' },
      ),
    ).toThrow(/--judge/);
  });
});

describe('compare: 1,000 vs 1,000 lognormal samples (sigma 0.5), seeded', () => {
  const random = seededGenerator(20260514);
  const sample = (factor: number) => Array.from({ length: 1000 }, () => 20 * factor * Math.exp(0.5 * random.normal()));
  const verdicts = (factor: number, pairs: number) =>
    Array.from(
      { length: pairs },
      () =>
        compare(
          { metric: 'latency', samples: { baseline: sample(1), canary: sample(factor) } },
          { judge: 'sequential', direction: 'increase' },
        ).verdict,
    );
  it('fails at least 99 of 100 pairs with the canary 15 % slower at every quantile', () => {
    const v = verdicts(1.15, 100);
    expect(v.filter((x) => x === 'fail').length).toBeGreaterThanOrEqual(99);
  });
  it('fails at most alpha of A/A pairs, and never a canary 15 % faster (one-sided)', () => {
    expect(verdicts(1, 100).filter((x) => x === 'fail').length).toBeLessThanOrEqual(5);
    expect(verdicts(1 / 1.15, 20).filter((x) => x === 'fail').length).toBe(0);
  });
  it('tunes the distribution test to the samples it holds, not to expectedSamplesPerArm', () => {
    const baseline = sample(1);
    const canary = sample(1.1);
    const r = compare(
      { metric: 'latency', samples: { baseline, canary } },
      { judge: 'sequential', direction: 'increase' },
    );
    const batch = [{ baseline: binSamples(baseline), canary: binSamples(canary) }];
    // The distribution metric has weight 3 of 6: its share of alpha is 0.025.
    const own = rankScoreEProcess(batch, { tuningSamples: 1000, tuningAlpha: 0.025, dispersion: false });
    const planned = rankScoreEProcess(batch, { tuningSamples: 20_000, tuningAlpha: 0.025, dispersion: false });
    expect(r.metrics[3].eValue).toBeCloseTo(own.eValue, 6);
    expect(own.eValue).toBeGreaterThan(planned.eValue);
  });
});
