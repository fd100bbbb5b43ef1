/**
 * The Kubernetes objects of the reference app and of one run, rendered from `manifests/` and the
 * plan without a cluster: what `canary deploy --dry-run` prints and what the Kubernetes engine
 * server-side applies, in the same order.
 *
 * - `appObjects`: `manifests/app`, `manifests/istio` and `manifests/rbac` (the harness's
 *   ServiceAccount, Role, RoleBinding), moved to the chosen namespace, which is labelled
 *   `istio-injection=enabled`. `manifests/database/` (three alternatives) and `manifests/prometheus/`
 *   (the cluster's own) are not part of it.
 * - `runObjects`: the baseline and canary Deployments beside the primary (the manifests' own when they
 *   declare them, else copies of the primary), each with its track's version, image and environment,
 *   and the service's VirtualService on the safe route.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { CanaryPlan, TrackPlan } from '../canary/plan-types.ts';
import type { RoutePlan } from '../canary/route-plan.ts';
import { virtualServiceFor } from '../canary/routes.ts';
import { ConfigError } from '../core/errors.ts';
import { parseYamlDocuments } from '../core/yaml.ts';
import { formatPath } from '../manifests/path.ts';
import { schemaProblems } from '../manifests/schema.ts';
import { type KubeObject, kindOf, type Kind } from './kube-client.ts';

/** Folders of `manifests/` that `canary deploy` applies. */
export const DEPLOYED_FOLDERS = ['app', 'istio', 'rbac'] as const;

/** Kinds in the order they are applied: what others refer to comes first. */
export const APPLY_ORDER: readonly Kind[] = [
  'Namespace',
  'ServiceAccount',
  'Role',
  'RoleBinding',
  'ConfigMap',
  'Service',
  'Deployment',
  'DestinationRule',
  'Gateway',
  'VirtualService',
  'AuthorizationPolicy',
  'PeerAuthentication',
];

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'sprincube-canary' };

interface Found {
  file: string;
  object: KubeObject;
}

/** Every object of the deployed folders, checked to be a kind the engine handles. */
export function readManifestObjects(manifestsDir: string): Found[] {
  const out: Found[] = [];
  for (const folder of DEPLOYED_FOLDERS) {
    const dir = join(manifestsDir, folder);
    let files: string[];
    try {
      files = walk(dir)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort();
    } catch (err) {
      throw new ConfigError(
        dir,
        '',
        `cannot read the manifests: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      );
    }
    for (const file of files) {
      for (const doc of parseYamlDocuments(relative('.', file), readFileSync(file, 'utf8')).documents) {
        const object = doc.toJS() as KubeObject | null;
        if (!object || typeof object !== 'object') continue;
        if (typeof object.kind !== 'string' || typeof object.metadata?.name !== 'string')
          throw new ConfigError(file, '', 'expected an object with kind and metadata.name');
        try {
          kindOf(object);
        } catch (err) {
          throw new ConfigError(file, `${object.kind}/${object.metadata.name}`, (err as ConfigError).problem);
        }
        out.push({ file, object });
      }
    }
  }
  return out;
}

/** The reference app in `namespace`, in apply order. */
export function appObjects(found: Found[], namespace: string): KubeObject[] {
  const objects = found.map(({ object }) => inNamespace(structuredClone(object), namespace));
  if (!objects.some((o) => o.kind === 'Namespace'))
    objects.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  for (const o of objects) {
    if (o.kind === 'Namespace') {
      o.metadata.name = namespace;
      o.metadata.labels = { ...o.metadata.labels, 'istio-injection': 'enabled' };
    }
  }
  return inApplyOrder(objects);
}

function inNamespace(o: KubeObject, namespace: string): KubeObject {
  if (o.kind === 'Namespace') return o;
  o.metadata.namespace = namespace;
  // The harness's RoleBinding names its ServiceAccount with a namespace of its own.
  if (o.kind === 'RoleBinding' && Array.isArray(o.subjects))
    for (const s of o.subjects as { kind?: string; namespace?: string }[])
      if (s.kind === 'ServiceAccount') s.namespace = namespace;
  return o;
}

export function inApplyOrder(objects: KubeObject[]): KubeObject[] {
  const rank = (o: KubeObject) => APPLY_ORDER.indexOf(o.kind as Kind);
  return objects
    .map((o, i) => ({ o, i }))
    .sort((a, b) => rank(a.o) - rank(b.o) || a.i - b.i)
    .map(({ o }) => o);
}

export interface Deployment extends KubeObject {
  spec: {
    replicas?: number;
    selector: { matchLabels?: Record<string, string> };
    template: {
      metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
      spec: { containers: { name: string; image?: string; env?: { name: string; value?: string }[] }[] };
    };
    progressDeadlineSeconds?: number;
  };
  status?: DeploymentStatus;
}

export interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  availableReplicas?: number;
  readyReplicas?: number;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
}

/**
 * The Deployment a track runs as: the manifests' Deployment of that name when there is one, else a
 * copy of the primary's renamed to the track (its selector and pod labels get `track` and
 * `version`), with the track's image, version and environment on the first container.
 */
/** What rendering a run's objects needs of the plan. */
export type RenderPlan = Pick<CanaryPlan, 'tracks' | 'target'> & {
  platform: Pick<CanaryPlan['platform'], 'namespace'>;
};

export function trackDeployment(found: Found[], plan: RenderPlan, track: TrackPlan, replicas?: number): Deployment {
  const deployments = found.map((f) => f.object).filter((o) => o.kind === 'Deployment') as Deployment[];
  const own = deployments.find((d) => d.metadata.name === track.workload);
  const primaryName = plan.tracks.find((t) => t.track === 'primary')?.workload ?? `${plan.target.service}-primary`;
  const source = own ?? deployments.find((d) => d.metadata.name === primaryName);
  if (!source)
    throw new ConfigError(
      'manifests',
      `Deployment/${primaryName}`,
      'the primary of the service under canary is missing',
    );
  const d = structuredClone(source);
  d.metadata = {
    name: track.workload,
    namespace: plan.platform.namespace,
    labels: { ...source.metadata.labels, track: track.track, version: track.version, ...MANAGED_BY },
  };
  if (!own) {
    d.spec.selector = { matchLabels: { ...d.spec.selector.matchLabels, track: track.track } };
  }
  const template = d.spec.template;
  template.metadata = {
    ...template.metadata,
    labels: { ...template.metadata?.labels, track: track.track, version: track.version },
  };
  const container = template.spec.containers[0];
  if (!container) throw new ConfigError('manifests', `Deployment/${source.metadata.name}`, 'expected a container');
  if (track.image) container.image = track.image;
  const env = new Map((container.env ?? []).map((e) => [e.name, e]));
  for (const [name, value] of Object.entries({ VERSION: track.version, ...track.env })) env.set(name, { name, value });
  container.env = [...env.values()];
  if (replicas !== undefined) d.spec.replicas = replicas;
  delete d.status;
  return d;
}

/** What a run applies before its first stage, in order: the baseline and canary, then the safe route. */
export function runObjects(found: Found[], plan: RenderPlan): KubeObject[] {
  return [
    ...plan.tracks.filter((t) => t.track !== 'primary').map((t) => trackDeployment(found, plan, t)),
    routeObject(plan, { kind: 'safe' }),
  ];
}

export function routeObject(plan: Pick<CanaryPlan, 'target'>, route: RoutePlan): KubeObject {
  return virtualServiceFor(plan.target, route) as unknown as KubeObject;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

/**
 * Checks every rendered object against the real schema of its kind (the same check the committed
 * manifests get): a run never sends the API server an object it would refuse. ConfigError naming
 * the object, the path and what was expected.
 */
export function checkRendered(objects: KubeObject[]): void {
  for (const o of objects) {
    const problems = schemaProblems(o);
    if (problems.length)
      throw new ConfigError(
        'rendered',
        `${o.kind}/${o.metadata.name}`,
        problems.map((p) => `${formatPath(p.path)}: ${p.expected}`).join('; '),
      );
  }
}
