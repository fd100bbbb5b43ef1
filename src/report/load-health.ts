/**
 * Whether the traffic a verdict rests on was the traffic that was planned: the load generator kept
 * its rate, requests were neither dropped nor sent late, the client did not see a latency the
 * servers did not (a saturated client or host), and the host had CPU to spare. Beyond any of the
 * limits below the run is unreliable: the verdict says so and, by policy, the run is inconclusive
 * (exit 2), whatever the judge concluded.
 */
import type { RunResult } from '../canary/result.ts';
import { formatMs, formatNumber, formatProportion, formatRate } from '../core/format.ts';
import { histogramQuantile, mergeHistograms } from '../telemetry/histogram.ts';
import type { LatencyHistogram } from '../telemetry/measurement.ts';

export const LOAD_HEALTH_LIMITS = {
  /** Achieved / target rate below this: the generator or the system could not keep up. */
  minAchievedShare: 0.9,
  /** Client p50 beyond this multiple of the server-side p50 (and beyond `clientExcessMs` more). */
  clientServerRatio: 4,
  clientExcessMs: 100,
  /** Dropped requests (never sent: too many in flight) above this share of the sent ones. */
  maxDroppedShare: 0.01,
  /** Scheduler lateness (p99) beyond this: requests left late, the client was starved of CPU. */
  maxLateP99Ms: 50,
  /** Host CPU busy share over the load above this. */
  maxHostCpuBusy: 0.95,
} as const;

export interface LoadHealthCheck {
  name: 'load-failed' | 'rate' | 'client-vs-server' | 'dropped' | 'late' | 'host-cpu';
  ok: boolean;
  /** "achieved 310 req/s of 400 req/s (78 %), at least 90 %". */
  detail: string;
}

export interface LoadHealth {
  reliable: boolean;
  checks: LoadHealthCheck[];
  /** The failed checks in one line, or '' when reliable. */
  reason: string;
}

/** Server-side p50 over the whole run, from the compared arms' histograms; null without data. */
function serverP50(result: RunResult): number | null {
  const hs: LatencyHistogram[] = [];
  for (const s of result.stages)
    for (const i of s.intervals) {
      if (i.baseline?.latency) hs.push(i.baseline.latency);
      if (i.canary?.latency) hs.push(i.canary.latency);
    }
  const merged = mergeHistograms(hs);
  if (!merged) return null;
  const q = histogramQuantile(merged, 0.5);
  return Number.isFinite(q) ? q : null;
}

/** The load-health check of a run; null when no load ran (nothing to check, nothing to trust). */
export function assessLoadHealth(result: RunResult): LoadHealth | null {
  const l = result.load;
  if (!l) return null;
  const L = LOAD_HEALTH_LIMITS;
  const checks: LoadHealthCheck[] = [];
  if (l.status === 'failed')
    checks.push({ name: 'load-failed', ok: false, detail: `the load failed: ${l.reason ?? 'no reason given'}` });
  // The k6-operator's runners are in the cluster: this client counts none of their requests.
  const clientSide = l.driver !== 'k6-operator';
  if (clientSide && l.targetRate > 0) {
    const share = l.achievedRate / l.targetRate;
    checks.push({
      name: 'rate',
      ok: share >= L.minAchievedShare,
      detail: `achieved ${formatRate(l.achievedRate)} of ${formatRate(l.targetRate)} (${formatProportion(share)}), at least ${formatProportion(L.minAchievedShare)}`,
    });
  }
  const server = serverP50(result);
  const client = l.latencyMs.p50;
  if (server !== null && client !== null) {
    const limit = Math.max(server * L.clientServerRatio, server + L.clientExcessMs);
    checks.push({
      name: 'client-vs-server',
      ok: client <= limit,
      detail: `client p50 ${formatMs(client)} vs server p50 ${formatMs(server)}, at most ${formatMs(limit)}`,
    });
  }
  if (l.dropped !== undefined && l.requests + l.dropped > 0) {
    const share = l.dropped / (l.requests + l.dropped);
    checks.push({
      name: 'dropped',
      ok: share <= L.maxDroppedShare,
      detail: `${formatNumber(l.dropped)} requests dropped (${formatProportion(share)}), at most ${formatProportion(L.maxDroppedShare)}`,
    });
  }
  if (l.schedulerLagMs) {
    checks.push({
      name: 'late',
      ok: l.schedulerLagMs.p99 <= L.maxLateP99Ms,
      detail: `requests sent late by ${formatMs(l.schedulerLagMs.p99)} (p99), at most ${formatMs(L.maxLateP99Ms)}`,
    });
  }
  if (l.hostCpu) {
    checks.push({
      name: 'host-cpu',
      ok: l.hostCpu.busyShare <= L.maxHostCpuBusy,
      detail: `host CPU ${formatProportion(l.hostCpu.busyShare)} busy over ${l.hostCpu.cores} cores, at most ${formatProportion(L.maxHostCpuBusy)}`,
    });
  }
  const failed = checks.filter((c) => !c.ok);
  return {
    reliable: failed.length === 0,
    checks,
    reason: failed.length ? `load unreliable: ${failed.map((c) => c.detail).join('; ')}` : '',
  };
}

/**
 * The policy: a verdict reached on unreliable load is inconclusive (exit 2); the reason keeps what
 * the judge said. Runs without a verdict (aborted, error) and inconclusive ones are left as they are.
 * With `warn` (the analysis configuration's `onUnreliableLoad`) the verdict stands and only the
 * reports say the load was unreliable.
 */
export function applyLoadHealthPolicy(
  result: RunResult,
  onUnreliable: 'inconclusive' | 'warn' = 'inconclusive',
): RunResult {
  if (onUnreliable === 'warn') return result;
  if (result.status !== 'promoted' && result.status !== 'rolled-back') return result;
  const health = assessLoadHealth(result);
  if (!health || health.reliable) return result;
  const said = result.status === 'promoted' ? 'promoted' : 'rolled back';
  return {
    ...result,
    status: 'inconclusive',
    exitCode: 2,
    reason: `${health.reason}; the judge ${said} (${result.reason}), but on distorted traffic`,
  };
}
