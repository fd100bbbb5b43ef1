/**
 * What the judge hands to the canary state machine and to the reports: one `MetricVerdict` per
 * metric and one `StageAssessment` per look at a stage. Plain JSON-serializable data: no class
 * instances, no `NaN` or `Infinity` (an unbounded or unknown number is `null`).
 */

export type MetricKind = 'latency' | 'errors' | 'promql';

/** Which change counts as a regression: `increase` (latency, errors), `decrease`, or `either`. */
export type Direction = 'increase' | 'decrease' | 'either';

/**
 * - `pass`: non-inferiority shown (the interval rules out a regression beyond the tolerance).
 * - `fail`: a regression is shown (e-value at or above its threshold, or a fixed-horizon rejection).
 * - `continue`: neither yet; more data may decide.
 * - `inconclusive`: no more data will come (stage at its maximum duration) and neither was shown,
 *   or the comparison cannot be trusted.
 * - `nodata`: one arm has no observations, or the source failed. Never a pass.
 */
export type MetricClassification = 'pass' | 'fail' | 'continue' | 'inconclusive' | 'nodata';

/** The test behind a verdict, so a report can say which evidence it shows. */
export type TestName =
  | 'quantile-e-process'
  | 'rank-score-e-process'
  | 'msprt-log-mean'
  | 'msprt-mean'
  | 'beta-binomial-e-process'
  | 'mann-whitney'
  | 'fisher'
  | 'kayenta';

/**
 * How `estimate` and `ci` compare the canary with the baseline:
 * - `ratio`: canary / baseline (1 = no change), e.g. a quantile ratio or an error-rate ratio;
 * - `difference`: canary - baseline in the metric's unit (ms, or a proportion for errors).
 */
export type EffectScale = 'ratio' | 'difference';

/** What counts as an acceptable change; a regression must exceed every tolerance given to count. */
export interface Tolerance {
  /** Relative change allowed, e.g. 0.1 = the canary may be up to 10 % worse. */
  relative?: number;
  /** Absolute change allowed in the metric's unit (ms for latency, a proportion for errors). */
  absolute?: number;
}

export interface MetricVerdict {
  name: string;
  kind: MetricKind;
  classification: MetricClassification;
  test: TestName;
  /** Quantile judged (latency), e.g. 0.99. */
  quantile?: number;
  direction: Direction;
  /** Point summary per arm in the metric's unit (latency ms, error ratio, scalar); null when unknown. */
  baseline: number | null;
  canary: number | null;
  scale: EffectScale;
  /** Point estimate of the change on `scale`; null when there is no data. */
  estimate: number | null;
  /** Confidence interval (fixed) or confidence sequence (sequential) on `scale`; a null end is unbounded. */
  ci: [number | null, number | null] | null;
  /** Coverage of `ci`, e.g. 0.95. */
  confidence: number;
  /** Current e-value (sequential tests). */
  eValue?: number;
  /** p-value: always-valid (sequential, `min_t 1/E_t`) or fixed-horizon. */
  pValue?: number;
  n: { baseline: number; canary: number };
  tolerance: Tolerance;
  /** Level at which this metric alone would be called a regression. */
  alpha: number;
  critical: boolean;
  weight: number;
  group?: string;
  /** One line, for people: why this classification. */
  reason: string;
}

export type StageDecision = 'promote' | 'rollback' | 'continue' | 'inconclusive';

/** Multinomial sample-ratio-mismatch check on request counts per arm (STATS.md §1). */
export interface SampleRatioCheck {
  counts: { baseline: number; canary: number };
  /**
   * The canary share the check expects: the planned share (0.5 for baseline vs canary), weighed by
   * the time each arm's counts cover when those differ (`coveredMs`).
   */
  expectedCanaryShare: number;
  /** The planned share, when the expected one was weighed by `coveredMs`. */
  plannedCanaryShare?: number;
  /** The time, in ms, each arm's counts cover, when they differ (Prometheus' scrape phases). */
  coveredMs?: { baseline: number; canary: number };
  eValue: number;
  /** Always-valid p-value, 1/E capped at 1. */
  pValue: number;
  alpha: number;
  mismatch: boolean;
}

/** The evidence for rolling back: the weighted average of the metrics' current e-values (sequential
 * judge; the fixed and Kayenta judges report e-value 1, no sequential evidence). */
export interface CombinedEvidence {
  eValue: number;
  /** 1 / alpha. */
  threshold: number;
  alpha: number;
}

/** Kayenta mode's stage score (NetflixACAJudge semantics). */
export interface KayentaStageScore {
  /** 0-100. */
  value: number;
  classification: 'Pass' | 'Marginal' | 'Fail';
  marginalThreshold: number;
  passThreshold: number;
  groups: { name: string; score: number; weight: number; noData: boolean }[];
}

export interface StageAssessment {
  decision: StageDecision;
  /** Which judge produced this (absent means sequential). Fixed and Kayenta decide once, at the stage's end. */
  judge?: 'sequential' | 'fixed' | 'kayenta';
  /** Kayenta mode only. */
  score?: KayentaStageScore;
  /** One line, for people: why this decision, naming the metric(s) responsible. */
  reason: string;
  /** Metrics that drove a rollback or kept the stage from promoting / made it inconclusive. */
  responsible: string[];
  metrics: MetricVerdict[];
  srm: SampleRatioCheck | null;
  combined: CombinedEvidence;
  /** Time the stage has run and its bounds, in milliseconds. */
  elapsedMs: number;
  minDurationMs: number;
  maxDurationMs: number;
  /** Requests per arm seen so far and the minimum needed before promotion. */
  samples: { baseline: number; canary: number; minimum: number };
}
