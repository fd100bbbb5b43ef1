/**
 * One workload as a plain HTTP server configured from the environment: how the services run in a
 * container on Kubernetes (the Deployments in manifests/app set these variables), where Istio's
 * sidecar, not the local data plane, sits in front.
 *
 * | variable       | meaning                                              | default               |
 * |----------------|------------------------------------------------------|-----------------------|
 * | `SERVICE`      | `bff`, `account` or `friend`                         | (required)            |
 * | `WORKLOAD`     | the name in `x-served-by`, e.g. `account-canary`     | `SERVICE`             |
 * | `PORT`, `HOST` | where to listen                                      | `8080`, `0.0.0.0`     |
 * | `ACCOUNT_URL`, `FRIEND_URL` | bff only: the upstreams' origins        | `http://account:8080`, `http://friend:8080` |
 * | `DATABASE_URL` | friend only (see friend-store.ts)                    | SQLite in memory      |
 * | knobs          | `LATENCY`, `ERROR_RATE`, … `VERSION` (see knobs.ts)  |                       |
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../core/errors.ts';
import { httpUpstream } from './http-upstream.ts';
import { knobsFromEnv } from './knobs.ts';
import { createService, SERVICE_NAMES, type ServiceName } from './service.ts';

export interface StandaloneServer {
  url: string;
  service: ServiceName;
  workload: string;
  close(): Promise<void>;
}

export async function serveStandalone(env: NodeJS.ProcessEnv): Promise<StandaloneServer> {
  const service = SERVICE_NAMES.find((name) => name === env.SERVICE);
  if (!service)
    throw new ConfigError(
      'environment',
      'SERVICE',
      `expected one of ${SERVICE_NAMES.join(', ')}, got '${env.SERVICE ?? ''}'`,
    );
  const workload = env.WORKLOAD || service;
  const port = env.PORT === undefined || env.PORT === '' ? 8080 : Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError('environment', 'PORT', `expected a port 0..65535, got '${env.PORT}'`);
  const host = env.HOST || '0.0.0.0';
  const knobs = knobsFromEnv(env);
  const upstream =
    service === 'bff'
      ? httpUpstream({
          account: env.ACCOUNT_URL || 'http://account:8080',
          friend: env.FRIEND_URL || 'http://friend:8080',
        })
      : undefined;
  const running = await createService({
    service,
    workload,
    version: knobs.version,
    knobs,
    upstream,
    databaseUrl: env.DATABASE_URL || undefined,
    env,
  });
  const server = createServer(running.handler);
  server.keepAliveTimeout = 60_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
  } catch (err) {
    await running.close();
    await upstream?.close();
    throw err;
  }
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    service,
    workload,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await running.close();
      await upstream?.close();
    },
  };
}
