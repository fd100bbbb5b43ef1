/**
 * Seeded pseudo-random numbers for simulations: reproducible runs that tests can assert on.
 *
 * Generator: xoshiro128** (D. Blackman, S. Vigna, "Scrambled linear pseudorandom number generators",
 * ACM TOMS 47(4), 2021), seeded through splitmix32 so that nearby seeds give unrelated streams.
 * Normals by the Marsaglia polar method (G. Marsaglia, T. Bray, SIAM Review 6(3), 1964).
 * Complexity: O(1) per draw.
 * Throws: RangeError for a seed that is not an integer.
 *
 * Example: seededRandom(42).uniform() is the same number on every run and platform.
 */

export interface Random {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Standard normal. */
  normal(): number;
  /** exp(mu + sigma Z). */
  lognormal(mu: number, sigma: number): number;
  /** Binomial(n, p) by inversion for small n p, normal approximation above (simulation use only). */
  binomial(n: number, p: number): number;
}

export function seededRandom(seed: number): Random {
  if (!Number.isInteger(seed)) throw new RangeError(`seed: expected an integer, got ${seed}`);
  let splitState = seed >>> 0;
  const splitmix = (): number => {
    splitState = (splitState + 0x9e3779b9) >>> 0;
    let z = splitState;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let s0 = splitmix();
  let s1 = splitmix();
  let s2 = splitmix();
  let s3 = splitmix();
  const next = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  };
  let spare: number | null = null;
  const uniform = (): number => next() / 4294967296;
  const normal = (): number => {
    if (spare !== null) {
      const value = spare;
      spare = null;
      return value;
    }
    for (;;) {
      const u = 2 * uniform() - 1;
      const v = 2 * uniform() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const factor = Math.sqrt((-2 * Math.log(s)) / s);
        spare = v * factor;
        return u * factor;
      }
    }
  };
  const binomial = (n: number, p: number): number => {
    if (n * p < 30) {
      // Waiting-time method: count geometric gaps until they pass n.
      if (p <= 0) return 0;
      const lnQ = Math.log1p(-p);
      let count = 0;
      let position = 0;
      for (;;) {
        position += Math.floor(Math.log(1 - uniform()) / lnQ) + 1;
        if (position > n) return count;
        count++;
      }
    }
    const draw = Math.round(n * p + Math.sqrt(n * p * (1 - p)) * normal());
    return Math.min(n, Math.max(0, draw));
  };
  return { uniform, normal, lognormal: (mu, sigma) => Math.exp(mu + sigma * normal()), binomial };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
