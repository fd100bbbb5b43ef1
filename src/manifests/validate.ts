/**
 * Validation of a loaded `ManifestSet`: each object against its kind's schema (schema.ts), then
 * the references between objects (references.ts). Every problem names the file, the object
 * (`Kind/namespace/name`), the path inside it and, when known, the line.
 */
import { ConfigError } from '../core/errors.ts';
import { formatPath, type PathSegment } from './path.ts';
import { type ReferenceOptions, referenceProblems } from './references.ts';
import { schemaProblems } from './schema.ts';
import { lineAt } from './source-lines.ts';
import type { ManifestSet, Origin } from './types.ts';

export interface ManifestProblem {
  origin: Origin;
  path: PathSegment[];
  /** What was expected and what was found, e.g. `expected integer, got string "ten"`. */
  expected: string;
  /** 1-based line of the path in the file, when the object was loaded from one. */
  line?: number;
}

/** Every problem of the set, in file and document order. Schema problems come before cross-references. */
export function findManifestProblems(set: ManifestSet, opts: ReferenceOptions = {}): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  for (const { origin, value } of set.all) {
    for (const p of schemaProblems(value))
      problems.push({ origin, path: p.path, expected: p.expected, line: lineAt(value, p.path) });
  }
  // Cross-references read fields the schema vouches for, so they run only on a set that passed it.
  if (problems.length > 0) return problems;
  for (const p of referenceProblems(set, opts)) {
    problems.push({ origin: p.origin, path: p.path, expected: p.expected, line: lineAt(p.value, p.path) });
  }
  return problems;
}

/** The problem as the error the CLI prints and maps to exit code 3. */
export function problemError(problem: ManifestProblem, others = 0): ConfigError {
  const line = problem.line === undefined ? '' : ` (line ${problem.line})`;
  const more = others > 0 ? ` [and ${others} more problem${others === 1 ? '' : 's'}]` : '';
  return new ConfigError(
    problem.origin.file,
    `${problem.origin.object} at ${formatPath(problem.path)}${line}`,
    `${problem.expected}${more}`,
  );
}

/** Throws a ConfigError for the first problem of the set (and says how many more there are). */
export function validateManifests(set: ManifestSet, opts: ReferenceOptions = {}): void {
  const problems = findManifestProblems(set, opts);
  if (problems.length > 0) throw problemError(problems[0], problems.length - 1);
}
