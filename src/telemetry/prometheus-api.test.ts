import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../core/errors.ts';
import { PrometheusClient, PrometheusQueryError } from './prometheus-api.ts';

interface Seen {
  at: number;
  path: string;
  form: URLSearchParams;
  authorization?: string;
}

/** A scripted Prometheus API on loopback: each request takes the next handler (the last repeats). */
describe('PrometheusClient', () => {
  let server: Server;
  let url: string;
  let seen: Seen[];
  let script: ((res: ServerResponse) => void)[];
  const ok = (res: ServerResponse) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        status: 'success',
        data: { resultType: 'vector', result: [{ metric: { a: 'b' }, value: [1700000000, '42'] }] },
      }),
    );
  const status =
    (code: number, body = JSON.stringify({ status: 'error', errorType: 'server_error', error: 'boom' })) =>
    (res: ServerResponse) =>
      res.writeHead(code).end(body);

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({
          at: performance.now(),
          path: req.url ?? '',
          form: new URLSearchParams(body),
          authorization: req.headers.authorization,
        });
        const handler = script.length > 1 ? script.shift()! : script[0]!;
        handler(res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prefix/`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => {
    seen = [];
    script = [ok];
  });

  it('POSTs instant and range queries to the standard endpoints under the base path', async () => {
    const c = new PrometheusClient({ url });
    const r = await c.query('up{job="x"}', 1_700_000_000_500);
    expect(r).toEqual({ resultType: 'vector', series: [{ metric: { a: 'b' }, values: [[1700000000, '42']] }] });
    await c.queryRange('up', 1_700_000_000_000, 1_700_000_060_000, 1500);
    expect(seen.map((s) => s.path)).toEqual(['/prefix/api/v1/query', '/prefix/api/v1/query_range']);
    expect(Object.fromEntries(seen[0]!.form)).toEqual({ query: 'up{job="x"}', time: '1700000000.500' });
    expect(Object.fromEntries(seen[1]!.form)).toEqual({
      query: 'up',
      start: '1700000000.000',
      end: '1700000060.000',
      step: '1.500',
    });
  });

  it('retries 5xx with exponential backoff, then succeeds', async () => {
    script = [status(503), status(502), status(500), ok];
    const c = new PrometheusClient({ url, retries: 3, backoffMs: 40 });
    await c.query('up', 0);
    expect(seen).toHaveLength(4);
    const gaps = seen.slice(1).map((s, i) => s.at - seen[i]!.at);
    // 40, 80, 160 ms; generous upper margins for a shared 2-core machine
    expect(gaps[0]).toBeGreaterThanOrEqual(38);
    expect(gaps[1]).toBeGreaterThanOrEqual(78);
    expect(gaps[2]).toBeGreaterThanOrEqual(158);
  });

  it('gives up after the retries, naming the endpoint and the attempts', async () => {
    script = [status(503)];
    const c = new PrometheusClient({ url, retries: 2, backoffMs: 1 });
    const err = await c.query('up', 0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrometheusQueryError);
    expect((err as Error).message).toBe(
      `${url.replace(/\/$/, '')}/api/v1/query: HTTP 503, server_error: boom (after 3 attempts)`,
    );
    expect((err as PrometheusQueryError).unreachable).toBe(false);
    expect(seen).toHaveLength(3);
  });

  it('does not retry a bad query (4xx)', async () => {
    script = [status(400, JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error' }))];
    const c = new PrometheusClient({ url, retries: 3, backoffMs: 1 });
    await expect(c.query('up{', 0)).rejects.toThrow(/HTTP 400, bad_data: parse error$/);
    expect(seen).toHaveLength(1);
  });

  it('reports a 200 that is not a Prometheus answer, without retrying', async () => {
    script = [(res) => res.writeHead(200).end('<html>proxy login</html>')];
    const c = new PrometheusClient({ url, retries: 2, backoffMs: 1 });
    await expect(c.query('up', 0)).rejects.toThrow(/HTTP 200, not a Prometheus API answer/);
    expect(seen).toHaveLength(1);
  });

  it('retries network errors and reports the URL as unreachable', async () => {
    const c = new PrometheusClient({ url: 'http://127.0.0.1:9', retries: 2, backoffMs: 5 });
    const err = (await c.query('up', 0).catch((e: unknown) => e)) as PrometheusQueryError;
    expect(err.unreachable).toBe(true);
    expect(err.attempts).toBe(3);
    expect(err.message).toMatch(/^http:\/\/127\.0\.0\.1:9\/api\/v1\/query: ECONNREFUSED/);
  });

  it('times out a silent server and retries it', async () => {
    script = [() => {}, ok];
    const c = new PrometheusClient({ url, retries: 1, backoffMs: 1, timeoutMs: 200 });
    // The first server never answers: only the client's timeout can have led to the second try.
    await c.query('up', 0);
    expect(seen).toHaveLength(2);
  });

  it('sends the bearer token from its file and never puts it in an error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'token-'));
    const file = join(dir, 'token');
    writeFileSync(file, 's3cr3t-token\n');
    script = [status(401, JSON.stringify({ status: 'error', errorType: 'unauthorized', error: 'no' }))];
    const c = new PrometheusClient({ url, bearerTokenFile: file, retries: 0 });
    const err = (await c.query('up', 0).catch((e: unknown) => e)) as Error;
    expect(seen[0]!.authorization).toBe('Bearer s3cr3t-token');
    expect(err.message).not.toContain('s3cr3t');
    expect(err.message).toMatch(/HTTP 401/);
    // rotated token: read again on the next request
    writeFileSync(file, 'rotated');
    script = [ok];
    await c.query('up', 0);
    expect(seen[1]!.authorization).toBe('Bearer rotated');
  });

  it('rejects a missing token file and a bad URL up front, naming the flag', () => {
    expect(() => new PrometheusClient({ url, bearerTokenFile: '/nonexistent/token' })).toThrow(UsageError);
    expect(() => new PrometheusClient({ url, bearerTokenFile: '/nonexistent/token' })).toThrow(
      /--bearer-token-file: cannot read \/nonexistent\/token \(ENOENT\)/,
    );
    expect(() => new PrometheusClient({ url: 'localhost:9090' })).toThrow(/--prometheus: expected an http\(s\) URL/);
  });
});
