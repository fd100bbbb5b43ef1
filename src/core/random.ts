/**
 * The project's one source of pseudo-random numbers: the app's behaviour knobs, generated data, the
 * load balancer's picks, the permutation tests and the judge's simulations all draw from here, so
 * a seed reproduces a run on every machine. (The load scripts' per-request hash,
 * `load/lib/random.ts`, is not a generator: it maps a request number to a value, identically in k6
 * and in Node.)
 *
 * Two generators, one per need: `seededRandom` (mulberry32, below) where a uniform source is
 * enough, and `seededGenerator` for simulations: xoshiro128** (D. Blackman, S. Vigna, "Scrambled
 * linear pseudorandom number generators", ACM TOMS 47(4), 2021), seeded through splitmix32 so that
 * nearby seeds give unrelated streams.
 * Normals by the Marsaglia polar method (G. Marsaglia, T. Bray, SIAM Review 6(3), 1964).
 * Complexity: O(1) per draw.
 * Throws: RangeError for a seed that is not an integer.
 *
 * Example: seededGenerator(42).uniform() is the same number on every run and platform.
 */

/** Returns a uniform number in [0, 1); `Math.random` is one, `seededRandom(seed)` a reproducible one. */
export type RandomSource = () => number;

/**
 * A seeded uniform source for the request path (knobs, generated data, load-balancer picks) and the
 * permutation tests: mulberry32 (Tommy Ettinger, public domain; a 32-bit state with a full 2^32
 * period), a single multiply-xorshift per draw. Its streams are kept as they were when the
 * generators were gathered here, since seeded tests of the history's change points depend on them.
 */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A standard normal draw from any uniform source, by the Box–Muller transform (Box & Muller, 1958).
 * `1 - u` keeps the logarithm's argument in (0, 1], so a uniform draw of exactly 0 cannot give -Infinity.
 */
export function standardNormal(random: RandomSource): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

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

export function seededGenerator(seed: number): Random {
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
