/**
 * An `Upstream` over plain HTTP (undici), for the bff outside the local mesh: on Kubernetes the
 * Istio sidecar intercepts these calls, so the app only needs the services' cluster addresses.
 */
import { Agent, request } from 'undici';
import { ConfigError } from '../core/errors.ts';
import type { Upstream, UpstreamResponse } from './upstream.ts';

export interface HttpUpstream extends Upstream {
  close(): Promise<void>;
}

/** `baseUrls` are origins such as `http://account:8080` (no trailing path). */
export function httpUpstream(
  baseUrls: Record<'account' | 'friend', string>,
  opts: { connections?: number } = {},
): HttpUpstream {
  const origins = {} as Record<'account' | 'friend', string>;
  for (const service of ['account', 'friend'] as const) {
    let url: URL;
    try {
      url = new URL(baseUrls[service]);
    } catch {
      url = new URL('invalid:');
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || (url.pathname !== '/' && url.pathname !== '')) {
      throw new ConfigError(
        'environment',
        `${service.toUpperCase()}_URL`,
        `expected an origin like http://${service}:8080, got '${baseUrls[service]}'`,
      );
    }
    origins[service] = url.origin;
  }
  const dispatcher = new Agent({ connections: opts.connections ?? 64, keepAliveTimeout: 30_000 });
  return {
    async request(service, path, init): Promise<UpstreamResponse> {
      const res = await request(`${origins[service]}${path}`, {
        method: (init.method ?? 'GET') as 'GET',
        headers: init.headers,
        dispatcher,
      });
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(res.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      return { status: res.statusCode, headers, body: await res.body.text() };
    },
    close: () => dispatcher.close(),
  };
}
