/**
 * The one way the harness talks to a Kubernetes API server: a thin REST client whose every request
 * names its (resource, verb) from `KUBE_CALLS`, so the harness's Role (`manifests/rbac/harness.yaml`)
 * can be checked against what the code calls. Credentials and the server come from a kubeconfig
 * through @kubernetes/client-node's `KubeConfig` (file + context, `KUBECONFIG`, or in-cluster).
 *
 * - apply: server-side apply (`PATCH`, `application/apply-patch+yaml`, `fieldManager=sprincube-canary`,
 *   `force=false`): a field another manager owns is a 409 conflict, turned into an InfraError naming
 *   the field and the manager; nothing is changed.
 * - 429 and 5xx (and a refused connection) are retried with exponential backoff, a bounded number of
 *   times, honouring `Retry-After`.
 * - watch: list, then watch from the list's resourceVersion; a closed stream reconnects from the last
 *   version seen, `410 Gone` re-lists (https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes).
 */
import http from 'node:http';
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { ConfigError, InfraError } from '../core/errors.ts';

export const FIELD_MANAGER = 'sprincube-canary';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'patch' | 'delete';

/** A resource type as the API serves it. */
export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
}

/** Every kind the harness reads or writes, by kind. */
export const RESOURCES = {
  Namespace: { group: '', version: 'v1', plural: 'namespaces', namespaced: false },
  ServiceAccount: { group: '', version: 'v1', plural: 'serviceaccounts', namespaced: true },
  Service: { group: '', version: 'v1', plural: 'services', namespaced: true },
  ConfigMap: { group: '', version: 'v1', plural: 'configmaps', namespaced: true },
  Pod: { group: '', version: 'v1', plural: 'pods', namespaced: true },
  Deployment: { group: 'apps', version: 'v1', plural: 'deployments', namespaced: true },
  ReplicaSet: { group: 'apps', version: 'v1', plural: 'replicasets', namespaced: true },
  Job: { group: 'batch', version: 'v1', plural: 'jobs', namespaced: true },
  Role: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'roles', namespaced: true },
  RoleBinding: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'rolebindings', namespaced: true },
  VirtualService: { group: 'networking.istio.io', version: 'v1beta1', plural: 'virtualservices', namespaced: true },
  DestinationRule: { group: 'networking.istio.io', version: 'v1beta1', plural: 'destinationrules', namespaced: true },
  Gateway: { group: 'networking.istio.io', version: 'v1beta1', plural: 'gateways', namespaced: true },
  AuthorizationPolicy: {
    group: 'security.istio.io',
    version: 'v1beta1',
    plural: 'authorizationpolicies',
    namespaced: true,
  },
  PeerAuthentication: {
    group: 'security.istio.io',
    version: 'v1beta1',
    plural: 'peerauthentications',
    namespaced: true,
  },
  TestRun: { group: 'k6.io', version: 'v1alpha1', plural: 'testruns', namespaced: true },
} as const satisfies Record<string, ResourceType>;

export type Kind = keyof typeof RESOURCES;

/**
 * Who calls what. Server-side apply is a PATCH, but one that creates a missing object is
 * authorized as `create` (the real API server answers 403 "cannot create resource" without it), so
 * every kind the caller applies has both. `run`: `canary run --context` as the harness's ServiceAccount (exactly what the
 * Role grants; `kube-client.rbac.test.ts` compares); `deploy`: `canary deploy`, run once by a cluster
 * admin (it creates the namespace and the harness's own Role, so it cannot run as the harness); `follow`:
 * `canary mesh up --kubeconfig`, the local data plane following a namespace.
 */
export const KUBE_CALLS = {
  run: {
    Deployment: ['get', 'list', 'watch', 'create', 'patch', 'delete'],
    Pod: ['list', 'watch'],
    VirtualService: ['get', 'create', 'patch'],
    ConfigMap: ['create', 'patch', 'delete'],
    TestRun: ['list', 'watch', 'create', 'patch', 'delete'],
    Job: ['list'],
  },
  /**
   * `canary mesh up --kubeconfig`: the data plane that follows a namespace of the test cluster reads,
   * and annotates a pod it cannot run so that KWOK reports it (cluster/config/rbac/data-plane.yaml).
   */
  follow: {
    Deployment: ['list', 'watch'],
    ReplicaSet: ['list', 'watch'],
    Pod: ['list', 'watch', 'patch'],
    Service: ['list', 'watch'],
    Gateway: ['list', 'watch'],
    VirtualService: ['list', 'watch'],
    DestinationRule: ['list', 'watch'],
    AuthorizationPolicy: ['list', 'watch'],
    PeerAuthentication: ['list', 'watch'],
  },
  deploy: Object.fromEntries(
    (Object.keys(RESOURCES) as Kind[])
      .filter((k) => !['Pod', 'ReplicaSet', 'Job', 'TestRun', 'ConfigMap'].includes(k))
      .map((k) => [k, ['create', 'patch']]),
  ),
} as const satisfies Record<string, Partial<Record<Kind, readonly Verb[]>>>;

export type Caller = keyof typeof KUBE_CALLS;

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    generation?: number;
    resourceVersion?: string;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export interface KubeList<T = KubeObject> {
  items: T[];
  metadata: { resourceVersion?: string };
}

export interface WatchEvent<T = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** An answer of the API server that is not a success. */
export class KubeApiError extends InfraError {
  constructor(
    readonly status: number,
    readonly body: KubeStatus | null,
    message: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

/** The `Status` object the API server answers errors with. */
export interface KubeStatus {
  kind?: 'Status';
  message?: string;
  reason?: string;
  code?: number;
  details?: { causes?: { reason?: string; message?: string; field?: string }[] };
}

/** What one HTTP exchange needs; the transport is injectable only through `KubeClient.connect`. */
interface Transport {
  server: URL;
  options: https.RequestOptions;
}

export interface KubeClientOptions {
  /** Who is calling: the requests allowed are `KUBE_CALLS[caller]`. */
  caller: Caller;
  /** Retries of a 429, 5xx or refused connection (default 5); backoff doubles from `backoffMs` (250) to 8 s. */
  retries?: number;
  /**
   * Reconnects of a watch in a row that fail or bring nothing (default 20: about 2.5 min at the 8 s
   * cap, long enough for an API server to restart); any event resets the count.
   */
  watchRetries?: number;
  backoffMs?: number;
  /** How long one request may take before it is an error (default 30 s; watches are not bounded). */
  timeoutMs?: number;
  log?: (line: string) => void;
  /** Told of every (kind, verb) before it is sent; the RBAC test collects them. */
  onCall?: (kind: Kind, verb: Verb) => void;
}

export interface Connection {
  /** kubeconfig file; `null`: `KUBECONFIG`, `~/.kube/config`, or in-cluster credentials. */
  kubeconfig: string | null;
  /** Context of the kubeconfig; `null`: its current context. */
  context: string | null;
}

/** Reads the kubeconfig and picks the context; a missing file or context is a ConfigError naming it. */
export function loadKubeConfig(c: Connection): KubeConfig {
  const kc = new KubeConfig();
  const where = c.kubeconfig ?? process.env.KUBECONFIG ?? '~/.kube/config (or in-cluster)';
  try {
    if (c.kubeconfig !== null) kc.loadFromFile(c.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    throw new ConfigError(where, '', `cannot read the kubeconfig: ${(err as Error).message}`);
  }
  if (c.context !== null) {
    if (!kc.getContextObject(c.context))
      throw new ConfigError(
        where,
        `context ${c.context}`,
        `no such context; the kubeconfig has: ${kc.contexts.map((x) => x.name).join(', ') || 'none'}`,
      );
    kc.setCurrentContext(c.context);
  }
  if (!kc.getCurrentCluster())
    throw new ConfigError(where, 'current-context', 'the kubeconfig names no current context with a cluster');
  return kc;
}

const APPLY_TYPE = 'application/apply-patch+yaml';

export class KubeClient {
  private readonly retries: number;
  private readonly watchRetries: number;
  private readonly backoffMs: number;
  private readonly timeoutMs: number;
  private readonly log: (line: string) => void;

  private constructor(
    private readonly transport: Transport,
    private readonly opts: KubeClientOptions,
  ) {
    this.retries = opts.retries ?? 5;
    this.watchRetries = opts.watchRetries ?? 20;
    this.backoffMs = opts.backoffMs ?? 250;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.log = opts.log ?? (() => {});
  }

  /** A client for the kubeconfig's cluster and user (certificates, token, exec plugins as kubectl). */
  static async connect(c: Connection, opts: KubeClientOptions): Promise<KubeClient> {
    const kc = loadKubeConfig(c);
    const cluster = kc.getCurrentCluster()!;
    const options: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(options);
    return new KubeClient({ server: new URL(cluster.server), options }, opts);
  }

  /** The server's base URL, for messages. */
  get server(): string {
    return this.transport.server.origin;
  }

  /** Server-side apply of `obj` as `sprincube-canary`, never forcing; returns what the server holds. */
  async apply<T extends KubeObject>(obj: T, opts: { dryRun?: boolean } = {}): Promise<T> {
    const kind = kindOf(obj);
    // The API server authorizes an apply that creates the object as `create`.
    this.allow('patch', kind);
    this.allow('create', kind);
    const query: Record<string, string> = { fieldManager: FIELD_MANAGER, force: 'false' };
    if (opts.dryRun) query.dryRun = 'All';
    try {
      return (await this.request('patch', kind, {
        namespace: obj.metadata.namespace,
        name: obj.metadata.name,
        query,
        body: JSON.stringify(obj),
        contentType: APPLY_TYPE,
      })) as T;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 409) throw conflictError(obj, err);
      throw err;
    }
  }

  /** The object, or null when the server has none of that name. */
  async get<T = KubeObject>(kind: Kind, namespace: string | undefined, name: string): Promise<T | null> {
    try {
      return (await this.request('get', kind, { namespace, name })) as T;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return null;
      throw err;
    }
  }

  async list<T = KubeObject>(kind: Kind, namespace: string, labelSelector?: string): Promise<KubeList<T>> {
    return (await this.request('list', kind, {
      namespace,
      query: labelSelector ? { labelSelector } : {},
    })) as KubeList<T>;
  }

  /**
   * Sets annotations on an object that exists, by a JSON merge patch (only `patch` is needed, and
   * a missing object is not created); false when it is gone.
   */
  async annotate(kind: Kind, namespace: string, name: string, annotations: Record<string, string>): Promise<boolean> {
    try {
      await this.request('patch', kind, {
        namespace,
        name,
        body: JSON.stringify({ metadata: { annotations } }),
        contentType: 'application/merge-patch+json',
      });
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return false;
      throw err;
    }
  }

  /** Deletes; true when it was there, false when it was already gone. */
  async delete(kind: Kind, namespace: string, name: string): Promise<boolean> {
    try {
      await this.request('delete', kind, {
        namespace,
        name,
        body: JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' }),
        contentType: 'application/json',
      });
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return false;
      throw err;
    }
  }

  /**
   * Follows the objects of `kind` matching `selector` until `decide` returns a result (or throws):
   * lists, then watches from the list's version; a closed stream reconnects from the last version
   * seen; 410 Gone lists again. `decide` sees every current object after each change. While
   * reconnecting (after a closed stream or a failed attempt), 401 and 403 are retried too: an API
   * server that has just restarted answers them until its authorizer's caches have synced.
   */
  async follow<T extends KubeObject, R>(
    kind: Kind,
    namespace: string,
    selector: { labelSelector?: string; fieldSelector?: string },
    decide: (objects: T[]) => R | undefined,
    signal: AbortSignal,
  ): Promise<R> {
    const current = new Map<string, T>();
    let version: string | null = null;
    let failures = 0;
    /** True from a closed stream or failed attempt until the server answers again. */
    let reconnecting = false;
    const again = (err: unknown) =>
      retryable(err) || (reconnecting && err instanceof KubeApiError && (err.status === 401 || err.status === 403));
    const query = { ...(selector.labelSelector ? { labelSelector: selector.labelSelector } : {}) };
    if (selector.fieldSelector) Object.assign(query, { fieldSelector: selector.fieldSelector });
    for (;;) {
      if (signal.aborted) throw signal.reason;
      if (version === null) {
        let list: KubeList<T>;
        try {
          list = (await this.request('list', kind, { namespace, query })) as KubeList<T>;
        } catch (err) {
          // The API server may be restarting: the list itself retried; the watch keeps trying too.
          if (!again(err) || ++failures > this.watchRetries) throw err;
          reconnecting = true;
          this.log(`list ${kind}: ${(err as Error).message}; trying again (${failures}/${this.watchRetries})`);
          await delay(backoff(this.backoffMs, failures, err), signal);
          continue;
        }
        reconnecting = false;
        current.clear();
        for (const o of list.items) current.set(o.metadata.name, o);
        version = list.metadata.resourceVersion ?? '';
        const decided = decide([...current.values()]);
        if (decided !== undefined) return decided;
      }
      let result: { decided: R } | undefined;
      let events = 0;
      if (signal.aborted) throw signal.reason;
      try {
        const outcome = await this.watchOnce<T>(
          kind,
          namespace,
          { ...query, watch: '1', resourceVersion: version, allowWatchBookmarks: 'true' },
          (ev) => {
            events++;
            reconnecting = false;
            if (ev.type === 'ERROR') {
              const status = ev.object as unknown as KubeStatus;
              if (status.code === 410) return 'relist';
              throw new KubeApiError(status.code ?? 500, status, `watch ${kind}: ${status.message ?? 'error'}`);
            }
            version = ev.object.metadata.resourceVersion ?? version;
            if (ev.type === 'BOOKMARK') return undefined;
            if (ev.type === 'DELETED') current.delete(ev.object.metadata.name);
            else current.set(ev.object.metadata.name, ev.object);
            const decided = decide([...current.values()]);
            if (decided !== undefined) {
              result = { decided };
              return 'stop';
            }
            return undefined;
          },
          signal,
        );
        if (result) return result.decided;
        if (outcome === 'relist') {
          this.log(`watch ${kind}: 410 Gone, listing again`);
          version = null;
          failures = 0;
          continue;
        }
        // Closed by the server: reconnect from the last version at once, unless streams keep
        // closing with nothing in them (then back off like any other failure).
        reconnecting = true;
        if (events > 0) failures = 0;
        else if (++failures > this.watchRetries)
          throw new InfraError(`watch ${kind}: the API server at ${this.server} keeps closing the stream`);
        else await delay(backoff(this.backoffMs, failures, null), signal);
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        if (err instanceof KubeApiError && err.status === 410) {
          version = null;
          continue;
        }
        if (!again(err) || ++failures > this.watchRetries) throw err;
        reconnecting = true;
        this.log(`watch ${kind}: ${(err as Error).message}; reconnecting (${failures}/${this.watchRetries})`);
        await delay(backoff(this.backoffMs, failures, err), signal);
      }
    }
  }

  private async request(
    verb: Verb,
    kind: Kind,
    r: { namespace?: string; name?: string; query?: Record<string, string>; body?: string; contentType?: string },
  ): Promise<unknown> {
    const path = this.pathFor(verb, kind, r.namespace, r.name, r.query);
    const method = METHOD[verb];
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await this.exchange(method, path, r.body, r.contentType);
        if (res.status >= 200 && res.status < 300) return res.body === '' ? null : JSON.parse(res.body);
        throw apiError(method, path, res.status, res.body, res.retryAfter);
      } catch (err) {
        if (!retryable(err) || attempt >= this.retries) throw err;
        this.log(`${method} ${path}: ${(err as Error).message}; retrying (${attempt + 1}/${this.retries})`);
        await delay(backoff(this.backoffMs, attempt + 1, err));
      }
    }
  }

  /** Checks this caller is allowed the (kind, verb) and tells `onCall`: a missing entry is a bug. */
  private allow(verb: Verb, kind: Kind): void {
    const allowed = (KUBE_CALLS[this.opts.caller] as Partial<Record<Kind, readonly Verb[]>>)[kind] ?? [];
    if (!allowed.includes(verb))
      throw new Error(`kube-client: ${this.opts.caller} may not ${verb} ${kind}; add it to KUBE_CALLS and the Role`);
    this.opts.onCall?.(kind, verb);
  }

  /** The request path, after checking this caller is allowed the (kind, verb): a missing entry is a bug. */
  private pathFor(verb: Verb, kind: Kind, namespace?: string, name?: string, query: Record<string, string> = {}) {
    this.allow(verb, kind);
    const t: ResourceType = RESOURCES[kind];
    const base = t.group === '' ? `/api/${t.version}` : `/apis/${t.group}/${t.version}`;
    const ns = t.namespaced ? `/namespaces/${encodeURIComponent(namespace ?? 'default')}` : '';
    const tail = name === undefined ? '' : `/${encodeURIComponent(name)}`;
    const qs = new URLSearchParams(query).toString();
    return `${base}${ns}/${t.plural}${tail}${qs ? `?${qs}` : ''}`;
  }

  private exchange(
    method: string,
    path: string,
    body: string | undefined,
    contentType: string | undefined,
  ): Promise<{ status: number; body: string; retryAfter: number | null }> {
    return new Promise((resolve, reject) => {
      const req = this.open(method, path, contentType, body, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            retryAfter: retryAfterMs(res.headers['retry-after']),
          }),
        );
        res.on('error', reject);
      });
      req.setTimeout(this.timeoutMs, () =>
        req.destroy(new InfraError(`${method} ${path}: no answer within ${this.timeoutMs} ms`)),
      );
      req.on('error', (err) => reject(err instanceof InfraError ? err : connectionError(this.server, err)));
      req.end(body);
    });
  }

  /** One watch stream: resolves 'closed' when the server ends it, 'relist' on 410, 'stop' when told. */
  private watchOnce<T extends KubeObject>(
    kind: Kind,
    namespace: string,
    query: Record<string, string>,
    onEvent: (ev: WatchEvent<T>) => 'stop' | 'relist' | undefined,
    signal: AbortSignal,
  ): Promise<'closed' | 'relist' | 'stop'> {
    const path = this.pathFor('watch', kind, namespace, undefined, query);
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        req.destroy();
        fn();
      };
      const onAbort = () => finish(() => reject(signal.reason));
      const req = this.open('GET', path, undefined, undefined, (res) => {
        if ((res.statusCode ?? 0) >= 300) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            finish(() =>
              reject(
                apiError(
                  'GET',
                  path,
                  res.statusCode ?? 0,
                  Buffer.concat(chunks).toString('utf8'),
                  retryAfterMs(res.headers['retry-after']),
                ),
              ),
            ),
          );
          return;
        }
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let nl = buffered.indexOf('\n');
          while (nl >= 0 && !settled) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            nl = buffered.indexOf('\n');
            if (line === '') continue;
            try {
              const outcome = onEvent(JSON.parse(line) as WatchEvent<T>);
              if (outcome) finish(() => resolve(outcome));
            } catch (err) {
              finish(() => reject(err));
            }
          }
        });
        res.on('end', () => finish(() => resolve('closed')));
        res.on('error', (err) => finish(() => reject(connectionError(this.server, err))));
      });
      req.on('error', (err) => finish(() => reject(connectionError(this.server, err))));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      req.end();
    });
  }

  private open(
    method: string,
    path: string,
    contentType: string | undefined,
    body: string | undefined,
    onResponse: (res: http.IncomingMessage) => void,
  ): http.ClientRequest {
    const { server, options } = this.transport;
    const headers: http.OutgoingHttpHeaders = {
      ...(options.headers as http.OutgoingHttpHeaders | undefined),
      accept: 'application/json',
    };
    if (contentType) headers['content-type'] = contentType;
    if (body !== undefined) headers['content-length'] = Buffer.byteLength(body);
    const base = {
      ...options,
      method,
      headers,
      hostname: server.hostname,
      port: server.port,
      path: `${server.pathname.replace(/\/$/, '')}${path}`,
    };
    return server.protocol === 'https:' ? https.request(base, onResponse) : http.request(base, onResponse);
  }
}

const METHOD: Record<Verb, string> = {
  get: 'GET',
  list: 'GET',
  watch: 'GET',
  create: 'POST',
  patch: 'PATCH',
  delete: 'DELETE',
};

export function kindOf(obj: KubeObject): Kind {
  if (!(obj.kind in RESOURCES))
    throw new ConfigError(obj.kind, obj.metadata?.name ?? '', `the Kubernetes engine does not handle kind ${obj.kind}`);
  const kind = obj.kind as Kind;
  const t: ResourceType = RESOURCES[kind];
  const expected = t.group === '' ? t.version : `${t.group}/${t.version}`;
  if (obj.apiVersion !== expected && !(t.group !== '' && obj.apiVersion.startsWith(`${t.group}/`)))
    throw new ConfigError(
      `${obj.kind}/${obj.metadata.name}`,
      'apiVersion',
      `expected ${expected}, got ${obj.apiVersion}`,
    );
  return kind;
}

function apiError(method: string, path: string, status: number, text: string, retryAfter: number | null): KubeApiError {
  let body: KubeStatus | null = null;
  try {
    body = JSON.parse(text) as KubeStatus;
  } catch {}
  const what = body?.message ?? (text.slice(0, 200) || `HTTP ${status}`);
  const err = new KubeApiError(
    status,
    body,
    `${method} ${path}: ${status} ${body?.reason ?? ''} ${what}`.replace(/ +/g, ' '),
  );
  (err as KubeApiError & { retryAfterMs?: number | null }).retryAfterMs = retryAfter;
  return err;
}

/**
 * A 409 of server-side apply: every cause names a field and the manager that owns it
 * (`conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas`).
 */
function conflictError(obj: KubeObject, err: KubeApiError): InfraError {
  const causes = err.body?.details?.causes ?? [];
  const fields = causes.length
    ? causes.map((c) => `${c.field ?? '?'} (${c.message ?? c.reason ?? 'conflict'})`).join('; ')
    : (err.body?.message ?? 'a conflict');
  return new InfraError(
    `${obj.kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}: server-side apply as ${FIELD_MANAGER} conflicts with another field manager: ${fields}. ` +
      'Nothing was changed; give the field up in the other manager (or remove it from its apply) and run again',
  );
}

function retryable(err: unknown): boolean {
  if (err instanceof KubeApiError) return err.status === 429 || err.status >= 500;
  return err instanceof ConnectionError;
}

class ConnectionError extends InfraError {}

function connectionError(server: string, err: Error): ConnectionError {
  return new ConnectionError(`the Kubernetes API at ${server} did not answer: ${err.message}`, { cause: err });
}

function retryAfterMs(h: string | string[] | undefined): number | null {
  const v = Array.isArray(h) ? h[0] : h;
  if (v === undefined) return null;
  const s = Number(v);
  return Number.isFinite(s) && s >= 0 ? Math.min(s * 1000, 30_000) : null;
}

function backoff(baseMs: number, attempt: number, err: unknown): number {
  const hinted = (err as { retryAfterMs?: number | null } | null)?.retryAfterMs;
  return hinted ?? Math.min(baseMs * 2 ** (attempt - 1), 8000);
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
