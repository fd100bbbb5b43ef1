/**
 * Stage assessment in Kayenta-compatible mode (`judge: kayenta`): at the stage's end, each metric's
 * per-interval series (a latency quantile or mean per interval, the error ratio per interval, PromQL
 * values) is classified by `kayentaClassify` (Pass / High / Low / Nodata / NodataFailMetric) and the
 * classifications are scored by `kayentaScore` (weighted groups, marginal and pass thresholds).
 * Pass → promote, Fail → rollback, Marginal → inconclusive. One harness rule overrides Kayenta: a
 * metric without data makes the stage inconclusive (Kayenta may still pass it).
 */
import type { MetricConfig } from '../config/analysis.ts';
import type { ComparisonData } from './comparison-data.ts';
import { type ModeStageContext, oneShotCommon, pendingVerdict } from './assess-fixed-horizon.ts';
import { kayentaClassify, kayentaScore } from './kayenta/index.ts';
import { errorRatioSeries, latencySeries } from './stage-series.ts';
import type { MetricClassification, MetricVerdict, StageAssessment } from './verdict.ts';

function series(metric: MetricConfig, data: ComparisonData): { baseline: number[]; canary: number[] } {
  switch (metric.kind) {
    case 'latency':
      return {
        baseline: latencySeries(data.baseline, metric.quantile),
        canary: latencySeries(data.canary, metric.quantile),
      };
    case 'errors':
      return { baseline: errorRatioSeries(data.baseline), canary: errorRatioSeries(data.canary) };
    case 'promql':
      return data.scalars[metric.name] ?? { baseline: [], canary: [] };
  }
}

const mean = (xs: number[]): number | null => (xs.length > 0 ? xs.reduce((s, x) => s + x, 0) / xs.length : null);

export function assessKayentaStage(ctx: ModeStageContext): Omit<StageAssessment, 'srm' | 'samples'> {
  const { config, data } = ctx;
  const k = config.kayenta;
  const common = oneShotCommon(ctx, 'kayenta');
  const alpha = 1 - k.confidence;
  if (ctx.elapsedMs < ctx.maxDurationMs) {
    const reason = `Kayenta judge scores once, at the stage's end (${Math.round(ctx.maxDurationMs / 1000)} s)`;
    return {
      ...common,
      decision: 'continue',
      reason,
      responsible: [],
      metrics: config.metrics.map((m) => pendingVerdict(m, 'kayenta', alpha, k.confidence, reason, data)),
    };
  }
  const classified = config.metrics.map((metric) => {
    const s = series(metric, data);
    const r = kayentaClassify(s.baseline, s.canary, {
      direction: metric.direction,
      tolerance: k.tolerance,
      confidence: k.confidence,
      nanStrategy: k.nanStrategy,
      allowedIncrease: metric.effectSize?.allowedIncrease ?? 1,
      allowedDecrease: metric.effectSize?.allowedDecrease ?? 1,
      critical: metric.critical,
      mustHaveData: metric.mustHaveData,
    });
    const classification: MetricClassification =
      r.classification === 'Pass'
        ? 'pass'
        : r.classification === 'High' || r.classification === 'Low'
          ? 'fail'
          : 'nodata';
    const verdict: MetricVerdict = {
      ...pendingVerdict(metric, 'kayenta', alpha, k.confidence, r.reason, data),
      classification,
      baseline: mean(s.baseline),
      canary: mean(s.canary),
      estimate: r.interval?.estimate ?? null,
      ci: r.interval ? [r.interval.lower, r.interval.upper] : null,
      n: r.n,
    };
    return { metric, result: r, verdict };
  });
  const score = kayentaScore(
    classified.map((c) => ({
      name: c.metric.name,
      classification: c.result.classification,
      groups: [c.metric.group ?? 'default'],
      critical: c.metric.critical,
    })),
    { groupWeights: k.groupWeights, thresholds: { marginal: k.marginalThreshold, pass: k.passThreshold } },
  );
  const metrics = classified.map((c) => c.verdict);
  const stageScore = {
    value: score.score,
    classification: score.classification,
    marginalThreshold: k.marginalThreshold,
    passThreshold: k.passThreshold,
    groups: score.groups.map((g) => ({ name: g.name, score: g.score, weight: g.weight, noData: g.noData })),
  };
  const noData = metrics.filter((m) => m.classification === 'nodata');
  const failed = metrics.filter((m) => m.classification === 'fail');
  if (score.classification === 'Fail' && (failed.length > 0 || noData.length === 0)) {
    const names = failed.map((m) => m.name);
    return {
      ...common,
      score: stageScore,
      decision: 'rollback',
      reason: `Kayenta score ${score.score.toFixed(1)} below marginal ${k.marginalThreshold}: ${score.reason}`,
      responsible: names,
      metrics,
    };
  }
  if (noData.length > 0) {
    return {
      ...common,
      score: stageScore,
      decision: 'inconclusive',
      reason: `no data for ${noData.map((m) => m.name).join(', ')} (Kayenta score ${score.score.toFixed(1)})`,
      responsible: noData.map((m) => m.name),
      metrics,
    };
  }
  if (score.classification === 'Marginal') {
    return {
      ...common,
      score: stageScore,
      decision: 'inconclusive',
      reason: `Kayenta score ${score.score.toFixed(1)} is marginal (pass at ${k.passThreshold})`,
      responsible: failed.map((m) => m.name),
      metrics,
    };
  }
  return {
    ...common,
    score: stageScore,
    decision: 'promote',
    reason: `Kayenta score ${score.score.toFixed(1)} >= ${k.passThreshold}`,
    responsible: [],
    metrics,
  };
}
