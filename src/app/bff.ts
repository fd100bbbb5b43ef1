/**
 * The `bff` (backend for frontend): the only service the gateway routes to. It answers
 * `GET /api/account[/:id]` and `GET /api/friend[/:id]` from one upstream each, and
 * `GET /api/profile/:id` (`{ account, friends }`) from both, called concurrently.
 *
 * Upstream answers map as follows: 2xx passes through; 400 and 404 pass through with the
 * upstream's error (the caller asked for something that does not exist); any other status
 * (403 from a policy, 5xx, a timeout) and a failed call become 502 with
 * `{ error, upstream: { service, status } }`. For a profile, a 404 from friend means "no friends".
 *
 * `x-served-by` lists the bff's workload, then what each upstream listed (account before friend).
 * `end-user`, `x-request-id`, `traceparent` (and `tracestate`, its W3C companion) go to upstreams.
 */
import type { IncomingMessage } from 'node:http';
import {
  type Exchange,
  composeServedBy,
  headerValue,
  parseId,
  sendError,
  sendJson,
  sendJsonText,
  sendMethodNotAllowed,
  sendNotFound,
} from './exchange.ts';
import type { AppRoutes } from './app-routes.ts';
import type { Upstream, UpstreamResponse } from './upstream.ts';

export const PROPAGATED_HEADERS = ['end-user', 'x-request-id', 'traceparent', 'tracestate'] as const;

type UpstreamName = 'account' | 'friend';

/** An upstream call's outcome: its answer, or why there is none. */
type Outcome = { ok: true; response: UpstreamResponse } | { ok: false; reason: string };

export function createBffApp(opts: { workload: string; upstream: Upstream }): AppRoutes {
  const { workload, upstream } = opts;

  function propagated(req: IncomingMessage, requestId: string): Record<string, string> {
    const headers: Record<string, string> = { 'x-request-id': requestId };
    for (const name of PROPAGATED_HEADERS) {
      if (name === 'x-request-id') continue;
      const value = headerValue(req, name);
      if (value !== undefined) headers[name] = value;
    }
    return headers;
  }

  async function call(service: UpstreamName, path: string, headers: Record<string, string>): Promise<Outcome> {
    try {
      return { ok: true, response: await upstream.request(service, path, { method: 'GET', headers }) };
    } catch (err) {
      return { ok: false, reason: err instanceof Error ? err.message : String(err) };
    }
  }

  const servedByOf = (outcome: Outcome) => (outcome.ok ? outcome.response.headers['x-served-by'] : undefined);

  /** Answers with an upstream's failure (anything but 2xx), mapped as the header comment says. */
  function relayFailure(exchange: Exchange, service: UpstreamName, outcome: Outcome, servedBy: string): void {
    if (!outcome.ok) {
      sendError(exchange, 502, `upstream ${service} failed: ${outcome.reason}`, servedBy, {
        upstream: { service, status: null },
      });
      return;
    }
    const { status, body } = outcome.response;
    if (status === 400 || status === 404) {
      sendError(exchange, status, upstreamMessage(body) ?? `upstream ${service} answered ${status}`, servedBy, {
        upstream: { service, status },
      });
      return;
    }
    sendError(exchange, 502, `upstream ${service} answered ${status}`, servedBy, { upstream: { service, status } });
  }

  async function forward(exchange: Exchange, service: UpstreamName, path: string): Promise<void> {
    const outcome = await call(service, path, propagated(exchange.req, exchange.requestId));
    const servedBy = composeServedBy(workload, [servedByOf(outcome)]);
    if (outcome.ok && outcome.response.status >= 200 && outcome.response.status < 300) {
      return sendJsonText(exchange, outcome.response.status, outcome.response.body, servedBy);
    }
    relayFailure(exchange, service, outcome, servedBy);
  }

  async function profile(exchange: Exchange, id: number): Promise<void> {
    const headers = propagated(exchange.req, exchange.requestId);
    const [account, friends] = await Promise.all([
      call('account', `/api/account?id=${id}`, headers),
      call('friend', `/api/friend?id=${id}`, headers),
    ]);
    const servedBy = composeServedBy(workload, [servedByOf(account), servedByOf(friends)]);
    if (!isSuccess(account)) return relayFailure(exchange, 'account', account, servedBy);
    const friendsOk = isSuccess(friends);
    const noFriends = friends.ok && friends.response.status === 404;
    if (!friendsOk && !noFriends) return relayFailure(exchange, 'friend', friends, servedBy);
    let body: { account: unknown; friends: unknown };
    try {
      body = {
        account: JSON.parse(account.response.body),
        friends: friends.ok && friendsOk ? JSON.parse(friends.response.body) : [],
      };
    } catch (err) {
      return sendError(exchange, 502, `upstream answered invalid JSON: ${(err as Error).message}`, servedBy);
    }
    sendJson(exchange, 200, body, servedBy);
  }

  /** `/api/<service>/<id>` → the id, or an answer already sent (400). */
  function idSegment(exchange: Exchange, prefix: string): number | undefined {
    const parsed = parseId(exchange.path.slice(prefix.length), 'id');
    if ('problem' in parsed) {
      sendError(exchange, 400, parsed.problem, workload);
      return undefined;
    }
    return parsed.id;
  }

  return {
    handle(exchange: Exchange) {
      const { path } = exchange;
      if (!path.startsWith('/api/')) return sendNotFound(exchange, workload);
      const known =
        path === '/api/account' || path === '/api/friend' || /^\/api\/(account|friend|profile)\/[^/]+$/.test(path);
      if (!known) return sendNotFound(exchange, workload);
      if (exchange.method !== 'GET') return sendMethodNotAllowed(exchange, 'GET', workload);

      if (path === '/api/account') return forward(exchange, 'account', '/api/account');
      if (path === '/api/friend') return forward(exchange, 'friend', '/api/friend');
      for (const service of ['account', 'friend'] as const) {
        const prefix = `/api/${service}/`;
        if (path.startsWith(prefix)) {
          const id = idSegment(exchange, prefix);
          return id === undefined ? undefined : forward(exchange, service, `/api/${service}?id=${id}`);
        }
      }
      const id = idSegment(exchange, '/api/profile/');
      return id === undefined ? undefined : profile(exchange, id);
    },
    close: async () => {},
  };
}

function isSuccess(outcome: Outcome): outcome is { ok: true; response: UpstreamResponse } {
  return outcome.ok && outcome.response.status >= 200 && outcome.response.status < 300;
}

/** The `error` field of a JSON error body, when there is one. */
function upstreamMessage(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object' && typeof (parsed as { error?: unknown }).error === 'string') {
      return (parsed as { error: string }).error;
    }
  } catch {
    // not JSON (e.g. a proxy's plain-text answer): the caller falls back to a generic message
  }
  return undefined;
}
