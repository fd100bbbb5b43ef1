/**
 * Evaluate (pure): one metric's configuration and the data accumulated so far → a `MetricVerdict`
 * with its evidence, using the sequential tests of `stats/` (STATS.md §1-§4).
 *
 * - `fail`: the metric's own e-value (one-sided in its direction, two-sided for `either`) reached
 *   1 / alpha, where alpha is this metric's share of the stage's level (assess passes it in).
 * - `pass`: the confidence sequence rules out a regression beyond the tolerance (non-inferiority:
 *   within the larger of the relative and absolute margins) and both arms have `minSamples`.
 * - `nodata`: an arm has nothing to compare. Never a pass.
 * - `continue` / `inconclusive` (when `final`): neither yet.
 * Plug-in-variance tests (mSPRT) report no e-value before `minSamples` per arm (STATS.md §2).
 */
import type { ErrorsMetricConfig, LatencyMetricConfig, MetricConfig, PromqlMetricConfig } from '../config/analysis.ts';
import { type ComparisonData, latencyCount } from './comparison-data.ts';
import { errorEProcess } from './stats/beta-binomial-e-process.ts';
import { type ArmData, type TwoArmCdf, twoArmCdf } from './stats/empirical-cdf.ts';
import { type MeanSummary, differenceVariance, mixingVariance, msprt, sampleSummary } from './stats/msprt.ts';
import { proportionConfidenceSequence } from './stats/proportion-confidence-sequence.ts';
import { quantileEProcessOnCdf } from './stats/quantile-e-process.ts';
import { rankScoreEProcess } from './stats/rank-score-e-process.ts';
import { latencyBatches, latencyWithoutWorstInterval } from './latency-batches.ts';
import type { Direction, EffectScale, MetricClassification, MetricVerdict, TestName, Tolerance } from './verdict.ts';

export interface EvaluationContext {
  /** Level at which this metric alone is a regression (its share of the stage's alpha). */
  alpha: number;
  /** Level of the confidence sequences used for non-inferiority (the stage's alpha). */
  confidenceAlpha: number;
  /** Observations per arm before a metric may pass, and before a plug-in-variance test may act. */
  minSamples: number;
  /** Observations per arm expected by the stage's end; tunes the mixtures (t_opt, v*, prior k). */
  expectedSamplesPerArm: number;
  /** No more data will come (the stage is at its maximum duration). */
  final: boolean;
}

type Interval = [number | null, number | null];

const cdfCache = new WeakMap<ArmData, WeakMap<ArmData, TwoArmCdf>>();

/** One sort per look shared by every quantile metric on the same data. */
function cachedCdf(baseline: ArmData, canary: ArmData): TwoArmCdf {
  let inner = cdfCache.get(baseline);
  if (!inner) {
    inner = new WeakMap();
    cdfCache.set(baseline, inner);
  }
  let cdf = inner.get(canary);
  if (!cdf) {
    cdf = twoArmCdf(baseline, canary);
    inner.set(canary, cdf);
  }
  return cdf;
}

export function evaluateMetric(metric: MetricConfig, data: ComparisonData, context: EvaluationContext): MetricVerdict {
  switch (metric.kind) {
    case 'latency':
      if (metric.test === 'distribution') return jsonSafe(evaluateLatencyDistribution(metric, data, context));
      return jsonSafe(
        metric.quantile !== undefined
          ? evaluateLatencyQuantile(metric, metric.quantile, data, context)
          : evaluateLogMean(metric, data, context),
      );
    case 'errors':
      return jsonSafe(evaluateErrors(metric, data, context));
    case 'promql':
      return jsonSafe(evaluatePromql(metric, data, context));
  }
}

/** Verdicts are JSON: an e-value beyond the double range is capped, any other non-finite number is null. */
function jsonSafe(v: MetricVerdict): MetricVerdict {
  const finite = (x: number | null): number | null => (x === null || !Number.isFinite(x) ? null : x);
  const out: MetricVerdict = {
    ...v,
    baseline: finite(v.baseline),
    canary: finite(v.canary),
    estimate: finite(v.estimate),
    ci: v.ci ? [finite(v.ci[0]), finite(v.ci[1])] : null,
  };
  if (out.eValue !== undefined) out.eValue = Number.isNaN(out.eValue) ? 1 : Math.min(out.eValue, Number.MAX_VALUE);
  if (out.pValue !== undefined && Number.isNaN(out.pValue)) out.pValue = 1;
  return out;
}

function base(metric: MetricConfig, test: TestName, scale: EffectScale, context: EvaluationContext): MetricVerdict {
  return {
    name: metric.name,
    kind: metric.kind,
    classification: 'nodata',
    test,
    direction: metric.direction,
    baseline: null,
    canary: null,
    scale,
    estimate: null,
    ci: null,
    confidence: 1 - context.confidenceAlpha,
    n: { baseline: 0, canary: 0 },
    tolerance: { ...(metric.tolerance ?? {}) },
    alpha: context.alpha,
    critical: metric.critical,
    weight: metric.weight,
    ...(metric.group !== undefined ? { group: metric.group } : {}),
    reason: '',
  };
}

function noData(verdict: MetricVerdict, data: ComparisonData, what: string): MetricVerdict {
  const missing = [verdict.n.baseline === 0 ? 'baseline' : null, verdict.n.canary === 0 ? 'canary' : null]
    .filter(Boolean)
    .join(' and ');
  const why = data.problems.length > 0 ? `; ${data.problems[data.problems.length - 1]}` : '';
  return { ...verdict, classification: 'nodata', reason: `no ${what} for the ${missing}${why}` };
}

/** Non-inferiority: every regression end of the intervals is within the larger margin. */
function withinTolerance(
  direction: Direction,
  tolerance: Tolerance,
  ratio: Interval | null,
  difference: Interval | null,
): boolean {
  const check = (side: 'up' | 'down'): boolean => {
    const relativeOk =
      tolerance.relative !== undefined &&
      ratio !== null &&
      (side === 'up'
        ? ratio[1] !== null && ratio[1] <= 1 + tolerance.relative
        : ratio[0] !== null && ratio[0] >= 1 - tolerance.relative);
    const absoluteOk =
      tolerance.absolute !== undefined &&
      difference !== null &&
      (side === 'up'
        ? difference[1] !== null && difference[1] <= tolerance.absolute
        : difference[0] !== null && difference[0] >= -tolerance.absolute);
    return relativeOk || absoluteOk;
  };
  if (direction === 'increase') return check('up');
  if (direction === 'decrease') return check('down');
  return check('up') && check('down');
}

function classify(
  eValue: number | undefined,
  alpha: number,
  nonInferior: boolean,
  enoughSamples: boolean,
  final: boolean,
): MetricClassification {
  if (eValue !== undefined && eValue >= 1 / alpha) return 'fail';
  if (nonInferior && enoughSamples) return 'pass';
  return final ? 'inconclusive' : 'continue';
}

function fmt(x: number | null, digits = 3): string {
  if (x === null || !Number.isFinite(x)) return x === null ? '∞' : String(x);
  if (x !== 0 && (Math.abs(x) >= 1e5 || Math.abs(x) < 1e-3)) return x.toExponential(2);
  return Number(x.toPrecision(digits)).toString();
}

function toleranceText(t: Tolerance, unit: string): string {
  const parts: string[] = [];
  if (t.relative !== undefined) parts.push(`${fmt(t.relative * 100)} %`);
  if (t.absolute !== undefined) parts.push(`${fmt(t.absolute)}${unit}`);
  return parts.join(' or ');
}

function reasonFor(v: MetricVerdict, label: string, unit: string, enoughSamples: boolean, minSamples: number): string {
  const change =
    v.estimate === null
      ? 'change n/a'
      : v.scale === 'ratio'
        ? `×${fmt(v.estimate)}`
        : `${v.estimate >= 0 ? '+' : ''}${fmt(v.estimate)}${unit}`;
  const interval = v.ci ? `[${v.ci[0] === null ? '-∞' : fmt(v.ci[0])}, ${fmt(v.ci[1])}]` : 'n/a';
  const values = `canary ${fmt(v.canary)}${unit} vs baseline ${fmt(v.baseline)}${unit} (${change}, ${fmt(v.confidence * 100)} % CS ${interval})`;
  const evidence =
    v.eValue !== undefined ? `e-value ${fmt(v.eValue)}` : `no e-value before ${minSamples} observations per arm`;
  const threshold = fmt(1 / v.alpha);
  switch (v.classification) {
    case 'fail':
      return `${label} regressed: ${values}; ${evidence} >= ${threshold}`;
    case 'pass':
      return `${label} within tolerance ${toleranceText(v.tolerance, unit)}: ${values}`;
    default: {
      const pending = !enoughSamples
        ? `fewer than ${minSamples} observations per arm`
        : `interval not yet within tolerance ${toleranceText(v.tolerance, unit)}`;
      const prefix =
        v.classification === 'inconclusive' ? `${label} undecided at the stage's end` : `${label} undecided`;
      const shown = v.eValue !== undefined ? `${evidence} < ${threshold}` : evidence;
      return `${prefix}: ${values}; ${shown}; ${pending}`;
    }
  }
}

function evaluateLatencyQuantile(
  metric: LatencyMetricConfig,
  quantile: number,
  data: ComparisonData,
  context: EvaluationContext,
): MetricVerdict {
  const tolerance = metric.tolerance ?? {};
  const scale: EffectScale = tolerance.relative !== undefined ? 'ratio' : 'difference';
  let v: MetricVerdict = { ...base(metric, 'quantile-e-process', scale, context), quantile };
  const label = `p${fmt(quantile * 100)} latency`;
  v.n = { baseline: latencyCount(data.baseline.latency), canary: latencyCount(data.canary.latency) };
  if (v.n.baseline === 0 || v.n.canary === 0) return noData(v, data, 'latency observations');
  const options = {
    quantile,
    tuningSamples: context.expectedSamplesPerArm,
    tuningAlpha: context.alpha,
    alpha: context.confidenceAlpha,
    direction: metric.direction,
  };
  const evidence = quantileEProcessOnCdf(cachedCdf(data.baseline.latency!, data.canary.latency!), options);
  const guarded = burstGuard(evidence.eValue, data, options);
  const [bLo, bHi] = evidence.baseline.interval;
  const [cLo, cHi] = evidence.canary.interval;
  const difference: Interval = [
    cLo !== null && bHi !== null ? cLo - bHi : null,
    cHi !== null && bLo !== null ? cHi - bLo : null,
  ];
  const estimateDiff =
    evidence.canary.estimate !== null && evidence.baseline.estimate !== null
      ? evidence.canary.estimate - evidence.baseline.estimate
      : null;
  const enough = v.n.baseline >= context.minSamples && v.n.canary >= context.minSamples;
  v = {
    ...v,
    baseline: evidence.baseline.estimate,
    canary: evidence.canary.estimate,
    estimate: scale === 'ratio' ? evidence.ratio : estimateDiff,
    ci: scale === 'ratio' ? evidence.ratioInterval : difference,
    eValue: guarded.eValue,
    pValue: Math.min(1, 1 / guarded.eValue),
  };
  v.classification = classify(
    guarded.eValue,
    context.alpha,
    withinTolerance(metric.direction, tolerance, evidence.ratioInterval, difference),
    enough,
    context.final,
  );
  v.reason = reasonFor(v, label, ' ms', enough, context.minSamples) + guarded.note;
  return v;
}

/**
 * The quantile tests treat requests as independent, but a descheduled process slows one
 * interval's requests at once (measured: a healthy canary rolled back on p90 in the 5th look of
 * `npm start` beside a CPU-burning neighbour, the canary's p90 ×1.26 in that one interval and ×1.0
 * before). So when the interval most against the canary stands out from the others (its z-score
 * `BURST_Z` or more above their median, latency-batches.ts), a quantile's rollback evidence is the
 * smaller of its e-value on every interval and its e-value without that interval: a steady
 * regression moves every interval alike and is not touched, a one-interval burst is not evidence.
 * Any value at most an e-process's is still one, at every look and whatever chose it, so the level
 * stays alpha. Computed only when the full e-value exceeds 1; with one interval, or without
 * intervals (two files, no time order), the e-value is unchanged. The confidence sequences (and so
 * promotion) are the full data's.
 */
/**
 * How far (in z) an interval must stand out above the median of the others to be taken for a burst.
 * Under a steady change the intervals' z-scores differ by noise alone: the largest of 20 standard
 * normals exceeds their median by 3 in about 3 % of looks, and then the guard only delays.
 */
const BURST_Z = 3;

function burstGuard(
  full: number,
  data: ComparisonData,
  options: Parameters<typeof quantileEProcessOnCdf>[1],
): { eValue: number; note: string } {
  if (!(full > 1)) return { eValue: full, note: '' };
  const rest = latencyWithoutWorstInterval(data, options.quantile, options.direction ?? 'either');
  if (!rest || rest.standsOut < BURST_Z) return { eValue: full, note: '' };
  const left = latencyCount(rest.baseline) > 0 && latencyCount(rest.canary) > 0;
  const without = left ? quantileEProcessOnCdf(twoArmCdf(rest.baseline, rest.canary), options).eValue : 1;
  if (!(without < full)) return { eValue: full, note: '' };
  return {
    eValue: without,
    note: ` (e-value ${fmt(full)} with every interval, ${fmt(without)} without the one most against the canary: a burst in one interval is not evidence)`,
  };
}

/**
 * The whole distribution, one-sided (stats/rank-score-e-process.ts): rollback evidence only. It
 * passes once both arms have `minSamples` and it has not failed; whether a stage may promote is
 * for the metrics with a tolerance (its configuration refuses a tolerance, and a stage of only
 * distribution tests). Effect: the z-scores of the location and upper-tail scores.
 */
function evaluateLatencyDistribution(
  metric: LatencyMetricConfig,
  data: ComparisonData,
  context: EvaluationContext,
): MetricVerdict {
  let v = base(metric, 'rank-score-e-process', 'difference', context);
  v.n = { baseline: latencyCount(data.baseline.latency), canary: latencyCount(data.canary.latency) };
  if (v.n.baseline === 0 || v.n.canary === 0) return noData(v, data, 'latency observations');
  const timed = data.baseline.intervals.length > 0 || data.canary.intervals.length > 0;
  const evidence = rankScoreEProcess(latencyBatches(data), {
    tuningSamples: context.expectedSamplesPerArm,
    tuningAlpha: context.alpha,
    direction: metric.direction,
    dispersion: timed,
  });
  const enough = v.n.baseline >= context.minSamples && v.n.canary >= context.minSamples;
  const location = evidence.families.find((f) => f.family === 'location')!;
  const tail = evidence.families.find((f) => f.family === 'upper-tail')!;
  v = {
    ...v,
    ...(enough ? { eValue: evidence.eValue, pValue: evidence.pValue } : {}),
  };
  const threshold = fmt(1 / v.alpha);
  const scores = `location z ${fmt(location.z)}, upper-tail z ${fmt(tail.z)} over ${evidence.batches} interval(s)${evidence.dispersion > 1 ? `, variance x${fmt(evidence.dispersion)} for bursts (effective sample / ${fmt(evidence.dispersion)})` : ''}`;
  if (!enough) {
    v.classification = context.final ? 'inconclusive' : 'continue';
    v.reason = `latency distribution undecided: ${scores}; no e-value before ${context.minSamples} observations per arm`;
  } else if (evidence.eValue >= 1 / v.alpha) {
    v.classification = 'fail';
    v.reason = `latency distribution regressed (canary slower): ${scores}; e-value ${fmt(evidence.eValue)} >= ${threshold}`;
  } else {
    v.classification = 'pass';
    v.reason = `latency distribution: no regression shown (${scores}; e-value ${fmt(evidence.eValue)} < ${threshold})`;
  }
  return v;
}

/** Summary of log(latency): raw samples directly; histograms at each bucket's geometric midpoint. */
function logSummary(data: ArmData): MeanSummary {
  // Latencies are clamped at 1 µs so that a 0 ms reading does not make the log infinite.
  const log = (x: number): number => Math.log(Math.max(x, 1e-3));
  if ('samples' in data) return sampleSummary(data.samples, log);
  const { bounds, counts } = data.histogram;
  let n = 0;
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] === 0) continue;
    const upper = Number.isFinite(bounds[i]) ? bounds[i] : bounds[i - 1];
    const lower = i === 0 ? upper / 2 : bounds[i - 1];
    const mid = 0.5 * (log(lower) + log(upper));
    n += counts[i];
    sum += counts[i] * mid;
    sumSq += counts[i] * mid * mid;
  }
  const mean = sum / n;
  return { n, mean, variance: n > 1 ? Math.max(0, (sumSq - n * mean * mean) / (n - 1)) : NaN };
}

function msprtEvidence(a: MeanSummary, b: MeanSummary, context: EvaluationContext, direction: Direction) {
  const v = differenceVariance(a, b);
  if (!(v > 0)) return null;
  const planned = (a.variance + b.variance) / context.expectedSamplesPerArm;
  const tau2 = mixingVariance(planned > 0 ? planned : v, context.alpha, direction !== 'either');
  const r = msprt({ difference: b.mean - a.mean, variance: v, mixingVariance: tau2 }, context.confidenceAlpha);
  const eValue = direction === 'increase' ? r.lambdaIncrease : direction === 'decrease' ? r.lambdaDecrease : r.lambda;
  return { eValue, interval: r.interval, difference: b.mean - a.mean };
}

function evaluateLogMean(metric: LatencyMetricConfig, data: ComparisonData, context: EvaluationContext): MetricVerdict {
  let v = base(metric, 'msprt-log-mean', 'ratio', context);
  v.n = { baseline: latencyCount(data.baseline.latency), canary: latencyCount(data.canary.latency) };
  if (v.n.baseline === 0 || v.n.canary === 0) return noData(v, data, 'latency observations');
  const a = logSummary(data.baseline.latency!);
  const b = logSummary(data.canary.latency!);
  const enough = v.n.baseline >= context.minSamples && v.n.canary >= context.minSamples;
  const evidence = a.n > 1 && b.n > 1 ? msprtEvidence(a, b, context, metric.direction) : null;
  const gA = Math.exp(a.mean);
  const ratio: Interval | null = evidence ? [Math.exp(evidence.interval[0]), Math.exp(evidence.interval[1])] : null;
  const difference: Interval | null = ratio ? [gA * (ratio[0]! - 1), gA * (ratio[1]! - 1)] : null;
  v = {
    ...v,
    baseline: gA,
    canary: Math.exp(b.mean),
    estimate: Math.exp(b.mean - a.mean),
    ci: ratio,
    ...(enough && evidence ? { eValue: evidence.eValue, pValue: Math.min(1, 1 / evidence.eValue) } : {}),
  };
  v.classification = classify(
    v.eValue,
    context.alpha,
    withinTolerance(metric.direction, metric.tolerance ?? {}, ratio, difference),
    enough,
    context.final,
  );
  v.reason = reasonFor(v, 'latency (geometric mean)', ' ms', enough, context.minSamples);
  return v;
}

function evaluateErrors(metric: ErrorsMetricConfig, data: ComparisonData, context: EvaluationContext): MetricVerdict {
  const scale: EffectScale = metric.tolerance.relative !== undefined ? 'ratio' : 'difference';
  let v = base(metric, 'beta-binomial-e-process', scale, context);
  const a = data.baseline;
  const b = data.canary;
  v.n = { baseline: a.requests, canary: b.requests };
  if (a.requests === 0 || b.requests === 0) return noData(v, data, 'requests');
  for (const [arm, acc] of [
    ['baseline', a],
    ['canary', b],
  ] as const) {
    if (acc.errors > acc.requests) throw new RangeError(`${arm}: ${acc.errors} errors in ${acc.requests} requests`);
  }
  const expectedErrors = metric.expectedErrorRate * 2 * context.expectedSamplesPerArm;
  // w is the canary's observed share of requests: conditional on the request counts, each error is in
  // the canary with probability w under equal error rates. The closed form assumes w constant over
  // the stage, which holds for baseline vs canary at equal weights (a drifting split is what SRM catches).
  const evidence = errorEProcess(
    { baseline: a.errors, canary: b.errors },
    {
      canaryShare: b.requests / (a.requests + b.requests),
      concentration: Math.max(1, expectedErrors / 8),
      alpha: context.confidenceAlpha,
    },
  );
  const eValue =
    metric.direction === 'increase'
      ? evidence.eValueIncrease
      : metric.direction === 'decrease'
        ? evidence.eValueDecrease
        : evidence.eValue;
  // Absolute margins need each arm's own error ratio: one confidence sequence per arm at alpha/2.
  const concentration = Math.max(2, context.expectedSamplesPerArm / 8);
  const prior = { a: concentration * metric.expectedErrorRate, b: concentration * (1 - metric.expectedErrorRate) };
  const [bLo, bHi] = proportionConfidenceSequence(a.errors, a.requests, prior, context.confidenceAlpha / 2);
  const [cLo, cHi] = proportionConfidenceSequence(b.errors, b.requests, prior, context.confidenceAlpha / 2);
  const difference: Interval = [cLo - bHi, cHi - bLo];
  const pA = a.errors / a.requests;
  const pB = b.errors / b.requests;
  const enough = a.requests >= context.minSamples && b.requests >= context.minSamples;
  v = {
    ...v,
    baseline: pA,
    canary: pB,
    estimate: scale === 'ratio' ? (pA > 0 ? pB / pA : null) : pB - pA,
    ci: scale === 'ratio' ? evidence.rateRatioInterval : difference,
    eValue,
    pValue: Math.min(1, 1 / eValue),
  };
  v.classification = classify(
    eValue,
    context.alpha,
    withinTolerance(metric.direction, metric.tolerance, evidence.rateRatioInterval, difference),
    enough,
    context.final,
  );
  v.reason = reasonFor(v, 'error ratio', '', enough, context.minSamples);
  return v;
}

function evaluatePromql(metric: PromqlMetricConfig, data: ComparisonData, context: EvaluationContext): MetricVerdict {
  let v = base(metric, 'msprt-mean', 'difference', context);
  const series = data.scalars[metric.name] ?? { baseline: [], canary: [] };
  v.n = { baseline: series.baseline.length, canary: series.canary.length };
  if (v.n.baseline === 0 || v.n.canary === 0) return noData(v, data, `values of ${metric.name}`);
  const a = sampleSummary(series.baseline);
  const b = sampleSummary(series.canary);
  const enough = v.n.baseline >= context.minSamples && v.n.canary >= context.minSamples;
  const evidence = a.n > 1 && b.n > 1 ? msprtEvidence(a, b, context, metric.direction) : null;
  const difference: Interval | null = evidence ? evidence.interval : null;
  const ratio: Interval | null =
    difference && a.mean > 0 ? [1 + difference[0]! / a.mean, 1 + difference[1]! / a.mean] : null;
  v = {
    ...v,
    scale: metric.tolerance.relative !== undefined ? 'ratio' : 'difference',
    baseline: a.mean,
    canary: b.mean,
    estimate: metric.tolerance.relative !== undefined ? (a.mean !== 0 ? b.mean / a.mean : null) : b.mean - a.mean,
    ci: metric.tolerance.relative !== undefined ? ratio : difference,
    ...(enough && evidence ? { eValue: evidence.eValue, pValue: Math.min(1, 1 / evidence.eValue) } : {}),
  };
  v.classification = classify(
    v.eValue,
    context.alpha,
    withinTolerance(metric.direction, metric.tolerance, ratio, difference),
    enough,
    context.final,
  );
  v.reason = reasonFor(v, metric.name, '', enough, context.minSamples);
  return v;
}
