/**
 * A small HTTPS client for a test cluster's API server (and its components' health endpoints),
 * authenticated with a client certificate or a bearer token. Enough for what the cluster harness
 * itself needs (readiness, server-side apply, discovery, TokenRequest); suites that test the
 * project's code use @kubernetes/client-node with the written kubeconfig.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';

export interface ApiResponse {
  status: number;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
  warnings: string[];
}

export interface ApiAuth {
  ca: string;
  cert?: string;
  key?: string;
  token?: string;
}

export class ClusterApi {
  private readonly agent: Agent;

  constructor(
    readonly server: string,
    private readonly auth: ApiAuth,
  ) {
    this.agent = new Agent({
      ca: readFileSync(auth.ca),
      cert: auth.cert ? readFileSync(auth.cert) : undefined,
      key: auth.key ? readFileSync(auth.key) : undefined,
      keepAlive: false,
    });
  }

  /** One request; never throws for an HTTP status, only for a connection that fails. */
  request(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
    timeoutMs = 15_000,
  ): Promise<ApiResponse> {
    const url = new URL(path, this.server);
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (payload !== undefined) headers['Content-Type'] = contentType;
    if (this.auth.token) headers.Authorization = `Bearer ${this.auth.token}`;
    return new Promise((resolve, reject) => {
      const req = request(url, { method, agent: this.agent, headers, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          const warning = res.headers.warning;
          const warnings = warning === undefined ? [] : Array.isArray(warning) ? warning : [warning];
          resolve({ status: res.statusCode ?? 0, text, json, warnings });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${url.href}: no answer in ${timeoutMs} ms`)));
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  /** The request, which must answer 2xx: else an error with the method, path, status and server message. */
  async expectOk(method: string, path: string, body?: unknown, contentType?: string): Promise<ApiResponse> {
    const res = await this.request(method, path, body, contentType);
    if (res.status < 200 || res.status >= 300) {
      throw new Error(`${method} ${path}: HTTP ${res.status}: ${statusMessage(res)}`);
    }
    return res;
  }

  /** Server-side apply of one object (JSON is YAML) with the given field manager. */
  apply(path: string, object: unknown, fieldManager: string, extraQuery = ''): Promise<ApiResponse> {
    const query = `fieldManager=${encodeURIComponent(fieldManager)}&fieldValidation=Strict${extraQuery}`;
    return this.request('PATCH', `${path}?${query}`, object, 'application/apply-patch+yaml');
  }

  close(): void {
    this.agent.destroy();
  }
}

/** A Kubernetes Status' message, or the raw text. */
export function statusMessage(res: ApiResponse): string {
  const json = res.json as { message?: string } | undefined;
  return json?.message ?? res.text.slice(0, 500);
}
