/** The history rows of one run: the run itself, and per stage the metrics of its deciding look. */
import type { RunResult } from '../canary/result.ts';
import { decidingAssessment } from '../canary/deciding-assessment.ts';
import type { MetricRow, RunRow } from './store.ts';

export function historyRows(result: RunResult): { run: RunRow; metrics: MetricRow[] } {
  const track = (name: string) => result.plan.tracks.find((t) => t.track === name)?.version ?? null;
  const run: RunRow = {
    runId: result.runId,
    startedAt: Date.parse(result.startedAt),
    endedAt: Date.parse(result.endedAt),
    status: result.status,
    exitCode: result.exitCode,
    service: result.plan.target.service,
    baselineVersion: track(result.plan.comparison.control.track),
    canaryVersion: track('canary'),
    scenario: result.scenario,
    config: result.config.file,
  };
  const metrics: MetricRow[] = [];
  for (const [stageIndex, stage] of result.stages.entries()) {
    const a = decidingAssessment(stage);
    if (!a) continue;
    for (const m of a.metrics) {
      metrics.push({
        runId: result.runId,
        stage: stage.name,
        stageIndex,
        metric: m.name,
        kind: m.kind,
        classification: m.classification,
        baselineValue: m.baseline,
        canaryValue: m.canary,
        estimate: m.estimate,
        ciLow: m.ci?.[0] ?? null,
        ciHigh: m.ci?.[1] ?? null,
        eValue: m.eValue ?? null,
        pValue: m.pValue ?? null,
        nBaseline: m.n.baseline,
        nCanary: m.n.canary,
      });
    }
  }
  return { run, metrics };
}
