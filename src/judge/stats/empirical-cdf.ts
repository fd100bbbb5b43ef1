/**
 * The empirical CDF of two arms on one grid, from raw samples or from binned histograms, as the
 * quantile e-process needs it: k(x) = #{obs <= x} at every grid point, and for binned data the range
 * k can take between two grid points (the observations inside a bucket are not located).
 *
 * Grid "gaps": gap j lies between grid points j-1 and j (gap 0 below the first point, gap G above the
 * last). For raw samples k is constant on a gap, k = k[j-1]; for histograms it is only known to lie
 * in [k[j-1], k[j]] (k[-1] = 0, k[G] = N), which is what a conservative test must assume.
 *
 * Complexity: raw samples O(n log n) (one sort per arm); histograms O(buckets).
 * Throws: RangeError when the two histograms have different bounds, a count is negative or not an
 * integer, or a sample is not a finite number.
 */
import type { LatencyHistogram } from '../../telemetry/measurement.ts';
import { histogramQuantile } from '../../telemetry/histogram.ts';

/** One arm's data: raw samples, or a non-cumulative histogram (counts per (bounds[i-1], bounds[i]]). */
export type ArmData = { samples: ArrayLike<number> } | { histogram: LatencyHistogram };

export interface ArmCdf {
  n: number;
  /** k at each grid point. */
  atOrBelow: Float64Array;
  /** Sorted raw samples (raw data only). */
  sorted?: Float64Array;
  histogram?: LatencyHistogram;
}

export interface TwoArmCdf {
  /** Finite grid points, increasing. */
  grid: Float64Array;
  binned: boolean;
  baseline: ArmCdf;
  canary: ArmCdf;
}

/** k range on gap j, j = 0..grid.length. */
export function gapRange(cdf: TwoArmCdf, arm: ArmCdf, gap: number): [number, number] {
  const below = gap === 0 ? 0 : arm.atOrBelow[gap - 1];
  if (!cdf.binned) return [below, below];
  const above = gap === cdf.grid.length ? arm.n : arm.atOrBelow[gap];
  return [below, above];
}

export function sortedSamples(values: ArrayLike<number>, label: string): Float64Array {
  const out = Float64Array.from(values as ArrayLike<number>);
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i])) throw new RangeError(`${label}[${i}]: expected a finite number, got ${out[i]}`);
  }
  return out.sort();
}

export function histogramTotal(h: LatencyHistogram, label: string): number {
  if (h.bounds.length !== h.counts.length) {
    throw new RangeError(`${label}: ${h.bounds.length} bounds but ${h.counts.length} counts`);
  }
  let total = 0;
  for (let i = 0; i < h.counts.length; i++) {
    const c = h.counts[i];
    if (!Number.isInteger(c) || c < 0)
      throw new RangeError(`${label}.counts[${i}]: expected a non-negative integer, got ${c}`);
    if (i > 0 && !(h.bounds[i] > h.bounds[i - 1]))
      throw new RangeError(`${label}.bounds must increase (at index ${i})`);
    total += c;
  }
  return total;
}

export function twoArmCdf(baseline: ArmData, canary: ArmData): TwoArmCdf {
  if ('samples' in baseline && 'samples' in canary) {
    const a = sortedSamples(baseline.samples, 'baseline');
    const b = sortedSamples(canary.samples, 'canary');
    const merged: number[] = [];
    let i = 0;
    let j = 0;
    const kA: number[] = [];
    const kB: number[] = [];
    while (i < a.length || j < b.length) {
      const x = j >= b.length || (i < a.length && a[i] <= b[j]) ? a[i] : b[j];
      while (i < a.length && a[i] === x) i++;
      while (j < b.length && b[j] === x) j++;
      merged.push(x);
      kA.push(i);
      kB.push(j);
    }
    return {
      grid: Float64Array.from(merged),
      binned: false,
      baseline: { n: a.length, atOrBelow: Float64Array.from(kA), sorted: a },
      canary: { n: b.length, atOrBelow: Float64Array.from(kB), sorted: b },
    };
  }
  if ('histogram' in baseline && 'histogram' in canary) {
    const ha = baseline.histogram;
    const hb = canary.histogram;
    const nA = histogramTotal(ha, 'baseline histogram');
    const nB = histogramTotal(hb, 'canary histogram');
    if (ha.bounds.length !== hb.bounds.length || ha.bounds.some((x, idx) => x !== hb.bounds[idx])) {
      throw new RangeError('baseline and canary histograms must have the same bucket bounds');
    }
    const finite = ha.bounds.filter((x) => Number.isFinite(x)).length;
    const grid = new Float64Array(finite);
    const kA = new Float64Array(finite);
    const kB = new Float64Array(finite);
    let ca = 0;
    let cb = 0;
    for (let idx = 0; idx < finite; idx++) {
      ca += ha.counts[idx];
      cb += hb.counts[idx];
      grid[idx] = ha.bounds[idx];
      kA[idx] = ca;
      kB[idx] = cb;
    }
    return {
      grid,
      binned: true,
      baseline: { n: nA, atOrBelow: kA, histogram: ha },
      canary: { n: nB, atOrBelow: kB, histogram: hb },
    };
  }
  throw new RangeError('baseline and canary must both be raw samples or both be histograms');
}

/**
 * The value of the `rank`-th smallest observation (1-based) for raw data; for binned data the
 * bounds (lower, upper] of the bucket that holds it. Used for quantile intervals.
 */
export function orderStatisticBounds(arm: ArmCdf, rank: number): [number, number] {
  if (arm.sorted) {
    const x = arm.sorted[rank - 1];
    return [x, x];
  }
  const h = arm.histogram!;
  let cumulative = 0;
  for (let i = 0; i < h.counts.length; i++) {
    cumulative += h.counts[i];
    if (cumulative >= rank) return [i === 0 ? 0 : h.bounds[i - 1], h.bounds[i]];
  }
  return [h.bounds[h.bounds.length - 1], Infinity];
}

/**
 * Empirical p-quantile: raw data the order statistic of rank ceil(p n); histograms interpolate
 * linearly inside the bucket, as Prometheus' histogram_quantile does (the last finite bound when the
 * quantile falls in the +Inf bucket). NaN for an empty arm.
 */
export function empiricalQuantile(arm: ArmCdf, p: number): number {
  if (arm.n === 0) return NaN;
  if (arm.sorted) return arm.sorted[Math.max(0, Math.ceil(p * arm.n) - 1)];
  return histogramQuantile(arm.histogram!, p);
}
