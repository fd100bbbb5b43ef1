import { describe, expect, it } from 'vitest';
import { parseAnalysisConfig, type AnalysisConfigInput } from '../config/analysis.ts';
import type { Measurement } from '../telemetry/measurement.ts';
import { assessStage } from './assess.ts';
import { accumulateMeasurements, comparisonFromSamples, type ComparisonData } from './comparison-data.ts';
import { type ArmTraffic, simulateInterval } from './simulation.ts';
import { seededGenerator } from '../core/random.ts';

const arms = { baseline: 'account-baseline', canary: 'account-canary' };
const defaultMetrics: AnalysisConfigInput['metrics'] = [
  { name: 'latency-p50', kind: 'latency', quantile: 0.5, tolerance: { relative: 0.1, absolute: 2 } },
  { name: 'latency-p99', kind: 'latency', quantile: 0.99, tolerance: { relative: 0.15, absolute: 10 } },
  { name: 'errors', kind: 'errors', tolerance: { relative: 0.5, absolute: 0.005 }, critical: true },
];

function config(overrides: Partial<AnalysisConfigInput> = {}) {
  return parseAnalysisConfig(
    {
      stage: { minDuration: '1m', maxDuration: '10m' },
      expectedSamplesPerArm: 20000,
      metrics: defaultMetrics,
      ...overrides,
    },
    'test.yaml',
  );
}

const normal: ArmTraffic = { requests: 2000, medianMs: 50, sigma: 0.5, errorRate: 0.005 };

function traffic(seed: number, intervals: number, baseline: ArmTraffic, canary: ArmTraffic): Measurement[] {
  const random = seededGenerator(seed);
  return Array.from({ length: intervals }, (_, i) => simulateInterval(random, i * 10_000, 10_000, baseline, canary));
}

function data(measurements: Measurement[]): ComparisonData {
  return accumulateMeasurements(measurements, arms);
}

describe('assessStage (sequential judge)', () => {
  it('rolls back a 50 % slower canary and names the latency metrics', () => {
    const a = assessStage({
      config: config(),
      data: data(traffic(1, 3, normal, { ...normal, slowdown: 1.5 })),
      elapsedMs: 30_000,
    });
    expect(a.decision).toBe('rollback');
    expect(a.responsible).toContain('latency-p50');
    expect(a.metrics.find((m) => m.name === 'latency-p50')!.classification).toBe('fail');
    expect(a.combined.eValue).toBeGreaterThanOrEqual(20);
    expect(a.reason).toMatch(/regression in .*latency-p50/);
  });

  it('rolls back a canary with 3 % errors over a 0.5 % baseline, naming errors', () => {
    const a = assessStage({
      config: config(),
      data: data(traffic(2, 3, normal, { ...normal, errorRate: 0.03 })),
      elapsedMs: 30_000,
    });
    expect(a.decision).toBe('rollback');
    expect(a.responsible).toEqual(['errors']);
    const errors = a.metrics.find((m) => m.name === 'errors')!;
    expect(errors.canary!).toBeGreaterThan(errors.baseline!);
    expect(errors.ci![0]!).toBeGreaterThan(1);
  });

  it('promotes an identical canary once min duration and samples are met, and not before', () => {
    const measurements = traffic(3, 12, normal, normal);
    const early = assessStage({ config: config(), data: data(measurements.slice(0, 3)), elapsedMs: 30_000 });
    expect(early.decision).toBe('continue');
    expect(early.reason).toMatch(/minimum duration 60 s/);
    const later = assessStage({ config: config(), data: data(measurements), elapsedMs: 120_000 });
    expect(later.metrics.map((m) => m.classification)).toEqual(['pass', 'pass', 'pass']);
    expect(later.decision).toBe('promote');
  });

  it('is inconclusive on a sample ratio mismatch, even when the metrics look fine', () => {
    const a = assessStage({
      config: config(),
      data: data(traffic(4, 6, normal, { ...normal, requests: 1700 })),
      elapsedMs: 120_000,
    });
    expect(a.decision).toBe('inconclusive');
    expect(a.srm!.mismatch).toBe(true);
    expect(a.reason).toMatch(/sample ratio mismatch/);
  });

  it('weighs the planned share by the time each arm covers: counts over scrape spans of 9 s and 10 s are no mismatch', () => {
    // Prometheus read the canary's counter over 10 s per interval and the baseline's over 9 s (two
    // scrape phases): 1,800 against 2,000 requests is then what equal traffic gives.
    const covered = (ms: Record<string, number>) => (m: Measurement) => ({
      ...m,
      workloads: Object.fromEntries(
        Object.entries(m.workloads).map(([w, x]) => [w, { ...x, covered: { requests: x.requests, ms: ms[w]! } }]),
      ),
    });
    const measurements = traffic(4, 6, { ...normal, requests: 1800 }, normal);
    const spans = { [arms.baseline]: 9_000, [arms.canary]: 10_000 };
    const weighed = assessStage({ config: config(), data: data(measurements.map(covered(spans))), elapsedMs: 120_000 });
    expect(weighed.srm!.mismatch).toBe(false);
    expect(weighed.srm!.expectedCanaryShare).toBeCloseTo(10 / 19, 12);
    expect(weighed.srm!.plannedCanaryShare).toBe(0.5);
    expect(weighed.srm!.coveredMs).toEqual({ baseline: 54_000, canary: 60_000 });
    // The same counts as if both covered their whole intervals: a mismatch.
    const unweighed = assessStage({ config: config(), data: data(measurements), elapsedMs: 120_000 });
    expect(unweighed.srm!.mismatch).toBe(true);
    expect(unweighed.srm!.plannedCanaryShare).toBeUndefined();
    // Equal counts over unequal spans: the arm that got as many requests in less time is the mismatch.
    const even = traffic(4, 6, normal, normal);
    const skewed = assessStage({
      config: config(),
      data: data(even.map(covered({ [arms.baseline]: 10_000, [arms.canary]: 8_000 }))),
      elapsedMs: 120_000,
    });
    expect(skewed.decision).toBe('inconclusive');
    expect(skewed.reason).toMatch(/expected 44\.4 % \(planned 50\.0 %, over the time each arm's scrapes cover\)/);
  });

  it('counts only the requests between scrapes read, when the source gives them, and none without them', () => {
    // The canary's first 600 requests came before its first scrape read: no time is known for them.
    const measurements = traffic(4, 6, normal, normal).map((m, i) => ({
      ...m,
      workloads: Object.fromEntries(
        Object.entries(m.workloads).map(([w, x]) => [
          w,
          { ...x, covered: { requests: w === arms.canary && i === 0 ? x.requests - 600 : x.requests, ms: 10_000 } },
        ]),
      ),
    }));
    const a = assessStage({ config: config(), data: data(measurements), elapsedMs: 120_000 });
    expect(a.srm!.counts.canary).toBe(data(measurements).canary.requests - 600);
    // A canary whose pod Prometheus has not scraped twice yet: no check yet, not the raw counts
    // (which here say 1 canary request for 2,000 baseline ones).
    const unscraped = traffic(4, 1, normal, { ...normal, requests: 1 }).map((m) => ({
      ...m,
      workloads: Object.fromEntries(
        Object.entries(m.workloads).map(([w, x]) => [
          w,
          { ...x, covered: w === arms.canary ? { requests: 0, ms: 0 } : { requests: x.requests, ms: 10_000 } },
        ]),
      ),
    }));
    expect(assessStage({ config: config(), data: data(unscraped), elapsedMs: 10_000 }).srm).toBeNull();
    // One measurement without `covered` (another source) and the arm's counts are its requests.
    const mixed = [...measurements, ...traffic(5, 1, normal, normal)];
    expect(data(mixed).canary.covered).toBeUndefined();
  });

  it('treats a missing canary as no data: continue before min duration, inconclusive after, never promote', () => {
    const measurements = traffic(5, 12, normal, normal).map((m) => ({
      ...m,
      workloads: { [arms.baseline]: m.workloads[arms.baseline] },
    }));
    const early = assessStage({ config: config(), data: data(measurements), elapsedMs: 30_000 });
    expect(early.decision).toBe('continue');
    expect(early.metrics.every((m) => m.classification === 'nodata')).toBe(true);
    const late = assessStage({ config: config(), data: data(measurements), elapsedMs: 120_000 });
    expect(late.decision).toBe('inconclusive');
    expect(late.reason).toMatch(/no data for latency-p50, latency-p99, errors/);
    expect(late.metrics[0].reason).toMatch(/no measurement for workload account-canary/);
  });

  it('makes failed queries no data, with the source reason', () => {
    const failed: Measurement[] = [0, 1, 2].map((i) => ({
      start: i * 10_000,
      end: (i + 1) * 10_000,
      status: 'error',
      reason: 'prometheus query failed: connect ECONNREFUSED 127.0.0.1:9090',
      workloads: {},
      scalars: {},
    }));
    const a = assessStage({ config: config(), data: data(failed), elapsedMs: 600_000 });
    expect(a.decision).toBe('inconclusive');
    expect(a.metrics[2].classification).toBe('nodata');
    expect(a.metrics[2].reason).toMatch(/ECONNREFUSED/);
  });

  it('is inconclusive at the maximum duration when a small shift is neither shown nor ruled out', () => {
    const small: ArmTraffic = { ...normal, requests: 60 };
    const a = assessStage({
      config: config(),
      data: data(traffic(6, 10, small, { ...small, slowdown: 1.08 })),
      elapsedMs: 600_000,
    });
    expect(a.decision).toBe('inconclusive');
    expect(a.reason).toMatch(/maximum duration 600 s/);
    expect(a.metrics.some((m) => m.classification === 'inconclusive')).toBe(true);
  });

  it('produces plain JSON data', () => {
    const a = assessStage({
      config: config(),
      data: data(traffic(7, 3, normal, { ...normal, slowdown: 1.5 })),
      elapsedMs: 30_000,
    });
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
  });
});

// STATS.md §6: blind spots of Kayenta's judge, which passes both. The default judge must not.
describe('Kayenta blind spots (STATS.md §6)', () => {
  it('E = [100 x7, 1 x3] vs B = [1 x10]: not a pass (too few samples: inconclusive)', () => {
    const canary = [...Array(7).fill(100), 1, 1, 1];
    const baseline = Array(10).fill(1);
    const a = assessStage({
      config: config({
        metrics: [
          { name: 'latency-mean', kind: 'latency', tolerance: { relative: 0.1 } },
          { name: 'latency-p50', kind: 'latency', quantile: 0.5, tolerance: { relative: 0.1 } },
        ],
      }),
      data: comparisonFromSamples(baseline, canary),
      elapsedMs: 600_000,
    });
    expect(a.decision).not.toBe('promote');
    expect(['rollback', 'inconclusive']).toContain(a.decision);
    expect(a.metrics.every((m) => m.classification !== 'pass')).toBe(true);
  });

  it('sparse errors [0,1,2,1,0,0] vs [0 x6] per interval: not a pass', () => {
    const canaryErrors = [0, 1, 2, 1, 0, 0];
    const measurements: Measurement[] = canaryErrors.map((errors, i) => ({
      start: i * 60_000,
      end: (i + 1) * 60_000,
      status: 'ok',
      workloads: {
        [arms.baseline]: {
          workload: arms.baseline,
          requests: 100,
          errors: 0,
          byClass: { '2xx': 100 },
          latency: { bounds: [10, Infinity], counts: [100, 0] },
        },
        [arms.canary]: {
          workload: arms.canary,
          requests: 100,
          errors,
          byClass: { '2xx': 100 - errors, '5xx': errors },
          latency: { bounds: [10, Infinity], counts: [100, 0] },
        },
      },
      scalars: {},
    }));
    const a = assessStage({
      config: config({ metrics: [defaultMetrics[2]] }),
      data: data(measurements),
      elapsedMs: 600_000,
    });
    expect(a.decision).not.toBe('promote');
    expect(a.metrics[0].classification).not.toBe('pass');
  });
});
