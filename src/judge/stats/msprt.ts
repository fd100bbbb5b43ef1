/**
 * Mixture sequential probability ratio test (mSPRT) for a difference in means, with its confidence
 * sequence (STATS.md §2). For latency it is applied to log(latency), so the effect is a ratio.
 *
 * Definition: theta = mu_B - mu_A, estimate d = mean_B - mean_A, v = s_A²/n_A + s_B²/n_B, normal
 * mixture N(0, tau²) over theta:
 *   Lambda   = sqrt(v / (v + tau²)) exp( tau² d² / (2 v (v + tau²)) )
 *   CS       = d ± sqrt( v (v + tau²) / tau² ln((v + tau²) / (v alpha²)) )
 *   ln Lambda+ = ½ ln(4v / (v + tau²)) + tau² d² / (2 v (v + tau²)) + ln Phi( d sqrt(tau² / (v (v + tau²))) )
 * (Lambda+ mixes over the half-normal on theta > 0; Lambda- mirrors it with -d.)
 * tau² = v* (2 ln(1/alpha) + ln(1 + 2 ln(1/alpha))) tunes the boundary to be tightest at the planned
 * end (v* = v then); one-sided tests use 2 alpha in that formula.
 *
 * References: R. Johari, L. Pekelis, D. Walsh, "Always valid inference", 2017 (arXiv:1512.04922);
 * S. Howard, A. Ramdas, J. McAuliffe, J. Sekhon, "Time-uniform, nonparametric, nonasymptotic confidence
 * sequences", Ann. Statist. 49(2), 2021 (normal mixture boundary and its tuning).
 * Plug-in variance makes this asymptotically valid only: the judge does not act on it before about
 * 500 observations per arm.
 * Complexity: O(1) given the summaries; `sampleSummary` O(n).
 * Throws: RangeError for v <= 0, tau² <= 0, alpha outside (0, 1).
 *
 * Example: msprt({ difference: 6, variance: 2.5, mixingVariance: 7.93615 }, 0.05)
 *   → { lnLambda: 4.76073…, lambda: 116.83…, interval: [1.0609…, 10.9391…] }
 */
import { normalCdf } from './normal.ts';

export interface MeanSummary {
  n: number;
  mean: number;
  /** Unbiased sample variance s². */
  variance: number;
}

export interface MsprtInput {
  /** d = mean_B - mean_A. */
  difference: number;
  /** v = s_A²/n_A + s_B²/n_B. */
  variance: number;
  /** tau², the mixing variance. */
  mixingVariance: number;
}

export interface MsprtResult {
  lambda: number;
  lnLambda: number;
  /** Half-normal mixture on theta > 0: evidence that the canary mean is higher. */
  lambdaIncrease: number;
  /** Half-normal mixture on theta < 0: evidence that the canary mean is lower. */
  lambdaDecrease: number;
  /** Two-sided confidence sequence for theta at level alpha. */
  interval: [number, number];
}

/** tau² = v* (2 ln(1/alpha) + ln(1 + 2 ln(1/alpha))); `oneSided` uses 2 alpha. */
export function mixingVariance(plannedVariance: number, alpha: number, oneSided = false): number {
  if (!(plannedVariance > 0)) throw new RangeError(`mixingVariance: expected v* > 0, got ${plannedVariance}`);
  checkAlpha(alpha);
  const level = oneSided ? 2 * alpha : alpha;
  const l = Math.log(1 / level);
  return plannedVariance * (2 * l + Math.log(1 + 2 * l));
}

export function msprt(input: MsprtInput, alpha: number): MsprtResult {
  const { difference: d, variance: v, mixingVariance: tau2 } = input;
  if (!(v > 0) || !Number.isFinite(v)) throw new RangeError(`msprt: expected a finite variance v > 0, got ${v}`);
  if (!(tau2 > 0) || !Number.isFinite(tau2)) throw new RangeError(`msprt: expected a finite tau² > 0, got ${tau2}`);
  checkAlpha(alpha);
  const quadratic = (tau2 * d * d) / (2 * v * (v + tau2));
  const lnLambda = 0.5 * Math.log(v / (v + tau2)) + quadratic;
  const halfBase = 0.5 * Math.log((4 * v) / (v + tau2)) + quadratic;
  const scale = Math.sqrt(tau2 / (v * (v + tau2)));
  const halfWidth = Math.sqrt(((v * (v + tau2)) / tau2) * Math.log((v + tau2) / (v * alpha * alpha)));
  return {
    lambda: Math.exp(lnLambda),
    lnLambda,
    lambdaIncrease: Math.exp(halfBase + Math.log(normalCdf(d * scale))),
    lambdaDecrease: Math.exp(halfBase + Math.log(normalCdf(-d * scale))),
    interval: [d - halfWidth, d + halfWidth],
  };
}

/** Mean and unbiased variance of raw samples (Welford, stable for large n). */
export function sampleSummary(values: ArrayLike<number>, transform: (x: number) => number = (x) => x): MeanSummary {
  let n = 0;
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < values.length; i++) {
    const x = transform(values[i]);
    n++;
    const delta = x - mean;
    mean += delta / n;
    m2 += delta * (x - mean);
  }
  return { n, mean: n > 0 ? mean : NaN, variance: n > 1 ? m2 / (n - 1) : NaN };
}

/** v = s_A²/n_A + s_B²/n_B. */
export function differenceVariance(baseline: MeanSummary, canary: MeanSummary): number {
  return baseline.variance / baseline.n + canary.variance / canary.n;
}

function checkAlpha(alpha: number): void {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha: expected a value in (0, 1), got ${alpha}`);
}
