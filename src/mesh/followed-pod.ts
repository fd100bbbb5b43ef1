/**
 * Which workload of the reference app a pod of a followed namespace runs, and under which names
 * (follow.ts runs one process per pod this accepts). The names are the cluster's, so the Istio
 * metrics of the process are those a sidecar on the cluster would report: `*_workload` is the
 * Deployment that owns the pod (through its ReplicaSet), `*_version` the pod's `version` label,
 * `*_workload_namespace` the namespace, `*_app` the pod's `app` label, the principal its service
 * account's.
 */
import type { MeshEndpoint } from './config.ts';

/** An object as the API server sends it, read field by field. */
export interface ClusterObject {
  metadata: {
    name: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
    ownerReferences?: { kind: string; name: string; controller?: boolean }[];
  };
  [k: string]: unknown;
}

/** The image of the reference app, e.g. `sprincube/app:0.1.0`: which service runs is the pod's `app` label. */
const REFERENCE_IMAGE = /^sprincube\/app:[\w][\w.-]{0,127}$/;

/** A pod to run: its process's name, identity (the endpoint without its URL) and environment. */
export interface PodWorkload {
  key: string;
  pod: string;
  name: string;
  endpoint: Omit<MeshEndpoint, 'url'>;
  env: Record<string, string>;
}

/**
 * The annotation that makes the test cluster's KWOK report a pod as a kubelet reports an image it
 * cannot pull (cluster/config/kwok/pod-image-pull-backoff.yaml); its value is the waiting reason.
 */
export const KWOK_FAIL_ANNOTATION = 'kwok.canary.sprincube.io/fail';
export const IMAGE_PULL_BACK_OFF = 'ImagePullBackOff';

export type PodDecision =
  /** Not Running and Ready, being deleted, or not (yet) known to belong to a Deployment: nothing to run now. */
  | { kind: 'none' }
  /** A pod that will never run here; `why` is logged once. */
  | { kind: 'pass-over'; key: string; why: string }
  /**
   * A pod whose image is not the reference app's: on a cluster its image could not be pulled.
   * `marked` when it already carries KWOK_FAIL_ANNOTATION, so KWOK reports it so.
   */
  | { kind: 'unknown-image'; key: string; pod: string; why: string; marked: boolean }
  | { kind: 'run'; workload: PodWorkload };

interface PodShape {
  metadata: ClusterObject['metadata'];
  spec?: {
    serviceAccountName?: string;
    containers?: { name: string; image?: string; env?: { name: string; value?: string; valueFrom?: unknown }[] }[];
  };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}

/** The owners of pods in one namespace, by name. */
export interface PodOwners {
  replicaSets: ReadonlyMap<string, ClusterObject>;
  deployments: ReadonlyMap<string, ClusterObject>;
}

export function decidePod(raw: ClusterObject, owners: PodOwners, namespace: string): PodDecision {
  const pod = raw as unknown as PodShape;
  const name = pod.metadata.name;
  const key = pod.metadata.uid ?? name;
  if (pod.metadata.deletionTimestamp) return { kind: 'none' };
  const rs = owners.replicaSets.get(controllerOf(pod.metadata, 'ReplicaSet') ?? '');
  const deployment = rs && owners.deployments.get(controllerOf(rs.metadata, 'Deployment') ?? '');
  if (!deployment) return { kind: 'none' }; // a later change brings the owner
  const labels = pod.metadata.labels ?? {};
  const service = labels.app;
  const containers = pod.spec?.containers ?? [];
  const container = containers.find((c) => c.name === service) ?? containers[0];
  const image = container?.image ?? '';
  // Checked in any phase, so that the pod is marked before or soon after KWOK makes it Running.
  if (!REFERENCE_IMAGE.test(image))
    return {
      kind: 'unknown-image',
      key,
      pod: name,
      why: `pod ${name}: image ${JSON.stringify(image)} is not the reference app (sprincube/app:TAG); not started, reported as ${IMAGE_PULL_BACK_OFF}`,
      marked: pod.metadata.annotations?.[KWOK_FAIL_ANNOTATION] === IMAGE_PULL_BACK_OFF,
    };
  if (pod.status?.phase !== 'Running') return { kind: 'none' };
  if (!pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return { kind: 'none' };
  if (!service || !labels.version)
    return {
      kind: 'pass-over',
      key,
      why: `pod ${name}: expected labels app and version (Istio names the service and version by them); not started`,
    };
  const env: Record<string, string> = {};
  for (const v of container?.env ?? []) if (v.valueFrom === undefined) env[v.name] = v.value ?? '';
  return {
    kind: 'run',
    workload: {
      key,
      pod: name,
      name: `${deployment.metadata.name}/${name}`,
      env,
      endpoint: {
        workload: deployment.metadata.name,
        service,
        version: labels.version,
        ...(labels.track === undefined ? {} : { track: labels.track }),
        namespace,
        serviceAccount: pod.spec?.serviceAccountName ?? 'default',
        labels,
      },
    },
  };
}

/** The name of the owner of `kind` that controls the object. */
function controllerOf(metadata: ClusterObject['metadata'], kind: string): string | undefined {
  return metadata.ownerReferences?.find((o) => o.controller && o.kind === kind)?.name;
}
