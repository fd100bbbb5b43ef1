/**
 * Kayenta-compatible scorer (NetflixACAJudge's WeightedSumScorer plus the judge's summary rules).
 *
 * Rules (STATS.md section 6; spinnaker/kayenta kayenta-judge WeightedSumScorer.scala):
 *  - group score = Pass / (Pass + High + Low + NodataFailMetric) * 100; a group with none of these
 *    has no data and does not contribute;
 *  - groups combine by weight (percent); groups without a configured weight share what is left of 100
 *    equally;
 *  - the score is 0 when any critical metric is not Pass, or when half or more of the metrics have no
 *    data (Nodata or NodataFailMetric), or when there are no metrics at all;
 *  - Pass at or above `pass`, Marginal at or above `marginal`, else Fail.
 * Complexity: O(metrics x groups).
 * Throws: RangeError for a bad weight or thresholds out of order.
 * Example: kayentaScore([{ name: 'a', classification: 'Pass' }, { name: 'b', classification: 'High' }])
 *   -> { score: 50, classification: 'Fail', ... }
 */
import type { KayentaClassification } from './classifier.ts';

export interface KayentaScoredMetric {
  name: string;
  classification: KayentaClassification;
  /** Groups the metric belongs to. Default ['default']. */
  groups?: string[];
  critical?: boolean;
}

export interface KayentaScoreOptions {
  /** Weight per group in percent; unlisted groups share the rest of 100. */
  groupWeights?: Record<string, number>;
  /** Default { marginal: 75, pass: 95 }. */
  thresholds?: { marginal: number; pass: number };
}

export interface KayentaGroupScore {
  name: string;
  /** 0-100; 0 when the group has no data. */
  score: number;
  noData: boolean;
  weight: number;
  counts: Record<KayentaClassification, number>;
}

export type KayentaSummaryClassification = 'Pass' | 'Marginal' | 'Fail';

export interface KayentaScoreResult {
  score: number;
  classification: KayentaSummaryClassification;
  groups: KayentaGroupScore[];
  thresholds: { marginal: number; pass: number };
  reason: string;
}

export function kayentaScore(
  metrics: readonly KayentaScoredMetric[],
  options: KayentaScoreOptions = {},
): KayentaScoreResult {
  const thresholds = options.thresholds ?? { marginal: 75, pass: 95 };
  if (!(thresholds.marginal >= 0 && thresholds.marginal <= thresholds.pass && thresholds.pass <= 100)) {
    throw new RangeError(
      `thresholds must satisfy 0 <= marginal <= pass <= 100, got marginal ${thresholds.marginal}, pass ${thresholds.pass}`,
    );
  }
  const configured = options.groupWeights ?? {};
  for (const [group, w] of Object.entries(configured)) {
    if (!(Number.isFinite(w) && w >= 0))
      throw new RangeError(`groupWeights.${group} must be a non-negative number, got ${w}`);
  }

  const byGroup = new Map<string, KayentaClassification[]>();
  for (const m of metrics) {
    for (const g of m.groups ?? ['default']) {
      const list = byGroup.get(g) ?? [];
      list.push(m.classification);
      byGroup.set(g, list);
    }
  }
  const configuredSum = Object.values(configured).reduce((s, w) => s + w, 0);
  const unweighted = [...byGroup.keys()].filter((g) => !(g in configured));
  const sharedWeight = unweighted.length > 0 ? (100 - configuredSum) / unweighted.length : 0;

  const groups: KayentaGroupScore[] = [...byGroup.entries()].map(([name, labels]) => {
    const counts: Record<KayentaClassification, number> = { Pass: 0, High: 0, Low: 0, Nodata: 0, NodataFailMetric: 0 };
    for (const l of labels) counts[l]++;
    const judged = counts.Pass + counts.High + counts.Low + counts.NodataFailMetric;
    const noData = judged === 0;
    return {
      name,
      score: noData ? 0 : (counts.Pass / judged) * 100,
      noData,
      weight: configured[name] ?? sharedWeight,
      counts,
    };
  });
  const weighted = groups.filter((g) => !g.noData).reduce((s, g) => s + (g.score * g.weight) / 100, 0);

  const criticalFailures = metrics.filter((m) => m.critical && m.classification !== 'Pass').map((m) => m.name);
  const withoutData = metrics.filter(
    (m) => m.classification === 'Nodata' || m.classification === 'NodataFailMetric',
  ).length;
  let score = weighted;
  let reason: string;
  if (metrics.length === 0) {
    score = 0;
    reason = 'no metrics were judged';
  } else if (criticalFailures.length > 0) {
    score = 0;
    reason = `critical metric(s) not Pass: ${criticalFailures.join(', ')}`;
  } else if (withoutData * 2 >= metrics.length) {
    score = 0;
    reason = `${withoutData} of ${metrics.length} metrics have no data`;
  } else {
    reason = `weighted score ${Number(score.toPrecision(4))} over ${groups.length} group(s)`;
  }
  const classification: KayentaSummaryClassification =
    score >= thresholds.pass ? 'Pass' : score >= thresholds.marginal ? 'Marginal' : 'Fail';
  return {
    score,
    classification,
    groups,
    thresholds,
    reason: `${classification}: ${reason} (pass ${thresholds.pass}, marginal ${thresholds.marginal})`,
  };
}
