/**
 * Time-uniform DKW band: with probability at least 1 - alpha, for every t >= m at once, the empirical
 * CDF of the first t observations is within eps_t of the true CDF everywhere (all quantiles at once).
 * Used for diagnostics (a band around a plotted CDF), not for decisions.
 *
 * Definition: eps_t = 0.85 sqrt( (ln ln(e t / m) + C) / t ), t >= m.
 * Reference: S. Howard, A. Ramdas, "Sequential estimation of quantiles with applications to A/B
 * testing and best-arm identification", Bernoulli 28(3), 2022, Theorem 2. STATS.md §3 fixes
 * C = 8.1227 for alpha = 0.05; other levels need their constant passed explicitly.
 * Complexity: O(1).
 * Throws: RangeError for t < m, m < 1, or an alpha without a known constant.
 *
 * Example: dkwEpsilon(1000, { m: 100 }) → 0.0820477…
 */

/** C for the levels STATS.md gives. */
const CONSTANT_BY_ALPHA: ReadonlyMap<number, number> = new Map([[0.05, 8.1227]]);

export interface DkwOptions {
  /** First sample size the band must hold from. */
  m: number;
  /** Level; default 0.05. */
  alpha?: number;
  /** The constant C; required for a level other than 0.05. */
  constant?: number;
}

export function dkwEpsilon(t: number, options: DkwOptions): number {
  const { m } = options;
  const alpha = options.alpha ?? 0.05;
  if (!(m >= 1)) throw new RangeError(`dkw: expected m >= 1, got ${m}`);
  if (!(t >= m)) throw new RangeError(`dkw: the band holds for t >= m (${m}), got t = ${t}`);
  const constant = options.constant ?? CONSTANT_BY_ALPHA.get(alpha);
  if (constant === undefined)
    throw new RangeError(`dkw: no constant C known for alpha = ${alpha}; pass options.constant`);
  return 0.85 * Math.sqrt((Math.log(Math.log((Math.E * t) / m)) + constant) / t);
}
