import { describe, expect, it } from 'vitest';
import { lnBeta, lnGamma, lnRegularizedBeta, lnRegularizedBetaUpper, regularizedBeta } from './special.ts';

// Reference values: Γ(n) = (n-1)! and Γ(1/2) = sqrt(pi) (Abramowitz & Stegun 6.1.8, 6.1.6); the
// incomplete beta through the binomial identity I_p(k, n-k+1) = P(Binomial(n, p) >= k) (A&S 26.5.24).
describe('lnGamma', () => {
  it('matches factorials and Γ(1/2) to 1e-13 relative', () => {
    expect(lnGamma(5)).toBeCloseTo(Math.log(24), 13);
    expect(lnGamma(10)).toBeCloseTo(Math.log(362880), 12);
    expect(lnGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 13);
    // ln(99!) = 359.13420536957540 (A&S table / exact factorial)
    expect(lnGamma(100) / 359.1342053695754 - 1).toBeLessThan(1e-13);
  });
  it('uses the reflection below 1/2', () => {
    // Γ(1/4) = 3.6256099082219083 (A&S 6.1.10 table)
    expect(lnGamma(0.25)).toBeCloseTo(Math.log(3.6256099082219083), 12);
  });
  it('rejects non-positive arguments', () => {
    expect(() => lnGamma(0)).toThrow(RangeError);
    expect(() => lnGamma(-1)).toThrow(/x > 0/);
  });
});

describe('lnBeta', () => {
  it('B(2, 3) = 1/12', () => {
    expect(lnBeta(2, 3)).toBeCloseTo(Math.log(1 / 12), 13);
  });
});

describe('regularized incomplete beta', () => {
  it('I_0.5(2, 3) = 11/16 (binomial identity, n = 4)', () => {
    expect(regularizedBeta(0.5, 2, 3)).toBeCloseTo(0.6875, 13);
  });
  it('I_0.5(50, 51) = P(Bin(100, 1/2) >= 50) = 0.5397946186935895', () => {
    expect(regularizedBeta(0.5, 50, 51)).toBeCloseTo(0.5397946186935895, 12);
  });
  it('keeps relative precision in the far tail where I underflows in linear space', () => {
    // I_0.01(1, b) = 1 - 0.99^b exactly; I_x(a, 1) = x^a exactly.
    expect(lnRegularizedBeta(1e-3, 200, 1)).toBeCloseTo(200 * Math.log(1e-3), 9);
    expect(Math.exp(lnRegularizedBeta(0.01, 1, 30))).toBeCloseTo(1 - 0.99 ** 30, 13);
  });
  it('upper tail is ln(1 - I) and the ends are exact', () => {
    expect(Math.exp(lnRegularizedBetaUpper(0.5, 2, 3))).toBeCloseTo(0.3125, 13);
    expect(lnRegularizedBeta(0, 2, 3)).toBe(-Infinity);
    expect(lnRegularizedBeta(1, 2, 3)).toBe(0);
  });
  it('converges for large parameters (a, b about 1e6), to the 1e-8 that lnΓ near 1.3e7 allows', () => {
    // Symmetric case: I_0.5(a, a) = 1/2 for any a.
    expect(regularizedBeta(0.5, 1e6, 1e6)).toBeCloseTo(0.5, 8);
  });
  it('rejects x outside [0, 1] and non-positive shape', () => {
    expect(() => regularizedBeta(1.5, 1, 1)).toThrow(/x in \[0, 1\]/);
    expect(() => regularizedBeta(0.5, 0, 1)).toThrow(/a, b > 0/);
  });
});
