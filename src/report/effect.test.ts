import { describe, expect, it } from 'vitest';
import type { MetricVerdict } from '../judge/verdict.ts';
import { sampleRunResult } from './fixtures/run-result.ts';
import { allowedText, decisionRule, effectText, metricLabel, verdictEffects } from './effect.ts';

const p50: MetricVerdict = {
  name: 'latency-p50',
  kind: 'latency',
  classification: 'fail',
  test: 'quantile-e-process',
  quantile: 0.5,
  direction: 'increase',
  baseline: 21.4,
  canary: 25.7,
  scale: 'ratio',
  estimate: 1.2,
  ci: [0.953, 1.479],
  confidence: 0.95,
  eValue: 301,
  n: { baseline: 4000, canary: 4000 },
  tolerance: { relative: 0.15 },
  alpha: 0.0125,
  critical: false,
  weight: 1,
  reason: 'latency-p50 regressed',
};

describe('effectText', () => {
  it('says how much, in the unit of the metric, against the limit', () => {
    expect(effectText(p50)).toBe('p50 25.7 ms vs 21.4 ms, +20 %, allowed +15 %');
  });

  it('writes an error ratio in percent and its change in points', () => {
    const errors: MetricVerdict = {
      ...p50,
      name: 'errors',
      kind: 'errors',
      quantile: undefined,
      baseline: 0.005,
      canary: 0.025,
      tolerance: { relative: 0.5, absolute: 0.002 },
    };
    expect(effectText(errors)).toBe(
      'error ratio 2.5 % vs 0.5 %, +2 points, +400 %, allowed +50 % or +0.2 points, whichever is larger',
    );
  });

  it('labels quantiles, signs the limit by direction, and says when there is no data', () => {
    expect(metricLabel({ ...p50, quantile: 0.999 })).toBe('p99.9');
    expect(allowedText({ ...p50, direction: 'decrease' })).toBe('−15 %');
    expect(allowedText({ ...p50, direction: 'either', tolerance: { absolute: 2 } })).toBe('±2 ms');
    expect(effectText({ ...p50, canary: null, n: { baseline: 10, canary: 0 } })).toBe(
      'p50: no data (10 / 0 observations), allowed +15 %',
    );
  });
});

describe('verdictEffects and decisionRule', () => {
  it('lead a rollback with the responsible metric of the deciding stage', () => {
    expect(verdictEffects(sampleRunResult('rolled-back'))).toBe('p99 23 ms vs 20 ms, +15 %, allowed +10 %');
  });

  it('show a promotion with the metric closest to its limit', () => {
    // The fixture's error ratio moved most (+20 %), relative to the latencies' +15 %.
    expect(verdictEffects(sampleRunResult('promoted'))).toBe(
      'error ratio 0.6 % vs 0.5 %, +0.1 points, +20 %, allowed +10 %',
    );
  });

  it('state the sequential rule with the combined threshold only', () => {
    const a = sampleRunResult('rolled-back').stages[1]!.intervals.at(-1)!.assessment!;
    expect(decisionRule(a)).toBe(
      "Rolls back as soon as the combined evidence of a regression (the weighted average of the metrics' e-values) reaches 20 (1/alpha, alpha 0.05); promotes a stage only when every metric's 95 % confidence sequence stays within its allowed change.",
    );
  });
});
