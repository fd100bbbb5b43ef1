import { describe, expect, it } from 'vitest';
import { addHistogram, histogramCdf, histogramQuantile, mergeHistograms } from './histogram.ts';

const h = (counts: number[], sum?: number) => ({
  bounds: [10, 20, 40, Number.POSITIVE_INFINITY],
  counts,
  ...(sum === undefined ? {} : { sum }),
});

describe('latency histograms', () => {
  it('interpolates a quantile inside its bucket, as histogram_quantile does', () => {
    // 10 in (0,10], 20 in (10,20], 10 in (20,40]: the median (rank 20) is halfway through (10,20].
    expect(histogramQuantile(h([10, 20, 10, 0]), 0.5)).toBe(15);
    expect(histogramQuantile(h([10, 20, 10, 0]), 0.25)).toBe(10);
    expect(histogramQuantile(h([0, 0, 0, 5]), 0.99)).toBe(40);
    expect(histogramQuantile(h([0, 0, 0, 0]), 0.5)).toBeNaN();
  });

  it('treats a last bound read back from JSON (null) as +Inf', () => {
    const fromJson = JSON.parse(JSON.stringify(h([0, 0, 1, 3])));
    expect(fromJson.bounds[3]).toBeNull();
    expect(histogramQuantile(fromJson, 0.9)).toBe(40);
    expect(histogramCdf(fromJson).map((p) => p.bound)).toEqual([10, 20, 40]);
  });

  it('adds intervals, keeps the sum only when every part has one, and refuses other bounds', () => {
    const total = mergeHistograms([h([1, 2, 3, 4], 100), h([1, 1, 1, 1], 50)])!;
    expect(total.counts).toEqual([2, 3, 4, 5]);
    expect(total.sum).toBe(150);
    expect(mergeHistograms([h([1, 0, 0, 0], 1), h([1, 0, 0, 0])])!.sum).toBeUndefined();
    expect(mergeHistograms([])).toBeNull();
    expect(() =>
      addHistogram(h([1, 0, 0, 0]), { bounds: [5, 10], counts: [1, 1] }, 'account-canary interval 3'),
    ).toThrow(/account-canary interval 3: latency histogram bounds differ/);
  });

  it('gives the CDF at each finite bound', () => {
    expect(histogramCdf(h([1, 1, 2, 0]))).toEqual([
      { bound: 10, cdf: 0.25 },
      { bound: 20, cdf: 0.5 },
      { bound: 40, cdf: 1 },
    ]);
  });
});
