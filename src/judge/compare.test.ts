import { describe, expect, it } from 'vitest';
import { compare } from './compare.ts';
import { normalQuantile } from './stats/normal.ts';

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
    expect(r.metrics.map((m) => m.name)).toEqual(['latency-p50', 'latency-p90', 'latency-p99']);
    expect(r.metrics[0].eValue!).toBeGreaterThan(60);
    expect(r.metrics[0].estimate!).toBeCloseTo(1.2, 2);
  });
  it('passes identical samples of 10000 per arm (non-inferiority within 15 %), and not within 10 % at p99', () => {
    const input = { metric: 'latency' as const, samples: { baseline: grid(10000), canary: grid(10000) } };
    expect(compare(input, { judge: 'sequential', direction: 'increase' }).metrics[2].classification).toBe(
      'inconclusive',
    );
    const r = compare(input, { judge: 'sequential', direction: 'increase', tolerance: { relative: 0.15 } });
    expect(r.metrics.map((m) => m.classification)).toEqual(['pass', 'pass', 'pass']);
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
