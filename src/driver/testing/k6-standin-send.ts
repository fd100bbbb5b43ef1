/**
 * The `send` mode of the k6 stand-in (k6-standin.mjs): real requests through the gateway, as the
 * k6 scripts send them. The plan arrives the way k6 gets it (`--env`, read by `trafficFromEnv` and
 * `profileFromEnv` as load/gateway.ts reads `__ENV`), request `seq` is the model's
 * `plannedRequest(model, seq)` at its arrival time (an open model: late requests are not skipped,
 * and latency runs from the intended start, as k6's constant-arrival-rate measures it), and each
 * answer is recorded with the track its `x-served-by` names. Only the constant profile the harness
 * sends. Not k6: it exists so the k6 driver's whole path (its `--env`, its reading of `--out json`)
 * can be tried with real traffic on machines without k6.
 */
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { plannedRequest, profileFromEnv, trackOf, trafficFromEnv } from '../../../load/lib/traffic.ts';

export interface SentResponse {
  latencyMs: number;
  tags: { cohort: string; route: string; track: string; served_by: string; status: string; scenario: string };
}

export async function sendPlannedTraffic(
  env: Record<string, string>,
  opts: { stopping: () => boolean; onResponse: (r: SentResponse) => void },
): Promise<number> {
  const model = trafficFromEnv(env);
  const profile = profileFromEnv(env, { rate: 10, durationS: 1 });
  if (profile.kind !== 'constant') throw new Error(`standin k6 send: only PROFILE=constant, got ${profile.kind}`);
  const target = new URL((env.TARGET ?? '').replace(/\/+$/, ''));
  const service = env.CANARY_SERVICE || 'account';
  const agent = new http.Agent({ keepAlive: true, maxSockets: Number(env.MAX_VUS || 100) });
  const total = Math.floor(profile.rate * profile.durationS);
  const t0 = performance.now();
  const inFlight = new Set<Promise<void>>();
  let seq = 0;
  for (; seq < total && !opts.stopping(); seq++) {
    const due = t0 + (seq * 1000) / profile.rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const request = plannedRequest(model, seq);
    const sent = send(agent, target, request.path, request.user).then(({ status, servedBy }) => {
      opts.onResponse({
        latencyMs: performance.now() - due,
        tags: {
          cohort: request.cohort,
          route: request.route,
          track: trackOf(servedBy, service),
          served_by: servedBy ?? '',
          status: String(status),
          scenario: 'canary',
        },
      });
    });
    inFlight.add(sent);
    void sent.finally(() => inFlight.delete(sent));
  }
  await Promise.all(inFlight);
  agent.destroy();
  return seq;
}

/** One GET; a connection error is status 0, as k6 reports it. */
function send(
  agent: http.Agent,
  target: URL,
  path: string,
  user: string,
): Promise<{ status: number; servedBy: string | undefined }> {
  return new Promise((resolve) => {
    const req = http.get(
      { host: target.hostname, port: target.port, path, agent, headers: { 'end-user': user }, timeout: 10_000 },
      (res) => {
        res.resume();
        res.on('end', () => {
          const servedBy = res.headers['x-served-by'];
          resolve({ status: res.statusCode ?? 0, servedBy: Array.isArray(servedBy) ? servedBy.join(', ') : servedBy });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, servedBy: undefined }));
  });
}
