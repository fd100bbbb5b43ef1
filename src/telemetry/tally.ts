import { LATENCY_BUCKETS_MS } from './buckets.ts';
import type { LatencyHistogram, ResponseClass, WorkloadMeasurement } from './measurement.ts';

/**
 * Adds up the per-interval increases of one interval into `WorkloadMeasurement`s: requests by
 * HTTP response class, errors, and a non-cumulative latency histogram.
 *
 * Increases of cumulative histogram buckets (`le` = "less than or equal") are summed per bound
 * across replicas first and de-cumulated last; the difference is linear, so the order is exact.
 */
export class IntervalTally {
  private readonly requests = new Map<string, Map<string, number>>();
  /** Requests that failed for the caller whatever their code: status 0, or a failure flag. */
  private readonly failed = new Map<string, Map<string, number>>();
  private readonly buckets = new Map<string, Map<number, number>>();
  private readonly sums = new Map<string, number>();

  constructor(
    private readonly workloads: readonly string[],
    private readonly errorClasses: readonly ResponseClass[] = ['5xx'],
  ) {}

  /**
   * `responseFlags` are Envoy's (`-` or none when the source does not keep them). A request the
   * caller did not get an answer to (code `0`: a timeout, a disconnect) or whose flags say the
   * proxy failed it (DC, UT, URX, UF, UH) is an error, whatever its code's class.
   */
  addRequests(workload: string, responseCode: string, increase: number, responseFlags = '-'): void {
    if (increase === 0) return;
    const byCode = getOrCreate(this.requests, workload, () => new Map<string, number>());
    byCode.set(responseCode, (byCode.get(responseCode) ?? 0) + increase);
    if (responseCode === '0' || failureFlag(responseFlags)) {
      const byCodeFailed = getOrCreate(this.failed, workload, () => new Map<string, number>());
      byCodeFailed.set(responseCode, (byCodeFailed.get(responseCode) ?? 0) + increase);
    }
  }

  /** `le` is the bucket's upper bound in ms (`Infinity` for `+Inf`). */
  addBucket(workload: string, le: number, increase: number): void {
    const byBound = getOrCreate(this.buckets, workload, () => new Map<number, number>());
    byBound.set(le, (byBound.get(le) ?? 0) + increase);
  }

  addLatencySum(workload: string, increase: number): void {
    this.sums.set(workload, (this.sums.get(workload) ?? 0) + increase);
  }

  /** One entry per requested workload, zero-filled when it served nothing (no data for it). */
  build(): Record<string, WorkloadMeasurement> {
    const out: Record<string, WorkloadMeasurement> = {};
    for (const workload of this.workloads) {
      const byClass: Partial<Record<ResponseClass, number>> = {};
      let requests = 0;
      for (const [code, n] of this.requests.get(workload) ?? []) {
        requests += n;
        const cls = responseClass(code);
        if (cls) byClass[cls] = (byClass[cls] ?? 0) + n;
      }
      let errors = this.errorClasses.reduce((acc, cls) => acc + (byClass[cls] ?? 0), 0);
      // Failed requests whose class is not already counted (code 0 has none; a 503 with URX has).
      for (const [code, n] of this.failed.get(workload) ?? []) {
        const cls = responseClass(code);
        if (!cls || !this.errorClasses.includes(cls)) errors += n;
      }
      out[workload] = { workload, requests, errors, byClass, latency: this.histogram(workload) };
    }
    return out;
  }

  private histogram(workload: string): LatencyHistogram {
    const byBound = this.buckets.get(workload);
    const sum = this.sums.get(workload);
    if (!byBound || byBound.size === 0) {
      const bounds = [...LATENCY_BUCKETS_MS, Number.POSITIVE_INFINITY];
      return { bounds, counts: bounds.map(() => 0), ...(sum !== undefined ? { sum } : {}) };
    }
    const bounds = [...byBound.keys()].sort((a, b) => a - b);
    const counts: number[] = [];
    let below = 0;
    for (const le of bounds) {
      const cumulative = byBound.get(le) ?? 0;
      // A replica restarting between two buckets' readings cannot make this negative in one
      // process's exposition, but clamp anyway: a histogram count is never negative.
      counts.push(Math.max(0, cumulative - below));
      below = Math.max(below, cumulative);
    }
    return { bounds, counts, ...(sum !== undefined ? { sum } : {}) };
  }
}

/** Envoy response flags that mean the caller did not get the upstream's answer. */
export const FAILURE_FLAGS: readonly string[] = ['DC', 'UT', 'URX', 'UF', 'UH'];

function failureFlag(flags: string): boolean {
  if (flags === '-' || flags === '') return false;
  return flags.split(',').some((f) => FAILURE_FLAGS.includes(f));
}

/** `"503"` → `'5xx'`; `undefined` for codes outside 100–599 (Istio reports `0` when no response was sent). */
export function responseClass(code: string): ResponseClass | undefined {
  const n = Number(code);
  if (!Number.isInteger(n) || n < 100 || n > 599) return undefined;
  return `${Math.floor(n / 100)}xx` as ResponseClass;
}

function getOrCreate<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    v = make();
    map.set(key, v);
  }
  return v;
}
