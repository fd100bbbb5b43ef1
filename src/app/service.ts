/**
 * The reference app's entry point: `createService` builds one workload (`bff`, `account` or
 * `friend`) as a plain Node request handler. The local data plane wraps the handler with its
 * inbound sidecar and, for the bff, passes its outbound sidecar as the `Upstream`.
 *
 * Around every `/api` request the knobs apply first (an injected error or added latency, see
 * knobs.ts), then the app's own routes. `/healthz` is outside the knobs so that readiness checks
 * keep working on a deliberately bad canary.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { ConfigError } from '../core/errors.ts';
import { createAccountApp } from './account.ts';
import { createBffApp } from './bff.ts';
import { type Exchange, headerValue, sendError, sendJsonText } from './exchange.ts';
import { createFriendApp } from './friend.ts';
import { type Knobs, requestFates } from './knobs.ts';
import type { RandomSource } from '../core/random.ts';
import type { AppRoutes } from './app-routes.ts';
import type { Upstream } from './upstream.ts';

export type { Upstream, UpstreamResponse } from './upstream.ts';

export type ServiceName = 'bff' | 'account' | 'friend';

export const SERVICE_NAMES: readonly ServiceName[] = ['bff', 'account', 'friend'];

export interface ServiceOptions {
  service: ServiceName;
  /** The workload serving, e.g. 'account-canary'; the first entry of `x-served-by`. */
  workload: string;
  /** 'v1', 'v2', ... */
  version: string;
  /** From `knobsFromEnv(process.env)`. */
  knobs: Knobs;
  /** bff only: how it reaches account and friend. */
  upstream?: Upstream;
  /** friend only: unset → SQLite ':memory:'; a file path or `sqlite:PATH` → SQLite file; `mysql://…` → MySQL/MariaDB. */
  databaseUrl?: string;
  /** friend only: where `DATABASE_PASSWORD` / `DATABASE_PASSWORD_FILE` are read (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Uniform [0, 1) source for the knobs' draws and generated data (default `Math.random`); seed it in tests. */
  random?: RandomSource;
  /** Monotonic milliseconds for slow start (default `performance.now`). */
  now?: () => number;
  /** Runs an answer after the knobs' delay (default `setTimeout`); tests record the delays instead of timing them. */
  schedule?: (answer: () => void, delayMs: number) => void;
}

export interface RunningService {
  /** Plain Node request handler; the data plane wraps it with its inbound sidecar. */
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  close(): Promise<void>;
}

/** Resolves when the service is ready to answer (for friend: schema created and seeded). */
export async function createService(opts: ServiceOptions): Promise<RunningService> {
  if (!SERVICE_NAMES.includes(opts.service)) {
    throw new ConfigError(
      'service options',
      'service',
      `expected one of ${SERVICE_NAMES.join(', ')}, got '${String(opts.service)}'`,
    );
  }
  if (!opts.workload || /[\s,]/.test(opts.workload)) {
    throw new ConfigError(
      'service options',
      'workload',
      `expected a workload name without spaces or commas, got '${opts.workload}'`,
    );
  }
  const random = opts.random ?? Math.random;
  const now = opts.now ?? (() => performance.now());
  const schedule = opts.schedule ?? ((run: () => void, delayMs: number) => void setTimeout(run, delayMs));
  const workload = opts.workload;
  const routes = await createRoutes(opts, random);
  const fateOf = requestFates(opts.knobs, { random, now, startedAt: now() });
  const errorStatus = opts.knobs.errorStatus;
  const health = JSON.stringify({ status: 'ok', service: opts.service, workload, version: opts.version });

  const answer = (exchange: Exchange, fail: boolean) => {
    if (fail) {
      sendError(
        exchange,
        errorStatus,
        `injected error (ERROR_RATE=${opts.knobs.errorRate}) from ${workload}`,
        workload,
      );
      return;
    }
    let pending: void | Promise<void>;
    try {
      pending = routes.handle(exchange);
    } catch (err) {
      internalError(exchange, workload, err);
      return;
    }
    if (pending) pending.catch((err: unknown) => internalError(exchange, workload, err));
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const exchange: Exchange = {
      req,
      res,
      method: req.method ?? 'GET',
      path: q < 0 ? url : url.slice(0, q),
      rawQuery: q < 0 ? '' : url.slice(q + 1),
      requestId: headerValue(req, 'x-request-id') || randomUUID(),
    };
    // Bodies are never read (no route takes one); drain them so keep-alive connections stay usable.
    if (req.method !== 'GET' && req.method !== 'HEAD') req.resume();
    if (exchange.path === '/healthz') {
      sendJsonText(exchange, 200, health, workload);
      return;
    }
    const fate = fateOf();
    if (fate.delayMs > 0) schedule(() => answer(exchange, fate.fail), fate.delayMs);
    else answer(exchange, fate.fail);
  };

  return { handler, close: () => routes.close() };
}

function createRoutes(opts: ServiceOptions, random: RandomSource): Promise<AppRoutes> | AppRoutes {
  switch (opts.service) {
    case 'account':
      return createAccountApp({ workload: opts.workload });
    case 'friend':
      return createFriendApp({
        workload: opts.workload,
        databaseUrl: opts.databaseUrl,
        env: opts.env ?? process.env,
        random,
      });
    case 'bff':
      if (!opts.upstream)
        throw new ConfigError('service options', 'upstream', 'the bff needs an Upstream to reach account and friend');
      return createBffApp({ workload: opts.workload, upstream: opts.upstream });
  }
}

function internalError(exchange: Exchange, workload: string, err: unknown): void {
  if (exchange.res.headersSent) {
    exchange.res.destroy();
    return;
  }
  const message = err instanceof Error ? err.message : String(err);
  sendError(exchange, 500, `internal error in ${workload}: ${message}`, workload);
}
