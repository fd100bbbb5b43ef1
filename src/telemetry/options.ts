import { UsageError } from '../core/errors.ts';
import type { ResponseClass } from './measurement.ts';

/** What every source needs to know: whose telemetry to read, and what counts as an error. */
export interface CommonSourceOptions {
  /** `destination_service_name`, e.g. `account`. */
  service: string;
  /** `destination_workload`s to report, e.g. `['account-baseline', 'account-canary']`. */
  workloads: string[];
  /** Response classes counted in `errors`; default `['5xx']`. */
  errorClasses?: ResponseClass[];
  /** Per-HTTP-request timeout in ms. */
  timeoutMs?: number;
  /** Clock (epoch ms), injectable for tests; default `Date.now`. */
  now?: () => number;
}

/** Validates the options every source shares; names the option and what was expected. */
export function checkCommonOptions(opts: CommonSourceOptions): void {
  if (typeof opts.service !== 'string' || opts.service === '')
    throw new UsageError('service', 'expected a non-empty service name');
  if (
    !Array.isArray(opts.workloads) ||
    opts.workloads.length === 0 ||
    opts.workloads.some((w) => typeof w !== 'string' || w === '')
  ) {
    throw new UsageError('workloads', 'expected at least one non-empty workload name');
  }
  if (opts.timeoutMs !== undefined && !(opts.timeoutMs > 0))
    throw new UsageError('timeoutMs', `expected a positive number of ms, got ${opts.timeoutMs}`);
}

/** The `reason` of a `nodata` measurement. */
export function noTrafficReason(opts: CommonSourceOptions): string {
  return `no requests to ${opts.workloads.join(', ')} (service ${opts.service}) in this interval`;
}
