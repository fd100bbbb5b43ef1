/**
 * The analysis configuration's stage bounds → the planner's defaults. Kept apart from `plan.ts` so the
 * planner depends on three numbers per stage, not on the whole configuration schema.
 */
import type { AnalysisConfig } from '../config/analysis.ts';
import { UsageError } from '../core/errors.ts';
import type { PlanDefaults, StageBudget } from './plan.ts';

/** How often the judge looks when neither the configuration nor `--interval` says: ten looks in a 20 s stage. */
export const DEFAULT_INTERVAL_MS = 2000;

export interface StageOverrides {
  minDurationSeconds?: number;
  maxDurationSeconds?: number;
  minSamples?: number;
  onInconclusive?: 'rollback' | 'promote';
}

export function planDefaultsFrom(config: AnalysisConfig, overrides: StageOverrides = {}): PlanDefaults {
  const seconds = (flag: string, v: number | undefined, fallback: number): number => {
    if (v === undefined) return fallback;
    if (!Number.isFinite(v) || v < 0) throw new UsageError(flag, `expected seconds ≥ 0, got ${v}`);
    return v * 1000;
  };
  const budget: StageBudget = {
    minDurationMs: seconds('--min-duration', overrides.minDurationSeconds, config.stage.minDuration),
    maxDurationMs: seconds('--max-duration', overrides.maxDurationSeconds, config.stage.maxDuration),
    minSamples: overrides.minSamples ?? config.minSamples,
  };
  if (!Number.isInteger(budget.minSamples) || budget.minSamples < 1) {
    throw new UsageError('--min-samples', `expected a whole number ≥ 1, got ${overrides.minSamples}`);
  }
  if (budget.maxDurationMs < budget.minDurationMs || budget.maxDurationMs === 0) {
    throw new UsageError(
      '--max-duration',
      `expected a maximum stage duration > 0 and ≥ the minimum (${budget.minDurationMs / 1000} s), got ${budget.maxDurationMs / 1000} s`,
    );
  }
  return {
    intervalMs: DEFAULT_INTERVAL_MS,
    header: budget,
    weighted: { ...budget },
    inconclusive: overrides.onInconclusive ?? 'rollback',
    onUnreliableLoad: config.onUnreliableLoad,
  };
}
