/**
 * Test support: serve a handler on a loopback port (port 0, so parallel suites never collide) and
 * call a URL. Not used by the harness itself.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';

export interface LoopbackServer {
  url: string;
  close(): Promise<void>;
}

/** A plain `http.createServer(handler)` on 127.0.0.1, port 0. */
export async function serveOnLoopback(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<LoopbackServer> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Milliseconds from sending to the whole body. */
  ms: number;
}

const agent = new Agent({ connections: 64, keepAliveTimeout: 1_000 });

/** One HTTP call; header values come back as single strings. */
export async function call(
  url: string,
  init: { method?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const started = performance.now();
  const res = await request(url, { method: (init.method ?? 'GET') as 'GET', headers: init.headers, dispatcher: agent });
  const body = await res.body.text();
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return { status: res.statusCode, headers, body, ms: performance.now() - started };
}
