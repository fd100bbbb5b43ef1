/**
 * Assess (pure): the analysis configuration and the data accumulated in a stage → one
 * `StageAssessment` (STATS.md §4), for the default sequential judge.
 *
 * In order:
 * 1. Sample ratio mismatch (multinomial e-value on requests per arm, at `srmAlpha`): inconclusive,
 *    the comparison cannot be trusted. Never a pass.
 * 2. Roll back when the weighted average of the metrics' current e-values reaches 1/alpha; the
 *    metrics responsible are those with E_k >= (sum w / w_k) / alpha, else the largest contributors.
 *    A metric without a usable e-value (no data, plug-in test before `minSamples`) counts as E = 1,
 *    which keeps the weights fixed and the average an e-value.
 * 3. Inconclusive when a metric has no data once the minimum duration has passed.
 * 4. Promote when every metric passes (non-inferiority) and the stage has run its minimum duration
 *    with at least `minSamples` requests per arm.
 * 5. Inconclusive at the maximum duration; otherwise continue.
 * With `judge: fixed` or `judge: kayenta` the stage is judged once, at its maximum duration, by
 * `assess-fixed-horizon.ts` or `assess-kayenta.ts`; the sample-ratio check applies to every judge.
 */
import type { AnalysisConfig } from '../config/analysis.ts';
import type { ComparisonData } from './comparison-data.ts';
import { assessFixedHorizonStage } from './assess-fixed-horizon.ts';
import { assessKayentaStage } from './assess-kayenta.ts';
import { type EvaluationContext, evaluateMetric } from './evaluate.ts';
import { averageEValues, responsibleEValues } from './stats/e-value-average.ts';
import { sampleRatioEValue } from './stats/sample-ratio-mismatch.ts';
import type { MetricVerdict, SampleRatioCheck, StageAssessment } from './verdict.ts';

export interface StageInput {
  config: AnalysisConfig;
  data: ComparisonData;
  /** Time since the stage started, in ms. */
  elapsedMs: number;
  /** Planned canary share of baseline + canary requests; default 0.5 (equal traffic). */
  expectedCanaryShare?: number;
  /** Overrides `config.expectedSamplesPerArm`, e.g. rate × the stage's maximum duration. */
  expectedSamplesPerArm?: number;
  /** Overrides the config's stage durations (ms), e.g. per stage of a plan. */
  minDurationMs?: number;
  maxDurationMs?: number;
  /** Check the sample ratio (default true); off when there is no planned split, e.g. two files. */
  checkSampleRatio?: boolean;
}

export function assessStage(input: StageInput): StageAssessment {
  const { config, data, elapsedMs } = input;
  const minDurationMs = input.minDurationMs ?? config.stage.minDuration;
  const maxDurationMs = input.maxDurationMs ?? config.stage.maxDuration;
  const expectedSamplesPerArm = input.expectedSamplesPerArm ?? config.expectedSamplesPerArm;
  const final = elapsedMs >= maxDurationMs;
  const weightSum = config.metrics.reduce((s, m) => s + m.weight, 0);

  const samples = { baseline: data.baseline.requests, canary: data.canary.requests, minimum: config.minSamples };
  if (config.judge !== 'sequential') {
    const ctx = { config, data, elapsedMs, minDurationMs, maxDurationMs };
    const mode = config.judge === 'fixed' ? assessFixedHorizonStage(ctx) : assessKayentaStage(ctx);
    const srmCheck =
      input.checkSampleRatio === false
        ? null
        : sampleRatio(data, input.expectedCanaryShare ?? 0.5, config.srmAlpha, expectedSamplesPerArm);
    if (srmCheck?.mismatch) {
      return {
        ...mode,
        srm: srmCheck,
        samples,
        decision: 'inconclusive',
        reason: sampleRatioReason(srmCheck),
        responsible: [],
      };
    }
    return { ...mode, srm: srmCheck, samples };
  }

  const metrics: MetricVerdict[] = config.metrics.map((metric) => {
    const context: EvaluationContext = {
      alpha: (config.alpha * metric.weight) / weightSum,
      confidenceAlpha: config.alpha,
      minSamples: config.minSamples,
      expectedSamplesPerArm,
      final,
    };
    return evaluateMetric(metric, data, context);
  });

  const weighted = metrics.map((m) => ({ eValue: m.eValue ?? 1, weight: m.weight }));
  const combinedE = averageEValues(weighted);
  const combined = { eValue: combinedE, threshold: 1 / config.alpha, alpha: config.alpha };
  const srm =
    input.checkSampleRatio === false
      ? null
      : sampleRatio(data, input.expectedCanaryShare ?? 0.5, config.srmAlpha, expectedSamplesPerArm);
  const assessment = (
    decision: StageAssessment['decision'],
    reason: string,
    responsible: string[],
    verdicts = metrics,
  ): StageAssessment => ({
    decision,
    judge: 'sequential',
    reason,
    responsible,
    metrics: verdicts,
    srm,
    combined,
    elapsedMs,
    minDurationMs,
    maxDurationMs,
    samples,
  });

  if (srm?.mismatch) return assessment('inconclusive', sampleRatioReason(srm), []);

  if (combinedE >= combined.threshold) {
    let indices = responsibleEValues(weighted, config.alpha);
    if (indices.length === 0) {
      indices = weighted
        .map((w, i) => ({ i, contribution: w.eValue * w.weight }))
        .filter((c) => weighted[c.i].eValue > 1)
        .sort((x, y) => y.contribution - x.contribution)
        .map((c) => c.i);
    }
    const names = indices.map((i) => metrics[i].name);
    const verdicts = metrics.map((m, i) =>
      indices.includes(i) && m.classification !== 'fail' ? { ...m, classification: 'fail' as const } : m,
    );
    return assessment(
      'rollback',
      `regression in ${names.join(', ')}: combined e-value ${formatE(combinedE)} >= ${formatE(combined.threshold)} (alpha ${config.alpha})`,
      names,
      verdicts,
    );
  }

  const noData = metrics.filter((m) => m.classification === 'nodata');
  if (noData.length > 0 && (elapsedMs >= minDurationMs || final)) {
    return assessment(
      'inconclusive',
      `no data for ${noData.map((m) => m.name).join(', ')}: ${noData[0].reason}`,
      noData.map((m) => m.name),
    );
  }

  const notPassed = metrics.filter((m) => m.classification !== 'pass');
  const enoughSamples = samples.baseline >= config.minSamples && samples.canary >= config.minSamples;
  if (notPassed.length === 0 && elapsedMs >= minDurationMs && enoughSamples) {
    return assessment(
      'promote',
      `every metric within tolerance (${metrics.map((m) => m.name).join(', ')}); combined e-value ${formatE(combinedE)}`,
      [],
    );
  }

  const waitingFor: string[] = [];
  if (elapsedMs < minDurationMs) waitingFor.push(`minimum duration ${Math.round(minDurationMs / 1000)} s`);
  if (!enoughSamples) waitingFor.push(`${config.minSamples} requests per arm`);
  if (notPassed.length > 0) waitingFor.push(`non-inferiority of ${notPassed.map((m) => m.name).join(', ')}`);
  if (final) {
    return assessment(
      'inconclusive',
      `maximum duration ${Math.round(maxDurationMs / 1000)} s reached without a decision; missing ${waitingFor.join(', ')}`,
      notPassed.map((m) => m.name),
    );
  }
  return assessment(
    'continue',
    `waiting for ${waitingFor.join(', ')}`,
    notPassed.map((m) => m.name),
  );
}

function sampleRatio(
  data: ComparisonData,
  canaryShare: number,
  alpha: number,
  expectedSamplesPerArm: number,
): SampleRatioCheck | null {
  const counts = { baseline: data.baseline.requests, canary: data.canary.requests };
  // An arm with no requests at all is the no-data case (with its grace until the minimum duration).
  if (counts.baseline === 0 || counts.canary === 0) return null;
  // Counts that cover different times (Prometheus scrapes each track at its own phase): the
  // requests between scrapes read are expected in proportion to the planned share times the time
  // they cover, as two Poisson streams' counts given their total.
  // Until each arm has requests between two of its scrapes (a track whose new pod Prometheus has
  // not scraped twice yet), there is nothing to weigh: no check yet, not the raw counts.
  const b = data.baseline.covered;
  const c = data.canary.covered;
  const weighed = b !== undefined && c !== undefined;
  if (weighed) {
    if (b.ms <= 0 || c.ms <= 0 || b.requests === 0 || c.requests === 0) return null;
    counts.baseline = b.requests;
    counts.canary = c.requests;
  }
  const share = weighed ? (canaryShare * c!.ms) / (canaryShare * c!.ms + (1 - canaryShare) * b!.ms) : canaryShare;
  // Prior concentration: the expected request count at the stage's end / 8 (STATS.md §1).
  const evidence = sampleRatioEValue(
    [counts.baseline, counts.canary],
    [1 - share, share],
    Math.max(1, (2 * expectedSamplesPerArm) / 8),
  );
  return {
    counts,
    expectedCanaryShare: share,
    ...(weighed ? { plannedCanaryShare: canaryShare, coveredMs: { baseline: b!.ms, canary: c!.ms } } : {}),
    eValue: Math.min(evidence.eValue, Number.MAX_VALUE),
    pValue: evidence.pValue,
    alpha,
    mismatch: evidence.pValue < alpha,
  };
}

function sampleRatioReason(srm: SampleRatioCheck): string {
  const share = srm.counts.canary / (srm.counts.canary + srm.counts.baseline);
  const planned =
    srm.plannedCanaryShare === undefined
      ? `planned ${percent(srm.expectedCanaryShare)}`
      : `expected ${percent(srm.expectedCanaryShare)} (planned ${percent(srm.plannedCanaryShare)}, over the time each arm's scrapes cover)`;
  return `sample ratio mismatch: canary got ${percent(share)} of requests, ${planned} (p = ${srm.pValue.toExponential(2)} < ${srm.alpha}); the comparison cannot be trusted`;
}

const percent = (share: number) => `${(share * 100).toFixed(1)} %`;

function formatE(x: number): string {
  return x >= 1e5 || (x > 0 && x < 1e-3) ? x.toExponential(2) : Number(x.toPrecision(3)).toString();
}
