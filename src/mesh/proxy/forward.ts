/**
 * One routed call to an upstream, as Envoy's router does it after routing: fault injection, then tries
 * against replicas picked by the cluster's load balancer, with per-try and route timeouts, retries on
 * the conditions the route names, and Envoy's local replies and response flags when the proxy answers
 * itself (https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage#config-access-log-format-response-flags).
 * Shared by the ingress gateway and the bff's outbound sidecar.
 */
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool, type Dispatcher } from 'undici';
import type { MeshEndpoint } from '../config.ts';
import type { RouteDecision, RetryConditions } from '../routing/route-table.ts';

export interface ForwardRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  body: Buffer | null;
}

export interface ForwardOutcome {
  status: number;
  /** `-` when none. */
  flags: string;
  /** The replica that answered, when one did. */
  endpoint?: MeshEndpoint;
  /** Upstream headers and body when a replica answered; the caller must consume or dump the body. */
  headers?: Record<string, string | string[] | undefined>;
  body?: Dispatcher.ResponseData['body'];
  /** The proxy's own reply body (fault abort, timeout, no upstream). */
  localBody?: string;
  /** Tells the load balancer the request is over; call once the body is consumed. */
  release(): void;
}

/** Keep-alive connection pools, one per replica URL, reused across configuration updates. */
export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly connectionsPerReplica = 128) {}

  get(url: string): Pool {
    let pool = this.pools.get(url);
    if (!pool) {
      pool = new Pool(url, { connections: this.connectionsPerReplica, keepAliveTimeout: 30_000, pipelining: 1 });
      this.pools.set(url, pool);
    }
    return pool;
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(pools.map((p) => p.destroy()));
  }
}

const NOOP = (): void => {};

/**
 * A cancellation undici accepts as a request's `signal`: an EventEmitter that emits `abort` once. It
 * costs a tenth of an AbortController and its listener, which would otherwise be paid on every
 * request (every route has a timeout).
 */
export class Cancellation extends EventEmitter {
  aborted = false;

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.emit('abort');
  }
}
// Envoy's default retry back-off: 25 ms base interval, fully jittered, doubling per retry.
const RETRY_BASE_MS = 25;

/**
 * `downstream` aborts when the caller goes away: the try in flight is cancelled (its connection
 * closed, so the destination records a downstream disconnect too) and the outcome is `0` / `DC`.
 */
export async function forward(
  decision: RouteDecision,
  req: ForwardRequest,
  pools: UpstreamPools,
  random: () => number = Math.random,
  downstream?: Cancellation,
): Promise<ForwardOutcome> {
  let flags = '';
  if (decision.delayMs > 0) {
    await sleep(decision.delayMs);
    flags = 'DI';
  }
  if (downstream?.aborted) return local(0, joinFlags(flags, 'DC'), '');
  if (decision.abortStatus > 0) {
    return local(decision.abortStatus, joinFlags(flags, 'FI'), 'fault filter abort');
  }
  const cluster = decision.cluster;
  const { attempts, perTryTimeoutMs, retryOn } = decision.retries;
  const deadline = decision.timeoutMs > 0 ? performance.now() + decision.timeoutMs : Infinity;
  const timedOut = () => local(504, joinFlags(flags, 'UT'), 'upstream request timeout');
  let failure = { status: 503, flag: 'UH', body: 'no healthy upstream' };
  let tries = 0;
  for (let t = 0; t <= attempts; t++) {
    if (t > 0) {
      const wait = random() * RETRY_BASE_MS * 2 ** (t - 1);
      if (performance.now() + wait >= deadline) {
        // The route timeout fires during the back-off: Envoy answers 504 UT when it does.
        await sleep(Math.max(0, deadline - performance.now()));
        return timedOut();
      }
      await sleep(wait);
      if (downstream?.aborted) return local(0, joinFlags(flags, 'DC'), '');
    }
    const remaining = deadline - performance.now();
    if (remaining <= 0) return timedOut();
    const index = cluster.pick();
    if (index < 0) return local(503, joinFlags(flags, 'UH'), 'no healthy upstream');
    const endpoint = cluster.endpoints[index];
    tries += 1;
    const tryTimeout = Math.min(perTryTimeoutMs > 0 ? perTryTimeoutMs : Infinity, remaining);
    // A try that outlives its time is cancelled: its connection is closed, as Envoy resets the
    // upstream stream, so the destination records a disconnect (0, DC) and not a late answer.
    const abort = Number.isFinite(tryTimeout) || downstream ? new Cancellation() : undefined;
    let expired = false;
    let timer: NodeJS.Timeout | undefined;
    if (abort && Number.isFinite(tryTimeout)) {
      timer = setTimeout(
        () => {
          expired = true;
          abort.abort();
        },
        Math.max(1, tryTimeout),
      );
    }
    const onDownstreamAbort = (): void => abort?.abort();
    downstream?.once('abort', onDownstreamAbort);
    cluster.started(index);
    try {
      const res = await pools.get(endpoint.url).request({
        method: req.method as Dispatcher.HttpMethod,
        path: req.path,
        headers: req.headers,
        body: req.body,
        ...(abort ? { signal: abort } : {}),
      });
      if (timer) clearTimeout(timer);
      downstream?.off('abort', onDownstreamAbort);
      const retriable = retriableStatus(res.statusCode, retryOn);
      if (t < attempts && retriable) {
        await res.body.dump();
        cluster.finished(index);
        failure = { status: res.statusCode, flag: '', body: '' };
        continue;
      }
      let released = false;
      return {
        status: res.statusCode,
        // The last try's retriable answer is passed on, marked as the end of the retries.
        flags: t > 0 && retriable ? joinFlags(flags, 'URX') : flags || '-',
        endpoint,
        headers: res.headers,
        body: res.body,
        release: () => {
          if (!released) {
            released = true;
            cluster.finished(index);
          }
        },
      };
    } catch (err) {
      if (timer) clearTimeout(timer);
      downstream?.off('abort', onDownstreamAbort);
      cluster.finished(index);
      const code = (err as { code?: string }).code;
      if (downstream?.aborted) return local(0, joinFlags(flags, 'DC'), '');
      if (expired || code === 'UND_ERR_HEADERS_TIMEOUT') {
        if (performance.now() >= deadline - 1) return timedOut();
        failure = { status: 504, flag: 'UT', body: 'upstream request timeout' };
        if (!(retryOn.status5xx || retryOn.gatewayError || retryOn.reset)) break;
      } else if (code === 'ECONNREFUSED' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ENOTFOUND') {
        failure = {
          status: 503,
          flag: 'UF',
          body: 'upstream connect error or disconnect/reset before headers. reset reason: connection failure',
        };
        if (!(retryOn.connectFailure || retryOn.status5xx || retryOn.gatewayError)) break;
      } else {
        failure = {
          status: 503,
          flag: 'UC',
          body: 'upstream connect error or disconnect/reset before headers. reset reason: connection termination',
        };
        if (!(retryOn.reset || retryOn.status5xx || retryOn.gatewayError)) break;
      }
    }
  }
  return local(failure.status, joinFlags(flags, tries > 1 ? `${failure.flag},URX` : failure.flag), failure.body);
}

function retriableStatus(status: number, on: RetryConditions): boolean {
  if (status >= 500 && on.status5xx) return true;
  if ((status === 502 || status === 503 || status === 504) && on.gatewayError) return true;
  if (status === 409 && on.retriable4xx) return true;
  return on.statusCodes.has(status);
}

function local(status: number, flags: string, body: string): ForwardOutcome {
  return { status, flags, localBody: body, release: NOOP };
}

function joinFlags(a: string, b: string): string {
  return a ? `${a},${b}` : b;
}

// Hop-by-hop headers (RFC 9110 §7.6.1) and ones undici refuses to forward.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
  'expect',
  'content-length',
]);

/** Request headers to send upstream: hop-by-hop ones removed. */
export function upstreamRequestHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key in headers) {
    const v = headers[key];
    if (v !== undefined && !HOP_BY_HOP.has(key)) out[key] = v;
  }
  return out;
}

/** Response headers to send downstream: hop-by-hop ones removed (Node frames the body itself). */
export function downstreamResponseHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key in headers) {
    const v = headers[key];
    if (v !== undefined && key !== 'connection' && key !== 'keep-alive' && key !== 'transfer-encoding') out[key] = v;
  }
  return out;
}
