/**
 * The data a judgement compares: everything one arm (baseline or canary) has accumulated so far.
 * Built from telemetry `Measurement`s (binned latency, request and error counts, PromQL scalars per
 * interval) or from raw client-side samples. Failed or empty measurements are kept as `problems`
 * so a verdict can say why it has no data; they never count as observations.
 */
import type { LatencyHistogram, Measurement } from '../telemetry/measurement.ts';
import type { ArmData } from './stats/empirical-cdf.ts';
import { addHistogram } from '../telemetry/histogram.ts';

export interface ArmAccumulation {
  /** Requests (the denominator of the error ratio and the SRM counts). */
  requests: number;
  /**
   * Requests between scrapes read and the time they cover, summed over the measurements
   * (`WorkloadMeasurement.covered`); absent unless every measurement of the arm gave it.
   */
  covered?: { requests: number; ms: number };
  errors: number;
  /** All latency observations so far: a summed histogram or raw samples; null when there are none. */
  latency: ArmData | null;
  /** Per-interval series, oldest first (Kayenta mode judges series of per-interval values). */
  intervals: IntervalObservation[];
}

export interface IntervalObservation {
  start: number;
  end: number;
  requests: number;
  errors: number;
  latency: LatencyHistogram | null;
}

export interface ComparisonData {
  baseline: ArmAccumulation;
  canary: ArmAccumulation;
  /** Per promql metric, its per-interval values for each arm (nulls dropped). */
  scalars: Record<string, { baseline: number[]; canary: number[] }>;
  /** Why some measurements had no usable data (failed query, no traffic), for reasons. */
  problems: string[];
}

export interface Arms {
  baseline: string;
  canary: string;
}

function emptyArm(): ArmAccumulation {
  return { requests: 0, covered: { requests: 0, ms: 0 }, errors: 0, latency: null, intervals: [] };
}

/**
 * Folds measurements into per-arm totals. `scalarKeys` maps each promql metric name to the scalar
 * keys of its two arms (see `promqlScalarKey`).
 * Throws RangeError when one arm's histograms change bounds between intervals.
 */
export function accumulateMeasurements(
  measurements: readonly Measurement[],
  arms: Arms,
  scalarKeys: Record<string, { baseline: string; canary: string }> = {},
): ComparisonData {
  const data: ComparisonData = { baseline: emptyArm(), canary: emptyArm(), scalars: {}, problems: [] };
  const histograms: { baseline: LatencyHistogram | null; canary: LatencyHistogram | null } = {
    baseline: null,
    canary: null,
  };
  for (const name of Object.keys(scalarKeys)) data.scalars[name] = { baseline: [], canary: [] };
  for (const m of measurements) {
    const when = new Date(m.start).toISOString();
    if (m.status !== 'ok') {
      data.problems.push(`${when}: ${m.status}${m.reason ? ` (${m.reason})` : ''}`);
      if (m.status === 'error') continue;
    }
    for (const arm of ['baseline', 'canary'] as const) {
      const w = m.workloads[arms[arm]];
      if (!w) {
        if (m.status === 'ok') data.problems.push(`${when}: no measurement for workload ${arms[arm]}`);
        continue;
      }
      const acc = data[arm];
      acc.requests += w.requests;
      if (acc.covered && w.covered)
        acc.covered = { requests: acc.covered.requests + w.covered.requests, ms: acc.covered.ms + w.covered.ms };
      else delete acc.covered;
      acc.errors += w.errors;
      const total = w.latency.counts.reduce((s, c) => s + c, 0);
      if (total > 0) histograms[arm] = addHistogram(histograms[arm], w.latency, `workload ${arms[arm]} at ${when}`);
      acc.intervals.push({
        start: m.start,
        end: m.end,
        requests: w.requests,
        errors: w.errors,
        latency: total > 0 ? w.latency : null,
      });
    }
    for (const [name, keys] of Object.entries(scalarKeys)) {
      const b = m.scalars[keys.baseline];
      const c = m.scalars[keys.canary];
      if (typeof b === 'number' && Number.isFinite(b)) data.scalars[name].baseline.push(b);
      if (typeof c === 'number' && Number.isFinite(c)) data.scalars[name].canary.push(c);
    }
  }
  for (const arm of ['baseline', 'canary'] as const) {
    const h = histograms[arm];
    data[arm].latency = h ? { histogram: h } : null;
  }
  return data;
}

/** Raw client-side latency samples (ms) per arm, e.g. from `canary compare` or the load driver. */
export function comparisonFromSamples(baseline: readonly number[], canary: readonly number[]): ComparisonData {
  const arm = (samples: readonly number[]): ArmAccumulation => ({
    requests: samples.length,
    errors: 0,
    latency: samples.length > 0 ? { samples } : null,
    intervals: [],
  });
  return { baseline: arm(baseline), canary: arm(canary), scalars: {}, problems: [] };
}

/** Error and request counts per arm, e.g. from `canary compare --baseline-counts E/T`. */
export function comparisonFromCounts(
  baseline: { errors: number; requests: number },
  canary: { errors: number; requests: number },
): ComparisonData {
  const arm = (c: { errors: number; requests: number }): ArmAccumulation => ({
    requests: c.requests,
    errors: c.errors,
    latency: null,
    intervals: [],
  });
  return { baseline: arm(baseline), canary: arm(canary), scalars: {}, problems: [] };
}

/** Number of latency observations in one arm. */
export function latencyCount(data: ArmData | null): number {
  if (data === null) return 0;
  if ('samples' in data) return data.samples.length;
  return data.histogram.counts.reduce((s, c) => s + c, 0);
}
