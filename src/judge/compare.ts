/**
 * `canary compare` as a typed function: two samples (or two error counts) judged once, with the
 * sequential judge (its tests run once on all the data, no minimum duration, no sample-ratio check
 * since a file has no planned split), the fixed-horizon judge (`fixed.ts`), or Kayenta's classifier.
 */
import { parseAnalysisConfig, type AnalysisConfigInput } from '../config/analysis.ts';
import { UsageError } from '../core/errors.ts';
import { assessStage } from './assess.ts';
import { type ComparisonData, comparisonFromCounts, comparisonFromSamples } from './comparison-data.ts';
import { type FixedComparison, fixedCompare, fixedCompareCounts } from './fixed.ts';
import { kayentaClassify } from './kayenta/index.ts';
import type { Direction, EffectScale, MetricClassification, MetricKind, TestName, Tolerance } from './verdict.ts';

export type CompareJudge = 'sequential' | 'fixed' | 'kayenta';
export type CompareMetric = 'latency' | 'errors';
export type CompareVerdict = 'pass' | 'fail' | 'inconclusive';

export interface ErrorTally {
  errors: number;
  total: number;
}

export type CompareInput =
  | { metric: CompareMetric; samples: { baseline: number[]; canary: number[] } }
  | { metric: 'errors'; counts: { baseline: ErrorTally; canary: ErrorTally } };

export interface CompareOptions {
  judge: CompareJudge;
  direction: Direction;
  /** Default 0.05. */
  alpha?: number;
  /** Non-inferiority margin; default relative 0.1 for latency, relative 0.5 for errors. */
  tolerance?: Tolerance;
}

export interface CompareMetricResult {
  name: string;
  kind: MetricKind;
  test: TestName;
  classification: MetricClassification;
  scale: EffectScale;
  estimate: number | null;
  ci: [number | null, number | null] | null;
  confidence: number;
  pValue?: number;
  eValue?: number;
  n: { baseline: number; canary: number };
  reason: string;
}

export interface CompareResult {
  verdict: CompareVerdict;
  judge: CompareJudge;
  reason: string;
  metrics: CompareMetricResult[];
}

export function compare(input: CompareInput, options: CompareOptions): CompareResult {
  const alpha = options.alpha ?? 0.05;
  const tolerance = options.tolerance ?? (input.metric === 'latency' ? { relative: 0.1 } : { relative: 0.5 });
  const counts = 'counts' in input ? input.counts : input.metric === 'errors' ? asCounts(input.samples) : null;
  switch (options.judge) {
    case 'sequential':
      return sequential(input, counts, { ...options, alpha, tolerance });
    case 'fixed':
      return fixed(input, counts, { ...options, alpha, tolerance });
    case 'kayenta':
      return kayenta(input, options.direction);
  }
}

/** Per-request outcomes (every value 0 or 1) become counts; other series stay values. */
function asCounts(samples: {
  baseline: number[];
  canary: number[];
}): { baseline: ErrorTally; canary: ErrorTally } | null {
  const binary = (xs: number[]) => xs.every((x) => x === 0 || x === 1);
  if (!binary(samples.baseline) || !binary(samples.canary)) return null;
  const tally = (xs: number[]): ErrorTally => ({ errors: xs.reduce((s, x) => s + x, 0), total: xs.length });
  return { baseline: tally(samples.baseline), canary: tally(samples.canary) };
}

type Settings = Required<CompareOptions>;

function sequential(
  input: CompareInput,
  counts: { baseline: ErrorTally; canary: ErrorTally } | null,
  options: Settings,
): CompareResult {
  let data: ComparisonData;
  let metrics: AnalysisConfigInput['metrics'];
  const common = { direction: options.direction, tolerance: options.tolerance };
  if (input.metric === 'latency' && 'samples' in input) {
    data = comparisonFromSamples(input.samples.baseline, input.samples.canary);
    // The quantiles report their intervals (and decide promotion); the distribution test, weighted as
    // much as they are together, sees a shift spread over every quantile (STATS.md §7).
    metrics = [
      ...[0.5, 0.9, 0.99].map((quantile) => ({
        name: `latency-p${Math.round(quantile * 100)}`,
        kind: 'latency' as const,
        quantile,
        ...common,
      })),
      { name: 'latency-distribution', kind: 'latency', test: 'distribution', direction: options.direction, weight: 3 },
    ];
  } else if (counts) {
    data = comparisonFromCounts(
      { errors: counts.baseline.errors, requests: counts.baseline.total },
      { errors: counts.canary.errors, requests: counts.canary.total },
    );
    // One look at fixed data: the prior is centred on the baseline's ratio (smoothed), so that the
    // concentration (expected errors / 8) suits error ratios far from the 1 % default.
    metrics = [
      {
        name: 'errors',
        kind: 'errors',
        ...common,
        expectedErrorRate: Math.min(0.5, Math.max(1e-4, (counts.baseline.errors + 1) / (counts.baseline.total + 2))),
      },
    ];
  } else if ('samples' in input) {
    // A series of per-interval values (e.g. error ratios): compared as a mean, like a PromQL scalar.
    data = {
      ...comparisonFromSamples([], []),
      scalars: { errors: { baseline: input.samples.baseline, canary: input.samples.canary } },
    };
    metrics = [{ name: 'errors', kind: 'promql', queries: { baseline: 'file', canary: 'file' }, ...common }];
  } else {
    throw new UsageError('--metric', 'internal: no data to compare');
  }
  const n = Math.max(
    1,
    data.baseline.requests,
    data.canary.requests,
    ...Object.values(data.scalars).map((s) => Math.max(s.baseline.length, s.canary.length)),
  );
  const config = parseAnalysisConfig(
    { alpha: options.alpha, metrics, expectedSamplesPerArm: n, stage: { minDuration: 0.001, maxDuration: 0.001 } },
    'compare options',
  );
  const stage = assessStage({ config, data, elapsedMs: 1, checkSampleRatio: false });
  const verdict: CompareVerdict =
    stage.decision === 'promote' ? 'pass' : stage.decision === 'rollback' ? 'fail' : 'inconclusive';
  const undecided = stage.metrics.filter((m) => m.classification !== 'pass');
  const reason =
    verdict === 'inconclusive' && undecided.every((m) => m.classification !== 'nodata') && stage.srm === null
      ? `no decision on all the data: ${undecided.map((m) => m.name).join(', ')} neither shown to regress nor ruled out beyond the tolerance` +
        (Math.min(
          stage.samples.baseline,
          stage.samples.canary,
          ...stage.metrics.map((m) => Math.min(m.n.baseline, m.n.canary)),
        ) < config.minSamples
          ? ` (fewer than ${config.minSamples} observations per arm)`
          : '')
      : stage.reason;
  return {
    verdict,
    judge: 'sequential',
    reason,
    metrics: stage.metrics.map((m) => ({
      name: m.name,
      kind: input.metric === 'errors' ? 'errors' : m.kind,
      test: m.test,
      classification: m.classification,
      scale: m.scale,
      estimate: m.estimate,
      ci: m.ci,
      confidence: m.confidence,
      ...(m.pValue !== undefined ? { pValue: m.pValue } : {}),
      ...(m.eValue !== undefined ? { eValue: m.eValue } : {}),
      n: m.n,
      reason: m.reason,
    })),
  };
}

function fixed(
  input: CompareInput,
  counts: { baseline: ErrorTally; canary: ErrorTally } | null,
  options: Settings,
): CompareResult {
  const fixedOptions = { direction: options.direction, alpha: options.alpha, tolerance: options.tolerance };
  let result: FixedComparison;
  if (counts) result = fixedCompareCounts(counts.baseline, counts.canary, fixedOptions);
  else if ('samples' in input) result = fixedCompare(input.samples.baseline, input.samples.canary, fixedOptions);
  else throw new UsageError('--metric', 'internal: no data to compare');
  const verdict: CompareVerdict =
    result.classification === 'pass' ? 'pass' : result.classification === 'fail' ? 'fail' : 'inconclusive';
  return {
    verdict,
    judge: 'fixed',
    reason: result.reason,
    metrics: [
      {
        name: input.metric,
        kind: input.metric,
        test: result.test,
        classification: result.classification,
        scale: result.scale,
        estimate: result.estimate,
        ci: result.ci,
        confidence: result.confidence,
        ...(result.pValue !== undefined ? { pValue: result.pValue } : {}),
        n: result.n,
        reason: result.reason,
      },
    ],
  };
}

function kayenta(input: CompareInput, direction: Direction): CompareResult {
  if (!('samples' in input)) {
    throw new UsageError(
      '--judge',
      'kayenta compares two series of values; give --baseline-file and --canary-file, not counts',
    );
  }
  const r = kayentaClassify(input.samples.baseline, input.samples.canary, { direction });
  const classification: MetricClassification =
    r.classification === 'Pass' ? 'pass' : r.classification === 'Nodata' ? 'nodata' : 'fail';
  const verdict: CompareVerdict =
    classification === 'pass' ? 'pass' : classification === 'fail' ? 'fail' : 'inconclusive';
  return {
    verdict,
    judge: 'kayenta',
    reason: r.reason,
    metrics: [
      {
        name: input.metric,
        kind: input.metric,
        test: 'kayenta',
        classification,
        scale: 'difference',
        estimate: r.interval?.estimate ?? null,
        ci: r.interval ? [r.interval.lower, r.interval.upper] : null,
        confidence: r.interval?.confidence ?? 0.98,
        n: r.n,
        reason: r.reason,
      },
    ],
  };
}
