/**
 * Checks one object against the real schema of its kind: the kubernetes-models /
 * @kubernetes-models/istio class's `.validate()` (Ajv, generated from the Kubernetes OpenAPI
 * document and Istio's CRDs), plus unknown fields (strict-fields.ts). Ajv's errors become
 * problems with a readable path and what was expected.
 */
import { kindDefinition, knownKinds } from './kinds.ts';
import { fromJsonPointer, type PathSegment } from './path.ts';
import { schemaOf, unknownFieldsBySchema, unknownFieldsByTypeMap } from './strict-fields.ts';

export interface SchemaProblem {
  path: PathSegment[];
  expected: string;
}

/** Ajv's error object (ajv 8), as both model packages throw it in `error.errors`. */
interface AjvError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
  schema?: unknown;
}

export function schemaProblems(object: { apiVersion: string; kind: string }): SchemaProblem[] {
  const definition = kindDefinition(object.apiVersion, object.kind);
  if (!definition) {
    return [
      {
        path: ['kind'],
        expected: `expected a kind the harness knows: ${knownKindsHint(object.apiVersion)}; got ${object.apiVersion} ${object.kind}`,
      },
    ];
  }
  const problems: SchemaProblem[] = [];
  try {
    const checked = definition.modelApiVersion ? { ...object, apiVersion: definition.modelApiVersion } : object;
    new definition.model(checked as unknown as Record<string, unknown>).validate();
  } catch (error) {
    const errors = (error as { errors?: AjvError[] }).errors;
    if (!Array.isArray(errors)) throw error;
    problems.push(...readable(errors, object));
  }
  const unknown =
    definition.fields.kind === 'typeMap'
      ? unknownFieldsByTypeMap(definition.fields.typeName, object)
      : unknownFieldsBySchema(schemaOf(definition.model), object);
  problems.push(...unknown);
  return dedupe(problems);
}

/** The kinds of the object's own apiVersion, or else the apiVersions there are. */
function knownKindsHint(apiVersion: string): string {
  const kinds = knownKinds();
  const same = kinds.filter((k) => k.apiVersion === apiVersion).map((k) => k.kind);
  if (same.length > 0) return `for ${apiVersion} one of ${same.join(', ')}`;
  return `apiVersion one of ${[...new Set(kinds.map((k) => k.apiVersion))].join(', ')}`;
}

/**
 * Ajv with `allErrors` reports, for a failed `oneOf`, the failures inside each branch as well as
 * the `oneOf` itself. The branch failures describe alternatives the user did not choose, so only
 * the summary is kept.
 */
function readable(errors: AjvError[], object: unknown): SchemaProblem[] {
  const combinatorPaths = new Set(
    errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf').map((e) => e.instancePath),
  );
  return errors
    .filter((e) => !(/\/(oneOf|anyOf|not)\//.test(e.schemaPath) && combinatorPaths.has(e.instancePath)))
    .filter((e) => !(e.keyword === 'not' && combinatorPaths.has(e.instancePath)))
    .map((e) => toProblem(e, object));
}

function toProblem(error: AjvError, object: unknown): SchemaProblem {
  const path = fromJsonPointer(error.instancePath);
  const actual = describe(valueAt(object, path));
  const p = error.params;
  switch (error.keyword) {
    case 'type':
      return { path, expected: `expected ${String(p.type)}, got ${actual}` };
    case 'required':
      return { path: [...path, String(p.missingProperty)], expected: 'expected this required field' };
    case 'enum':
      return {
        path,
        expected: `expected one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, got ${actual}`,
      };
    case 'format':
      return { path, expected: `expected format ${String(p.format)}, got ${actual}` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { path, expected: `expected a number ${String(p.comparison)} ${String(p.limit)}, got ${actual}` };
    case 'pattern':
      return { path, expected: `expected a string matching ${String(p.pattern)}, got ${actual}` };
    case 'oneOf': {
      const fields = alternativeFields(error.schema);
      const which = fields.length > 0 ? `exactly one of ${fields.join(', ')}` : 'exactly one of the alternative forms';
      return { path, expected: `expected ${which}, got ${actual}` };
    }
    default:
      return {
        path,
        expected: `expected a value that ${error.message ?? `satisfies "${error.keyword}"`}, got ${actual}`,
      };
  }
}

/** The field names that tell `oneOf` branches apart (Istio writes them as `required` lists). */
function alternativeFields(schema: unknown): string[] {
  const names = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      if (Array.isArray(record.required)) record.required.forEach((n) => names.add(String(n)));
      for (const key of ['oneOf', 'anyOf', 'allOf', 'not']) if (key in record) visit(record[key]);
    }
  };
  visit(schema);
  return [...names];
}

function valueAt(object: unknown, path: PathSegment[]): unknown {
  let node = object;
  for (const segment of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  const text = JSON.stringify(value);
  return `${typeof value} ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}

function dedupe(problems: SchemaProblem[]): SchemaProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${JSON.stringify(p.path)} ${p.expected}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
