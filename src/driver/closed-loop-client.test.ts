import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { plannedRequest, trafficFromEnv } from '../../load/lib/traffic.ts';
import { BuiltinDriver } from './builtin.ts';
import { ClosedLoopClient } from './closed-loop-client.ts';
import { decodeSeriesHistogram } from './recorder.ts';
import { accountTrackFor, servedByFor, startLoopback } from './testing/loopback.ts';
import type { LoopbackServer } from './testing/loopback.ts';

/**
 * A raw TCP server that reads request heads and answers each through `answer`, which writes whatever
 * bytes it likes (possibly in pieces, possibly closing). `connections` counts accepted sockets.
 */
interface RawServer {
  port: number;
  connections: number;
  requests: string[];
  close(): Promise<void>;
}

const rawServers: Server[] = [];
const loopbacks: LoopbackServer[] = [];
afterAll(async () => {
  await Promise.all(rawServers.map((s) => new Promise((r) => s.close(r))));
  await Promise.all(loopbacks.map((s) => s.close()));
});

async function rawServer(answer: (socket: Socket, head: string, n: number) => void): Promise<RawServer> {
  const sockets = new Set<Socket>();
  const state: RawServer = {
    port: 0,
    connections: 0,
    requests: [],
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
  const server = createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buf = '';
    socket.on('data', (chunk: Buffer) => {
      buf += chunk.toString('latin1');
      let i: number;
      while ((i = buf.indexOf('\r\n\r\n')) >= 0) {
        const head = buf.slice(0, i);
        buf = buf.slice(i + 4);
        state.requests.push(head);
        answer(socket, head, state.requests.length);
      }
    });
  });
  rawServers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.port = (server.address() as AddressInfo).port;
  return state;
}

/** Sends `n` requests one after another on one client; resolves the (status, servedBy) of each. */
function sequence(port: number, n: number, timeoutMs = 2000): Promise<[number, string][]> {
  return new Promise((resolve) => {
    const out: [number, string][] = [];
    let i = 0;
    const client = new ClosedLoopClient({
      host: '127.0.0.1',
      port,
      timeoutMs,
      onResponse: (status, servedBy) => {
        out.push([status, servedBy]);
        if (out.length === n) {
          client.close();
          resolve(out);
        } else next();
      },
    });
    const next = () => client.send(`GET /r/${i++} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nend-user: user-${i}\r\n\r\n`);
    next();
  });
}

const ok = (servedBy: string, body = 'ok') =>
  `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Served-By: ${servedBy}\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

describe('ClosedLoopClient', () => {
  it('reuses one keep-alive socket for content-length responses and reads x-served-by', async () => {
    const s = await rawServer((sock, _head, n) => sock.write(ok(`bff, account-${n}`, 'x'.repeat(n * 100))));
    const got = await sequence(s.port, 50);
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => [200, `bff, account-${i + 1}`]));
    expect(s.connections).toBe(1);
    expect(s.requests[0]).toBe(`GET /r/0 HTTP/1.1\r\nhost: 127.0.0.1:${s.port}\r\nend-user: user-1`);
  });

  it('parses responses split at every byte, and repeated x-served-by headers', async () => {
    const s = await rawServer((sock) => {
      const bytes = Buffer.from(
        'HTTP/1.1 201 Created\r\nx-served-by: bff\r\nX-SERVED-BY: friend\r\ncontent-length: 5\r\n\r\nhello',
      );
      let i = 0;
      const drip = () => {
        if (i >= bytes.length) return;
        sock.write(bytes.subarray(i, i + 1));
        i++;
        setImmediate(drip);
      };
      drip();
    });
    expect(await sequence(s.port, 3)).toEqual([
      [201, 'bff, friend'],
      [201, 'bff, friend'],
      [201, 'bff, friend'],
    ]);
    expect(s.connections).toBe(1);
  });

  it('skips chunked bodies, with extensions, trailers and chunks split across writes', async () => {
    const s = await rawServer((sock, _head, n) => {
      sock.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nx-served-by: bff\r\n\r\n');
      sock.write('5;ext=1\r\nhel');
      setTimeout(() => {
        sock.write('lo\r\n1A\r\n' + 'y'.repeat(26) + '\r');
        setTimeout(() => sock.write(`\n0\r\n${n % 2 ? 'x-trailer: t\r\n' : ''}\r\n`), 2);
      }, 2);
    });
    expect(await sequence(s.port, 6)).toEqual(Array.from({ length: 6 }, () => [200, 'bff']));
    expect(s.connections).toBe(1);
  });

  it('reconnects after Connection: close, and reads a body that runs to the end of the connection', async () => {
    const s = await rawServer((sock, _head, n) => {
      if (n % 3 === 1)
        sock.end('HTTP/1.1 200 OK\r\nConnection: close\r\nx-served-by: a\r\nContent-Length: 2\r\n\r\nok');
      else if (n % 3 === 2) sock.end('HTTP/1.0 200 OK\r\nx-served-by: b\r\n\r\nbody until close');
      else sock.write('HTTP/1.1 204 No Content\r\nx-served-by: c\r\n\r\n');
    });
    const got = await sequence(s.port, 9);
    expect(got).toEqual([
      [200, 'a'],
      [200, 'b'],
      [204, 'c'],
      [200, 'a'],
      [200, 'b'],
      [204, 'c'],
      [200, 'a'],
      [200, 'b'],
      [204, 'c'],
    ]);
    // Requests 1 and 2 of each three end their connection; 3 and the next 1 share one:
    // [1] [2] [3 4] [5] [6 7] [8] [9].
    expect(s.connections).toBe(7);
  });

  it('skips 100 Continue and reports 503 as a response', async () => {
    const s = await rawServer((sock, _head, n) =>
      sock.write(
        n === 1
          ? 'HTTP/1.1 100 Continue\r\n\r\n' + ok('bff')
          : 'HTTP/1.1 503 Service Unavailable\r\nx-served-by: bff, friend\r\ncontent-length: 0\r\n\r\n',
      ),
    );
    expect(await sequence(s.port, 3)).toEqual([
      [200, 'bff'],
      [503, 'bff, friend'],
      [503, 'bff, friend'],
    ]);
  });

  it('fails a reset, a truncated response and garbage with status 0, then reconnects', async () => {
    const s = await rawServer((sock, _head, n) => {
      if (n === 2) sock.resetAndDestroy();
      else if (n === 4) sock.end('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort');
      else if (n === 6) sock.write('NOT HTTP AT ALL\r\n\r\n');
      else sock.write(ok('bff'));
    });
    expect(await sequence(s.port, 7)).toEqual([
      [200, 'bff'],
      [0, ''],
      [200, 'bff'],
      [0, ''],
      [200, 'bff'],
      [0, ''],
      [200, 'bff'],
    ]);
    expect(s.connections).toBe(4);
  });

  it('fails a request that gets no answer within the timeout', async () => {
    const s = await rawServer((sock, _head, n) => {
      if (n !== 1) sock.write(ok('bff'));
    });
    // The first request is never answered: only the client's timeout can end it, as status 0.
    expect(await sequence(s.port, 2, 200)).toEqual([
      [0, ''],
      [200, 'bff'],
    ]);
  });

  it('fails a refused connection with status 0', async () => {
    const s = await rawServer(() => {});
    await s.close();
    expect(await sequence(s.port, 2)).toEqual([
      [0, ''],
      [0, ''],
    ]);
  });

  it('fails the request in flight when closed', async () => {
    let arrived!: () => void;
    const requestArrived = new Promise<void>((r) => (arrived = r));
    const s = await rawServer(() => arrived());
    const got: number[] = [];
    const client = new ClosedLoopClient({
      host: '127.0.0.1',
      port: s.port,
      timeoutMs: 5000,
      onResponse: (status) => got.push(status),
    });
    client.send('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    await requestArrived;
    expect(client.inFlight).toBe(1);
    client.close();
    expect(got).toEqual([0]);
    expect(client.inFlight).toBe(0);
  });
});

describe('builtin driver, closed model on the lean client', () => {
  const traffic = trafficFromEnv({ COHORTS: 'user=50:0.6,canary-tester=5:0.2,baseline-tester=5:0.2', SEED: '3' });

  it('records every request exactly once, attributed as the traffic model planned (503s and resets included)', async () => {
    const target = await startLoopback({
      delayMs: 2,
      status: (req) => (req.url === '/api/friend' ? 503 : 200),
      reset: (req) => (req.url ?? '').startsWith('/api/friend/'),
    });
    loopbacks.push(target);
    const before = target.received;
    const result = await (
      await new BuiltinDriver().start({
        target: target.url,
        model: { kind: 'closed', connections: 8, durationS: 1 },
        traffic,
      })
    ).result();
    expect(result.status).toBe('completed');
    expect(result.requests).toBe(result.sent);
    // How many fit in the second depends on the machine (bench:load measures it); the breakdown must hold for any count.
    expect(result.requests).toBeGreaterThanOrEqual(8);
    // Every request reached the server once (plus the pre-flight probe): no retries, no losses.
    expect(target.received - before).toBe(result.sent + 1);
    expect(target.maxConcurrent).toBe(8);

    // Sequence numbers 0 … sent-1, each recorded once: the expected breakdown follows from the plan.
    const byTrack: Record<string, number> = {};
    const bySeries: Record<string, { requests: number; status: Record<string, number> }> = {};
    let errors = 0;
    for (let seq = 0; seq < result.sent; seq++) {
      const r = plannedRequest(traffic, seq);
      const reset = r.path.startsWith('/api/friend/');
      const status = reset ? 0 : r.path === '/api/friend' ? 503 : 200;
      const servedBy = reset ? '' : servedByFor(r.path, r.user);
      const track = reset || r.path.startsWith('/api/friend') ? '-' : accountTrackFor(r.user);
      byTrack[track] = (byTrack[track] ?? 0) + 1;
      if (status === 0 || status >= 500) errors++;
      const key = `${r.cohort}|${r.route}|${servedBy}`;
      const s = (bySeries[key] ??= { requests: 0, status: {} });
      s.requests++;
      s.status[status] = (s.status[status] ?? 0) + 1;
    }
    expect(result.byTrack).toEqual(byTrack);
    expect(result.errors).toBe(errors);
    expect(Object.keys(bySeries).length).toBe(result.series.length);
    for (const s of result.series) {
      const e = bySeries[`${s.cohort}|${s.route}|${s.servedBy}`];
      expect(e, `${s.cohort} ${s.route} ${s.servedBy}`).toBeDefined();
      expect(s.requests).toBe(e.requests);
      expect(s.byStatus).toEqual(e.status);
      expect(s.transportErrors).toBe(e.status[0] ?? 0);
      expect(decodeSeriesHistogram(s).totalCount).toBe(s.requests - s.transportErrors);
    }
    expect(result.byWorkload.bff).toBe(
      result.requests -
        (byTrack['-'] ?? 0) +
        result.series.filter((s) => s.workload === '-' && s.transportErrors === 0).reduce((n, s) => n + s.requests, 0),
    );
  });

  it('stops early: no request is lost and the sockets close', async () => {
    const target = await startLoopback({ delayMs: 5 });
    loopbacks.push(target);
    const run = await new BuiltinDriver().start({
      target: target.url,
      model: { kind: 'closed', connections: 4, durationS: 30 },
      traffic,
    });
    const connections = () => new Promise<number>((r) => target.server.getConnections((_e, n) => r(n)));
    await vi.waitFor(async () => expect(await connections()).toBeGreaterThanOrEqual(4), { timeout: 10_000 });
    const result = await run.stop('stopped');
    expect(result.status).toBe('stopped');
    expect(result.requests).toBe(result.sent);
    expect(result.errors).toBe(0);
    // What may stay open is the pre-flight probe's pooled undici connection.
    await vi.waitFor(async () => expect(await connections()).toBeLessThanOrEqual(1), { timeout: 10_000 });
  });
});
