/**
 * Uniform random numbers for the app's behaviour knobs. Every draw goes through a `RandomSource`
 * so that tests (and reproducible bad canaries) can pass a seeded one.
 */

/** Returns a uniform number in [0, 1). */
export type RandomSource = () => number;

/**
 * A seeded generator: mulberry32 (Tommy Ettinger, public domain; a 32-bit state with a full
 * 2^32 period), which is plenty for error draws and latency samples and fast enough for the
 * request path. The same seed gives the same sequence on every machine.
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
 * A standard normal draw by the Box–Muller transform (Box & Muller, 1958). `1 - u` keeps the
 * logarithm's argument in (0, 1], so a uniform draw of exactly 0 cannot give -Infinity.
 */
export function standardNormal(random: RandomSource): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
