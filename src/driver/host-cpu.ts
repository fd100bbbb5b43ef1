/**
 * Samples the host's CPU while a load runs, for the load-health check: a saturated host distorts
 * the traffic a verdict rests on (requests leave late, the client's latency grows), whatever the
 * judge then concludes. A decorator, so every driver gets it without knowing.
 */
import { cpus } from 'node:os';
import type { Driver, LoadPlan, LoadResult, LoadRun } from './driver.ts';

interface CpuTimes {
  busy: number;
  total: number;
}

function cpuTimes(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const c of cpus()) {
    const t = c.times;
    const sum = t.user + t.nice + t.sys + t.irq + t.idle;
    total += sum;
    busy += sum - t.idle;
  }
  return { busy, total };
}

/** Busy share of all cores between two samples; null when no time passed. */
export function busyShare(from: CpuTimes, to: CpuTimes): number | null {
  const total = to.total - from.total;
  return total > 0 ? (to.busy - from.busy) / total : null;
}

export function withHostCpu(driver: Driver, sample: () => CpuTimes = cpuTimes): Driver {
  return {
    name: driver.name,
    async start(plan: LoadPlan, signal?: AbortSignal): Promise<LoadRun> {
      const run = await driver.start(plan, signal);
      const first = sample();
      const cores = cpus().length;
      let done: LoadResult | undefined;
      const annotate = (r: LoadResult): LoadResult => {
        if (done) return done;
        const share = busyShare(first, sample());
        done = share === null ? r : { ...r, hostCpu: { busyShare: share, cores } };
        return done;
      };
      return {
        startedAt: run.startedAt,
        snapshot: () => run.snapshot(),
        stop: async (reason) => annotate(await run.stop(reason)),
        result: async () => annotate(await run.result()),
      };
    },
  };
}
