/**
 * The workloads the local engine starts, read from the Deployments of a validated `ManifestSet`:
 * one entry per Deployment, each to be run as `replicas` processes. What a cluster would take from
 * the pod template (labels, service account, container env and port) is flattened here so the
 * data plane need not walk Kubernetes objects.
 *
 * Left out: the database scenarios (objects loaded from `<dir>/database/`), which only make sense
 * in a cluster; locally the friend service uses SQLite. The ingress gateway is not a Deployment
 * here either (Istio installs it); the local data plane starts its own.
 */
import path from 'node:path';
import { ConfigError } from '../core/errors.ts';
import { namespaceOf } from './origin.ts';
import type { IDeployment, ManifestSet, Origin } from './types.ts';

export interface MeshWorkloadSpec {
  /** The Deployment's name, e.g. `account-canary`: the `source_workload` / `destination_workload`. */
  name: string;
  namespace: string;
  /** The `app` label: the service this workload serves (`bff`, `account`, `friend`). */
  service: string;
  /** The `version` label, e.g. `v1`. */
  version: string;
  /** The `track` label (`primary`, `baseline`, `canary`), when present. */
  track?: string;
  replicas: number;
  /** The container's literal environment (`value:` entries), in manifest order. */
  env: Record<string, string>;
  /**
   * Variables set from elsewhere in a cluster (`valueFrom:` Secret, ConfigMap or field refs), with
   * where they come from, e.g. `{ DATABASE_URL: 'secret friend-database key url (optional)' }`. The
   * local engine does not resolve them; it leaves them unset.
   */
  valueFrom: Record<string, string>;
  /** The pod template's labels: what DestinationRule subsets and policies select on. */
  labels: Record<string, string>;
  /** The ServiceAccount; Istio's principal for it is `cluster.local/ns/<namespace>/sa/<serviceAccount>`. */
  serviceAccount: string;
  /** The container port the service listens on. */
  port: number;
  origin: Origin;
}

export function meshTopology(set: ManifestSet): MeshWorkloadSpec[] {
  const scenarios = path.join(set.dir, 'database') + path.sep;
  return set.deployments
    .filter(({ origin }) => !path.resolve(origin.file).startsWith(path.resolve(scenarios)))
    .map(({ origin, value }) => workloadOf(origin, value));
}

function workloadOf(origin: Origin, deployment: IDeployment): MeshWorkloadSpec {
  const fail = (where: string, expected: string): never => {
    throw new ConfigError(origin.file, `${origin.object} at ${where}`, expected);
  };
  const pod = deployment.spec?.template;
  const labels = { ...(pod?.metadata?.labels ?? {}) };
  const service =
    labels.app ?? fail('spec.template.metadata.labels', 'expected an "app" label (Istio names the service by it)');
  const version =
    labels.version ??
    fail('spec.template.metadata.labels', 'expected a "version" label (Istio reports it as destination_version)');
  const containers = pod?.spec?.containers ?? [];
  const container =
    containers.find((c) => c.name === service) ??
    containers[0] ??
    fail('spec.template.spec.containers', 'expected a container');
  const index = containers.indexOf(container);
  const ports = container.ports ?? [];
  const port = (ports.find((p) => p.name === 'http') ?? ports[0])?.containerPort;
  if (port === undefined)
    fail(`spec.template.spec.containers[${index}].ports`, 'expected a containerPort for the service');

  const env: Record<string, string> = {};
  const valueFrom: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    if (variable.valueFrom) valueFrom[variable.name] = describeSource(variable.valueFrom);
    else env[variable.name] = variable.value ?? '';
  }
  return {
    name: deployment.metadata?.name ?? fail('metadata.name', 'expected a name'),
    namespace: namespaceOf(deployment),
    service,
    version,
    ...(labels.track === undefined ? {} : { track: labels.track }),
    replicas: deployment.spec?.replicas ?? 1,
    env,
    valueFrom,
    labels,
    serviceAccount: pod?.spec?.serviceAccountName ?? 'default',
    port: port as number,
    origin,
  };
}

type EnvSource = NonNullable<
  NonNullable<NonNullable<IDeployment['spec']>['template']['spec']>['containers'][number]['env']
>[number]['valueFrom'];

function describeSource(source: NonNullable<EnvSource>): string {
  const optional = (o: boolean | undefined): string => (o ? ' (optional)' : '');
  if (source.secretKeyRef)
    return `secret ${source.secretKeyRef.name} key ${source.secretKeyRef.key}${optional(source.secretKeyRef.optional)}`;
  if (source.configMapKeyRef)
    return `configmap ${source.configMapKeyRef.name} key ${source.configMapKeyRef.key}${optional(source.configMapKeyRef.optional)}`;
  if (source.fieldRef) return `field ${source.fieldRef.fieldPath}`;
  if (source.resourceFieldRef) return `resource ${source.resourceFieldRef.resource}`;
  return 'another source';
}
