import { describe, expect, it } from 'vitest';
import { differenceVariance, mixingVariance, msprt, sampleSummary } from './msprt.ts';

// Vectors M1, M2 of STATS.md §2 (Johari et al. 2017; Howard et al. 2021; recomputed with SciPy 1.17).
// Tolerance: 1e-5 absolute on tau² and ln Lambda, 1e-4 on the CS ends, 5e-6 relative on Lambda.
describe('msprt', () => {
  it('M1: means 200 vs 206, s = 50, n = 2000 per arm, n* = 5000, alpha 0.05', () => {
    const base = { n: 2000, mean: 200, variance: 2500 };
    const can = { n: 2000, mean: 206, variance: 2500 };
    const v = differenceVariance(base, can);
    expect(v).toBeCloseTo(2.5, 12);
    const tau2 = mixingVariance((2500 / 5000) * 2, 0.05);
    expect(tau2).toBeCloseTo(7.93615, 5);
    const r = msprt({ difference: can.mean - base.mean, variance: v, mixingVariance: tau2 }, 0.05);
    expect(r.lnLambda).toBeCloseTo(4.760734, 6);
    expect(Math.abs(r.lambda / 116.8317 - 1)).toBeLessThan(5e-6);
    expect(r.interval[0]).toBeCloseTo(1.0609, 4);
    expect(r.interval[1]).toBeCloseTo(10.9391, 4);
  });
  it('M2: one-sided, d = 6, v = 2.5, v* = 1, alpha 0.05', () => {
    const tau2 = mixingVariance(1, 0.05, true);
    expect(tau2).toBeCloseTo(6.3289, 4);
    const r = msprt({ difference: 6, variance: 2.5, mixingVariance: tau2 }, 0.05);
    expect(Math.abs(r.lambdaIncrease / 185.463 - 1)).toBeLessThan(5e-6);
    expect(r.lambdaDecrease).toBeLessThan(1);
  });
  it('summarizes raw samples with the unbiased variance', () => {
    const s = sampleSummary([1, 2, 3, 4]);
    expect(s).toEqual({ n: 4, mean: 2.5, variance: 5 / 3 });
    expect(sampleSummary([1, Math.E], Math.log).mean).toBeCloseTo(0.5, 12);
  });
  it('rejects a non-positive variance', () => {
    expect(() => msprt({ difference: 1, variance: 0, mixingVariance: 1 }, 0.05)).toThrow(/variance v > 0/);
  });
});
