/**
 * Flag values every command reads the same way: one duration syntax, one rate syntax, and the
 * renamed flags that are refused with a hint, so a name means one thing across commands.
 */
import { DurationSyntaxError, parseDuration } from '../core/duration.ts';
import { UsageError } from '../core/errors.ts';

/** A duration flag in ms: `500ms`, `30s`, `5m`, `1m30s` or bare seconds. */
export function durationFlag(flag: string, text: string | number): number {
  try {
    return parseDuration(text);
  } catch (err) {
    if (err instanceof DurationSyntaxError) throw new UsageError(flag, err.message);
    throw err;
  }
}

/** A rate flag: a positive number of requests per second. */
export function rateFlag(flag: string, text: string | number): number {
  const v = typeof text === 'number' ? text : text.trim() === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(v) || v <= 0)
    throw new UsageError(flag, `expected a positive number of requests per second, got ${JSON.stringify(text)}`);
  return v;
}

/** A flag that was renamed because its old name meant different things in different commands. */
export interface RenamedFlag {
  old: string;
  hint: string;
}

/** Throws for the first renamed flag present in argv (`--old`, `--old=…`), naming the new one. */
export function refuseRenamed(argv: readonly string[], renamed: readonly RenamedFlag[]): void {
  for (const r of renamed) {
    if (argv.some((a) => a === `--${r.old}` || a.startsWith(`--${r.old}=`)))
      throw new UsageError(`--${r.old}`, `renamed: ${r.hint}`);
  }
}
