import { describe, expect, it } from 'vitest';
import { wilsonInterval } from './wilson.ts';

// F6, STATS.md section 5 (SciPy 1.17 binomtest(...).proportion_ci(method='wilson')). Tolerance 1e-6.
describe('wilsonInterval', () => {
  it('F6: 81/263, 0/10, 12/1000 at 95 %', () => {
    const cases: Array<[number, number, number, number]> = [
      [81, 263, 0.255289, 0.36621],
      [0, 10, 0, 0.277533],
      [12, 1000, 0.006878, 0.020857],
    ];
    for (const [x, n, lo, hi] of cases) {
      const r = wilsonInterval(x, n);
      expect(r.lower).toBeCloseTo(lo, 6);
      expect(r.upper).toBeCloseTo(hi, 6);
      expect(r.estimate).toBe(x / n);
    }
  });
  it('all successes reach 1 exactly; a wider confidence widens the interval', () => {
    expect(wilsonInterval(10, 10).upper).toBe(1);
    const narrow = wilsonInterval(30, 100, 0.9);
    const wide = wilsonInterval(30, 100, 0.99);
    expect(wide.lower).toBeLessThan(narrow.lower);
    expect(wide.upper).toBeGreaterThan(narrow.upper);
  });
  it('rejects impossible counts', () => {
    expect(() => wilsonInterval(1, 0)).toThrow(/trials must be a positive integer, got 0/);
    expect(() => wilsonInterval(11, 10)).toThrow(/successes must be an integer in \[0, 10\], got 11/);
    expect(() => wilsonInterval(1.5, 10)).toThrow(/successes/);
  });
});
