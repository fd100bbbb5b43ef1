import { describe, expect, it } from 'vitest';
import { normalCdf, normalPdf, normalQuantile, normalSf } from './normal.ts';

// Reference values: mpmath 1.3 (50 digits), ncdf(x) and sqrt(2)*erfinv(2p-1). Tolerance: 1e-13 relative.
const relClose = (actual: number, expected: number, rel = 1e-13) =>
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected));

describe('normal distribution', () => {
  it('upper tail matches mpmath from the centre to the far tail', () => {
    const cases: Array<[number, number]> = [
      [-1.959963984540054, 0.97499999999999999],
      [0.5, 0.3085375387259869],
      [3.5, 0.00023262907903552504],
      [5, 2.8665157187919391e-7],
      [10, 7.6198530241605261e-24],
      [20, 2.7536241186062337e-89],
    ];
    for (const [x, sf] of cases) relClose(normalSf(x), sf);
  });

  it('lower tail is the mirror of the upper tail and keeps relative accuracy below -3', () => {
    relClose(normalCdf(-10), 7.6198530241605261e-24);
    relClose(normalCdf(-2.9999), 1 - 0.99864965871704508, 1e-12);
    expect(normalCdf(0)).toBe(0.5);
    expect(normalCdf(Infinity)).toBe(1);
    expect(normalCdf(-Infinity)).toBe(0);
    expect(normalCdf(NaN)).toBeNaN();
  });

  it('density at 0 is 1/sqrt(2 pi)', () => relClose(normalPdf(0), 0.3989422804014327));

  it('quantile matches mpmath and inverts the cdf', () => {
    const cases: Array<[number, number]> = [
      [1e-10, -6.3613409024040562],
      [0.001, -3.0902323061678135],
      [0.025, -1.9599639845400542],
      [0.3, -0.52440051270804082],
      [0.975, 1.9599639845400539],
      [0.999999, 4.7534243088170878],
    ];
    for (const [p, q] of cases) relClose(normalQuantile(p), q, 1e-12);
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    for (const p of [1e-300, 1e-50, 0.01, 0.7, 0.99]) relClose(normalCdf(normalQuantile(p)), p, 1e-12);
  });

  it('rejects probabilities outside [0, 1]', () => {
    expect(() => normalQuantile(1.5)).toThrow(/p must be in \[0, 1\], got 1.5/);
    expect(() => normalQuantile(NaN)).toThrow(RangeError);
  });
});
