/** `npm run cluster:down`: stops the cluster that `npm run cluster:up` started and removes its state. */
import { stopDetachedCluster } from '../../test/support/cluster.ts';
import { clusterStateDir } from './state.ts';

const stateDir = clusterStateDir();
stopDetachedCluster(stateDir)
  .then((stopped) => {
    console.log(
      stopped.length > 0
        ? `cluster:down: stopped ${stopped.join(', ')}; removed ${stateDir}`
        : `cluster:down: no cluster was running (state ${stateDir})`,
    );
  })
  .catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
