/**
 * A test cluster with the reference app deployed into one namespace, as `canary deploy` does it
 * with the admin's kubeconfig: what every suite that runs against the app on the cluster starts from.
 */
import { join } from 'node:path';
import { REPO_ROOT } from '../../scripts/cluster/layout.ts';
import { applyReferenceApp } from '../../src/platform/kube-deploy.ts';
import { startTestCluster, type TestCluster } from './cluster.ts';

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
