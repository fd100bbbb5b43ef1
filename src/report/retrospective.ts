/**
 * `canary analyze` and `canary compare` judge evidence that already exists (a Prometheus window, two
 * sample files); they write the same report set as `canary run` by describing that judgement as a
 * run of one stage. Nothing was deployed or routed, and the result says so (`retrospective`).
 */
import type { IntervalRecord, RunResult, RunStatus } from '../canary/result.ts';
import type { CanaryPlan, Scenario } from '../canary/plan-types.ts';
import { DEFAULT_COHORTS } from '../../load/lib/cohorts.ts';
import type { StageAssessment } from '../judge/verdict.ts';
import type { Measurement } from '../telemetry/measurement.ts';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { renderReports, type RenderedReports } from './render-reports.ts';
import { writeFileAtomic } from './write-file.ts';

export interface RetrospectiveInput {
  command: 'analyze' | 'compare';
  /** What was judged, for people: `Prometheus http://…, 2026-11-25T20:00Z .. 20:30Z` or the two files. */
  source: string;
  runId: string;
  startedAt: number;
  endedAt: number;
  service: string;
  arms: { baseline: string; canary: string };
  assessment: StageAssessment;
  /** Per interval (analyze); empty for compare. */
  measurements: Measurement[];
  configFile: string;
  analysis: unknown;
  flags: Record<string, string | number | boolean | null>;
}

function statusOf(a: StageAssessment): { status: RunStatus; exitCode: number } {
  if (a.decision === 'promote') return { status: 'promoted', exitCode: 0 };
  if (a.decision === 'rollback') return { status: 'rolled-back', exitCode: 1 };
  return { status: 'inconclusive', exitCode: 2 };
}

export function retrospectiveResult(i: RetrospectiveInput): RunResult {
  const { status, exitCode } = statusOf(i.assessment);
  const header = {
    canary: { cohort: 'canary-tester', pattern: 'canary-tester-[0-9]+' },
    baseline: { cohort: 'baseline-tester', pattern: 'baseline-tester-[0-9]+' },
  };
  const stageName = i.command === 'analyze' ? 'window' : 'samples';
  const plan: CanaryPlan = {
    engine: i.command === 'analyze' ? 'kubernetes' : 'local',
    target: { service: i.service, host: i.service, virtualService: i.service, namespace: '', routeTimeout: null },
    // Not a scenario of the local engine: the command that judged the evidence.
    scenario: i.command as unknown as Scenario,
    tracks: [
      { track: 'baseline', workload: i.arms.baseline, version: '', env: {} },
      { track: 'canary', workload: i.arms.canary, version: '', env: {} },
    ],
    comparison: {
      control: { track: 'baseline', workload: i.arms.baseline },
      treatment: { track: 'canary', workload: i.arms.canary },
      biased: false,
      note: null,
    },
    cohorts: [...DEFAULT_COHORTS],
    header,
    stages: [
      {
        name: stageName,
        kind: 'weighted',
        route: { kind: 'safe' },
        minDurationMs: i.assessment.minDurationMs,
        maxDurationMs: i.assessment.maxDurationMs,
        minSamples: i.assessment.samples.minimum,
        expectedSamplesPerArm: i.assessment.samples.minimum,
      },
    ],
    platform: {
      engine: i.command === 'analyze' ? 'kubernetes' : 'local',
      context: null,
      kubeconfig: null,
      namespace: '',
    },
    load: { driver: 'builtin', ratePerSecond: 0, gateway: null },
    telemetry: { source: i.command === 'analyze' ? 'prometheus' : 'scrape', url: null },
    evidence: 'stage',
    intervalMs: i.measurements[0] ? i.measurements[0].end - i.measurements[0].start : i.endedAt - i.startedAt,
    inconclusive: { action: 'rollback', exitCode: 2 },
    confirm: false,
    analysisFile: i.configFile,
    notes: [`${i.command}: judged ${i.source}; nothing was deployed or routed`],
  };
  const measurements: Measurement[] = i.measurements.length
    ? i.measurements
    : [{ start: i.startedAt, end: i.endedAt, status: 'ok', workloads: {}, scalars: {} }];
  const intervals: IntervalRecord[] = measurements.map((m, index) => {
    const b = m.workloads[i.arms.baseline];
    const c = m.workloads[i.arms.canary];
    const requests = { primary: 0, baseline: b?.requests ?? 0, canary: c?.requests ?? 0 };
    const total = requests.baseline + requests.canary;
    const pct = (n: number) => (total === 0 ? 0 : (100 * n) / total);
    return {
      index,
      elapsedMs: m.end - measurements[0]!.start,
      measurement: m,
      baseline: b && b.requests > 0 ? b : null,
      canary: c && c.requests > 0 ? c : null,
      split: { requests, percent: { primary: 0, baseline: pct(requests.baseline), canary: pct(requests.canary) } },
      assessment: index === measurements.length - 1 ? i.assessment : null,
    };
  });
  const outcome = i.assessment.decision === 'continue' ? 'inconclusive' : i.assessment.decision;
  return {
    schemaVersion: 1,
    runId: i.runId,
    startedAt: new Date(i.startedAt).toISOString(),
    endedAt: new Date(i.endedAt).toISOString(),
    status,
    exitCode,
    reason: i.assessment.reason,
    responsible: i.assessment.responsible,
    abort: null,
    engine: plan.engine,
    scenario: plan.scenario,
    config: { file: i.configFile, analysis: i.analysis, flags: i.flags },
    plan,
    stages: [
      {
        name: stageName,
        kind: 'weighted',
        route: { kind: 'safe' },
        startedAt: new Date(i.startedAt).toISOString(),
        endedAt: new Date(i.endedAt).toISOString(),
        timeToDecisionMs: i.endedAt - i.startedAt,
        minDurationMs: i.assessment.minDurationMs,
        maxDurationMs: i.assessment.maxDurationMs,
        minSamples: i.assessment.samples.minimum,
        intervals,
        outcome,
        reason: i.assessment.reason,
      },
    ],
    routes: [],
    retrospective: `${i.command}: ${i.source}`,
    load: null,
    durationMs: i.endedAt - i.startedAt,
  };
}

/** Writes result.json and the reports into `<reportsDir>/<runId>/`; the history is left alone (not a run). */
export function writeRetrospectiveReports(result: RunResult, reportsDir: string): RenderedReports & { dir: string } {
  const dir = join(reportsDir, result.runId);
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
  const rendered = renderReports(result, dir, { historyFile: null });
  return { ...rendered, files: [join(dir, 'result.json'), ...rendered.files], dir };
}
