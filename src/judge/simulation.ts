/**
 * Seeded traffic for the judge's tests and simulations: latency histograms on the shared bucket
 * bounds and error counts per interval, as a telemetry source would report them. Pure given the
 * seed; used by the A/A and power simulations and by assess tests.
 */
import { LATENCY_BUCKETS_MS } from '../telemetry/buckets.ts';
import type { LatencyHistogram, Measurement, WorkloadMeasurement } from '../telemetry/measurement.ts';
import { bucketIndex } from './latency-batches.ts';
import { normalQuantile } from './stats/normal.ts';
import type { Random } from '../core/random.ts';

export const SIMULATION_BOUNDS: readonly number[] = [...LATENCY_BUCKETS_MS, Infinity];

export { bucketIndex };

export interface ArmTraffic {
  requests: number;
  /** Lognormal latency: median in ms and sigma of log(latency). */
  medianMs: number;
  sigma: number;
  /** Multiplies every latency (1.1 = 10 % slower at every quantile). */
  slowdown?: number;
  /** Multiplies only latencies above the given quantile of the unslowed distribution (a slower
   * tail: with { quantile: 0.9, factor: 1.1 } p99 is 10 % higher while p50 and p90 are unchanged). */
  tailSlowdown?: { quantile: number; factor: number };
  errorRate: number;
  /** Correlated latency: with `probability` per interval, a run of `share` of the interval's requests
   * (one contiguous burst, as when the process is descheduled) is `factor` times slower. */
  burst?: { probability: number; share: number; factor: number };
}

// Bucketing works on log(latency): the bounds grow geometrically, so a first guess from the log is
// within a bucket or two and the simulation avoids a bisection and an exp per request.
const LOG_BOUNDS = SIMULATION_BOUNDS.map((b) => Math.log(b));
const LOG_FIRST = LOG_BOUNDS[0];
const LOG_STEP = Math.log(1.05);

function logBucketIndex(logX: number): number {
  const last = LOG_BOUNDS.length - 1;
  let i = Math.min(last, Math.max(0, Math.ceil((logX - LOG_FIRST) / LOG_STEP)));
  while (i < last && logX > LOG_BOUNDS[i]) i++;
  while (i > 0 && logX <= LOG_BOUNDS[i - 1]) i--;
  return i;
}

/** One interval of one workload; `rawSink`, when given, also receives every latency (client-side view). */
export function simulateWorkload(
  random: Random,
  name: string,
  traffic: ArmTraffic,
  rawSink?: number[],
): WorkloadMeasurement {
  const counts = new Array<number>(SIMULATION_BOUNDS.length).fill(0);
  const mu = Math.log(traffic.medianMs * (traffic.slowdown ?? 1));
  const tailFrom = traffic.tailSlowdown ? mu + traffic.sigma * normalQuantile(traffic.tailSlowdown.quantile) : Infinity;
  const tailShift = traffic.tailSlowdown ? Math.log(traffic.tailSlowdown.factor) : 0;
  let sum = 0;
  const burst = traffic.burst && random.uniform() < traffic.burst.probability ? traffic.burst : null;
  const burstLength = burst ? Math.round(burst.share * traffic.requests) : 0;
  const burstStart = burst ? Math.floor(random.uniform() * (traffic.requests - burstLength + 1)) : 0;
  const burstShift = burst ? Math.log(burst.factor) : 0;
  for (let i = 0; i < traffic.requests; i++) {
    let logX = mu + traffic.sigma * random.normal();
    if (logX > tailFrom) logX += tailShift;
    if (i >= burstStart && i < burstStart + burstLength) logX += burstShift;
    const x = Math.exp(logX);
    sum += x;
    counts[logBucketIndex(logX)]++;
    if (rawSink) rawSink.push(x);
  }
  const errors = random.binomial(traffic.requests, traffic.errorRate);
  const latency: LatencyHistogram = { bounds: [...SIMULATION_BOUNDS], counts, sum };
  return {
    workload: name,
    requests: traffic.requests,
    errors,
    byClass: { '2xx': traffic.requests - errors, '5xx': errors },
    latency,
  };
}

/** One interval's measurement for a baseline and a canary workload. */
export function simulateInterval(
  random: Random,
  start: number,
  durationMs: number,
  baseline: ArmTraffic,
  canary: ArmTraffic,
  names = { baseline: 'account-baseline', canary: 'account-canary' },
): Measurement {
  return {
    start,
    end: start + durationMs,
    status: 'ok',
    workloads: {
      [names.baseline]: simulateWorkload(random, names.baseline, baseline),
      [names.canary]: simulateWorkload(random, names.canary, canary),
    },
    scalars: {},
  };
}
