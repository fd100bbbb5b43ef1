import { describe, expect, it } from 'vitest';
import { newcombeDifference } from './newcombe.ts';

// F7, STATS.md section 5; the first and third also appear in Newcombe (1998) Table II, method 10.
// Tolerance 5e-5 (4 decimals printed).
describe('newcombeDifference', () => {
  it('F7: 56/70 vs 48/80; 9/10 vs 3/10; 10/10 vs 0/20', () => {
    const cases: Array<[number, number, number, number, number, number]> = [
      [56, 70, 48, 80, 0.0524, 0.3339],
      [9, 10, 3, 10, 0.1705, 0.809],
      [10, 10, 0, 20, 0.6791, 1],
    ];
    for (const [x1, n1, x2, n2, lo, hi] of cases) {
      const r = newcombeDifference(x1, n1, x2, n2);
      expect(r.lower).toBeCloseTo(lo, 4);
      expect(r.upper).toBeCloseTo(hi, 4);
      expect(r.estimate).toBeCloseTo(x1 / n1 - x2 / n2, 14);
    }
  });
  it('swapping the arms mirrors the interval', () => {
    const a = newcombeDifference(12, 1000, 3, 1000);
    const b = newcombeDifference(3, 1000, 12, 1000);
    expect(b.lower).toBeCloseTo(-a.upper, 14);
    expect(b.upper).toBeCloseTo(-a.lower, 14);
  });
  it('names the proportion with bad counts', () => {
    expect(() => newcombeDifference(1, 10, 5, 0)).toThrow(/second proportion: trials must be a positive integer/);
  });
});
