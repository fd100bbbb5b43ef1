import { describe, expect, it } from 'vitest';
import { type AnalysisConfigInput, parseAnalysisConfig } from '../config/analysis.ts';
import type { Measurement } from '../telemetry/measurement.ts';
import { assessStage } from './assess.ts';
import { accumulateMeasurements } from './comparison-data.ts';
import { type ArmTraffic, simulateInterval } from './simulation.ts';
import { seededGenerator } from '../core/random.ts';

const arms = { baseline: 'account-baseline', canary: 'account-canary' };
const metrics: AnalysisConfigInput['metrics'] = [
  { name: 'latency-p50', kind: 'latency', quantile: 0.5, tolerance: { relative: 0.1 }, group: 'latency' },
  { name: 'latency-p99', kind: 'latency', quantile: 0.99, tolerance: { relative: 0.2 }, group: 'latency' },
  { name: 'errors', kind: 'errors', tolerance: { absolute: 0.01 }, group: 'errors' },
];
const config = (judge: 'fixed' | 'kayenta') =>
  parseAnalysisConfig({ judge, metrics, stage: { minDuration: '1m', maxDuration: '2m' } }, 'modes.yaml');
const normal: ArmTraffic = { requests: 1000, medianMs: 50, sigma: 0.5, errorRate: 0.005 };

function measurements(seed: number, canary: ArmTraffic): Measurement[] {
  const random = seededGenerator(seed);
  return Array.from({ length: 12 }, (_, i) => simulateInterval(random, i * 10_000, 10_000, normal, canary));
}

for (const judge of ['fixed', 'kayenta'] as const) {
  describe(`assessStage with judge: ${judge}`, () => {
    it('waits until the stage end, then rolls back a 50 % slower canary naming latency', () => {
      const data = accumulateMeasurements(measurements(1, { ...normal, slowdown: 1.5 }), arms);
      const early = assessStage({ config: config(judge), data, elapsedMs: 60_000 });
      expect(early.decision).toBe('continue');
      expect(early.judge).toBe(judge);
      const end = assessStage({ config: config(judge), data, elapsedMs: 120_000 });
      expect(end.decision).toBe('rollback');
      expect(end.responsible).toContain('latency-p50');
      expect(end.metrics[0].classification).toBe('fail');
      expect(JSON.parse(JSON.stringify(end))).toEqual(end);
    });
    it('promotes an identical canary at the stage end', () => {
      const end = assessStage({
        config: config(judge),
        data: accumulateMeasurements(measurements(2, normal), arms),
        elapsedMs: 120_000,
      });
      expect(end.decision).toBe('promote');
    });
    it('is inconclusive without canary data, never a pass', () => {
      const only = measurements(3, normal).map((m) => ({
        ...m,
        workloads: { [arms.baseline]: m.workloads[arms.baseline] },
      }));
      const end = assessStage({ config: config(judge), data: accumulateMeasurements(only, arms), elapsedMs: 120_000 });
      expect(end.decision).toBe('inconclusive');
      expect(end.metrics.some((m) => m.classification === 'nodata')).toBe(true);
    });
  });
}

describe('Kayenta stage score', () => {
  it('reports the score, the groups and the thresholds', () => {
    const end = assessStage({
      config: config('kayenta'),
      data: accumulateMeasurements(measurements(4, { ...normal, errorRate: 0.2 }), arms),
      elapsedMs: 120_000,
    });
    expect(end.score!.groups.map((g) => g.name).sort()).toEqual(['errors', 'latency']);
    expect(end.score!.value).toBeLessThan(75);
    expect(end.decision).toBe('rollback');
    expect(end.responsible).toEqual(['errors']);
  });
});
