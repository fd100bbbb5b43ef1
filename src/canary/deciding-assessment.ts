import type { StageResult } from './result.ts';

/** The assessment that decided a stage, or the last one it made. */
export function decidingAssessment(stage: StageResult) {
  for (let i = stage.intervals.length - 1; i >= 0; i--) {
    const a = stage.intervals[i].assessment;
    if (a) return a;
  }
  return null;
}
