import { describe, expect, it } from 'vitest';
import { parseAnalysisConfig, type AnalysisConfigInput } from '../config/analysis.ts';
import { type ComparisonData, comparisonFromCounts, comparisonFromSamples } from './comparison-data.ts';
import { type EvaluationContext, evaluateMetric } from './evaluate.ts';
import { seededGenerator } from '../core/random.ts';
import { LATENCY_BUCKETS_MS } from '../telemetry/buckets.ts';
import type { LatencyHistogram } from '../telemetry/measurement.ts';
import { binSamples } from './latency-batches.ts';

const context: EvaluationContext = {
  alpha: 0.05,
  confidenceAlpha: 0.05,
  minSamples: 500,
  expectedSamplesPerArm: 5000,
  final: false,
};
const metric = (m: AnalysisConfigInput['metrics'][number]) =>
  parseAnalysisConfig({ metrics: [m] }, 'test.yaml').metrics[0];
const lognormal = (seed: number, n: number, scale: number) => {
  const r = seededGenerator(seed);
  return Array.from({ length: n }, () => r.lognormal(Math.log(scale), 0.5));
};

describe('evaluateMetric', () => {
  it('latency without a quantile: mSPRT on log latency gives no e-value before 500 per arm', () => {
    const m = metric({ name: 'gm', kind: 'latency', tolerance: { relative: 0.1 } });
    const small = evaluateMetric(m, comparisonFromSamples(lognormal(1, 300, 50), lognormal(2, 300, 80)), context);
    expect(small.test).toBe('msprt-log-mean');
    expect(small.eValue).toBeUndefined();
    expect(small.classification).toBe('continue');
    expect(small.reason).toMatch(/no e-value before 500 observations per arm/);
    const large = evaluateMetric(m, comparisonFromSamples(lognormal(1, 2000, 50), lognormal(2, 2000, 60)), context);
    expect(large.classification).toBe('fail');
    expect(large.estimate!).toBeCloseTo(1.2, 1);
    expect(large.ci![0]!).toBeGreaterThan(1);
  });

  it('direction decrease looks for a drop, not a rise', () => {
    const m = metric({
      name: 'p50',
      kind: 'latency',
      quantile: 0.5,
      direction: 'decrease',
      tolerance: { relative: 0.1 },
    });
    const slower = evaluateMetric(m, comparisonFromSamples(lognormal(3, 2000, 50), lognormal(4, 2000, 70)), context);
    expect(slower.eValue!).toBeLessThan(1);
    const faster = evaluateMetric(m, comparisonFromSamples(lognormal(3, 2000, 50), lognormal(4, 2000, 35)), context);
    expect(faster.classification).toBe('fail');
  });

  it('errors with only an absolute tolerance report the difference of error ratios', () => {
    const m = metric({ name: 'errors', kind: 'errors', tolerance: { absolute: 0.01 } });
    const v = evaluateMetric(
      m,
      comparisonFromCounts({ errors: 50, requests: 10000 }, { errors: 55, requests: 10000 }),
      context,
    );
    expect(v.scale).toBe('difference');
    expect(v.estimate).toBeCloseTo(0.0005, 10);
    expect(v.ci![0]!).toBeLessThan(0.0005);
    expect(v.ci![1]!).toBeGreaterThan(0.0005);
    expect(v.ci![1]!).toBeLessThan(0.01);
    expect(v.classification).toBe('pass');
  });

  it('errors: zero requests in an arm is no data, and more errors than requests is refused', () => {
    const m = metric({ name: 'errors', kind: 'errors', tolerance: { absolute: 0.01 } });
    expect(
      evaluateMetric(m, comparisonFromCounts({ errors: 0, requests: 0 }, { errors: 0, requests: 10 }), context)
        .classification,
    ).toBe('nodata');
    expect(() =>
      evaluateMetric(m, comparisonFromCounts({ errors: 11, requests: 10 }, { errors: 0, requests: 10 }), context),
    ).toThrow(/baseline: 11 errors in 10 requests/);
  });

  it('promql: compares per-interval values and waits for 500 of them', () => {
    const m = metric({
      name: 'cpu',
      kind: 'promql',
      queries: { baseline: 'b', canary: 'c' },
      tolerance: { relative: 0.1 },
    });
    const data: ComparisonData = {
      ...comparisonFromSamples([], []),
      scalars: { cpu: { baseline: [1, 2, 3], canary: [5, 6, 7] } },
    };
    const v = evaluateMetric(m, data, context);
    expect(v.n).toEqual({ baseline: 3, canary: 3 });
    expect(v.eValue).toBeUndefined();
    expect(v.estimate).toBeCloseTo(3, 12);
    expect(evaluateMetric(m, { ...data, scalars: {} }, context).classification).toBe('nodata');
  });

  it('at the stage end an undecided metric is inconclusive', () => {
    const m = metric({ name: 'p99', kind: 'latency', quantile: 0.99, tolerance: { relative: 0.01 } });
    const v = evaluateMetric(m, comparisonFromSamples(lognormal(5, 600, 50), lognormal(6, 600, 50)), {
      ...context,
      final: true,
    });
    expect(v.classification).toBe('inconclusive');
    expect(v.reason).toMatch(/undecided at the stage's end/);
  });
});

describe('quantile tests and a burst in one interval', () => {
  const bounds = [...LATENCY_BUCKETS_MS];
  const binned = (xs: number[]): LatencyHistogram => {
    const counts = binSamples(xs, [...bounds.slice(0, -1), Infinity]);
    return { bounds, counts };
  };
  /** Five 2 s intervals of 600 requests per arm, the canary's latency × `slow(k)` in interval k. */
  const intervals = (seed: number, slow: (k: number) => number): ComparisonData => {
    const arm = (scale: (k: number) => number, s: number) => {
      const obs = Array.from({ length: 5 }, (_, k) => ({
        start: k * 2000,
        end: (k + 1) * 2000,
        requests: 600,
        errors: 0,
        latency: binned(lognormal(s + k, 600, 20 * scale(k))),
      }));
      const counts = bounds.map((_, j) => obs.reduce((n, o) => n + o.latency.counts[j], 0));
      return { requests: 3000, errors: 0, latency: { histogram: { bounds, counts } }, intervals: obs };
    };
    return { baseline: arm(() => 1, seed), canary: arm(slow, seed + 100), scalars: {}, problems: [] };
  };
  const p90 = metric({ name: 'p90', kind: 'latency', quantile: 0.9, tolerance: { relative: 0.15 } });

  it('does not roll back on one slow interval that every-interval evidence would take for a regression', () => {
    // The canary 80 % slower in its last interval only, as when its process is descheduled.
    const data = intervals(11, (k) => (k === 4 ? 1.8 : 1));
    const v = evaluateMetric(p90, data, context);
    expect(v.reason).toMatch(/e-value \S+ with every interval, \S+ without the one most against the canary/);
    const full = Number(/e-value (\S+) with every interval/.exec(v.reason)![1]);
    expect(full).toBeGreaterThanOrEqual(20);
    expect(v.eValue!).toBeLessThan(20);
    expect(v.classification).not.toBe('fail');
  });

  it('leaves a canary that is slower in every interval as it is: no interval stands out', () => {
    const v = evaluateMetric(
      p90,
      intervals(11, () => 1.3),
      context,
    );
    expect(v.classification).toBe('fail');
    expect(v.reason).not.toMatch(/without the one most against the canary/);
  });

  it('leaves the e-value of two files (no intervals, no time order) as it is', () => {
    const data = comparisonFromSamples(lognormal(5, 3000, 20), lognormal(6, 3000, 26));
    const v = evaluateMetric(p90, data, context);
    expect(v.classification).toBe('fail');
    expect(v.reason).not.toMatch(/without the one most against the canary/);
  });
});
