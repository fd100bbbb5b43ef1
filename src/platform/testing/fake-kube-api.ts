/**
 * A loopback fake of the Kubernetes API server for the contract tests of `kube-client.ts` and
 * `kubernetes.ts`: it records every request exactly as sent (method, path, query, content type,
 * body) and answers as the API server does for the calls the harness makes: server-side apply
 * (201 created / 200 applied, 409 conflict Status with causes naming the field and manager),
 * get/list/delete (404 Status), watch streams (newline-delimited events from a resourceVersion,
 * `410 Gone` as an ERROR event). Faults (429, 5xx, a closed watch, 410) are injected by the test.
 * Test support only; it is not the API server and does no validation beyond what is named here.
 */
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// biome-ignore lint/suspicious/noExplicitAny: the fake stores and answers arbitrary API objects as JSON.
export type Json = any;

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  authorization: string | undefined;
  body: unknown;
}

interface Stored {
  obj: Json;
  managers: Map<string, string>;
}

interface Watcher {
  collection: string;
  selector: (o: Json) => boolean;
  res: http.ServerResponse;
}

interface Fault {
  match: (r: RecordedRequest) => boolean;
  status: number;
  times: number;
  retryAfter?: string;
}

/** A field another manager owns: applying the object with a different value of it conflicts. */
export interface OwnedField {
  path: string;
  name: string;
  field: string;
  manager: string;
}

export class FakeKubeApi {
  readonly requests: RecordedRequest[] = [];
  private readonly store = new Map<string, Stored>();
  private readonly watchers = new Set<Watcher>();
  private readonly faults: Fault[] = [];
  private readonly owned: OwnedField[] = [];
  private version = 100;
  private goneOnNextWatch = 0;
  private server: http.Server | null = null;
  /** Runs after every apply, like a controller: may set status, create pods, change the spec. */
  onApply: (collection: string, obj: Json, api: FakeKubeApi) => void = () => {};

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /**
   * Stops listening (every watch ends, new connections are refused), runs `whileDown`, then listens
   * again on the same port with the same objects: an API server restarting over the same etcd.
   */
  async restart(whileDown: () => Promise<void> | void = () => {}): Promise<void> {
    const server = this.server!;
    const { port } = server.address() as AddressInfo;
    for (const w of this.watchers) w.res.destroy();
    this.watchers.clear();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await whileDown();
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
  }

  async stop(): Promise<void> {
    for (const w of this.watchers) w.res.destroy();
    this.watchers.clear();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** A kubeconfig whose context `fake` points at this server with a bearer token. */
  kubeconfig(server: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'fake-kube-'));
    const file = join(dir, 'kubeconfig');
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'current-context: fake',
        'clusters:',
        `  - name: fake\n    cluster:\n      server: ${server}\n      insecure-skip-tls-verify: true`, // plain HTTP on loopback: client-node allows it only so
        'users:',
        '  - name: harness\n    user:\n      token: test-token-not-a-secret',
        'contexts:',
        '  - name: fake\n    context:\n      cluster: fake\n      user: harness',
        '',
      ].join('\n'),
    );
    return file;
  }

  /** Answers the next `times` requests matching with `status` (a Status body), then normally. */
  fail(match: (r: RecordedRequest) => boolean, status: number, times = 1, retryAfter?: string): void {
    this.faults.push({ match, status, times, retryAfter });
  }

  /** The next `n` watch requests get an ERROR event with code 410 (the version is too old). */
  goneOnWatch(n = 1): void {
    this.goneOnNextWatch += n;
  }

  /** Closes every open watch stream (as an API server restart or a load balancer would). */
  closeWatches(): void {
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
  }

  own(f: OwnedField): void {
    this.owned.push(f);
  }

  /** Puts an object in the store (as another client would), notifying watchers. */
  put(collection: string, obj: Json): void {
    const key = `${collection}/${obj.metadata.name}`;
    const before = this.store.get(key);
    obj.metadata.resourceVersion = String(++this.version);
    obj.metadata.generation ??= before?.obj.metadata.generation ?? 1;
    this.store.set(key, { obj, managers: before?.managers ?? new Map() });
    this.notify(collection, before ? 'MODIFIED' : 'ADDED', obj);
  }

  /** Removes an object without a request (as if it had never been created). */
  remove(collection: string, name: string): void {
    this.store.delete(`${collection}/${name}`);
  }

  get(collection: string, name: string): Json | undefined {
    return this.store.get(`${collection}/${name}`)?.obj;
  }

  /** Requests by method and path prefix, for assertions. */
  sent(method: string, pathStart = ''): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path.startsWith(pathStart));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const r: RecordedRequest = {
      method: req.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      contentType: req.headers['content-type'],
      authorization: req.headers.authorization,
      body: text === '' ? undefined : JSON.parse(text),
    };
    this.requests.push(r);
    const fault = this.faults.find((f) => f.times > 0 && f.match(r));
    if (fault) {
      fault.times--;
      return status(res, fault.status, fault.status === 429 ? 'TooManyRequests' : 'InternalError', 'injected', {
        ...(fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}),
      });
    }
    const m = /^(.*\/namespaces\/[^/]+\/[^/]+|\/api\/v1\/namespaces|.*\/[^/]+)(?:\/([^/]+))?$/.exec(url.pathname);
    const collection = m?.[1] ?? url.pathname;
    const name = m?.[2];
    if (r.method === 'GET' && name === undefined && r.query.watch === '1') return this.watch(collection, r, res);
    if (r.method === 'GET' && name === undefined) {
      const items = [...this.store.entries()]
        .filter(([k, s]) => k.startsWith(`${collection}/`) && selectorOf(r.query)(s.obj))
        .map(([, s]) => s.obj);
      return json(res, 200, { kind: 'List', metadata: { resourceVersion: String(this.version) }, items });
    }
    const key = `${collection}/${name}`;
    if (r.method === 'GET') {
      const s = this.store.get(key);
      return s ? json(res, 200, s.obj) : status(res, 404, 'NotFound', `${name} not found`);
    }
    if (r.method === 'DELETE') {
      const s = this.store.get(key);
      if (!s) return status(res, 404, 'NotFound', `${name} not found`);
      this.store.delete(key);
      this.version++;
      this.notify(collection, 'DELETED', s.obj);
      return json(res, 200, { kind: 'Status', status: 'Success' });
    }
    if (r.method === 'PATCH' && r.contentType === 'application/apply-patch+yaml') {
      const obj: Json = r.body;
      const manager = r.query.fieldManager ?? '';
      const conflicts = this.owned.filter(
        (o) => o.path === collection && o.name === name && o.manager !== manager && r.query.force !== 'true',
      );
      if (conflicts.length)
        return json(res, 409, {
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          reason: 'Conflict',
          code: 409,
          message: `Apply failed with ${conflicts.length} conflict(s): ${conflicts.map((c) => `conflict with "${c.manager}": ${c.field}`).join(', ')}`,
          details: {
            causes: conflicts.map((c) => ({
              reason: 'FieldManagerConflict',
              message: `conflict with "${c.manager}"`,
              field: c.field,
            })),
          },
        });
      if (r.query.dryRun === 'All') return json(res, 200, obj);
      const before = this.store.get(key);
      const stored: Json = { ...structuredClone(obj), status: before?.obj.status };
      stored.metadata.generation =
        (before?.obj.metadata.generation ?? 0) +
        (before && JSON.stringify(before.obj.spec) === JSON.stringify(obj.spec) ? 0 : 1);
      this.put(collection, stored);
      this.onApply(collection, stored, this);
      return json(res, before ? 200 : 201, this.get(collection, name!));
    }
    if (r.method === 'PATCH' && r.contentType === 'application/merge-patch+json') {
      // Only what the clients send: annotations on an object that exists.
      const body = r.body as { metadata?: { annotations?: Record<string, string> } };
      const keys = Object.keys(body ?? {});
      if (keys.length !== 1 || keys[0] !== 'metadata' || Object.keys(body.metadata ?? {}).join() !== 'annotations')
        return status(
          res,
          422,
          'Invalid',
          `the fake takes merge patches of metadata.annotations only, got ${JSON.stringify(body)}`,
        );
      const before = this.store.get(key);
      if (!before) return status(res, 404, 'NotFound', `${name} not found`);
      const stored: Json = structuredClone(before.obj);
      stored.metadata.annotations = { ...stored.metadata.annotations, ...body.metadata!.annotations };
      this.put(collection, stored);
      return json(res, 200, this.get(collection, name!));
    }
    return status(res, 405, 'MethodNotAllowed', `${r.method} ${url.pathname}`);
  }

  private watch(collection: string, r: RecordedRequest, res: http.ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json' });
    if (this.goneOnNextWatch > 0) {
      this.goneOnNextWatch--;
      res.end(
        `${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' } })}\n`,
      );
      return;
    }
    const w: Watcher = { collection, selector: selectorOf(r.query), res };
    this.watchers.add(w);
    res.on('close', () => this.watchers.delete(w));
    const from = Number(r.query.resourceVersion ?? '0');
    for (const [k, s] of this.store)
      if (k.startsWith(`${collection}/`) && Number(s.obj.metadata.resourceVersion) > from && w.selector(s.obj))
        res.write(`${JSON.stringify({ type: 'MODIFIED', object: s.obj })}\n`);
  }

  private notify(collection: string, type: string, obj: Json): void {
    for (const w of this.watchers)
      if (w.collection === collection && w.selector(obj)) w.res.write(`${JSON.stringify({ type, object: obj })}\n`);
  }
}

function selectorOf(q: Record<string, string>): (o: Json) => boolean {
  const labels = (q.labelSelector ?? '')
    .split(',')
    .filter(Boolean)
    .map((p) => p.split('='));
  const fields = (q.fieldSelector ?? '')
    .split(',')
    .filter(Boolean)
    .map((p) => p.split('='));
  return (o) =>
    labels.every(([k, v]) => o.metadata?.labels?.[k!] === v) &&
    fields.every(([k, v]) => (k === 'metadata.name' ? o.metadata?.name === v : false));
}

function json(res: http.ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(code, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function status(res: http.ServerResponse, code: number, reason: string, message: string, headers = {}): void {
  json(res, code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code }, headers);
}
