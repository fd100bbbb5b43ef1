/**
 * Confidence sequence for a binomial proportion (one arm's error ratio), from the beta-binomial
 * mixture martingale: with a Beta(a, b) prior, after s successes in n trials
 *   CS = { p : s ln p + (n - s) ln(1 - p) > lnB(a + s, b + n - s) - lnB(a, b) + ln alpha }.
 * The judge uses it for absolute tolerances on error ratios (canary upper end minus baseline lower end).
 *
 * Reference: H. Robbins, "Statistical methods related to the law of the iterated logarithm",
 * Ann. Math. Statist. 41(5), 1970 (mixture boundaries); S. Howard et al., Ann. Statist. 49(2), 2021, §3.
 * Complexity: O(1) per bisection step, 100 steps per end.
 * Throws: RangeError for counts that are negative, not integers, or s > n; alpha outside (0, 1); a, b <= 0.
 *
 * Example: proportionConfidenceSequence(0, 1000, { a: 0.1, b: 9.9 }, 0.05) → [0, 0.0040…]
 */
import { lnBeta } from './special.ts';

export function proportionConfidenceSequence(
  successes: number,
  trials: number,
  prior: { a: number; b: number },
  alpha: number,
): [number, number] {
  if (!Number.isInteger(trials) || trials < 0)
    throw new RangeError(`trials: expected a non-negative integer, got ${trials}`);
  if (!Number.isInteger(successes) || successes < 0 || successes > trials) {
    throw new RangeError(`successes: expected an integer in [0, ${trials}], got ${successes}`);
  }
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha: expected a value in (0, 1), got ${alpha}`);
  if (!(prior.a > 0 && prior.b > 0)) throw new RangeError(`prior: expected a, b > 0, got a=${prior.a}, b=${prior.b}`);
  const failures = trials - successes;
  const bound = lnBeta(prior.a + successes, prior.b + failures) - lnBeta(prior.a, prior.b) + Math.log(alpha);
  return likelihoodInterval(failures, successes, bound);
}

/**
 * { theta : s ln theta + f ln(1 - theta) > bound }: the log-likelihood is concave with its maximum at
 * s / (s + f), so the set is an interval whose ends are found by bisection. Shared with the error
 * e-process's confidence sequence for the canary's share of errors.
 */
export function likelihoodInterval(failures: number, successes: number, bound: number): [number, number] {
  const logLik = (theta: number): number =>
    (successes === 0 ? 0 : successes * Math.log(theta)) + (failures === 0 ? 0 : failures * Math.log1p(-theta));
  const total = failures + successes;
  if (total === 0) return [0, 1];
  const mle = successes / total;
  const edge = (inside: number, outside: number): number => {
    if (logLik(outside) > bound) return outside;
    let lo = inside;
    let hi = outside;
    for (let i = 0; i < 100; i++) {
      const mid = (lo + hi) / 2;
      if (logLik(mid) > bound) lo = mid;
      else hi = mid;
    }
    return (lo + hi) / 2;
  };
  return [successes === 0 ? 0 : edge(mle, 0), failures === 0 ? 1 : edge(mle, 1)];
}
