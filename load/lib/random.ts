/**
 * Deterministic pseudo-randomness keyed by a request's sequence number, so that the k6 scripts and
 * the builtin driver derive the same cohort, user, route and id for request number `seq` without
 * sharing any state. Pure: no k6 or Node imports (both runtimes load this file).
 *
 * The mixer is SplitMix32-style integer hashing (Steele, Lea & Flood, "Fast splittable pseudorandom
 * number generators", OOPSLA 2014; 32-bit finaliser constants from Murmur3's fmix32).
 */

/** A uniform number in [0, 1) derived from `seq` and a `stream` number (one stream per decision). */
export function uniformAt(seed: number, seq: number, stream: number): number {
  let h = (Math.imul(seq | 0, 0x9e3779b1) ^ Math.imul((seed + stream) | 0, 0x85ebca6b)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** Decision streams, so that e.g. the cohort and the route of one request are independent. */
export const Stream = { cohort: 1, user: 2, route: 3, id: 4 } as const;
