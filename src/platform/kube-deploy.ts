/**
 * `canary deploy` as functions: the objects of the reference app and of a run for the chosen
 * service, image and namespace (`renderDeployObjects`, no cluster needed), and applying the
 * reference app by server-side apply (`applyReferenceApp`), idempotently: applying the same objects
 * again changes nothing on the server.
 */
import type { TrackPlan } from '../canary/plan-types.ts';
import { nextVersion, scenarioEnv } from '../canary/plan.ts';
import { UsageError } from '../core/errors.ts';
import { KubeClient, type KubeObject } from './kube-client.ts';
import { appObjects, checkRendered, inApplyOrder, readManifestObjects, runObjects } from './kube-objects.ts';
import { readTargetFacts } from './target-facts.ts';

export interface DeployRequest {
  manifestsDir: string;
  /** Service under canary (default `account`). */
  service: string;
  /** The canary's image, `--image SERVICE=REF`; default the primary's. */
  image?: { service: string; ref: string };
  /** Namespace (default: the manifests'). */
  namespace?: string;
}

/**
 * Every object a run would apply, in apply order: the reference app (namespace labelled for
 * sidecar injection, the harness's ServiceAccount, Role and RoleBinding) with the service's
 * baseline and canary as the run sets them and its VirtualService on the safe route.
 */
export function renderDeployObjects(r: DeployRequest): KubeObject[] {
  const facts = readTargetFacts(r.manifestsDir, r.service);
  if (r.image !== undefined && r.image.service !== r.service)
    throw new UsageError('--image', `names service '${r.image.service}', but --service is '${r.service}'`);
  const namespace = r.namespace ?? facts.namespace;
  const found = readManifestObjects(r.manifestsDir);
  const knobs = scenarioEnv('healthy', facts.primaryEnv).all;
  const version = nextVersion(facts.primaryVersion);
  const image = facts.primaryImage;
  const tracks: TrackPlan[] = [
    { track: 'primary', workload: facts.workloads.primary, version: facts.primaryVersion, env: knobs, image },
    { track: 'baseline', workload: facts.workloads.baseline, version: facts.primaryVersion, env: knobs, image },
    {
      track: 'canary',
      workload: facts.workloads.canary,
      version,
      env: { ...knobs, VERSION: version },
      image: r.image?.ref ?? image,
    },
  ];
  const target = {
    service: facts.service,
    host: facts.host,
    virtualService: facts.virtualService,
    namespace,
    routeTimeout: facts.routeTimeout,
  };
  const run = runObjects(found, { tracks, target, platform: { namespace } });
  const key = (o: KubeObject) => `${o.kind}/${o.metadata.name}`;
  const replaced = new Map(run.map((o) => [key(o), o]));
  const app = appObjects(found, namespace).map((o) => replaced.get(key(o)) ?? o);
  const extra = run.filter((o) => !app.some((a) => key(a) === key(o)));
  const objects = inApplyOrder([...app, ...extra]);
  checkRendered(objects);
  return objects;
}

/**
 * Applies every object `renderDeployObjects` lists, in order, as `sprincube-canary` (server-side
 * apply, never forcing: a field another manager owns stops it with an error naming both). Returns
 * the objects applied, `Kind/namespace/name`.
 */
export async function applyReferenceApp(
  r: DeployRequest & { kubeconfig: string | null; context: string | null; dryRun?: boolean },
  log: (line: string) => void = () => {},
): Promise<string[]> {
  const objects = renderDeployObjects(r);
  const client = await KubeClient.connect(
    { kubeconfig: r.kubeconfig, context: r.context },
    { caller: 'deploy', log: (l) => log(`kubernetes: ${l}`) },
  );
  const applied: string[] = [];
  for (const o of objects) {
    await client.apply(o, { dryRun: r.dryRun });
    const name = `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
    log(`${r.dryRun ? 'accepted (server dry run)' : 'applied'} ${name}`);
    applied.push(name);
  }
  return applied;
}
