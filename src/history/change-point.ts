/**
 * Change points in a metric's nightly series: where did it shift, and by how much?
 *
 * Definition: for a series x_1..x_n and a split t, the two-sample statistic
 *   T(t) = |mean(x_{t+1..n}) - mean(x_{1..t})| / (s * sqrt(1/t + 1/(n-t)))
 * with s the pooled within-segment standard deviation. The best split is argmax_t T(t) (the CUSUM
 * likelihood-ratio split for a shift in a normal mean, Page 1954; Hinkley 1970). Its significance is a
 * permutation p-value (the series reshuffled, the maximum recomputed), which needs no normality and
 * accounts for having searched every split. Binary segmentation (Scott & Knott 1974) recurses into both
 * sides of a significant split to find later shifts.
 *
 * Complexity: O(n) per scan with prefix sums; O(P n log n) overall for P permutations.
 * Throws: RangeError when `minSegment` < 2.
 * Example: detectChangePoints([10,10.2,9.9,10.1,10,12,12.1,11.9,12.2,12], {random}) finds one change at
 * index 5 (the 6th run) with before ≈ 10.04 and after ≈ 12.04.
 */

export interface ChangePoint {
  /** Index of the first observation after the shift. */
  index: number;
  before: number;
  after: number;
  /** (after - before) / |before| */
  relativeChange: number;
  pValue: number;
}

export interface ChangePointOptions {
  /** Uniform [0, 1) generator; injected so results are reproducible. */
  random: () => number;
  /** Family-wise significance level for reporting a change. */
  alpha?: number;
  permutations?: number;
  /** Fewest observations on each side of a split. */
  minSegment?: number;
}

export function detectChangePoints(series: readonly number[], options: ChangePointOptions): ChangePoint[] {
  const alpha = options.alpha ?? 0.05;
  const permutations = options.permutations ?? 999;
  const minSegment = options.minSegment ?? 2;
  if (minSegment < 2) throw new RangeError(`minSegment must be at least 2, got ${minSegment}`);
  const values = series.filter((v) => Number.isFinite(v));
  const found: ChangePoint[] = [];
  segment(values, 0, values.length, alpha, permutations, minSegment, options.random, found);
  return found.sort((a, b) => a.index - b.index);
}

function segment(
  x: readonly number[],
  from: number,
  to: number,
  alpha: number,
  permutations: number,
  minSegment: number,
  random: () => number,
  out: ChangePoint[],
): void {
  const part = x.slice(from, to);
  if (part.length < 2 * minSegment) return;
  const best = bestSplit(part, minSegment);
  if (!best || best.statistic === 0) return;
  const shuffled = part.slice();
  let atLeast = 0;
  for (let p = 0; p < permutations; p++) {
    shuffle(shuffled, random);
    const s = bestSplit(shuffled, minSegment);
    if (s && s.statistic >= best.statistic) atLeast++;
  }
  const pValue = (atLeast + 1) / (permutations + 1);
  if (pValue > alpha) return;
  const before = mean(part, 0, best.split);
  const after = mean(part, best.split, part.length);
  out.push({
    index: from + best.split,
    before,
    after,
    relativeChange: before === 0 ? Number.POSITIVE_INFINITY : (after - before) / Math.abs(before),
    pValue,
  });
  segment(x, from, from + best.split, alpha, permutations, minSegment, random, out);
  segment(x, from + best.split, to, alpha, permutations, minSegment, random, out);
}

function bestSplit(x: readonly number[], minSegment: number): { split: number; statistic: number } | undefined {
  const n = x.length;
  const sum = new Float64Array(n + 1);
  const sumSq = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    sum[i + 1] = sum[i] + x[i];
    sumSq[i + 1] = sumSq[i] + x[i] * x[i];
  }
  let best: { split: number; statistic: number } | undefined;
  for (let t = minSegment; t <= n - minSegment; t++) {
    const m1 = sum[t] / t;
    const m2 = (sum[n] - sum[t]) / (n - t);
    const ss = sumSq[t] - t * m1 * m1 + (sumSq[n] - sumSq[t]) - (n - t) * m2 * m2;
    const s = Math.sqrt(Math.max(ss, 0) / (n - 2));
    const diff = Math.abs(m2 - m1);
    // A flat segment on both sides with different levels is an unmistakable shift.
    const statistic = s > 0 ? diff / (s * Math.sqrt(1 / t + 1 / (n - t))) : diff > 0 ? Number.POSITIVE_INFINITY : 0;
    if (!best || statistic > best.statistic) best = { split: t, statistic };
  }
  return best;
}

function mean(x: readonly number[], from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i];
  return s / (to - from);
}

function shuffle(x: number[], random: () => number): void {
  for (let i = x.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = x[i];
    x[i] = x[j];
    x[j] = tmp;
  }
}
