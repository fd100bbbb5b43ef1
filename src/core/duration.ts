/**
 * The one duration syntax of the harness, for every flag and configuration field: a bare number is
 * seconds (`90`, `0.5`), or a sequence of amounts with units `ms`, `s`, `m`, `h` (`500ms`, `30s`,
 * `5m`, `1m30s`). Istio's Go-style durations (`perTryTimeout: 250ms`, `1500us`) are the same syntax
 * with `us`/`ns` and without bare numbers, so the data plane reads its manifests with this parser too.
 *
 * No Node API and no sticky regular expressions: the k6 scripts (`load/lib/profile.ts`) import this
 * file, and k6's JavaScript engine is not V8.
 */

export const DURATION_EXAMPLES = '500ms, 30s, 5m, 1m30s or bare seconds (90)';

/** The harness syntax as one regular expression (for JSON Schema `pattern`; zero is refused by the parser). */
export const DURATION_PATTERN = '^\\s*([0-9]*\\.?[0-9]+|([0-9]*\\.?[0-9]+(ms|h|m|s))+)\\s*$';

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };
const HARNESS_UNITS = 'ms|h|m|s';
const ISTIO_UNITS = 'ms|us|µs|ns|h|m|s';

export interface DurationRules {
  /** `seconds` (the harness: `90` = 90 s) or `refuse` (Istio: a unit is required, except `0`). */
  bareNumber?: 'seconds' | 'refuse';
  /** Accept Istio's `us` and `ns` units. */
  subMillisecond?: boolean;
  /** Accept a zero duration (default: no; a stage or an interval of 0 s is a mistake). */
  allowZero?: boolean;
}

/** Thrown with the offending text; callers wrap it in the error class of their edge (flag, config key, manifest). */
export class DurationSyntaxError extends Error {
  constructor(
    readonly text: string,
    message: string,
  ) {
    super(message);
    this.name = 'DurationSyntaxError';
  }
}

/** A duration in milliseconds, from a number of seconds or a duration string. */
export function parseDuration(value: string | number, rules: DurationRules = {}): number {
  const bare = rules.bareNumber ?? 'seconds';
  const expected = bare === 'seconds' ? DURATION_EXAMPLES : '250ms, 10s, 1m30s';
  const shown = typeof value === 'number' ? String(value) : JSON.stringify(value);
  const check = (ms: number): number => {
    if (!Number.isFinite(ms) || ms < 0 || (ms === 0 && !rules.allowZero))
      throw new DurationSyntaxError(String(value), `expected a positive duration (${expected}), got ${shown}`);
    return ms;
  };
  if (typeof value === 'number') {
    if (bare === 'refuse')
      throw new DurationSyntaxError(String(value), `expected a duration with a unit (${expected}), got ${shown}`);
    return check(value * 1000);
  }
  const s = value.trim();
  if (/^[0-9]*\.?[0-9]+$/.test(s)) {
    if (Number(s) === 0 && rules.allowZero) return 0;
    if (bare === 'refuse')
      throw new DurationSyntaxError(value, `expected a duration with a unit (${expected}), got ${shown}`);
    return check(Number(s) * 1000);
  }
  const units = rules.subMillisecond ? ISTIO_UNITS : HARNESS_UNITS;
  if (!new RegExp(`^([0-9]*\\.?[0-9]+(${units}))+$`).test(s))
    throw new DurationSyntaxError(value, `expected a duration like ${expected}, got ${shown}`);
  let total = 0;
  for (const part of s.match(new RegExp(`[0-9]*\\.?[0-9]+(${units})`, 'g')) ?? []) {
    const unit = new RegExp(`(${units})$`).exec(part)![1]!;
    total += Number(part.slice(0, part.length - unit.length)) * UNIT_MS[unit]!;
  }
  return check(total);
}

/** True when `parseDuration` would accept the text (for schemas that validate before they transform). */
export function isDuration(value: string | number, rules: DurationRules = {}): boolean {
  try {
    parseDuration(value, rules);
    return true;
  } catch {
    return false;
  }
}

/** Milliseconds in the same syntax, shortest first: `500ms`, `30s`, `5m`, `1m30s`, `1h`. */
export function durationText(ms: number): string {
  if (ms < 1000 || ms % 1000 !== 0) return ms < 1000 ? `${+ms.toFixed(3)}ms` : `${+(ms / 1000).toFixed(3)}s`;
  let s = ms / 1000;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}`;
}
