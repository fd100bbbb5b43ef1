/**
 * The runner's `StageJudge` over the judge's pure functions: fold the stage's measurements into the
 * two compared arms (`accumulateMeasurements`), then assess them (`assessStage`) with the stage's own
 * bounds from the plan.
 */
import { promqlScalarKey, type AnalysisConfig } from '../config/analysis.ts';
import { assessStage } from '../judge/assess.ts';
import { accumulateMeasurements } from '../judge/comparison-data.ts';
import type { StageJudge } from './runner.ts';

export function createStageJudge(config: AnalysisConfig): StageJudge {
  const scalarKeys = Object.fromEntries(
    config.metrics
      .filter((m) => m.kind === 'promql')
      .map((m) => [
        m.name,
        { baseline: promqlScalarKey(m.name, 'baseline'), canary: promqlScalarKey(m.name, 'canary') },
      ]),
  );
  return {
    assess: ({ stage, measurements, elapsedMs, control, treatment, expectedCanaryShare }) =>
      assessStage({
        config: { ...config, minSamples: stage.minSamples },
        data: accumulateMeasurements(measurements, { baseline: control, canary: treatment }, scalarKeys),
        elapsedMs,
        expectedCanaryShare,
        expectedSamplesPerArm: stage.expectedSamplesPerArm,
        minDurationMs: stage.minDurationMs,
        maxDurationMs: stage.maxDurationMs,
      }),
  };
}
