import { describe, expect, it } from 'vitest';
import type { ComparisonData, IntervalObservation } from './comparison-data.ts';
import { comparisonFromSamples } from './comparison-data.ts';
import { binSamples, latencyBatches, latencyWithoutWorstInterval } from './latency-batches.ts';

const bounds = [1, 2, Infinity];
const interval = (start: number, counts: number[] | null): IntervalObservation => ({
  start,
  end: start + 1000,
  requests: counts ? counts.reduce((s, c) => s + c, 0) : 0,
  errors: 0,
  latency: counts ? { bounds, counts } : null,
});

describe('latencyBatches', () => {
  it('pairs intervals by start and skips an interval without latency in either arm', () => {
    const data: ComparisonData = {
      ...comparisonFromSamples([], []),
      baseline: {
        requests: 9,
        errors: 0,
        latency: null,
        intervals: [interval(0, [1, 2, 0]), interval(1000, [3, 0, 0]), interval(2000, [1, 1, 1])],
      },
      canary: {
        requests: 7,
        errors: 0,
        latency: null,
        intervals: [interval(2000, [0, 2, 1]), interval(0, [2, 2, 0]), interval(1000, null)],
      },
    };
    expect(latencyBatches(data)).toEqual([
      { baseline: [1, 2, 0], canary: [2, 2, 0] },
      { baseline: [1, 1, 1], canary: [0, 2, 1] },
    ]);
  });
  it('bins complete raw samples on the data plane buckets as one batch', () => {
    const [batch] = latencyBatches(comparisonFromSamples([0.5, 0.51, 70_000], [0.5]));
    expect(batch.baseline[0]).toBe(1);
    expect(batch.baseline[1]).toBe(1);
    expect(batch.baseline[batch.baseline.length - 1]).toBe(1);
    expect(batch.canary[0]).toBe(1);
  });
  it('binSamples counts (bounds[i-1], bounds[i]] and refuses a non-finite sample', () => {
    expect(binSamples([1, 1.5, 2, 2.01, 9], bounds)).toEqual([1, 2, 2]);
    expect(() => binSamples([1, Number.NaN], bounds)).toThrow(/samples\[1\]: expected a finite number/);
  });
});

describe('latencyWithoutWorstInterval', () => {
  const bounds = [10, 20, 40, Infinity];
  const interval = (k: number, a: number[], c: number[]) => ({
    start: k,
    end: k + 1,
    requests: 0,
    errors: 0,
    latency: { bounds, counts: a },
    canary: { bounds, counts: c },
  });
  const data = (rows: ReturnType<typeof interval>[]): ComparisonData => ({
    baseline: {
      requests: 0,
      errors: 0,
      latency: null,
      intervals: rows.map(({ canary: _, ...r }) => r),
    },
    canary: {
      requests: 0,
      errors: 0,
      latency: null,
      intervals: rows.map((r) => ({ ...r, latency: r.canary })),
    },
    scalars: {},
    problems: [],
  });
  const rows = [
    interval(0, [50, 30, 15, 5], [50, 30, 15, 5]),
    interval(1, [50, 30, 15, 5], [20, 30, 30, 20]), // the canary slow
    interval(2, [50, 30, 15, 5], [80, 15, 4, 1]), // the canary fast
  ];

  it('leaves out the interval whose canary is slowest above the pooled quantile, or fastest for decrease', () => {
    const slow = latencyWithoutWorstInterval(data(rows), 0.9, 'increase')!;
    expect(slow.baseline).toEqual({ histogram: { bounds, counts: [100, 60, 30, 10] } });
    expect(slow.canary).toEqual({ histogram: { bounds, counts: [130, 45, 19, 6] } });
    expect(slow.standsOut).toBeGreaterThan(3);
    const fast = latencyWithoutWorstInterval(data(rows), 0.9, 'decrease')!;
    expect(fast.canary).toEqual({ histogram: { bounds, counts: [70, 60, 45, 25] } });
  });

  it('says by how much the left-out interval stands out: nothing to compare with one interval', () => {
    expect(latencyWithoutWorstInterval(data(rows.slice(1, 2)), 0.9, 'increase')!.standsOut).toBe(0);
    const alike = [0, 1, 2].map((k) => interval(k, [50, 30, 15, 5], [50, 30, 15, 5]));
    expect(latencyWithoutWorstInterval(data(alike), 0.9, 'increase')!.standsOut).toBe(0);
  });

  it('is null without intervals in both arms (two files have no time order)', () => {
    expect(latencyWithoutWorstInterval(data([]), 0.9, 'increase')).toBeNull();
  });
});
