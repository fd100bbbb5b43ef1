/**
 * `npm run cluster:up`: starts the test cluster in the background (test/support/cluster.ts) with its
 * state in $SPRINCUBE_CLUSTER_STATE or ~/.cache/sprincube-canary/cluster-state. Idempotent: a cluster
 * already running there and answering /readyz is kept. The last line is `KUBECONFIG=<absolute path>`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ClusterApi } from '../../test/support/cluster-api.ts';
import { readClusterState, startTestCluster, stopDetachedCluster } from '../../test/support/cluster.ts';
import { clusterStateDir } from './state.ts';

async function running(stateDir: string): Promise<string | undefined> {
  const state = await readClusterState(stateDir);
  if (!state) return undefined;
  const alive = Object.values(state.pids).every((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith(state.build);
    } catch {
      return false;
    }
  });
  if (!alive || !existsSync(state.kubeconfig)) return undefined;
  const pki = `${stateDir}/pki`;
  const api = new ClusterApi(state.server, { ca: `${pki}/ca.crt`, cert: `${pki}/admin.crt`, key: `${pki}/admin.key` });
  try {
    const res = await api.request('GET', '/readyz', undefined, undefined, 5000);
    return res.status === 200 ? state.kubeconfig : undefined;
  } catch {
    return undefined;
  } finally {
    api.close();
  }
}

async function main(): Promise<void> {
  const stateDir = clusterStateDir();
  const existing = await running(stateDir);
  if (existing) {
    console.log(`cluster:up: already running (state in ${stateDir})`);
    console.log(`KUBECONFIG=${existing}`);
    return;
  }
  const stale = await stopDetachedCluster(stateDir);
  if (stale.length > 0) console.log(`cluster:up: stopped what was left of an earlier cluster: ${stale.join(', ')}`);
  const started = Date.now();
  const cluster = await startTestCluster({ stateDir, detached: true, log: (line) => console.log(line) });
  console.log(`cluster:up: ready in ${((Date.now() - started) / 1000).toFixed(1)} s; logs in ${stateDir}/logs`);
  console.log(`cluster:up: pids ${JSON.stringify(cluster.pids())}; stop with npm run cluster:down`);
  cluster.api.close();
  console.log(`KUBECONFIG=${cluster.kubeconfigPath}`);
  // The cluster's processes are detached; nothing of this one needs to linger.
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
