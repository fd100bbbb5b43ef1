/**
 * `canary rollback --context`: the brake for a run that could not end itself (its process killed,
 * its CI runner lost), which may have left traffic split between the primary and the tracks. All
 * traffic goes back on the primary first, and is read back; only then are the service's baseline
 * and canary scaled to 0, by the server-side apply a run's own cleanup sends (as sprincube-canary,
 * with the image, version and env the track has on the cluster), so the next run's apply finds
 * every field it owns still its own. The objects stay, as a run leaves a track that was there
 * before it. As the harness's own identity: `KUBE_CALLS.run` is enough.
 * Nothing is scaled when the route could not be restored: a track that still gets traffic must keep
 * serving it.
 */
import type { TrackPlan } from '../canary/plan-types.ts';
import { InfraError } from '../core/errors.ts';
import { KubeClient } from './kube-client.ts';
import { type Deployment as DeploymentObject, readManifestObjects, trackDeployment } from './kube-objects.ts';
import { applyRoute } from './kubernetes.ts';
import { primaryFacts, readTargetFacts } from './target-facts.ts';

export interface ClusterRollbackRequest {
  manifestsDir: string;
  service: string;
  /** Default: the manifests'. */
  namespace?: string;
  kubeconfig: string | null;
  context: string | null;
}

/** Returns one line per change made (or found already made), for the terminal. */
export async function rollbackOnCluster(
  r: ClusterRollbackRequest,
  log: (line: string) => void = () => {},
): Promise<string[]> {
  const facts = readTargetFacts(r.manifestsDir, r.service);
  const target = { ...facts, namespace: r.namespace ?? facts.namespace };
  const client = await KubeClient.connect(
    { kubeconfig: r.kubeconfig, context: r.context },
    { caller: 'run', log: (l) => log(`kubernetes: ${l}`) },
  );
  const found = readManifestObjects(r.manifestsDir);
  const done: string[] = [];
  await applyRoute(client, { target }, { kind: 'safe' });
  done.push(
    `VirtualService ${target.namespace}/${target.virtualService}: all traffic on ${target.workloads.primary} (read back)`,
  );
  for (const name of [target.workloads.baseline, target.workloads.canary]) {
    const held = await client.get<DeploymentObject>('Deployment', target.namespace, name);
    if (!held) done.push(`Deployment ${target.namespace}/${name}: not on the cluster`);
    else if ((held.spec.replicas ?? 1) === 0)
      done.push(`Deployment ${target.namespace}/${name}: already at 0 replicas`);
    else {
      const facts = primaryFacts(held);
      if (facts.primaryVersion === undefined)
        throw new InfraError(
          `Deployment ${target.namespace}/${name} has neither a version label nor a VERSION variable, so it cannot be applied at 0 replicas; all traffic is on the primary already`,
        );
      const track: TrackPlan = {
        track: name === target.workloads.canary ? 'canary' : 'baseline',
        workload: name,
        version: facts.primaryVersion,
        env: facts.primaryEnv,
        ...(facts.primaryImage !== undefined ? { image: facts.primaryImage } : {}),
      };
      const plan = { target, tracks: [track], platform: { namespace: target.namespace } };
      await client.apply(trackDeployment(found, plan, track, 0));
      done.push(`Deployment ${target.namespace}/${name}: scaled from ${held.spec.replicas ?? 1} to 0`);
    }
  }
  return done;
}
