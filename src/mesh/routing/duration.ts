/**
 * Istio durations (`timeout: 10s`, `fixedDelay: 0.5s`, `perTryTimeout: 250ms`) in milliseconds.
 * Istio accepts Go-style duration strings: a sequence of decimal numbers with units h, m, s, ms, us, ns.
 */
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };
const PART = /(\d+(?:\.\d+)?|\.\d+)(h|ms|m|s|us|µs|ns)/gy;

export class InvalidDurationError extends Error {}

export function parseDurationMs(text: string): number {
  const s = text.trim();
  if (s === '0') return 0;
  PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let m = PART.exec(s); m; m = PART.exec(s)) {
    total += Number(m[1]) * UNIT_MS[m[2]];
    consumed = PART.lastIndex;
  }
  if (consumed === 0 || consumed !== s.length) {
    throw new InvalidDurationError(`${JSON.stringify(text)} is not a duration (expected e.g. "2s", "150ms", "1m30s")`);
  }
  return total;
}
