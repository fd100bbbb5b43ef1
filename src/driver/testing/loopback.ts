/**
 * Small loopback HTTP servers for driver tests and the load benchmark: a stand-in for the gateway that
 * answers like the bff (x-served-by by cohort, as the committed account VirtualService routes), and can
 * stall, fail or count concurrency. Binds 127.0.0.1 on port 0.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LoopbackServer {
  url: string;
  server: Server;
  /** Requests answered, by `end-user` cohort prefix and path. */
  received: number;
  maxConcurrent: number;
  close(): Promise<void>;
}

export interface LoopbackOptions {
  /** Hold every response that arrives while this returns true until it returns false (polled each 5 ms). */
  stalled?: () => boolean;
  /** Status to answer for a request (default 200). */
  status?: (req: IncomingMessage) => number;
  /** Destroy the socket instead of answering. */
  reset?: (req: IncomingMessage) => boolean;
  /** Fixed service time in ms. */
  delayMs?: number;
}

/** The account track the committed VirtualService would pick for an `end-user`. */
export function accountTrackFor(user: string | undefined): string {
  if (user && /^canary-tester-[0-9]+$/.test(user)) return 'account-canary';
  if (user && /^baseline-tester-[0-9]+$/.test(user)) return 'account-baseline';
  return 'account-primary';
}

export function servedByFor(path: string, user: string | undefined): string {
  const track = accountTrackFor(user);
  if (path.startsWith('/api/profile/')) return `bff, ${track}, friend`;
  if (path.startsWith('/api/account')) return `bff, ${track}`;
  return 'bff, friend';
}

export async function startLoopback(opts: LoopbackOptions = {}): Promise<LoopbackServer> {
  let concurrent = 0;
  const state = { received: 0, maxConcurrent: 0 };
  const answer = (req: IncomingMessage, res: ServerResponse) => {
    const user = req.headers['end-user'] as string | undefined;
    res.statusCode = opts.status ? opts.status(req) : 200;
    res.setHeader('x-served-by', servedByFor(req.url ?? '/', user));
    res.setHeader('content-type', 'application/json');
    res.end('{"ok":true}');
    concurrent--;
  };
  const server = createServer((req, res) => {
    state.received++;
    concurrent++;
    state.maxConcurrent = Math.max(state.maxConcurrent, concurrent);
    if (opts.reset?.(req)) {
      concurrent--;
      req.socket.destroy();
      return;
    }
    const go = () => (opts.delayMs ? setTimeout(() => answer(req, res), opts.delayMs) : answer(req, res));
    if (opts.stalled?.()) {
      const wait = setInterval(() => {
        if (!opts.stalled!()) {
          clearInterval(wait);
          go();
        }
      }, 5);
    } else go();
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    get received() {
      return state.received;
    },
    get maxConcurrent() {
      return state.maxConcurrent;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
