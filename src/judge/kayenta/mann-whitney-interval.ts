/**
 * Kayenta's Mann-Whitney confidence interval and location estimate: R's asymptotic
 * `wilcox.test(x, y, conf.int = TRUE, correct = TRUE)` interval, found by Brent's method, as ported in
 * spinnaker/kayenta `kayenta-mannwhitney/.../MannWhitney.scala`.
 *
 * Definition: for a shift d, dz(d) = rank sum of (x - d) among (x - d, y) - n_x(n_x+1)/2 - n_x n_y/2
 *   (= U_x(d) - n_x n_y / 2), corr = sign(dz) / 2, sigma(d) the tie-corrected null standard deviation of
 *   the ranks of (x - d, y), and W(d, z) = (dz - corr)/sigma - z. With mu_min = min(x) - max(y) and
 *   mu_max = max(x) - min(y):
 *   lower end: the root of W(., z_{1-alpha/2}) (mu_min if W(mu_min) <= 0, mu_max if W(mu_max) >= 0);
 *   upper end: the root of W(., z_{alpha/2}), likewise;
 *   estimate: the root of W(., 0) (Kayenta keeps the continuity correction here; R drops it).
 * When all differences are equal (mu_min = mu_max) the shift is known exactly: interval and estimate
 * are that value (R and Kayenta stop with "all observations are tied"; Kayenta's classifier expects High
 * for [10 x5] vs [1 x5], which this gives).
 * Reference: R src/library/stats/R/wilcox.test.R (two-sample, exact = FALSE branch); STATS.md section 6.
 * Complexity: O(n log n) to sort, then O(n) per evaluation of W, ~10-60 evaluations per root.
 * Throws: RangeError when a sample is empty or holds a non-finite value.
 * Example: kayentaMannWhitneyInterval([10,20,30,40], [1,2,3,4], 0.95) ->
 *   { lower: 6, upper: 39, estimate: 22.5, confidence: 0.95, muMin: 6, muMax: 39 }
 */
import { rankSummarySorted, toSortedSample, uSigma } from '../stats/mann-whitney.ts';
import { normalQuantile } from '../stats/normal.ts';
import { brentRoot } from './brent.ts';

export interface KayentaInterval {
  lower: number;
  upper: number;
  /** Location shift estimate of x - y (a Hodges-Lehmann-type estimate from the rank statistic). */
  estimate: number;
  confidence: number;
  muMin: number;
  muMax: number;
}

/** Interval and estimate of the shift x - y (x = canary / experiment, y = baseline / control). */
export function kayentaMannWhitneyInterval(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  confidence: number,
): KayentaInterval {
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  const xs = toSortedSample(x, 'canary');
  const ys = toSortedSample(y, 'baseline');
  if (xs.length === 0 || ys.length === 0) throw new RangeError('both samples need at least one observation');
  const muMin = xs[0] - ys[ys.length - 1];
  const muMax = xs[xs.length - 1] - ys[0];
  if (muMin === muMax) return { lower: muMin, upper: muMin, estimate: muMin, confidence, muMin, muMax };

  const shifted = new Float64Array(xs.length);
  const standardized = (d: number): number => {
    for (let i = 0; i < xs.length; i++) shifted[i] = xs[i] - d;
    const { nX, nY, u, tieTerm } = rankSummarySorted(shifted, ys);
    const dz = u - (nX * nY) / 2;
    const correction = Math.sign(dz) * 0.5;
    const sigma = uSigma(nX, nY, tieTerm);
    return (dz - correction) / sigma;
  };
  const root = (z: number, clampToEnds: boolean): number => {
    const f = (d: number) => standardized(d) - z;
    const fLower = f(muMin);
    const fUpper = f(muMax);
    if (clampToEnds) {
      if (fLower <= 0) return muMin;
      if (fUpper >= 0) return muMax;
    }
    return brentRoot(f, muMin, muMax, fLower, fUpper, { tolerance: 1e-4, maxIterations: 1000 });
  };
  const alpha = 1 - confidence;
  const zUpperTail = normalQuantile(1 - alpha / 2);
  const lower = root(zUpperTail, true);
  const upper = root(-zUpperTail, true);
  const estimate = root(0, false);
  return { lower, upper, estimate, confidence, muMin, muMax };
}

/** W(d, z) as Kayenta computes it, exported for the tie-out test against R's intermediate values. */
export function kayentaWilcoxonDifference(x: ArrayLike<number>, y: ArrayLike<number>, d: number, z: number): number {
  const shifted = toSortedSample(
    Array.from(x, (v) => v - d),
    'canary',
  );
  const { nX, nY, u, tieTerm } = rankSummarySorted(shifted, toSortedSample(y, 'baseline'));
  const dz = u - (nX * nY) / 2;
  return (dz - Math.sign(dz) * 0.5) / uSigma(nX, nY, tieTerm) - z;
}
