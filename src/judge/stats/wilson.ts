/**
 * Wilson score interval for a binomial proportion.
 *
 * Definition: with p = x/n and z = z_{1-alpha/2},
 *   center = (p + z^2/(2n)) / (1 + z^2/n),
 *   half   = z / (1 + z^2/n) * sqrt(p(1-p)/n + z^2/(4n^2)),
 *   interval = [center - half, center + half] (clamped to [0, 1] against rounding).
 * Reference: Wilson, JASA 22 (1927) 209-212; Newcombe, Stat. Med. 17 (1998) 857-872, method 3;
 *   STATS.md F6.
 * Complexity: O(1).
 * Throws: RangeError when n is not a positive integer, x is not an integer in [0, n], or the confidence
 *   is outside (0, 1).
 * Example: wilsonInterval(81, 263) -> { estimate: 0.30798479087452474, lower: 0.2552885198782744, upper: 0.3662095769828, confidence: 0.95 }
 */
import { normalQuantile } from './normal.ts';

export interface ProportionInterval {
  /** x / n. */
  estimate: number;
  lower: number;
  upper: number;
  confidence: number;
}

export function wilsonInterval(successes: number, trials: number, confidence = 0.95): ProportionInterval {
  if (!(Number.isInteger(trials) && trials > 0))
    throw new RangeError(`trials must be a positive integer, got ${trials}`);
  if (!(Number.isInteger(successes) && successes >= 0 && successes <= trials)) {
    throw new RangeError(`successes must be an integer in [0, ${trials}], got ${successes}`);
  }
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const n = trials;
  const p = successes / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denominator;
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // At x = 0 or x = n the near end is exactly 0 or 1; say so rather than leave rounding noise.
  const lower = successes === 0 ? 0 : Math.max(0, center - half);
  const upper = successes === n ? 1 : Math.min(1, center + half);
  return { estimate: p, lower, upper, confidence };
}
