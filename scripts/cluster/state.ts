/** Where `npm run cluster:up` keeps the running cluster: $SPRINCUBE_CLUSTER_STATE, else beside the build cache. */
import { dirname, join, resolve } from 'node:path';
import { cacheRoot } from './layout.ts';

export function clusterStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SPRINCUBE_CLUSTER_STATE) return resolve(env.SPRINCUBE_CLUSTER_STATE);
  return join(dirname(cacheRoot(env)), 'cluster-state');
}
