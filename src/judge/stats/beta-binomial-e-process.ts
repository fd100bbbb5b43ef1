/**
 * Beta-binomial e-process for "the canary has a different (or higher) error rate" (STATS.md §1).
 *
 * Definition: each error lands in the canary with probability `w` (the canary's share of requests)
 * when both arms have the same error rate. With a Beta(a, b) mixture over theta, a = k w and
 * b = k (1 - w), after N_A baseline and N_B canary errors
 *   ln E  = lnB(a + N_B, b + N_A) - lnB(a, b) - N_B ln w - N_A ln(1 - w)
 *   E+    = E [1 - I_w(a + N_B, b + N_A)] / [1 - I_w(a, b)]   (prior truncated to theta > w)
 *   E-    = E I_w(a + N_B, b + N_A) / I_w(a, b)               (prior truncated to theta < w)
 * Confidence sequence for theta (share of errors in the canary):
 *   { theta : N_B ln theta + N_A ln(1 - theta) > lnB(a + N_B, b + N_A) - lnB(a, b) + ln alpha }
 * and for the error-rate ratio r = theta (1 - w) / ((1 - theta) w).
 *
 * Reference: M. Lindon, A. Malek, "Anytime-valid inference for multinomial count data", NeurIPS 2022.
 * Complexity: O(1) for the e-values (plus the incomplete beta, O(sqrt(N))); the CS by bisection, O(60).
 * Throws: RangeError for negative or non-integer counts, w outside (0, 1), k <= 0, alpha outside (0, 1).
 *
 * Example: errorEProcess({ baseline: 30, canary: 55 }, { canaryShare: 0.5, concentration: 100 })
 *   → { eValue: 4.034…, eValueIncrease: 7.807…, thetaInterval: [0.4709…, 0.7995…], rateRatioInterval: [0.890…, 3.988…] }
 */
import { likelihoodInterval } from './proportion-confidence-sequence.ts';
import { lnBeta, lnRegularizedBeta, lnRegularizedBetaUpper } from './special.ts';

export interface ErrorCounts {
  baseline: number;
  canary: number;
}

export interface ErrorEProcessOptions {
  /** Canary share w of the requests both arms served, in (0, 1). */
  canaryShare: number;
  /** Prior concentration k, about the expected number of errors by the end divided by 8. */
  concentration: number;
  /** Level of the confidence sequence; default 0.05. */
  alpha?: number;
}

export interface ErrorEvidence {
  /** Two-sided e-value E. */
  eValue: number;
  lnEValue: number;
  /** One-sided e-value E+: only "canary has more errors" counts. */
  eValueIncrease: number;
  /** One-sided e-value E-: only "canary has fewer errors" counts. */
  eValueDecrease: number;
  /** Observed share of errors in the canary, N_B / (N_A + N_B); null with no errors. */
  theta: number | null;
  thetaInterval: [number, number];
  /** Observed error-rate ratio canary / baseline; null when undefined (no baseline errors). */
  rateRatio: number | null;
  /** Confidence sequence for the rate ratio; the upper end is null when unbounded. */
  rateRatioInterval: [number, number | null];
}

function checkCount(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0)
    throw new RangeError(`${name}: expected a non-negative integer, got ${value}`);
}

export function errorEProcess(errors: ErrorCounts, options: ErrorEProcessOptions): ErrorEvidence {
  const { canaryShare: w, concentration: k } = options;
  const alpha = options.alpha ?? 0.05;
  checkCount('errors.baseline', errors.baseline);
  checkCount('errors.canary', errors.canary);
  if (!(w > 0 && w < 1)) throw new RangeError(`canaryShare: expected a value in (0, 1), got ${w}`);
  if (!(k > 0) || !Number.isFinite(k)) throw new RangeError(`concentration: expected a finite k > 0, got ${k}`);
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha: expected a value in (0, 1), got ${alpha}`);

  const nA = errors.baseline;
  const nB = errors.canary;
  const a = k * w;
  const b = k * (1 - w);
  const lnMarginalRatio = lnBeta(a + nB, b + nA) - lnBeta(a, b);
  const lnE = lnMarginalRatio - nB * Math.log(w) - nA * Math.log1p(-w);
  const lnEIncrease = lnE + lnRegularizedBetaUpper(w, a + nB, b + nA) - lnRegularizedBetaUpper(w, a, b);
  const lnEDecrease = lnE + lnRegularizedBeta(w, a + nB, b + nA) - lnRegularizedBeta(w, a, b);

  const thetaInterval = likelihoodInterval(nA, nB, lnMarginalRatio + Math.log(alpha));
  const toRatio = (theta: number): number => (theta * (1 - w)) / ((1 - theta) * w);
  const total = nA + nB;
  return {
    eValue: Math.exp(lnE),
    lnEValue: lnE,
    eValueIncrease: Math.exp(lnEIncrease),
    eValueDecrease: Math.exp(lnEDecrease),
    theta: total > 0 ? nB / total : null,
    thetaInterval,
    rateRatio: nA > 0 ? toRatio(nB / total) : null,
    rateRatioInterval: [toRatio(thetaInterval[0]), thetaInterval[1] >= 1 ? null : toRatio(thetaInterval[1])],
  };
}
