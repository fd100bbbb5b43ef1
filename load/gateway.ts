/**
 * What every k6 script here shares: the gateway pre-flight for `setup()`, sending one planned request
 * of the traffic model and recording it per cohort × track × route, thresholds per cohort, and the
 * JSON summary the harness reads. This file imports k6 modules; the pure model is in `lib/`.
 *
 * The k6 driver (src/driver/k6.ts) reads the `canary_request_duration` points of `--out json`: their
 * tags (cohort, route, track, served_by, status) carry what `x-served-by` said, which k6's built-in
 * `http_req_duration` cannot (its tags are fixed before the response arrives).
 */
import http from 'k6/http';
import exec from 'k6/execution';
import { Trend } from 'k6/metrics';
import type { Options, Scenario } from 'k6/options';
import { COHORT_NAMES } from './lib/cohorts.ts';
import { k6Scenario } from './lib/profile.ts';
import type { StageProfile } from './lib/profile.ts';
import { plannedRequest, trackOf } from './lib/traffic.ts';
import type { PlannedRequest, TrafficModel } from './lib/traffic.ts';

/** Per-request latency (ms) tagged with what served it. */
export const requestDuration = new Trend('canary_request_duration', true);

export const REQUEST_METRIC = 'canary_request_duration';

export interface GatewayData {
  target: string;
}

/** The gateway base URL from `__ENV.TARGET`, without a trailing slash. */
export function targetFromEnv(env: Record<string, string | undefined>): string {
  const target = (env.TARGET ?? '').replace(/\/+$/, '');
  if (!/^https?:\/\//.test(target))
    exec.test.abort(`TARGET: expected the gateway URL (http://host:port), got "${env.TARGET ?? ''}"`);
  return target;
}

/**
 * For `setup()`: one request to the gateway; no answer at all (status 0) aborts the whole test at
 * once (k6 exit code 108) instead of letting every iteration fail for the whole duration.
 */
export function checkGateway(target: string): GatewayData {
  const res = http.get(`${target}/`, { timeout: '3s', tags: { name: 'preflight' } });
  if (res.status === 0) exec.test.abort(`gateway ${target} is unreachable: ${res.error}`);
  return { target };
}

/** Sends request `seq` of the model and records it; returns what was sent and the status. */
export function sendPlanned(
  model: TrafficModel,
  target: string,
  seq: number,
  service: string,
): { request: PlannedRequest; status: number; track: string } {
  const request = plannedRequest(model, seq);
  const res = http.request(request.method, `${target}${request.path}`, null, {
    headers: { 'end-user': request.user },
    tags: { name: request.route, cohort: request.cohort, route: request.route },
    timeout: '10s',
  });
  // k6 canonicalises response header names (X-Served-By).
  const servedBy = res.status === 0 ? '' : (res.headers['X-Served-By'] ?? res.headers['x-served-by'] ?? '');
  const track = res.status === 0 ? '-' : trackOf(servedBy, service);
  requestDuration.add(res.timings.duration, {
    cohort: request.cohort,
    route: request.route,
    track,
    served_by: servedBy,
    status: String(res.status),
  });
  return { request, status: res.status, track };
}

/** Sequence number of this iteration across all VUs, so k6 sends the model's request sequence. */
export function iterationSeq(): number {
  return exec.scenario.iterationInTest;
}

/** Thresholds per cohort: latency p99 and error rate of every cohort, each its own pass/fail. */
export function cohortThresholds(p99Ms: number, maxErrorRate: number): NonNullable<Options['thresholds']> {
  const t: NonNullable<Options['thresholds']> = {};
  for (const cohort of COHORT_NAMES) {
    t[`${REQUEST_METRIC}{cohort:${cohort}}`] = [`p(99)<${p99Ms}`];
    t[`http_req_failed{cohort:${cohort}}`] = [`rate<${maxErrorRate}`];
  }
  return t;
}

/** One scenario from the plan: an arrival-rate profile (open) or `VUS` looping VUs (closed). */
export function scenarioFromEnv(
  env: Record<string, string | undefined>,
  profile: StageProfile,
  exec: string,
): Scenario {
  const maxVUs = env.MAX_VUS ? Number(env.MAX_VUS) : 500;
  if (env.MODEL === 'closed') {
    return {
      executor: 'constant-vus',
      exec,
      vus: Number(env.VUS ?? '1'),
      duration: `${profile.kind === 'constant' ? profile.durationS : 10}s`,
    };
  }
  return k6Scenario(profile, exec, maxVUs) as unknown as Scenario;
}

/** What `handleSummary` returns: a short text on stdout and the whole summary as JSON for the harness. */
export function summaryOutputs(data: SummaryData, file: string | undefined): Record<string, string> {
  const out: Record<string, string> = { stdout: summaryText(data) };
  out[file && file !== '' ? file : 'summary.json'] = JSON.stringify(data, null, 2);
  return out;
}

/** The part of k6's summary data the text uses (k6 docs, "Custom summary": `data.metrics[name].values`). */
export interface SummaryData {
  metrics: Record<
    string,
    { type: string; values: Record<string, number>; thresholds?: Record<string, { ok: boolean }> }
  >;
  [key: string]: unknown;
}

export function summaryText(data: SummaryData): string {
  const lines: string[] = [];
  const reqs = data.metrics.http_reqs?.values;
  if (reqs) lines.push(`requests ${reqs.count} (${(reqs.rate ?? 0).toFixed(1)}/s)`);
  const d = data.metrics[REQUEST_METRIC]?.values;
  if (d) lines.push(`latency p(50) ${fmt(d.med)} p(90) ${fmt(d['p(90)'])} p(99) ${fmt(d['p(99)'])} max ${fmt(d.max)}`);
  const failed: string[] = [];
  for (const [name, m] of Object.entries(data.metrics)) {
    for (const [expr, r] of Object.entries(m.thresholds ?? {})) if (!r.ok) failed.push(`${name}: ${expr}`);
  }
  lines.push(failed.length === 0 ? 'thresholds: all passed' : `thresholds failed: ${failed.join('; ')}`);
  return `${lines.join('\n')}\n`;
}

function fmt(v: number | undefined): string {
  return v === undefined ? '-' : `${v.toFixed(1)}ms`;
}
