import { describe, expect, it } from 'vitest';
import { fisherExact } from './fisher.ts';

// F8, F9: STATS.md section 5 (SciPy 1.17 fisher_exact). Tolerance 1e-6 (6 decimals printed).
describe('fisherExact', () => {
  it('F8: [[3,1],[1,3]] two-sided 0.485714, one-sided 0.242857', () => {
    expect(
      fisherExact([
        [3, 1],
        [1, 3],
      ]).pValue,
    ).toBeCloseTo(0.485714, 6);
    expect(
      fisherExact(
        [
          [3, 1],
          [1, 3],
        ],
        'greater',
      ).pValue,
    ).toBeCloseTo(0.242857, 6);
    expect(
      fisherExact([
        [3, 1],
        [1, 3],
      ]).oddsRatio,
    ).toBe(9);
  });
  it('F9: [[12,988],[3,997]] two-sided 0.034491, greater 0.017246', () => {
    expect(
      fisherExact([
        [12, 988],
        [3, 997],
      ]).pValue,
    ).toBeCloseTo(0.034491, 6);
    expect(
      fisherExact(
        [
          [12, 988],
          [3, 997],
        ],
        'greater',
      ).pValue,
    ).toBeCloseTo(0.017246, 6);
    // SciPy 1.17: alternative='less' 0.9964107840517443 (tolerance 1e-12).
    expect(
      fisherExact(
        [
          [12, 988],
          [3, 997],
        ],
        'less',
      ).pValue,
    ).toBeCloseTo(0.9964107840517443, 12);
  });
  it('extreme and degenerate tables', () => {
    // SciPy 1.17: fisher_exact([[0,5],[5,0]]) = 0.007936507936507938 = 2 / C(10, 5)
    expect(
      fisherExact([
        [0, 5],
        [5, 0],
      ]).pValue,
    ).toBeCloseTo(2 / 252, 15);
    expect(
      fisherExact([
        [0, 0],
        [3, 4],
      ]).pValue,
    ).toBe(1);
    expect(
      fisherExact([
        [0, 0],
        [3, 4],
      ]).oddsRatio,
    ).toBeNaN();
  });
  it('keeps relative accuracy in the far tail', () => {
    // P(A >= 20) for [[20,0],[0,20]] is 1 / C(40, 20) = 7.254...e-12
    expect(
      fisherExact(
        [
          [20, 0],
          [0, 20],
        ],
        'greater',
      ).pValue /
        (1 / 137846528820),
    ).toBeCloseTo(1, 10);
  });
  it('rejects cells that are not counts, naming the cell', () => {
    expect(() =>
      fisherExact([
        [1, -1],
        [0, 2],
      ]),
    ).toThrow(/cell b \(row 1, column 2\) must be a non-negative integer, got -1/);
  });
});
