import { describe, expect, it } from 'vitest';
import {
  exactUDistribution,
  mannWhitney,
  mannWhitneyBinned,
  rankSummarySorted,
  toSortedSample,
} from './mann-whitney.ts';

// Vectors F1-F3: STATS.md section 5 (recomputed with SciPy 1.17 `mannwhitneyu`). Tolerance 1e-6 absolute
// on p-values (STATS.md prints 6 decimals), exact equality on U.
const F1 = { x: [19, 22, 16, 29, 24], y: [20, 11, 17, 12] };
const F2 = { x: [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46], y: [1.15, 0.88, 0.9, 0.74, 1.21] };
const F3 = { a: [1, 2, 2, 3, 3, 3, 4, 5, 5, 6], b: [3, 4, 4, 5, 6, 6, 7, 7, 8, 9] };

describe('mannWhitney: STATS.md vectors', () => {
  it('F1: U_x = 17, exact p = 0.111111, asymptotic with continuity p = 0.111347', () => {
    const exact = mannWhitney(F1.x, F1.y);
    expect(exact.u).toBe(17);
    expect(exact.uOther).toBe(3);
    expect(exact.method).toBe('exact');
    expect(exact.pValue).toBeCloseTo(0.111111, 6);
    expect(mannWhitney(F1.x, F1.y, { method: 'asymptotic' }).pValue).toBeCloseTo(0.111347, 6);
  });

  it('F2: U_x = 35, exact two-sided p = 0.254412, greater 0.127206', () => {
    const r = mannWhitney(F2.x, F2.y);
    expect(r.u).toBe(35);
    expect(r.pValue).toBeCloseTo(0.254412, 6);
    expect(mannWhitney(F2.x, F2.y, { alternative: 'greater' }).pValue).toBeCloseTo(0.127206, 6);
  });

  it('F3 (ties): U = 15.5, sigma^2 = 171.842105, p = 0.009496 with continuity, 0.008493 without', () => {
    const r = mannWhitney(F3.a, F3.b);
    expect(r.u).toBe(15.5);
    expect(r.method).toBe('asymptotic');
    expect(r.sigma ** 2).toBeCloseTo(171.842105, 6);
    expect(r.pValue).toBeCloseTo(0.009496, 6);
    expect(mannWhitney(F3.a, F3.b, { continuity: false }).pValue).toBeCloseTo(0.008493, 6);
    // One-sided, SciPy 1.17 mannwhitneyu(a, b, alternative=...): less 0.004747928, greater 0.996206881.
    expect(mannWhitney(F3.a, F3.b, { alternative: 'less' }).pValue).toBeCloseTo(0.004747928, 8);
    expect(mannWhitney(F3.a, F3.b, { alternative: 'greater' }).pValue).toBeCloseTo(0.996206881, 8);
    expect(() => mannWhitney(F3.a, F3.b, { method: 'exact' })).toThrow(/without ties/);
  });
});

describe('mannWhitney: larger exact and asymptotic cases', () => {
  // SciPy 1.17 mannwhitneyu(x, y, method=...), 30 vs 25 distinct values; tolerance 1e-9 absolute.
  const x = Array.from({ length: 30 }, (_, k) => ((k + 1) * 0.37) % 5);
  const y = Array.from({ length: 25 }, (_, k) => (((k + 1) * 0.53) % 5) + 0.2);
  it('exact p-values for all three alternatives match SciPy', () => {
    expect(mannWhitney(x, y).u).toBe(360);
    expect(mannWhitney(x, y).pValue).toBeCloseTo(0.807936213738679, 9);
    expect(mannWhitney(x, y, { alternative: 'greater' }).pValue).toBeCloseTo(0.6025141748106032, 9);
    expect(mannWhitney(x, y, { alternative: 'less' }).pValue).toBeCloseTo(0.4039681068693395, 9);
  });
  it('asymptotic p-values match SciPy', () => {
    expect(mannWhitney(x, y, { method: 'asymptotic' }).pValue).toBeCloseTo(0.8063830803583183, 9);
    expect(mannWhitney(x, y, { method: 'asymptotic', alternative: 'greater' }).pValue).toBeCloseTo(
      0.6033384381556495,
      9,
    );
    expect(mannWhitney(x, y, { method: 'asymptotic', alternative: 'less' }).pValue).toBeCloseTo(0.40319154017915915, 9);
  });
  it('the exact distribution sums to 1 and is symmetric', () => {
    const d = exactUDistribution(7, 11);
    expect(d.length).toBe(78);
    expect(d.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
    for (let u = 0; u < d.length; u++) expect(d[u]).toBeCloseTo(d[d.length - 1 - u], 14);
    // P(U = 0) = 1 / C(18, 7) = 1/31824
    expect(d[0]).toBeCloseTo(1 / 31824, 15);
  });
  it('refuses an exact distribution beyond the size limit', () => {
    expect(() => exactUDistribution(200, 200)).toThrow(/limited to nX\*nY <= 10000/);
  });
});

describe('mannWhitney: binned histograms and input checks', () => {
  it('histogram counts give the same U, tie term and p as the raw samples they bin', () => {
    // Raw samples whose values are bucket indices: every bucket is a tie group.
    const xCounts = [0, 3, 5, 2, 0, 1];
    const yCounts = [2, 4, 1, 0, 3, 0];
    const expand = (counts: number[]) => counts.flatMap((c, k) => Array<number>(c).fill(k));
    const raw = mannWhitney(expand(xCounts), expand(yCounts));
    const binned = mannWhitneyBinned(xCounts, yCounts);
    expect(binned.u).toBe(raw.u);
    expect(binned.tieTerm).toBe(raw.tieTerm);
    expect(binned.pValue).toBeCloseTo(raw.pValue, 14);
    expect(binned.method).toBe('asymptotic');
  });
  it('the merge computes U as the pair count, checked against brute force with ties', () => {
    const x = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3];
    const y = [2, 7, 1, 8, 2, 8, 1, 8];
    let pairs = 0;
    for (const a of x) for (const b of y) pairs += a > b ? 1 : a === b ? 0.5 : 0;
    expect(rankSummarySorted(toSortedSample(x, 'x'), toSortedSample(y, 'y')).u).toBe(pairs);
  });
  it('all observations tied: p = 1, no evidence either way', () => {
    expect(mannWhitney([2, 2, 2], [2, 2]).pValue).toBe(1);
  });
  it('rejects empty samples, non-finite values and mismatched buckets with a clear message', () => {
    expect(() => mannWhitney([], [1])).toThrow(/x must have at least one observation/);
    expect(() => mannWhitney([1, NaN], [1])).toThrow(/x\[1\] must be a finite number, got NaN/);
    expect(() => mannWhitneyBinned([1, 2], [1])).toThrow(/same length/);
    expect(() => mannWhitneyBinned([1, -2], [1, 1])).toThrow(/x bucket 1 must be a non-negative integer/);
  });
});
