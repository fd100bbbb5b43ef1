/**
 * A test cluster with the reference app deployed into one namespace, as `canary deploy` does it
 * with the admin's kubeconfig: what every suite that runs against the app on the cluster starts from.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, vi } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { CLUSTER_CONFIG, REPO_ROOT } from '../../scripts/cluster/layout.ts';
import type { FollowingMesh } from '../../src/mesh/follow.ts';
import { KubeClient, type KubeObject } from '../../src/platform/kube-client.ts';
import { applyReferenceApp } from '../../src/platform/kube-deploy.ts';
import { startTestCluster, type TestCluster } from './cluster.ts';

// biome-ignore lint/suspicious/noExplicitAny: objects as the API server returns them, read field by field.
export type Json = Record<string, any>;

export const REFERENCE_MANIFESTS = join(REPO_ROOT, 'manifests');

/** Starts a cluster, creates `namespace` and applies the reference app; a failed apply stops the cluster. */
export async function startClusterWithReferenceApp(namespace: string): Promise<TestCluster> {
  const cluster = await startTestCluster();
  try {
    await cluster.namespace(namespace);
    await applyReferenceApp({
      manifestsDir: REFERENCE_MANIFESTS,
      service: 'account',
      kubeconfig: cluster.kubeconfigPath,
      context: null,
    });
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

/**
 * Applies the local data plane's ServiceAccount, Role and RoleBinding (cluster/config/rbac/) as the
 * admin, and gives a kubeconfig of that identity: the data plane then follows the namespace with
 * exactly the grants a user would give it.
 */
export async function dataPlaneIdentity(cluster: TestCluster): Promise<string> {
  const admin = await KubeClient.connect({ kubeconfig: cluster.kubeconfigPath, context: null }, { caller: 'deploy' });
  const docs = parseAllDocuments(readFileSync(join(CLUSTER_CONFIG, 'rbac', 'data-plane.yaml'), 'utf8'));
  const objects = docs.map((d) => d.toJS() as KubeObject);
  for (const o of objects) await admin.apply(o);
  const account = objects.find((o) => o.kind === 'ServiceAccount')!;
  return cluster.runAs(account.metadata.name, account.metadata.namespace!);
}

/** Reads of the reference app's objects on the cluster, as the admin; `cluster` is asked at each call (set in beforeAll). */
export function appReads(cluster: () => TestCluster, namespace: string) {
  const getJson = async (path: string): Promise<Json | undefined> => {
    const res = await cluster().api.request('GET', path);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status}: ${res.text}`);
    return res.json as Json;
  };
  /** The account VirtualService's routes on the server: subsets, and [subset, weight] for weighted ones. */
  const routes = async (): Promise<unknown[]> => {
    const vs = await getJson(`/apis/networking.istio.io/v1beta1/namespaces/${namespace}/virtualservices/account`);
    return (vs?.spec.http ?? []).map((r: Json) =>
      r.route.map((d: Json) => (d.weight === undefined ? d.destination.subset : [d.destination.subset, d.weight])),
    );
  };
  /** The image of a Deployment's first container; undefined when it does not exist. */
  const image = async (name: string): Promise<string | undefined> =>
    (await getJson(`/apis/apps/v1/namespaces/${namespace}/deployments/${name}`))?.spec.template.spec.containers[0]
      .image as string | undefined;
  /** Deletes the service's baseline and canary Deployments and waits until the server has neither. */
  const deleteTracks = async (): Promise<void> => {
    const deployments = `/apis/apps/v1/namespaces/${namespace}/deployments`;
    for (const name of ['account-baseline', 'account-canary'])
      await cluster().api.request('DELETE', `${deployments}/${name}?propagationPolicy=Foreground`);
    await vi.waitFor(
      async () => {
        expect(await getJson(`${deployments}/account-baseline`)).toBeUndefined();
        expect(await getJson(`${deployments}/account-canary`)).toBeUndefined();
      },
      { timeout: 90_000, interval: 250 },
    );
  };
  return { getJson, routes, image, deleteTracks };
}

/** The Deployment of each process a following data plane runs, sorted (one entry per pod). */
export const followedWorkloads = (mesh: FollowingMesh): string[] =>
  mesh
    .workloads()
    .map((w) => w.workload)
    .sort();
