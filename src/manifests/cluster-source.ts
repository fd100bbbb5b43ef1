/**
 * The second source of a `ManifestSet`: the objects of one namespace as an API server holds them,
 * instead of the files of `manifests/`. Each object is stripped of what the server sets on its own
 * (`status`, `metadata.managedFields`, `resourceVersion`, `uid`, `creationTimestamp`, `generation`,
 * kubectl's `last-applied-configuration` annotation), named `cluster: <ns>/<Kind>/<name>` where a
 * file loader names its file, and validated by the same code as a file (validate.ts), so an object
 * the files would be refused for is refused here too, naming the object and the field; except a
 * selector that matches no workload at the moment, which on a live namespace is a state that passes
 * (a run's baseline and canary Deployments are removed at its end, their subsets stay).
 *
 * The lister is structural (`KubeClient` fits it), so this folder does not depend on the platform.
 */
import { addToSet, emptyManifestSet } from './load.ts';
import type { Located, ManifestSet, Origin } from './types.ts';
import { validateManifests } from './validate.ts';

/** The kinds the local data plane reads from a namespace, in the order they are listed. */
export const CLUSTER_MANIFEST_KINDS = [
  'Deployment',
  'Service',
  'Gateway',
  'VirtualService',
  'DestinationRule',
  'AuthorizationPolicy',
  'PeerAuthentication',
] as const;

export type ClusterManifestKind = (typeof CLUSTER_MANIFEST_KINDS)[number];

/** What the reader needs of a Kubernetes client: a list of one kind in one namespace. */
export interface ClusterLister {
  list(kind: ClusterManifestKind, namespace: string): Promise<{ items: unknown[] }>;
}

type KubernetesObject = ManifestSet['all'][number]['value'];

/** Server-set metadata, absent from what a person writes. */
const SERVER_METADATA = ['managedFields', 'resourceVersion', 'uid', 'creationTimestamp', 'generation'] as const;
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** How errors name an object read from the cluster. */
export function clusterOrigin(namespace: string, kind: string, name: string): Origin {
  return { file: `cluster: ${namespace}/${kind}/${name}`, document: 0, object: `${kind}/${namespace}/${name}` };
}

/** The set's `dir`: where its objects come from, for messages. */
export function clusterSetName(namespace: string): string {
  return `cluster: ${namespace}`;
}

/**
 * A copy of `object` without what the API server sets: what the same object looks like in a file.
 * A pod template's `creationTimestamp: null` (which older servers write) goes too.
 */
export function stripServerFields(object: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(object);
  delete copy.status;
  const metadata = copy.metadata as Record<string, unknown> | undefined;
  if (metadata) {
    for (const field of SERVER_METADATA) delete metadata[field];
    const annotations = metadata.annotations as Record<string, string> | undefined;
    if (annotations) {
      delete annotations[LAST_APPLIED];
      if (Object.keys(annotations).length === 0) delete metadata.annotations;
    }
  }
  const template = (copy.spec as { template?: { metadata?: Record<string, unknown> } } | undefined)?.template;
  if (template?.metadata && template.metadata.creationTimestamp === null) delete template.metadata.creationTimestamp;
  return copy;
}

/**
 * The objects of `namespace` (already listed, any kinds of `CLUSTER_MANIFEST_KINDS`) as a validated
 * `ManifestSet`, sorted by kind (in that order) and name. Throws the ConfigError of the first
 * problem, naming `cluster: ns/Kind/name` and the field.
 */
export function clusterManifestSet(namespace: string, objects: readonly unknown[]): ManifestSet {
  const set = emptyManifestSet(clusterSetName(namespace));
  const located = objects.map((raw) => {
    const value = stripServerFields(raw as Record<string, unknown>) as unknown as KubernetesObject;
    const name = value.metadata?.name ?? '(unnamed)';
    return { origin: clusterOrigin(namespace, value.kind, name), value } satisfies Located<KubernetesObject>;
  });
  const rank = (kind: string): number => {
    const i = (CLUSTER_MANIFEST_KINDS as readonly string[]).indexOf(kind);
    return i < 0 ? CLUSTER_MANIFEST_KINDS.length : i;
  };
  located.sort(
    (a, b) =>
      rank(a.value.kind) - rank(b.value.kind) ||
      a.value.kind.localeCompare(b.value.kind) ||
      (a.value.metadata?.name ?? '').localeCompare(b.value.metadata?.name ?? ''),
  );
  for (const l of located) addToSet(set, l);
  // What the namespace holds now: a subset whose pods are gone (a finished run's baseline) is no refusal.
  validateManifests(set, { live: true });
  return set;
}

/** Lists every kind the data plane reads in `namespace` and returns them as a validated set. */
export async function readClusterManifests(lister: ClusterLister, namespace: string): Promise<ManifestSet> {
  const lists = await Promise.all(CLUSTER_MANIFEST_KINDS.map((kind) => lister.list(kind, namespace)));
  return clusterManifestSet(
    namespace,
    lists.flatMap((l, i) => l.items.map((o) => withKind(o, CLUSTER_MANIFEST_KINDS[i]))),
  );
}

/**
 * The items of a list carry no `kind`/`apiVersion` on some servers (the list has them); set them
 * from the list's kind when missing.
 */
export function withKind(object: unknown, kind: ClusterManifestKind): unknown {
  const o = object as { kind?: string; apiVersion?: string };
  if (o.kind !== undefined && o.apiVersion !== undefined) return o;
  return { ...o, kind, apiVersion: o.apiVersion ?? API_VERSIONS[kind] };
}

const API_VERSIONS: Record<ClusterManifestKind, string> = {
  Deployment: 'apps/v1',
  Service: 'v1',
  Gateway: 'networking.istio.io/v1beta1',
  VirtualService: 'networking.istio.io/v1beta1',
  DestinationRule: 'networking.istio.io/v1beta1',
  AuthorizationPolicy: 'security.istio.io/v1beta1',
  PeerAuthentication: 'security.istio.io/v1beta1',
};
