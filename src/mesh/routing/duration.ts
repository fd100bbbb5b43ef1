/**
 * Istio durations (`timeout: 10s`, `fixedDelay: 0.5s`, `perTryTimeout: 250ms`) in milliseconds.
 * Istio accepts Go-style duration strings: a sequence of decimal numbers with units h, m, s, ms, us, ns;
 * the harness's one duration parser (src/core/duration.ts) reads them in its Istio mode.
 */
import { DurationSyntaxError, parseDuration } from '../../core/duration.ts';

export class InvalidDurationError extends Error {}

export function parseDurationMs(text: string): number {
  try {
    return parseDuration(text, { bareNumber: 'refuse', subMillisecond: true, allowZero: true });
  } catch (err) {
    if (err instanceof DurationSyntaxError)
      throw new InvalidDurationError(
        `${JSON.stringify(text)} is not a duration (expected e.g. "2s", "150ms", "1m30s")`,
      );
    throw err;
  }
}
