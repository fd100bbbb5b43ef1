import { describe, expect, it } from 'vitest';
import { errorEProcess } from './beta-binomial-e-process.ts';

// Vectors C5-C7 of STATS.md §1 (Lindon & Malek, NeurIPS 2022; recomputed with SciPy 1.17).
// Tolerance: relative 5e-4 on e-values (the table gives 4 significant digits), 5e-4 absolute on the CS.
const rel = (actual: number, expected: number, tolerance = 5e-4) =>
  expect(Math.abs(actual / expected - 1)).toBeLessThan(tolerance);

describe('errorEProcess (beta-binomial)', () => {
  it('C5: N_A = 30, N_B = 55, w = 0.5, k = 100', () => {
    const r = errorEProcess({ baseline: 30, canary: 55 }, { canaryShare: 0.5, concentration: 100 });
    rel(r.eValue, 4.034);
    rel(r.eValueIncrease, 7.807);
    expect(r.thetaInterval[0]).toBeCloseTo(0.4709, 4);
    expect(r.thetaInterval[1]).toBeCloseTo(0.7995, 4);
    expect(r.rateRatioInterval[0]).toBeCloseTo(0.89, 3);
    expect(r.rateRatioInterval[1]!).toBeCloseTo(3.988, 3);
  });
  it('C6: N_A = 100, N_B = 45, w = 0.1, k = 100', () => {
    const r = errorEProcess({ baseline: 100, canary: 45 }, { canaryShare: 0.1, concentration: 100 });
    rel(r.eValue, 4.904e6);
    rel(r.eValueIncrease, 1.056e7);
    expect(r.rateRatioInterval[0]).toBeCloseTo(1.58, 3);
    expect(r.rateRatioInterval[1]!).toBeCloseTo(9.402, 3);
  });
  it('C7: N_A = 300, N_B = 420, w = 0.5, k = 100', () => {
    const r = errorEProcess({ baseline: 300, canary: 420 }, { canaryShare: 0.5, concentration: 100 });
    rel(r.eValue, 2365);
    rel(r.eValueIncrease, 4731);
    expect(r.rateRatioInterval[0]).toBeCloseTo(1.097, 3);
    expect(r.rateRatioInterval[1]!).toBeCloseTo(1.793, 3);
  });
  it('gives no evidence of an increase when the canary has fewer errors', () => {
    const r = errorEProcess({ baseline: 55, canary: 30 }, { canaryShare: 0.5, concentration: 100 });
    expect(r.eValueIncrease).toBeLessThan(1);
    expect(r.eValueDecrease).toBeGreaterThan(r.eValue);
  });
  it('is 1 with no errors, and the rate ratio is unbounded above with no baseline errors', () => {
    const none = errorEProcess({ baseline: 0, canary: 0 }, { canaryShare: 0.5, concentration: 10 });
    expect(none.eValue).toBeCloseTo(1, 12);
    expect(none.rateRatio).toBeNull();
    const onlyCanary = errorEProcess({ baseline: 0, canary: 5 }, { canaryShare: 0.5, concentration: 10 });
    expect(onlyCanary.rateRatioInterval[1]).toBeNull();
  });
  it('rejects bad input naming the field', () => {
    expect(() => errorEProcess({ baseline: -1, canary: 0 }, { canaryShare: 0.5, concentration: 10 })).toThrow(
      /errors.baseline/,
    );
    expect(() => errorEProcess({ baseline: 1, canary: 0 }, { canaryShare: 1, concentration: 10 })).toThrow(
      /canaryShare/,
    );
  });
});
