/**
 * Reads the manifests of a directory tree into a `ManifestSet`: every `*.yaml` / `*.yml` file,
 * every document in it, in a stable order (files sorted by path). Loading only parses and sorts
 * objects by kind; `validateManifests` (re-exported here) checks them against the schemas and
 * each other. Both throw `ConfigError` naming the file and the object.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../core/errors.ts';
import { parseYamlDocuments } from '../core/yaml.ts';
import { kindDefinition } from './kinds.ts';
import { rememberSource } from './source-lines.ts';
import type { Located, ManifestSet, Origin } from './types.ts';

import { validateManifests } from './validate.ts';
import { namespaceOf } from './origin.ts';

export { validateManifests, findManifestProblems, type ManifestProblem } from './validate.ts';

type KubernetesObject = ManifestSet['all'][number]['value'];

const manifestFile = /\.ya?ml$/i;

/** Loads every manifest under `dir` (recursively). Throws ConfigError on unreadable or malformed YAML. */
export async function loadManifests(dir: string): Promise<ManifestSet> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new ConfigError(dir, '', 'expected a directory of Kubernetes/Istio manifests');
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile() && manifestFile.test(e.name))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
  if (files.length === 0) throw new ConfigError(dir, '', 'expected at least one *.yaml or *.yml file');

  const set = emptyManifestSet(dir);
  for (const file of files) {
    for (const located of parseManifestFile(file, await readFile(file, 'utf8'))) addToSet(set, located);
  }
  return set;
}

/** Loads and validates: what `canary mesh up` and the platforms call. */
export async function loadValidManifests(dir: string): Promise<ManifestSet> {
  const set = await loadManifests(dir);
  validateManifests(set);
  return set;
}

/** The objects of one file. Exported for tests and for callers that hold YAML in memory. */
export function parseManifestFile(file: string, text: string): Located<KubernetesObject>[] {
  const { documents, lines } = parseYamlDocuments(file, text);
  const out: Located<KubernetesObject>[] = [];
  documents.forEach((document, index) => {
    const value: unknown = document.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return; // an empty document, e.g. after a trailing `---`
    const startLine = document.contents?.range ? lines.linePos(document.contents.range[0]).line : 1;
    const where = `document ${index + 1} (line ${startLine})`;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new ConfigError(file, where, 'expected a Kubernetes object: a mapping with apiVersion, kind and metadata');
    }
    const object = value as Record<string, unknown>;
    if (typeof object.apiVersion !== 'string' || typeof object.kind !== 'string') {
      throw new ConfigError(file, where, 'expected string fields apiVersion and kind');
    }
    rememberSource(object, document, lines);
    out.push({
      origin: originOf(file, index, object as unknown as KubernetesObject),
      value: object as unknown as KubernetesObject,
    });
  });
  return out;
}

function originOf(file: string, document: number, object: KubernetesObject): Origin {
  const name = typeof object.metadata?.name === 'string' ? object.metadata.name : '(unnamed)';
  const clusterScoped = kindDefinition(object.apiVersion, object.kind)?.clusterScoped ?? false;
  const name_ = clusterScoped ? name : `${namespaceOf(object)}/${name}`;
  return { file, document, object: `${object.kind}/${name_}` };
}

/** A set with no objects yet; `dir` names where its objects come from. */
export function emptyManifestSet(dir: string): ManifestSet {
  return {
    dir,
    deployments: [],
    services: [],
    gateways: [],
    virtualServices: [],
    destinationRules: [],
    authorizationPolicies: [],
    all: [],
  };
}

/** Adds one object to `all` and to the group of its kind: the one sorting both sources share. */
export function addToSet(set: ManifestSet, located: Located<KubernetesObject>): void {
  set.all.push(located);
  const group = located.value.apiVersion.split('/')[0];
  const isIstio = group === 'networking.istio.io' || group === 'security.istio.io';
  const typed = located as Located<never>;
  switch (`${isIstio ? 'istio' : located.value.apiVersion}:${located.value.kind}`) {
    case 'apps/v1:Deployment':
      set.deployments.push(typed);
      break;
    case 'v1:Service':
      set.services.push(typed);
      break;
    case 'istio:Gateway':
      set.gateways.push(typed);
      break;
    case 'istio:VirtualService':
      set.virtualServices.push(typed);
      break;
    case 'istio:DestinationRule':
      set.destinationRules.push(typed);
      break;
    case 'istio:AuthorizationPolicy':
      set.authorizationPolicies.push(typed);
      break;
  }
}
