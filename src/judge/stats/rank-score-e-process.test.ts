import { describe, expect, it } from 'vitest';
import { blockDispersion, rankScoreEProcess, rankScoreStatistic } from './rank-score-e-process.ts';

// Vectors computed independently with SciPy 1.17.1 (scipy.stats.rankdata for mid-ranks,
// scipy.stats.norm.ppf for the scores, itertools for every relabelling of the tiny batch,
// scipy.integrate.quad for the half-normal mixture): run
//   python3 src/judge/stats/rank-score-e-process.vectors.py
// which prints every number below.
describe('rankScoreStatistic', () => {
  it('location and upper-tail scores of one batch', () => {
    const loc = rankScoreStatistic([10, 20, 30], [5, 20, 40], 'location');
    expect(loc.d).toBeCloseTo(6.814803987, 8);
    expect(loc.v).toBeCloseTo(17.96358569, 7);
    const tail = rankScoreStatistic([10, 20, 30], [5, 20, 40], 'upper-tail');
    expect(tail.d).toBeCloseTo(1.201297889, 8);
    expect(tail.v).toBeCloseTo(0.8629389097, 9);
  });
  it('V is the exact variance over every relabelling of a tiny batch (and D is centred)', () => {
    // All 70 ways to choose the 4 canary observations of 8: mean of D = 0, variance 1.1650339489 (location),
    // 0.3568142924 (upper-tail); the observed labelling has D = 1.107899971 / 0.07964595366.
    const loc = rankScoreStatistic([1, 2, 0, 1], [0, 1, 2, 1], 'location');
    expect(loc.v).toBeCloseTo(1.1650339489, 9);
    expect(loc.d).toBeCloseTo(1.107899971, 8);
    const tail = rankScoreStatistic([1, 2, 0, 1], [0, 1, 2, 1], 'upper-tail');
    expect(tail.v).toBeCloseTo(0.3568142924, 9);
    expect(tail.d).toBeCloseTo(0.07964595366, 9);
  });
  it('is zero without observations in an arm, and refuses bad counts naming them', () => {
    expect(rankScoreStatistic([3, 4], [0, 0], 'location')).toEqual({ d: 0, v: 0 });
    expect(() => rankScoreStatistic([1, 2], [1], 'location')).toThrow(/2 bins but canary 1/);
    expect(() => rankScoreStatistic([1, -2], [1, 1], 'location')).toThrow(/baseline counts\[1\].*non-negative integer/);
  });
});

describe('rankScoreEProcess', () => {
  const batches = [
    { baseline: [10, 20, 30, 5], canary: [5, 20, 40, 9] },
    { baseline: [12, 25, 20, 3], canary: [8, 22, 30, 6] },
    { baseline: [9, 30, 25, 4], canary: [10, 18, 33, 8] },
  ];
  it('sums the batches and mixes over a half-normal prior (quadrature in SciPy)', () => {
    const r = rankScoreEProcess(batches, { tuningSamples: 1000, tuningAlpha: 0.05, dispersion: false });
    const [loc, tail] = r.families;
    expect(loc.statistic).toBeCloseTo(25.73424444, 7);
    expect(loc.variance).toBeCloseTo(73.95304856, 7);
    expect(tail.statistic).toBeCloseTo(16.29517497, 7);
    expect(tail.variance).toBeCloseTo(59.51208668, 7);
    expect(Math.abs(tail.eValue / 2.941816349 - 1)).toBeLessThan(1e-7);
    expect(Math.abs(loc.eValue / 26.48143225 - 1)).toBeLessThan(1e-7);
    expect(r.eValue).toBeCloseTo((26.48143225 + 2.941816349) / 2, 6);
    expect(r.n).toEqual({ baseline: 193, canary: 209 });
  });
  it('is one-sided: the same data with the arms swapped is no evidence of a slower canary', () => {
    const swapped = batches.map((b) => ({ baseline: b.canary, canary: b.baseline }));
    const r = rankScoreEProcess(swapped, { tuningSamples: 1000, tuningAlpha: 0.05, dispersion: false });
    expect(r.eValue).toBeLessThan(0.1);
    const twoSided = rankScoreEProcess(swapped, {
      tuningSamples: 1000,
      tuningAlpha: 0.05,
      dispersion: false,
      direction: 'either',
    });
    expect(twoSided.families[0].eValue).toBeGreaterThan(1);
  });
  it('gives no evidence from consecutive intervals before it can see bursts (minBlocks batches)', () => {
    const r = rankScoreEProcess(batches, { tuningSamples: 1000, tuningAlpha: 0.05 });
    expect(r.eValue).toBe(1);
    expect(r.families[0].z).toBeGreaterThan(2);
  });
});

describe('blockDispersion', () => {
  const stats = [
    [3, 10],
    [-2, 12],
    [5, 9],
    [0.5, 11],
    [-4, 10],
    [6, 8],
    [1, 10],
    [-1.5, 12],
    [2.5, 9],
    [3.5, 11],
    [-3, 10],
    [4, 10],
  ].map(([d, v]) => ({ d, v }));
  it('takes the largest block estimate: L = 1 gives 12.8851569 / (11 - sqrt(22)) = 2.042156251', () => {
    expect(blockDispersion(stats)).toBeCloseTo(2.042156251, 8);
  });
  it('is 1 when batches agree with their common shift, and with too few blocks', () => {
    expect(blockDispersion(stats.map(({ v }) => ({ d: 0.1 * v, v })))).toBe(1);
    expect(blockDispersion(stats.slice(0, 5))).toBe(1);
  });
});
