/** Picks a driver by name; an unknown name is an error, never a silent default (STYLE.md). */
import type { CanaryPlan } from '../canary/plan-types.ts';
import { UsageError } from '../core/errors.ts';
import { BuiltinDriver } from './builtin.ts';
import type { Driver, DriverName } from './driver.ts';
import { K6Driver } from './k6.ts';
import type { K6DriverOptions } from './k6.ts';

export const DRIVER_NAMES: readonly DriverName[] = ['builtin', 'k6'];

export function createDriver(name: string, k6?: K6DriverOptions): Driver {
  switch (name) {
    case 'builtin':
      return new BuiltinDriver();
    case 'k6':
      return new K6Driver(k6);
    default:
      throw new UsageError('--driver', `expected one of ${DRIVER_NAMES.join(', ')}, got "${name}"`);
  }
}

/** What a run's driver may need beyond its name: the plan (namespace, kubeconfig) and a log. */
export interface RunDriverContext {
  plan: CanaryPlan;
  log: (line: string) => void;
}

/**
 * The driver of a canary run, as the plan names it; `k6-operator` (the Kubernetes client and the
 * script bundler) is imported only when asked for.
 */
export async function createRunDriver(name: string, ctx: RunDriverContext): Promise<Driver> {
  if (name === 'k6-operator') {
    const { createK6OperatorDriver } = await import('./k6-operator.ts');
    return createK6OperatorDriver(ctx);
  }
  return createDriver(name);
}
