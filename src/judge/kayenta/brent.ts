/**
 * Brent's root finder (zeroin), the variant R's `uniroot` and Kayenta's `KayentaBrentSolver` run, so
 * the Kayenta-compatible interval lands on the same point as R when the function is a step function
 * (the Wilcoxon statistic of a shift is one: where the root sits within a flat step depends on the
 * exact sequence of trial points).
 *
 * Algorithm: keep a bracket [b, c] with f(b) f(c) <= 0 and b the better end; try inverse quadratic
 * interpolation (secant when only two points are known), accept the step only when it falls well
 * inside the bracket and is less than half the step before last, else bisect; never step less than
 * the tolerance 2 eps |b| + tol/2. Stops when the half-bracket is within that tolerance or f(b) = 0.
 * Reference: R. P. Brent, Algorithms for Minimization without Derivatives (1973), chapter 4;
 *   R's src/library/stats/src/zeroin.c (R_zeroin2), used by uniroot with tol = 1e-4.
 * Complexity: at most `maxIterations` evaluations of f (superlinear convergence on smooth f).
 * Throws: nothing; returns the best point found when the iterations run out.
 * Example: brentRoot((x) => x * x - 2, 0, 2, -2, 2) -> 1.4142133199955025 (within the default 1e-4)
 */

const EPSILON = 2.220446049250313e-16;

export interface BrentOptions {
  /** Absolute tolerance; R's uniroot default in wilcox.test is 1e-4. */
  tolerance?: number;
  maxIterations?: number;
}

/** Root of f in [lower, upper] given f(lower) and f(upper) of opposite signs (or one of them 0). */
export function brentRoot(
  f: (x: number) => number,
  lower: number,
  upper: number,
  fLower: number,
  fUpper: number,
  options: BrentOptions = {},
): number {
  const tol = options.tolerance ?? 1e-4;
  let iterations = (options.maxIterations ?? 1000) + 1;
  let a = lower;
  let b = upper;
  let fa = fLower;
  let fb = fUpper;
  let c = a;
  let fc = fa;
  if (fa === 0) return a;
  if (fb === 0) return b;

  while (iterations-- > 0) {
    const previousStep = b - a;
    if (Math.abs(fc) < Math.abs(fb)) {
      // Make b the end with the smaller residual.
      a = b;
      b = c;
      c = a;
      fa = fb;
      fb = fc;
      fc = fa;
    }
    const tolerance = 2 * EPSILON * Math.abs(b) + tol / 2;
    let step = (c - b) / 2;
    if (Math.abs(step) <= tolerance || fb === 0) return b;

    if (Math.abs(previousStep) >= tolerance && Math.abs(fa) > Math.abs(fb)) {
      const cb = c - b;
      let p: number;
      let q: number;
      if (a === c) {
        // Two distinct points: secant.
        const t1 = fb / fa;
        p = cb * t1;
        q = 1 - t1;
      } else {
        // Inverse quadratic interpolation through (a, fa), (b, fb), (c, fc).
        const qa = fa / fc;
        const t1 = fb / fc;
        const t2 = fb / fa;
        p = t2 * (cb * qa * (qa - t1) - (b - a) * (t1 - 1));
        q = (qa - 1) * (t1 - 1) * (t2 - 1);
      }
      if (p > 0) q = -q;
      else p = -p;
      if (p < 0.75 * cb * q - Math.abs(tolerance * q) / 2 && p < Math.abs((previousStep * q) / 2)) step = p / q;
    }
    if (Math.abs(step) < tolerance) step = step > 0 ? tolerance : -tolerance;
    a = b;
    fa = fb;
    b += step;
    fb = f(b);
    if ((fb > 0 && fc > 0) || (fb < 0 && fc < 0)) {
      c = a;
      fc = fa;
    }
  }
  return b;
}
