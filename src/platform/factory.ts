/**
 * Picks the platform the plan names (`plan.platform.engine`); one line per engine. The Kubernetes
 * engine is imported only when asked for, so the embedded default never loads the client.
 */
import type { CanaryPlan } from '../canary/plan-types.ts';
import { LocalPlatform } from './local.ts';
import type { CheckedPlatform, PlatformContext } from './platform.ts';

export type { CheckedPlatform, PlatformContext };

export async function createPlatform(plan: CanaryPlan, ctx: PlatformContext): Promise<CheckedPlatform> {
  switch (plan.platform.engine) {
    case 'local':
      return new LocalPlatform({
        manifestsDir: ctx.manifestsDir,
        target: plan.target,
        workloads: workloadsOf(plan),
        log: (l) => ctx.log(`mesh: ${l}`),
      });
    case 'kubernetes': {
      const { createKubernetesPlatform } = await import('./kubernetes.ts');
      return createKubernetesPlatform(plan, ctx);
    }
  }
}

/** Workload names of the three tracks (a track the plan leaves out keeps its name). */
export function workloadsOf(plan: CanaryPlan): { primary: string; baseline: string; canary: string } {
  const named = (track: string, fallback: string) => plan.tracks.find((t) => t.track === track)?.workload ?? fallback;
  const service = plan.target.service;
  return {
    primary: named('primary', `${service}-primary`),
    baseline: named('baseline', `${service}-baseline`),
    canary: named('canary', `${service}-canary`),
  };
}
