import { describe, expect, it } from 'vitest';
import { seededRandom } from '../core/random.ts';
import { fixedCompare, fixedCompareBinned, fixedCompareCounts } from './fixed.ts';

function lognormal(rand: () => number, n: number, mu: number, sigma: number): number[] {
  return Array.from({ length: n }, () =>
    Math.exp(mu + sigma * Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())),
  );
}

describe('fixedCompare on samples', () => {
  it('STATS.md F1/F5 (canary = x, baseline = y): HL 7, interval [-1, 17], exact MW p = 0.111111 -> inconclusive', () => {
    const r = fixedCompare([20, 11, 17, 12], [19, 22, 16, 29, 24], { direction: 'increase' });
    expect(r.estimate).toBe(7);
    expect(r.ci).toEqual([-1, 17]);
    expect(r.pValue).toBeCloseTo(0.111111, 6);
    expect(r.method).toBe('exact');
    expect(r.n).toEqual({ baseline: 4, canary: 5 });
    expect(r.classification).toBe('inconclusive');
    expect(r.reason).toMatch(/canary - baseline = 7 \(95 % CI -1 to 17\), Mann-Whitney p = 0.1111/);
  });

  it('a +20 % latency shift on 2,000 samples per arm fails when increase is the regression', () => {
    const rand = seededRandom(1);
    const baseline = lognormal(rand, 2000, Math.log(50), 0.5);
    const canary = lognormal(rand, 2000, Math.log(60), 0.5);
    const inc = fixedCompare(baseline, canary, { direction: 'increase' });
    expect(inc.classification).toBe('fail');
    expect(inc.method).toBe('asymptotic');
    expect(inc.pValue).toBeLessThan(1e-10);
    expect(inc.ci![0]).toBeGreaterThan(0);
    expect(inc.estimate).toBeGreaterThan(5);
    expect(inc.estimate).toBeLessThan(15);
    expect(fixedCompare(baseline, canary, { direction: 'either' }).classification).toBe('fail');
    // The same shift is an improvement for a metric whose regression is a decrease: non-inferiority shown.
    expect(fixedCompare(baseline, canary, { direction: 'decrease' }).classification).toBe('pass');
    // A tolerance larger than the whole interval turns the increase into a pass.
    const tolerant = fixedCompare(baseline, canary, { direction: 'increase', tolerance: { relative: 0.5 } });
    expect(tolerant.threshold).toBeCloseTo(0.5 * tolerant.baseline!, 12);
    expect(tolerant.classification).toBe('pass');
  });

  it('identical distributions: not a fail; a tight tolerance keeps it inconclusive, a loose one passes', () => {
    const rand = seededRandom(2);
    const baseline = lognormal(rand, 3000, Math.log(50), 0.3);
    const canary = lognormal(rand, 3000, Math.log(50), 0.3);
    expect(fixedCompare(baseline, canary, { direction: 'increase' }).classification).not.toBe('fail');
    expect(
      fixedCompare(baseline, canary, { direction: 'increase', tolerance: { absolute: 0.01 } }).classification,
    ).toBe('inconclusive');
    expect(fixedCompare(baseline, canary, { direction: 'increase', tolerance: { absolute: 5 } }).classification).toBe(
      'pass',
    );
  });

  it('an empty arm is nodata, never a pass', () => {
    const r = fixedCompare([1, 2, 3], [], { direction: 'increase' });
    expect(r.classification).toBe('nodata');
    expect(r.estimate).toBeNull();
    expect(r.pValue).toBeUndefined();
    expect(r.reason).toMatch(/no observations for the canary/);
  });

  it('rejects bad input naming the field', () => {
    expect(() => fixedCompare([1, NaN], [1], { direction: 'increase' })).toThrow(
      /baseline\[1\] must be a finite number/,
    );
    expect(() => fixedCompare([1], [1], { direction: 'up' as never })).toThrow(
      /direction must be increase, decrease or either, got up/,
    );
    expect(() => fixedCompare([1], [1], { direction: 'increase', alpha: 0 })).toThrow(/alpha must be in \(0, 1\)/);
    expect(() => fixedCompare([1], [1], { direction: 'increase', tolerance: { relative: -1 } })).toThrow(
      /tolerance.relative must be a non-negative number/,
    );
  });
});

describe('fixedCompareBinned', () => {
  it('equals the raw comparison of the samples placed at the bucket values', () => {
    const values = [1, 2, 5, 10, 20, 50, 100];
    const baselineCounts = [30, 60, 80, 40, 10, 3, 1];
    const canaryCounts = [10, 40, 80, 60, 30, 8, 2];
    const expand = (c: number[]) => c.flatMap((k, i) => Array<number>(k).fill(values[i]));
    const raw = fixedCompare(expand(baselineCounts), expand(canaryCounts), { direction: 'increase' });
    const binned = fixedCompareBinned(values, baselineCounts, canaryCounts, { direction: 'increase' });
    expect(binned.estimate).toBe(raw.estimate);
    expect(binned.ci).toEqual(raw.ci);
    expect(binned.pValue).toBeCloseTo(raw.pValue!, 14);
    expect(binned.baseline).toBe(raw.baseline);
    expect(binned.canary).toBe(raw.canary);
    expect(binned.classification).toBe('fail');
  });
  it('an empty histogram is nodata', () => {
    expect(fixedCompareBinned([1, 2], [0, 0], [1, 1], { direction: 'increase' }).classification).toBe('nodata');
  });
});

describe('fixedCompareCounts (errors)', () => {
  it('STATS.md F9 as canary 12/1000 vs baseline 3/1000: Fisher p = 0.034491 -> fail', () => {
    const r = fixedCompareCounts({ errors: 3, total: 1000 }, { errors: 12, total: 1000 }, { direction: 'increase' });
    expect(r.test).toBe('fisher');
    expect(r.pValue).toBeCloseTo(0.034491, 6);
    expect(r.estimate).toBeCloseTo(0.009, 12);
    expect(r.ci![0]).toBeGreaterThan(0);
    expect(r.classification).toBe('fail');
    expect(r.reason).toMatch(/Fisher p = 0.03449 < 0.05/);
  });
  it('a tolerance of 1 percentage point makes the same counts inconclusive', () => {
    const r = fixedCompareCounts(
      { errors: 3, total: 1000 },
      { errors: 12, total: 1000 },
      { direction: 'increase', tolerance: { absolute: 0.01 } },
    );
    expect(r.classification).toBe('inconclusive');
  });
  it('many clean requests in both arms show non-inferiority within 0.5 percentage points', () => {
    const r = fixedCompareCounts(
      { errors: 50, total: 20000 },
      { errors: 52, total: 20000 },
      { direction: 'increase', tolerance: { absolute: 0.005 } },
    );
    expect(r.classification).toBe('pass');
  });
  it('zero requests is nodata; impossible counts are rejected by name', () => {
    expect(
      fixedCompareCounts({ errors: 0, total: 0 }, { errors: 1, total: 10 }, { direction: 'increase' }).classification,
    ).toBe('nodata');
    expect(() =>
      fixedCompareCounts({ errors: 5, total: 4 }, { errors: 1, total: 10 }, { direction: 'increase' }),
    ).toThrow(/baseline.errors must be an integer in \[0, baseline.total = 4\], got 5/);
  });
});
