/**
 * Sequential test that a quantile is the same in both arms, with confidence sequences for each arm's
 * quantile and for their ratio (STATS.md §3).
 *
 * Definition: for quantile p, arm size N and k(x) = #{obs <= x}, the beta-binomial mixture
 *   ln M(N, k; p) = lnB(a + k, b + N - k) - lnB(a, b) - k ln p - (N - k) ln(1 - p)
 *   a = r / (1 - p), b = r / p, r = max(rho - p(1 - p), 1e-3 p(1 - p)),
 *   rho = t_opt p(1 - p) / (2 ln(1/alpha_opt) + ln(1 + 2 ln(1/alpha_opt)))
 * is a martingale when x is the arm's p-quantile. "Both arms share a p-quantile" is the union over x,
 * so the e-value is E = exp(inf_x [ln M(n_A, k_A(x)) + ln M(n_B, k_B(x))]) and p = min(1, 1/E).
 * One-sided "canary slower" (direction `increase`) keeps A two-sided and truncates B's prior to
 * q < p: ln M_B- = ln M_B + ln I_p(a + k_B, b + N_B - k_B) - ln I_p(a, b); `decrease` mirrors it.
 * Each arm's confidence sequence is { x : ln M(N, k(x)) < ln(1/alpha) }, an interval of order
 * statistics; the ratio interval combines the two arms' sequences at alpha/2 each.
 * Binned data (histograms) only know k(x) at bucket bounds; between bounds the test takes the
 * smallest value over every k the bucket allows, which keeps it valid (conservative).
 *
 * References: S. Howard, A. Ramdas, "Sequential estimation of quantiles with applications to A/B
 * testing and best-arm identification", Bernoulli 28(3), 2022; M. Lindon, C. Sanden, V. Shirikian,
 * Netflix Technology Blog, "Sequential A/B testing keeps the world streaming Netflix", part 1, 2024.
 * Complexity: O(G) grid gaps scanned with pruning to those near the quantile, each O(log N) mixture
 * evaluations; raw samples add an O(n log n) sort.
 * Throws: RangeError for p outside (0, 1), alpha outside (0, 1), t_opt <= 0, or bad arm data (see
 * empirical-cdf.ts). ln M is convex in k (lnΓ is convex); the truncated one is assumed unimodal.
 *
 * Example (A_i = exp(Φ⁻¹((i - ½)/1000)), B = 1.25 A): quantileEProcess({ samples: A }, { samples: B },
 *   { quantile: 0.5, tuningSamples: 1000 }).pValue → 0.009132…
 */
import { lnBeta, lnRegularizedBeta, lnRegularizedBetaUpper } from './special.ts';
import type { Direction } from '../verdict.ts';
import {
  type ArmCdf,
  type ArmData,
  type TwoArmCdf,
  empiricalQuantile,
  gapRange,
  orderStatisticBounds,
  twoArmCdf,
} from './empirical-cdf.ts';

export interface QuantileEProcessOptions {
  /** The quantile p, e.g. 0.99. */
  quantile: number;
  /** Samples per arm at which the boundary is tightest (t_opt), e.g. the expected count at the stage's end. */
  tuningSamples: number;
  /** alpha the boundary is tuned for (alpha_opt); default `alpha`. */
  tuningAlpha?: number;
  /** Level of the confidence sequences; default 0.05. */
  alpha?: number;
  /** Which change the e-value looks for: `increase` = canary quantile higher (slower); default `either`. */
  direction?: Direction;
}

export interface ArmQuantile {
  n: number;
  /** Empirical quantile; null for an empty arm. */
  estimate: number | null;
  /** Confidence sequence for the arm's quantile at level alpha/2; null ends are unbounded. */
  interval: [number | null, number | null];
}

export interface QuantileEvidence {
  quantile: number;
  eValue: number;
  lnEValue: number;
  pValue: number;
  baseline: ArmQuantile;
  canary: ArmQuantile;
  /** canary / baseline quantile; null when undefined. */
  ratio: number | null;
  /** Confidence sequence for the ratio at level alpha; null ends are unbounded. */
  ratioInterval: [number | null, number | null];
}

/** The mixture's Beta prior parameters for quantile p. */
export function quantileMixturePrior(p: number, tuningSamples: number, tuningAlpha: number): { a: number; b: number } {
  const variance = p * (1 - p);
  const l = Math.log(1 / tuningAlpha);
  const rho = (tuningSamples * variance) / (2 * l + Math.log(1 + 2 * l));
  const r = Math.max(rho - variance, 1e-3 * variance);
  return { a: r / (1 - p), b: r / p };
}

type KFunction = (k: number) => number;

/** Integer argmin of a unimodal function on [lo, hi]. */
function argminUnimodal(f: KFunction, lo: number, hi: number): number {
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (f(mid) <= f(mid + 1)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** { k in [0, n] : f(k) <= level } for unimodal f with argmin m; null when empty. */
function levelSet(f: KFunction, m: number, n: number, level: number): [number, number] | null {
  if (!(f(m) <= level)) return null;
  let lo = 0;
  let hi = m;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (f(mid) <= level) hi = mid;
    else lo = mid + 1;
  }
  const left = lo;
  lo = m;
  hi = n;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (f(mid) <= level) lo = mid;
    else hi = mid - 1;
  }
  return [left, lo];
}

function mixture(n: number, p: number, a: number, b: number, truncate: 'below' | 'above' | 'none'): KFunction {
  const lnPrior = lnBeta(a, b);
  const lnP = Math.log(p);
  const ln1P = Math.log1p(-p);
  const lnPriorMass =
    truncate === 'below' ? lnRegularizedBeta(p, a, b) : truncate === 'above' ? lnRegularizedBetaUpper(p, a, b) : 0;
  const cache = new Map<number, number>();
  return (k: number) => {
    const hit = cache.get(k);
    if (hit !== undefined) return hit;
    let value = lnBeta(a + k, b + n - k) - lnPrior - k * lnP - (n - k) * ln1P;
    if (truncate === 'below') value += lnRegularizedBeta(p, a + k, b + n - k) - lnPriorMass;
    else if (truncate === 'above') value += lnRegularizedBetaUpper(p, a + k, b + n - k) - lnPriorMass;
    cache.set(k, value);
    return value;
  };
}

export function quantileEProcess(
  baseline: ArmData,
  canary: ArmData,
  options: QuantileEProcessOptions,
): QuantileEvidence {
  return quantileEProcessOnCdf(twoArmCdf(baseline, canary), options);
}

/** Same as `quantileEProcess` on a prepared grid, so several quantiles can share one sort. */
export function quantileEProcessOnCdf(cdf: TwoArmCdf, options: QuantileEProcessOptions): QuantileEvidence {
  const p = options.quantile;
  const alpha = options.alpha ?? 0.05;
  const tuningAlpha = options.tuningAlpha ?? alpha;
  if (!(p > 0 && p < 1)) throw new RangeError(`quantile: expected a value in (0, 1), got ${p}`);
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha: expected a value in (0, 1), got ${alpha}`);
  if (!(tuningAlpha > 0 && tuningAlpha < 1))
    throw new RangeError(`tuningAlpha: expected a value in (0, 1), got ${tuningAlpha}`);
  if (!(options.tuningSamples > 0))
    throw new RangeError(`tuningSamples: expected a value > 0, got ${options.tuningSamples}`);
  const { a, b } = quantileMixturePrior(p, options.tuningSamples, tuningAlpha);
  const direction = options.direction ?? 'either';
  const nA = cdf.baseline.n;
  const nB = cdf.canary.n;
  const fA = mixture(nA, p, a, b, 'none');
  const fB = mixture(nB, p, a, b, direction === 'increase' ? 'below' : direction === 'decrease' ? 'above' : 'none');

  const lnE = infimumOverGrid(cdf, fA, fB);
  const baselineQ = armQuantile(cdf.baseline, p, mixture(nA, p, a, b, 'none'), alpha / 2);
  const canaryQ =
    direction === 'either'
      ? armQuantile(cdf.canary, p, fB, alpha / 2)
      : armQuantile(cdf.canary, p, mixture(nB, p, a, b, 'none'), alpha / 2);
  return {
    quantile: p,
    eValue: Math.exp(lnE),
    lnEValue: lnE,
    pValue: Math.min(1, Math.exp(-lnE)),
    baseline: baselineQ,
    canary: canaryQ,
    ratio:
      baselineQ.estimate !== null && canaryQ.estimate !== null && baselineQ.estimate > 0
        ? canaryQ.estimate / baselineQ.estimate
        : null,
    ratioInterval: ratioInterval(baselineQ.interval, canaryQ.interval),
  };
}

function ratioInterval(
  base: [number | null, number | null],
  can: [number | null, number | null],
): [number | null, number | null] {
  const lower =
    can[0] !== null && base[1] !== null && base[1] > 0
      ? Math.max(0, can[0]) / base[1]
      : can[0] !== null && can[0] <= 0
        ? 0
        : null;
  const upper = can[1] !== null && base[0] !== null && base[0] > 0 ? can[1] / base[0] : null;
  return [lower ?? 0, upper];
}

/** inf over x of f_A(k_A(x)) + f_B(k_B(x)), scanning only grid gaps that can beat the first candidate. */
function infimumOverGrid(cdf: TwoArmCdf, fA: KFunction, fB: KFunction): number {
  const nA = cdf.baseline.n;
  const nB = cdf.canary.n;
  const gaps = cdf.grid.length + 1;
  const mA = argminUnimodal(fA, 0, nA);
  const mB = argminUnimodal(fB, 0, nB);
  const boxMin = (gap: number): number => {
    const [loA, hiA] = gapRange(cdf, cdf.baseline, gap);
    const [loB, hiB] = gapRange(cdf, cdf.canary, gap);
    return fA(argminUnimodal(fA, loA, hiA)) + fB(argminUnimodal(fB, loB, hiB));
  };
  // First candidate: the gap where the baseline's CDF passes its own best k.
  let start = 0;
  while (start < gaps - 1 && gapRange(cdf, cdf.baseline, start)[1] < mA) start++;
  let best = boxMin(start);
  const feasibleA = levelSet(fA, mA, nA, best - fB(mB));
  const feasibleB = levelSet(fB, mB, nB, best - fA(mA));
  if (!feasibleA || !feasibleB) return best;
  for (let gap = 0; gap < gaps; gap++) {
    const [loA, hiA] = gapRange(cdf, cdf.baseline, gap);
    if (hiA < feasibleA[0]) continue;
    if (loA > feasibleA[1]) break;
    const [loB, hiB] = gapRange(cdf, cdf.canary, gap);
    if (hiB < feasibleB[0] || loB > feasibleB[1]) continue;
    const value = boxMin(gap);
    if (value < best) best = value;
  }
  return best;
}

function armQuantile(arm: ArmCdf, p: number, f: KFunction, alpha: number): ArmQuantile {
  if (arm.n === 0) return { n: 0, estimate: null, interval: [null, null] };
  const m = argminUnimodal(f, 0, arm.n);
  const accepted = levelSet(f, m, arm.n, Math.log(1 / alpha));
  const estimate = empiricalQuantile(arm, p);
  if (!accepted) return { n: arm.n, estimate, interval: [estimate, estimate] };
  const [kLow, kHigh] = accepted;
  const lower = kLow >= 1 ? orderStatisticBounds(arm, kLow)[0] : null;
  const upperRaw = kHigh < arm.n ? orderStatisticBounds(arm, kHigh + 1)[1] : null;
  return { n: arm.n, estimate, interval: [lower, upperRaw !== null && Number.isFinite(upperRaw) ? upperRaw : null] };
}
