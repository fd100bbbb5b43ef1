import { describe, expect, it } from 'vitest';
import { lnBeta } from './special.ts';
import { proportionConfidenceSequence } from './proportion-confidence-sequence.ts';

// The defining property (Robbins 1970): the ends are where the mixture martingale equals 1/alpha.
describe('proportionConfidenceSequence', () => {
  const prior = { a: 0.5, b: 49.5 };
  it('puts the mixture martingale at exactly 1/alpha at both ends', () => {
    const [lo, hi] = proportionConfidenceSequence(12, 1000, prior, 0.05);
    const lnM = (p: number) =>
      lnBeta(prior.a + 12, prior.b + 988) - lnBeta(prior.a, prior.b) - 12 * Math.log(p) - 988 * Math.log1p(-p);
    expect(lnM(lo)).toBeCloseTo(Math.log(20), 8);
    expect(lnM(hi)).toBeCloseTo(Math.log(20), 8);
    expect(lo).toBeLessThan(0.012);
    expect(hi).toBeGreaterThan(0.012);
  });
  it('starts at 0 with no successes and narrows with more trials', () => {
    const small = proportionConfidenceSequence(0, 1000, prior, 0.05);
    const large = proportionConfidenceSequence(0, 100000, prior, 0.05);
    expect(small[0]).toBe(0);
    expect(large[1]).toBeLessThan(small[1]);
    expect(large[1]).toBeLessThan(0.001);
  });
  it('rejects more successes than trials', () => {
    expect(() => proportionConfidenceSequence(5, 4, prior, 0.05)).toThrow(/successes/);
  });
});
