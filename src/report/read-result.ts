/**
 * Reads a `result.json` back for re-rendering. The file may come from another machine or an older
 * version, so its outline is checked before any renderer trusts it; a bad file names itself, the
 * path inside it and what was expected.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { RESULT_SCHEMA_VERSION, type RunResult } from '../canary/result.ts';
import { ConfigError } from '../core/errors.ts';

const outline = z.looseObject({
  schemaVersion: z.literal(RESULT_SCHEMA_VERSION),
  runId: z.string().min(1),
  startedAt: z.string(),
  endedAt: z.string(),
  status: z.enum(['promoted', 'rolled-back', 'inconclusive', 'aborted', 'error']),
  exitCode: z.number().int(),
  reason: z.string(),
  responsible: z.array(z.string()),
  plan: z.looseObject({
    target: z.looseObject({ service: z.string() }),
    comparison: z.looseObject({}),
    tracks: z.array(z.looseObject({})),
    notes: z.array(z.string()),
  }),
  stages: z.array(
    z.looseObject({
      name: z.string(),
      intervals: z.array(z.looseObject({ measurement: z.looseObject({}), split: z.looseObject({}) })),
    }),
  ),
  durationMs: z.number(),
});

/** `target` is a run directory or a result.json file. */
export function readRunResult(target: string): { file: string; result: RunResult } {
  let file = target;
  try {
    if (statSync(target).isDirectory()) file = join(target, 'result.json');
  } catch {
    throw new ConfigError(target, '', 'no such file or directory (expected a run directory or its result.json)');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(file, '', `not readable as JSON: ${(err as Error).message}`);
  }
  const parsed = outline.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('')
      .replace(/^\./, '');
    throw new ConfigError(file, where || '(root)', issue.message);
  }
  return { file, result: raw as RunResult };
}
