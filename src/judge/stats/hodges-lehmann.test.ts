import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../core/random.ts';
import { hodgesLehmann, hodgesLehmannBinned } from './hodges-lehmann.ts';

// Reference: the m*n differences built and sorted explicitly (only in this test).
function allDifferences(x: number[], y: number[]): number[] {
  const d: number[] = [];
  for (const a of x) for (const b of y) d.push(a - b);
  return d.sort((p, q) => p - q);
}
function naiveMedian(d: number[]): number {
  const h = Math.floor(d.length / 2);
  return d.length % 2 === 1 ? d[h] : (d[h - 1] + d[h]) / 2;
}

describe('hodgesLehmann: STATS.md vectors', () => {
  // F4 / F5 (STATS.md section 5). Estimate and coverage as printed there (tolerance 1e-5 on coverage).
  // The interval printed in STATS.md ([-0.11, 0.74], [-1, 13]) is [D_(k+1), D_(M-k)]: its coverage is
  // 1 - 2 P(U <= k) = 0.9447 (F4), below the nominal 95 %, not the 0.96004 printed beside it. The
  // interval with the printed coverage 1 - 2 P(U <= k-1) is [D_(k), D_(M+1-k)], which is also what R's
  // wilcox.test(conf.int = TRUE, exact = TRUE) returns (diffs[qu], diffs[n.x*n.y - qu + 1]). We test that.
  it('F4: HL on F2 (x - y): estimate 0.305, 95 % interval [D_(9), D_(42)] = [-0.15, 0.76], coverage 0.96004', () => {
    const x = [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
    const y = [1.15, 0.88, 0.9, 0.74, 1.21];
    const r = hodgesLehmann(x, y);
    expect(r.estimate).toBeCloseTo(0.305, 12);
    expect(r.method).toBe('exact');
    expect(r.rankLower).toBe(9);
    expect(r.ci[0]).toBeCloseTo(-0.15, 12);
    expect(r.ci[1]).toBeCloseTo(0.76, 12);
    expect(r.coverage).toBeCloseTo(0.96004, 5);
  });
  it('F5: HL on F1: estimate 7, interval [D_(2), D_(19)] = [-1, 17], coverage 0.96825', () => {
    const r = hodgesLehmann([19, 22, 16, 29, 24], [20, 11, 17, 12]);
    expect(r.estimate).toBe(7);
    expect(r.ci).toEqual([-1, 17]);
    expect(r.coverage).toBeCloseTo(0.96825, 5);
  });
});

describe('hodgesLehmann: selection by counting equals the brute-force order statistics', () => {
  it('random continuous samples, odd and even m*n, exact and asymptotic', () => {
    const rand = seededRandom(42);
    for (const [m, n] of [
      [7, 9],
      [30, 31],
      [120, 77],
      [333, 250],
    ]) {
      const x = Array.from({ length: m }, () => Math.exp(rand() * 3));
      const y = Array.from({ length: n }, () => Math.exp(rand() * 3) * 1.1);
      const d = allDifferences(x, y);
      const r = hodgesLehmann(x, y);
      expect(r.estimate).toBe(naiveMedian(d));
      expect(r.ci[0]).toBe(d[r.rankLower - 1]);
      expect(r.ci[1]).toBe(d[d.length - r.rankLower]);
    }
  });
  it('heavily tied integer samples', () => {
    const rand = seededRandom(7);
    const x = Array.from({ length: 400 }, () => Math.floor(rand() * 6));
    const y = Array.from({ length: 301 }, () => Math.floor(rand() * 5));
    const d = allDifferences(x, y);
    const r = hodgesLehmann(x, y);
    expect(r.method).toBe('asymptotic');
    expect(r.estimate).toBe(naiveMedian(d));
    expect(r.ci).toEqual([d[r.rankLower - 1], d[d.length - r.rankLower]]);
  });
  it('asymptotic rank k: coverage is at least the nominal level (continuity-corrected)', () => {
    const rand = seededRandom(3);
    const x = Array.from({ length: 500 }, () => rand());
    const y = Array.from({ length: 400 }, () => rand());
    const r = hodgesLehmann(x, y, { confidence: 0.9 });
    expect(r.coverage).toBeGreaterThanOrEqual(0.9);
    expect(r.coverage).toBeLessThan(0.9005);
  });
  it('binned histograms equal the raw samples placed at the bucket values', () => {
    const values = [1, 2, 5, 10, 20, 50];
    const xCounts = [3, 0, 10, 7, 2, 1];
    const yCounts = [5, 4, 8, 2, 0, 0];
    const expand = (c: number[]) => c.flatMap((k, i) => Array<number>(k).fill(values[i]));
    const raw = hodgesLehmann(expand(xCounts), expand(yCounts));
    const binned = hodgesLehmannBinned(values, xCounts, yCounts);
    expect(binned.estimate).toBe(raw.estimate);
    expect(binned.ci).toEqual(raw.ci);
    const d = allDifferences(expand(xCounts), expand(yCounts));
    expect(binned.estimate).toBe(naiveMedian(d));
  });
  it('many buckets: weighted selection by bisection equals brute force', () => {
    const rand = seededRandom(11);
    const values = Array.from({ length: 300 }, (_, i) => Number((0.5 * 1.05 ** i).toPrecision(3)));
    const unique = values.filter((v, i) => i === 0 || v > values[i - 1]);
    const xCounts = unique.map(() => Math.floor(rand() * 6));
    const yCounts = unique.map(() => Math.floor(rand() * 5));
    const expand = (c: number[]) => c.flatMap((k, i) => Array<number>(k).fill(unique[i]));
    const d = allDifferences(expand(xCounts), expand(yCounts));
    const binned = hodgesLehmannBinned(unique, xCounts, yCounts);
    expect(binned.estimate).toBe(naiveMedian(d));
    expect(binned.ci).toEqual([d[binned.rankLower - 1], d[d.length - binned.rankLower]]);
  });
});

describe('hodgesLehmann: edges and input checks', () => {
  it('samples too small for the confidence give an unbounded interval', () => {
    const r = hodgesLehmann([1, 2], [3]);
    expect(r.ci).toEqual([-Infinity, Infinity]);
    expect(r.estimate).toBe(-1.5);
  });
  it('rejects bad input naming what is wrong', () => {
    expect(() => hodgesLehmann([], [1])).toThrow(/x must have at least one observation/);
    expect(() => hodgesLehmann([1], [Infinity])).toThrow(/y\[0\] must be a finite number/);
    expect(() => hodgesLehmann([1], [2], { confidence: 1 })).toThrow(/confidence must be in \(0, 1\)/);
    expect(() => hodgesLehmannBinned([2, 1], [1, 1], [1, 1])).toThrow(/strictly ascending/);
  });
});
