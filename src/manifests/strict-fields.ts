/**
 * Unknown-field detection: the part of strict validation the model schemas leave out. The API
 * server (with `--validate=strict`) and istioctl reject a field the schema does not define; a
 * misspelt `wieght` or a `retries` one level too deep would otherwise be dropped without a word.
 *
 * Kubernetes kinds are walked with the attribute maps of @kubernetes/client-node's generated models
 * (each lists every field and its type, from the Kubernetes OpenAPI document); Istio kinds with the
 * JSON schema their @kubernetes-models/istio class validates against.
 */
import * as clientModels from '@kubernetes/client-node/dist/gen/models/all.js';
import type { ModelClass } from './kinds.ts';
import type { PathSegment } from './path.ts';

export interface FieldProblem {
  path: PathSegment[];
  expected: string;
}

interface Attribute {
  baseName: string;
  type: string;
}
interface TypeMapModel {
  getAttributeTypeMap(): Attribute[];
}

function typeMapModel(typeName: string): TypeMapModel | undefined {
  const candidate = (clientModels as Record<string, unknown>)[typeName];
  if (typeof candidate === 'function' && 'getAttributeTypeMap' in candidate)
    return candidate as unknown as TypeMapModel;
  return undefined;
}

/** Whether the client-node model `typeName` exists, so a registry entry cannot point nowhere. */
export function hasTypeMap(typeName: string): boolean {
  return typeMapModel(typeName) !== undefined;
}

const arrayType = /^Array<(.+)>$/;
const mapType = /^\{ \[key: string\]: (.+); \}$/;

/** Fields of `value` that the client-node model `typeName` (and the models under it) do not define. */
export function unknownFieldsByTypeMap(typeName: string, value: unknown, path: PathSegment[] = []): FieldProblem[] {
  if (value === null || value === undefined) return [];
  const array = arrayType.exec(typeName);
  if (array) {
    return Array.isArray(value) ? value.flatMap((item, i) => unknownFieldsByTypeMap(array[1], item, [...path, i])) : [];
  }
  const map = mapType.exec(typeName);
  if (map) {
    return isObject(value)
      ? Object.entries(value).flatMap(([k, v]) => unknownFieldsByTypeMap(map[1], v, [...path, k]))
      : [];
  }
  const model = typeMapModel(typeName);
  // Scalars, IntOrString, `any`, `object`: nothing below to check (type errors are the schema's job).
  if (!model || !isObject(value)) return [];
  const attributes = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  const problems: FieldProblem[] = [];
  for (const [key, child] of Object.entries(value)) {
    const type = attributes.get(key);
    if (type === undefined) {
      problems.push(unknownField(key, [...attributes.keys()], path));
    } else {
      problems.push(...unknownFieldsByTypeMap(type, child, [...path, key]));
    }
  }
  return problems;
}

/** A JSON schema as the Istio models write it (OpenAPI v3 subset). */
export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

const schemaCache = new WeakMap<ModelClass, JsonSchema>();

/**
 * The JSON schema an Istio model validates against. The models keep it private and hand it to
 * their Ajv instance, which runs in verbose mode: every error carries the schema it came from.
 * So we validate an object without its required `kind` and read the root schema off the one error
 * that must follow. If a future version changes that, this fails loudly rather than skipping the
 * unknown-field check.
 */
export function schemaOf(model: ModelClass): JsonSchema {
  const cached = schemaCache.get(model);
  if (cached) return cached;
  let found: JsonSchema | undefined;
  try {
    new model({ kind: undefined }).validate();
  } catch (error) {
    const errors =
      (error as { errors?: { keyword: string; instancePath: string; parentSchema?: JsonSchema }[] }).errors ?? [];
    found = errors.find((e) => e.keyword === 'required' && e.instancePath === '')?.parentSchema;
  }
  if (!found?.properties)
    throw new Error(`cannot read the JSON schema of ${model.name}: the model's validator did not report it`);
  schemaCache.set(model, found);
  return found;
}

const objectMetaRef = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

/** Fields of `value` that `schema` does not define. */
export function unknownFieldsBySchema(schema: JsonSchema, value: unknown, path: PathSegment[] = []): FieldProblem[] {
  if (value === null || value === undefined || schema['x-kubernetes-preserve-unknown-fields']) return [];
  if (schema.$ref) {
    return schema.$ref.startsWith(objectMetaRef) ? unknownFieldsByTypeMap('V1ObjectMeta', value, path) : [];
  }
  const branches = [...(schema.oneOf ?? []), ...(schema.anyOf ?? []), ...(schema.allOf ?? [])];
  // `metadata: oneOf [ObjectMeta, null]`: a branch that is only a reference stands for the value itself.
  const reference = branches.find((b) => b.$ref);
  if (reference && !schema.properties) return unknownFieldsBySchema(reference, value, path);

  if (Array.isArray(value)) {
    return schema.items
      ? value.flatMap((item, i) => unknownFieldsBySchema(schema.items as JsonSchema, item, [...path, i]))
      : [];
  }
  if (!isObject(value)) return [];

  const properties: Record<string, JsonSchema> = { ...schema.properties };
  for (const branch of branches) Object.assign(properties, branch.properties);
  const additional = typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined;
  // An object schema that names no properties is free-form (e.g. `status`), unless it is a map.
  const closed = Object.keys(properties).length > 0 && schema.additionalProperties !== true;

  const problems: FieldProblem[] = [];
  for (const [key, child] of Object.entries(value)) {
    const childSchema = properties[key] ?? additional;
    if (childSchema) problems.push(...unknownFieldsBySchema(childSchema, child, [...path, key]));
    else if (closed) {
      problems.push(unknownField(key, Object.keys(properties), path));
    }
  }
  return problems;
}

function unknownField(key: string, known: string[], path: PathSegment[]): FieldProblem {
  return {
    path: [...path, key],
    expected: `expected one of the fields ${known.join(', ')}; got unknown field "${key}"`,
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
