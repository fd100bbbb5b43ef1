import { describe, expect, it } from 'vitest';
import { parseAnalysisConfig, type AnalysisConfigInput } from '../config/analysis.ts';
import { type ComparisonData, comparisonFromCounts, comparisonFromSamples } from './comparison-data.ts';
import { type EvaluationContext, evaluateMetric } from './evaluate.ts';
import { seededGenerator } from '../core/random.ts';

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
