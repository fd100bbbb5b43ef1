/**
 * The evidence a person reads first: the effect in the metric's own unit beside the limit it was
 * judged against ("p50 25.7 ms vs 21.4 ms, +20 %, allowed +15 %"), and the decision rule in one plain
 * sentence. The verdict line on the terminal and every report lead with these; the statistical
 * detail (e-values, confidence sequences, thresholds) comes below them.
 */
import type { RunResult, StageResult } from '../canary/result.ts';
import {
  formatDifference,
  formatEValue,
  formatNumber,
  formatRelativeChange,
  formatValue,
  type ValueUnit,
} from '../core/format.ts';
import type { MetricVerdict, StageAssessment } from '../judge/verdict.ts';

/** The docs page that explains the statistics, relative to the repository root. */
export const STATISTICS_DOC = 'docs/statistics.md';
export const CONFIGURATION_DOC = 'docs/configuration.md';

export function unitOf(m: Pick<MetricVerdict, 'kind'>): ValueUnit {
  return m.kind === 'latency' ? 'ms' : m.kind === 'errors' ? 'ratio' : 'scalar';
}

/** `p50`, `p99.9`, `latency (geometric mean)`, `error ratio`, or a PromQL metric's name. */
export function metricLabel(m: Pick<MetricVerdict, 'kind' | 'quantile' | 'name'>): string {
  if (m.kind === 'latency')
    return m.quantile !== undefined ? `p${Number((m.quantile * 100).toPrecision(4))}` : 'latency (geometric mean)';
  if (m.kind === 'errors') return 'error ratio';
  return m.name;
}

/** The change the tolerance allows, signed by the direction that counts as a regression. */
export function allowedText(m: Pick<MetricVerdict, 'tolerance' | 'direction' | 'kind'>): string {
  const sign = m.direction === 'increase' ? '+' : m.direction === 'decrease' ? '−' : '±';
  const parts: string[] = [];
  if (m.tolerance.relative !== undefined) parts.push(`${sign}${formatNumber(m.tolerance.relative * 100)} %`);
  if (m.tolerance.absolute !== undefined)
    parts.push(`${sign}${formatDifference(m.tolerance.absolute, unitOf(m)).slice(1)}`);
  if (parts.length === 0) return 'no change';
  // withinTolerance() passes a metric when either margin holds: the larger one is the limit.
  return parts.length === 2 ? `${parts.join(' or ')}, whichever is larger` : parts[0]!;
}

/** Canary relative to baseline, from the point summaries (what a person compares), or null. */
export function relativeChange(m: Pick<MetricVerdict, 'baseline' | 'canary'>): number | null {
  if (m.baseline === null || m.canary === null || m.baseline === 0) return null;
  return m.canary / m.baseline - 1;
}

/** "p50 25.7 ms vs 21.4 ms, +20 %, allowed +15 %" (canary first, then baseline). */
export function effectText(m: MetricVerdict): string {
  const unit = unitOf(m);
  const label = metricLabel(m);
  if (m.canary === null || m.baseline === null)
    return `${label}: no data (${m.n.baseline} / ${m.n.canary} observations), allowed ${allowedText(m)}`;
  const change: string[] = [];
  if (unit === 'ratio') change.push(formatDifference(m.canary - m.baseline, unit));
  const rel = relativeChange(m);
  if (rel !== null) change.push(formatRelativeChange(rel));
  else if (unit !== 'ratio') change.push(formatDifference(m.canary - m.baseline, unit));
  return `${label} ${formatValue(m.canary, unit)} vs ${formatValue(m.baseline, unit)}, ${change.join(', ')}, allowed ${allowedText(m)}`;
}

/** The stage whose assessment decided the run (rollback / inconclusive), or the last judged one. */
export function decidingStage(result: RunResult): { stage: StageResult; assessment: StageAssessment } | null {
  const judged = result.stages
    .map((stage) => ({ stage, assessment: lastAssessment(stage) }))
    .filter((s): s is { stage: StageResult; assessment: StageAssessment } => s.assessment !== null);
  const decisive = judged.find((s) => s.stage.outcome === 'rollback' || s.stage.outcome === 'inconclusive');
  return decisive ?? judged[judged.length - 1] ?? null;
}

function lastAssessment(stage: StageResult): StageAssessment | null {
  for (let i = stage.intervals.length - 1; i >= 0; i--) {
    const a = stage.intervals[i]!.assessment;
    if (a) return a;
  }
  return null;
}

/**
 * The metrics a verdict line shows: those responsible for the decision, else (a promotion) the
 * one closest to its limit, so the reader sees how much room there was.
 */
export function headlineMetrics(a: StageAssessment): MetricVerdict[] {
  const responsible = a.metrics.filter((m) => a.responsible.includes(m.name));
  if (responsible.length) return responsible;
  const failing = a.metrics.filter((m) => m.classification !== 'pass');
  if (failing.length) return failing;
  const byChange = [...a.metrics].sort((x, y) => (relativeChange(y) ?? -Infinity) - (relativeChange(x) ?? -Infinity));
  return byChange.slice(0, 1);
}

/** The effects a verdict line leads with, joined by `; `; empty when no stage was judged. */
export function verdictEffects(result: RunResult): string {
  const d = decidingStage(result);
  if (!d) return '';
  return headlineMetrics(d.assessment).map(effectText).join('; ');
}

/** The decision rule of the judge that produced `a`, in one sentence. */
export function decisionRule(a: StageAssessment): string {
  const alpha = a.combined.alpha;
  const confidence = a.metrics[0]?.confidence ?? 1 - alpha;
  switch (a.judge ?? 'sequential') {
    case 'fixed':
      return `Rolls back when a one-shot test at the stage's end (Mann-Whitney for latency, Fisher for errors) rejects at level ${formatNumber(alpha)} a change beyond the allowed one; promotes when every metric's ${formatNumber(confidence * 100)} % interval stays within it.`;
    case 'kayenta':
      return `Scores the stage 0–100 from each metric's Mann-Whitney classification (Kayenta's NetflixACAJudge); at or above the pass threshold promotes, below the marginal threshold rolls back.`;
    default:
      return `Rolls back as soon as the combined evidence of a regression (the weighted average of the metrics' e-values) reaches ${formatEValue(a.combined.threshold)} (1/alpha, alpha ${formatNumber(alpha)}); promotes a stage only when every metric's ${formatNumber(confidence * 100)} % confidence sequence stays within its allowed change.`;
  }
}

/** Whether an interval covers "no change" (ratio 1, difference 0). */
function coversNoChange(m: MetricVerdict): boolean {
  if (!m.ci) return false;
  const none = m.scale === 'ratio' ? 1 : 0;
  const [lo, hi] = m.ci;
  return (lo === null || lo <= none) && (hi === null || hi >= none);
}

/**
 * A sentence that reconciles an interval with the verdict when they seem to disagree, or null:
 * a rollback whose confidence sequence still includes "no change" comes from the e-value.
 */
export function intervalNote(m: MetricVerdict, a: StageAssessment): string | null {
  if (m.classification === 'fail' && coversNoChange(m) && (a.judge ?? 'sequential') === 'sequential')
    return `the ${formatNumber(m.confidence * 100)} % confidence sequence of ${m.name} still includes no change: it must hold at every look, so it is wider than one test; the rollback comes from the combined e-value ${formatEValue(a.combined.eValue)} ≥ ${formatEValue(a.combined.threshold)}`;
  return null;
}

/**
 * The threshold a metric's own e-value is compared with (1 / its share of alpha), when it differs
 * from the combined threshold; explains why two thresholds appear.
 */
export function metricThreshold(m: MetricVerdict): number {
  return 1 / m.alpha;
}
