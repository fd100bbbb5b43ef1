/**
 * Fixed-horizon judge (`canary compare --judge fixed`): one look at all the data, classic tests.
 * Valid only when the sample size was fixed in advance and the data are looked at once; a gate that
 * repeats it every interval inflates false alarms (STATS.md, "Why sequential"). Kept for reports,
 * for comparison with other tools and for validating the sequential judge.
 *
 * Latency (samples or histograms): Hodges-Lehmann estimate of canary - baseline with its
 * distribution-free interval at confidence 1 - alpha, and the two-sided Mann-Whitney p-value (exact for
 * small samples without ties, else asymptotic with tie and continuity correction).
 * Errors (counts): canary - baseline error proportion with Newcombe's hybrid score interval, and
 * Fisher's exact two-sided p-value.
 *
 * Classification (types of verdict.ts), with `threshold` = the largest of the absolute tolerance and
 * relative tolerance x |baseline| (baseline median, or baseline error proportion):
 *  - fail: p < alpha and the estimate is a regression larger than the threshold;
 *  - pass: the interval rules out a regression larger than the threshold (non-inferiority);
 *  - inconclusive: neither; nodata: an arm has no observations (never a pass).
 */
import type { Direction, MetricClassification, Tolerance } from './verdict.ts';
import { hodgesLehmannBinned, hodgesLehmannSorted } from './stats/hodges-lehmann.ts';
import type { HodgesLehmannResult } from './stats/hodges-lehmann.ts';
import { mannWhitneyBinned, mannWhitneySorted, toSortedSample } from './stats/mann-whitney.ts';
import type { MannWhitneyResult, PValueMethod } from './stats/mann-whitney.ts';
import { fisherExact } from './stats/fisher.ts';
import { newcombeDifference } from './stats/newcombe.ts';

export interface FixedCompareOptions {
  /** Which change is a regression. */
  direction: Direction;
  /** Significance level; the interval has confidence 1 - alpha. Default 0.05. */
  alpha?: number;
  /** Change that does not count as a regression. Default none (any change counts). */
  tolerance?: Tolerance;
}

export type FixedClassification = Exclude<MetricClassification, 'continue'>;

export interface FixedComparison {
  classification: FixedClassification;
  test: 'mann-whitney' | 'fisher';
  /** canary - baseline, in the metric's unit (ms, or a proportion for errors). */
  scale: 'difference';
  estimate: number | null;
  /** Interval on `estimate`; a null end is unbounded (too few samples for the confidence). */
  ci: [number | null, number | null] | null;
  confidence: number;
  /** Two-sided p-value; absent without data. */
  pValue?: number;
  /** How the p-value was computed (Fisher's test is always exact). */
  method: PValueMethod | null;
  n: { baseline: number; canary: number };
  /** Point summary per arm: median (latency) or error proportion. */
  baseline: number | null;
  canary: number | null;
  /** Smallest regression that counts, in the metric's unit. */
  threshold: number | null;
  alpha: number;
  direction: Direction;
  tolerance: Tolerance;
  reason: string;
}

export interface ErrorCounts {
  errors: number;
  total: number;
}

/** Latency (or any continuous metric) from raw samples. */
export function fixedCompare(
  baseline: ArrayLike<number>,
  canary: ArrayLike<number>,
  options: FixedCompareOptions,
): FixedComparison {
  const settings = checkOptions(options);
  const b = toSortedSample(baseline, 'baseline');
  const c = toSortedSample(canary, 'canary');
  if (b.length === 0 || c.length === 0)
    return noData(settings, 'mann-whitney', { baseline: b.length, canary: c.length });
  const mw = mannWhitneySorted(c, b);
  const hl = hodgesLehmannSorted(c, b, { confidence: 1 - settings.alpha });
  return judgeShift(settings, mw, hl, sortedMedian(b), sortedMedian(c));
}

/**
 * Latency from two histograms over the same buckets (Istio telemetry). Each observation is placed at
 * its bucket's representative value `bucketValues[i]` (ascending; e.g. upper bounds with a finite last
 * value, or midpoints). Observations in one bucket are ties.
 */
export function fixedCompareBinned(
  bucketValues: ArrayLike<number>,
  baselineCounts: ArrayLike<number>,
  canaryCounts: ArrayLike<number>,
  options: FixedCompareOptions,
): FixedComparison {
  const settings = checkOptions(options);
  const nB = sum(baselineCounts);
  const nC = sum(canaryCounts);
  if (nB === 0 || nC === 0) return noData(settings, 'mann-whitney', { baseline: nB, canary: nC });
  const mw = mannWhitneyBinned(canaryCounts, baselineCounts);
  const hl = hodgesLehmannBinned(bucketValues, canaryCounts, baselineCounts, { confidence: 1 - settings.alpha });
  return judgeShift(
    settings,
    mw,
    hl,
    binnedMedian(bucketValues, baselineCounts),
    binnedMedian(bucketValues, canaryCounts),
  );
}

/** Error proportions from counts: Fisher's exact test and Newcombe's interval. */
export function fixedCompareCounts(
  baseline: ErrorCounts,
  canary: ErrorCounts,
  options: FixedCompareOptions,
): FixedComparison {
  const settings = checkOptions(options);
  checkCounts(baseline, 'baseline');
  checkCounts(canary, 'canary');
  const n = { baseline: baseline.total, canary: canary.total };
  if (baseline.total === 0 || canary.total === 0) return noData(settings, 'fisher', n);
  const { pValue } = fisherExact([
    [canary.errors, canary.total - canary.errors],
    [baseline.errors, baseline.total - baseline.errors],
  ]);
  const interval = newcombeDifference(canary.errors, canary.total, baseline.errors, baseline.total, 1 - settings.alpha);
  const pB = baseline.errors / baseline.total;
  const pC = canary.errors / canary.total;
  return classify(settings, {
    test: 'fisher',
    method: 'exact',
    estimate: interval.estimate,
    ci: [interval.lower, interval.upper],
    pValue,
    n,
    baseline: pB,
    canary: pC,
  });
}

interface Settings {
  direction: Direction;
  alpha: number;
  tolerance: Tolerance;
}

function checkOptions(options: FixedCompareOptions): Settings {
  const { direction } = options;
  if (direction !== 'increase' && direction !== 'decrease' && direction !== 'either') {
    throw new RangeError(`direction must be increase, decrease or either, got ${String(direction)}`);
  }
  const alpha = options.alpha ?? 0.05;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  const tolerance = options.tolerance ?? {};
  for (const key of ['relative', 'absolute'] as const) {
    const v = tolerance[key];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0))
      throw new RangeError(`tolerance.${key} must be a non-negative number, got ${v}`);
  }
  return { direction, alpha, tolerance };
}

function checkCounts(counts: ErrorCounts, arm: string): void {
  if (!(Number.isInteger(counts.total) && counts.total >= 0))
    throw new RangeError(`${arm}.total must be a non-negative integer, got ${counts.total}`);
  if (!(Number.isInteger(counts.errors) && counts.errors >= 0 && counts.errors <= counts.total)) {
    throw new RangeError(
      `${arm}.errors must be an integer in [0, ${arm}.total = ${counts.total}], got ${counts.errors}`,
    );
  }
}

function judgeShift(
  settings: Settings,
  mw: MannWhitneyResult,
  hl: HodgesLehmannResult,
  baseline: number,
  canary: number,
): FixedComparison {
  return classify(settings, {
    test: 'mann-whitney',
    method: mw.method,
    estimate: hl.estimate,
    ci: [finiteOrNull(hl.ci[0]), finiteOrNull(hl.ci[1])],
    pValue: mw.pValue,
    n: { baseline: mw.nY, canary: mw.nX },
    baseline,
    canary,
  });
}

interface Evidence {
  test: FixedComparison['test'];
  method: PValueMethod;
  estimate: number;
  ci: [number | null, number | null];
  pValue: number;
  n: { baseline: number; canary: number };
  baseline: number;
  canary: number;
}

function classify(settings: Settings, e: Evidence): FixedComparison {
  const { direction, alpha, tolerance } = settings;
  const threshold = Math.max(tolerance.absolute ?? 0, (tolerance.relative ?? 0) * Math.abs(e.baseline));
  const regression =
    direction === 'increase' ? e.estimate : direction === 'decrease' ? -e.estimate : Math.abs(e.estimate);
  const [lo, hi] = e.ci;
  const upperWithin = hi !== null && hi <= threshold;
  const lowerWithin = lo !== null && lo >= -threshold;
  const ruledOut =
    direction === 'increase' ? upperWithin : direction === 'decrease' ? lowerWithin : upperWithin && lowerWithin;
  const confidence = 1 - alpha;
  const summary =
    `canary - baseline = ${fmt(e.estimate)} (${fmt(confidence * 100)} % CI ${fmt(lo)} to ${fmt(hi)}), ` +
    `${e.test === 'fisher' ? 'Fisher' : 'Mann-Whitney'} p = ${fmt(e.pValue)}`;
  let classification: FixedClassification;
  let reason: string;
  if (e.pValue < alpha && regression > threshold) {
    classification = 'fail';
    reason = `${summary} < ${alpha}: a ${describe(direction)} beyond the tolerance ${fmt(threshold)}`;
  } else if (ruledOut) {
    classification = 'pass';
    reason = `${summary}: the interval rules out a ${describe(direction)} beyond the tolerance ${fmt(threshold)}`;
  } else {
    classification = 'inconclusive';
    reason = `${summary}: neither a significant ${describe(direction)} beyond ${fmt(threshold)} nor one ruled out`;
  }
  return {
    classification,
    test: e.test,
    scale: 'difference',
    estimate: e.estimate,
    ci: e.ci,
    confidence,
    pValue: e.pValue,
    method: e.method,
    n: e.n,
    baseline: e.baseline,
    canary: e.canary,
    threshold,
    alpha,
    direction,
    tolerance,
    reason,
  };
}

function noData(
  settings: Settings,
  test: FixedComparison['test'],
  n: { baseline: number; canary: number },
): FixedComparison {
  const empty = [n.baseline === 0 ? 'baseline' : null, n.canary === 0 ? 'canary' : null]
    .filter((s) => s !== null)
    .join(' and ');
  return {
    classification: 'nodata',
    test,
    scale: 'difference',
    estimate: null,
    ci: null,
    confidence: 1 - settings.alpha,
    method: null,
    n,
    baseline: null,
    canary: null,
    threshold: null,
    alpha: settings.alpha,
    direction: settings.direction,
    tolerance: settings.tolerance,
    reason: `no observations for the ${empty}: no data is never a pass`,
  };
}

function describe(direction: Direction): string {
  return direction === 'increase' ? 'increase' : direction === 'decrease' ? 'decrease' : 'change';
}

function fmt(v: number | null): string {
  if (v === null) return 'unbounded';
  return Number(v.toPrecision(4)).toString();
}

function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

function sortedMedian(s: Float64Array): number {
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h] : (s[h - 1] + s[h]) / 2;
}

function binnedMedian(values: ArrayLike<number>, counts: ArrayLike<number>): number {
  const total = sum(counts);
  // Lower and upper middle observations, each at its bucket's value.
  const at = (rank: number) => {
    let seen = 0;
    for (let i = 0; i < counts.length; i++) {
      seen += counts[i];
      if (seen >= rank) return values[i];
    }
    return values[values.length - 1];
  };
  return total % 2 === 1 ? at((total + 1) / 2) : (at(total / 2) + at(total / 2 + 1)) / 2;
}

function sum(counts: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < counts.length; i++) s += counts[i];
  return s;
}
