/**
 * Stage assessment by the fixed-horizon judge (`judge: fixed`): one look at the stage's end, each
 * metric tested at alpha / K (Bonferroni over K metrics) so the stage is at level alpha:
 * Mann-Whitney with the Hodges-Lehmann interval for latency (histograms or raw samples; a shift of
 * the whole distribution, whatever quantile the metric names), Fisher with Newcombe's interval for
 * errors, Mann-Whitney on per-interval values for PromQL metrics. Before the end it only waits: a
 * fixed-horizon test repeated at every look inflates false alarms (STATS.md, "Why sequential").
 */
import type { AnalysisConfig, MetricConfig } from '../config/analysis.ts';
import type { ComparisonData } from './comparison-data.ts';
import { type FixedComparison, fixedCompare, fixedCompareBinned, fixedCompareCounts } from './fixed.ts';
import { bucketRepresentatives } from './stage-series.ts';
import type { MetricVerdict, StageAssessment } from './verdict.ts';

export interface ModeStageContext {
  config: AnalysisConfig;
  data: ComparisonData;
  elapsedMs: number;
  minDurationMs: number;
  maxDurationMs: number;
}

export function pendingVerdict(
  metric: MetricConfig,
  test: MetricVerdict['test'],
  alpha: number,
  confidence: number,
  reason: string,
  data: ComparisonData,
): MetricVerdict {
  return {
    name: metric.name,
    kind: metric.kind,
    classification: 'continue',
    test,
    ...(metric.kind === 'latency' && metric.quantile !== undefined ? { quantile: metric.quantile } : {}),
    direction: metric.direction,
    baseline: null,
    canary: null,
    scale: 'difference',
    estimate: null,
    ci: null,
    confidence,
    n: { baseline: data.baseline.requests, canary: data.canary.requests },
    tolerance: { ...metric.tolerance },
    alpha,
    critical: metric.critical,
    weight: metric.weight,
    ...(metric.group !== undefined ? { group: metric.group } : {}),
    reason,
  };
}

function compareMetric(metric: MetricConfig, data: ComparisonData, alpha: number): FixedComparison {
  const options = { direction: metric.direction, alpha, tolerance: metric.tolerance };
  switch (metric.kind) {
    case 'latency': {
      const a = data.baseline.latency;
      const b = data.canary.latency;
      if (a && b && 'histogram' in a && 'histogram' in b) {
        return fixedCompareBinned(
          bucketRepresentatives(a.histogram.bounds),
          a.histogram.counts,
          b.histogram.counts,
          options,
        );
      }
      const samples = (x: typeof a): ArrayLike<number> => (x && 'samples' in x ? x.samples : []);
      return fixedCompare(samples(a), samples(b), options);
    }
    case 'errors':
      return fixedCompareCounts(
        { errors: data.baseline.errors, total: data.baseline.requests },
        { errors: data.canary.errors, total: data.canary.requests },
        options,
      );
    case 'promql': {
      const s = data.scalars[metric.name] ?? { baseline: [], canary: [] };
      return fixedCompare(s.baseline, s.canary, options);
    }
  }
}

/** What every assessment of a one-shot judge (fixed, kayenta) shares: no e-values to combine. */
export function oneShotCommon<J extends 'fixed' | 'kayenta'>(ctx: ModeStageContext, judge: J) {
  return {
    judge,
    combined: { eValue: 1, threshold: 1 / ctx.config.alpha, alpha: ctx.config.alpha },
    elapsedMs: ctx.elapsedMs,
    minDurationMs: ctx.minDurationMs,
    maxDurationMs: ctx.maxDurationMs,
  };
}

export function assessFixedHorizonStage(ctx: ModeStageContext): Omit<StageAssessment, 'srm' | 'samples'> {
  const { config, data } = ctx;
  const alpha = config.alpha / config.metrics.length;
  const common = oneShotCommon(ctx, 'fixed');
  if (ctx.elapsedMs < ctx.maxDurationMs) {
    const reason = `fixed-horizon judge decides once, at the stage's end (${Math.round(ctx.maxDurationMs / 1000)} s)`;
    const metrics = config.metrics.map((m) =>
      pendingVerdict(m, m.kind === 'errors' ? 'fisher' : 'mann-whitney', alpha, 1 - alpha, reason, data),
    );
    return { ...common, decision: 'continue', reason, responsible: [], metrics };
  }
  const metrics: MetricVerdict[] = config.metrics.map((metric) => {
    const r = compareMetric(metric, data, alpha);
    return {
      ...pendingVerdict(metric, r.test, alpha, r.confidence, r.reason, data),
      classification: r.classification,
      baseline: r.baseline,
      canary: r.canary,
      estimate: r.estimate,
      ci: r.ci,
      ...(r.pValue !== undefined ? { pValue: r.pValue } : {}),
      n: r.n,
    };
  });
  const failed = metrics.filter((m) => m.classification === 'fail');
  if (failed.length > 0) {
    return {
      ...common,
      decision: 'rollback',
      reason: `regression in ${failed.map((m) => m.name).join(', ')} (fixed horizon, alpha ${config.alpha} over ${metrics.length} metrics)`,
      responsible: failed.map((m) => m.name),
      metrics,
    };
  }
  const noData = metrics.filter((m) => m.classification === 'nodata');
  if (noData.length > 0) {
    return {
      ...common,
      decision: 'inconclusive',
      reason: `no data for ${noData.map((m) => m.name).join(', ')}: ${noData[0].reason}`,
      responsible: noData.map((m) => m.name),
      metrics,
    };
  }
  const enough = data.baseline.requests >= config.minSamples && data.canary.requests >= config.minSamples;
  const notPassed = metrics.filter((m) => m.classification !== 'pass');
  if (notPassed.length === 0 && enough) {
    return {
      ...common,
      decision: 'promote',
      reason: `every metric within tolerance (fixed horizon): ${metrics.map((m) => m.name).join(', ')}`,
      responsible: [],
      metrics,
    };
  }
  const why = !enough
    ? `fewer than ${config.minSamples} requests per arm`
    : `not shown within tolerance: ${notPassed.map((m) => m.name).join(', ')}`;
  return {
    ...common,
    decision: 'inconclusive',
    reason: `no decision at the stage's end: ${why}`,
    responsible: notPassed.map((m) => m.name),
    metrics,
  };
}
