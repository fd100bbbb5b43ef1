/**
 * Entry point of one child process of the local mesh: the ingress gateway, or one replica of a
 * workload (the app's handler behind its inbound sidecar, plus the outbound sidecar for the bff).
 * Started only by the supervisor (mesh.ts) through `fork()`: it receives its spec and every
 * configuration over IPC, and exits as soon as the IPC channel closes, so it never outlives the
 * supervisor.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../core/errors.ts';
import { adminServer } from './admin-server.ts';
import { compileAuthorizer, type Authorizer } from './authz/authorization.ts';
import { type MtlsMode, peerAuthenticationMode } from './authz/peer-authentication.ts';
import type { ProxyConfig } from './config.ts';
import { echoHandler } from './echo-app.ts';
import type { ChildMessage, ChildSpec, SupervisorMessage } from './ipc.ts';
import { UpstreamPools } from './proxy/forward.ts';
import { ingressGateway } from './proxy/gateway.ts';
import { inboundSidecar } from './proxy/inbound-sidecar.ts';
import { OutboundSidecar } from './proxy/outbound-sidecar.ts';
import { PeerSigner, PeerVerifier } from './proxy/peer-identity.ts';
import { compileRouteTable, type RouteTable } from './routing/route-table.ts';
import { IstioTelemetry } from './telemetry/istio-metrics.ts';

if (!process.send) {
  process.stderr.write(
    "workload-main: start the mesh with `canary mesh up`; this process needs the supervisor's IPC channel\n",
  );
  process.exit(3);
}

const send = (m: ChildMessage): void => {
  if (process.connected) process.send!(m);
};

const EMPTY: ProxyConfig = {
  virtualServices: [],
  destinationRules: [],
  authorizationPolicies: [],
  gatewayNames: [],
  services: [],
  endpoints: [],
};
let spec: ChildSpec | undefined;
let routes: RouteTable = compileRouteTable(EMPTY);
let authorizer: Authorizer = compileAuthorizer([], { namespace: 'default', labels: {} });
let mtls: MtlsMode = 'PERMISSIVE';
const telemetry = new IstioTelemetry();
const pools = new UpstreamPools();
const servers: Server[] = [];
let closeApp: () => Promise<void> = async () => {};
let stopping = false;

// The supervisor is gone (exit, crash, kill -9): leave with it.
process.on('disconnect', () => void stop(0));
// Each child runs in a process group of its own (proxy-child.ts), so a terminal's Ctrl-C reaches only
// the supervisor; a SIGINT sent here anyway is left to the supervisor too, which stops every child in
// order, so a child does not die on its own and look like a crash.
process.on('SIGINT', () => {});

process.on('message', (raw: unknown) => {
  const m = raw as SupervisorMessage;
  switch (m.type) {
    case 'start':
      spec = m.spec;
      start(m.spec).catch((err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        const portInUse = (err as { code?: string }).code === 'EADDRINUSE';
        send({
          type: 'failed',
          reason: portInUse ? 'port-in-use' : err instanceof ConfigError ? 'config' : 'error',
          message,
        });
        void stop(1);
      });
      break;
    case 'config':
      try {
        applyConfig(m.config);
        send({ type: 'ack', id: m.id });
      } catch (err) {
        send({ type: 'nack', id: m.id, message: err instanceof Error ? err.message : String(err) });
      }
      break;
    case 'stop':
      void stop(0);
      break;
  }
});

function applyConfig(config: ProxyConfig): void {
  const nextRoutes = compileRouteTable(config);
  const nextAuthorizer =
    spec?.role === 'workload'
      ? compileAuthorizer(config.authorizationPolicies, {
          namespace: spec.identity.namespace,
          labels: spec.identity.labels,
        })
      : authorizer;
  const nextMtls =
    spec?.role === 'workload'
      ? peerAuthenticationMode(config.peerAuthentications ?? [], {
          namespace: spec.identity.namespace,
          labels: spec.identity.labels,
        })
      : mtls;
  routes = nextRoutes;
  authorizer = nextAuthorizer;
  mtls = nextMtls;
}

async function start(s: ChildSpec): Promise<void> {
  let listener: RequestListener;
  const signer = new PeerSigner(s.peerKey, s.identity);
  if (s.role === 'gateway') {
    listener = ingressGateway({ self: s.identity, routes: () => routes, pools, telemetry, signer });
  } else {
    let handler: RequestListener;
    if (s.app === 'echo') {
      handler = echoHandler(s.identity.workload);
    } else {
      const { createService, SERVICE_NAMES } = await import('../app/service.ts');
      const { knobsFromEnv } = await import('../app/knobs.ts');
      const service = SERVICE_NAMES.find((n) => n === s.identity.service);
      if (!service) {
        throw new ConfigError(
          'manifests',
          `Deployment ${s.identity.workload}`,
          `service ${JSON.stringify(s.identity.service)} is not one of the reference app's services (${SERVICE_NAMES.join(', ')})`,
        );
      }
      const running = await createService({
        service,
        workload: s.identity.workload,
        version: s.identity.version,
        knobs: knobsFromEnv(process.env),
        upstream:
          service === 'bff' ? new OutboundSidecar(s.identity, () => routes, pools, telemetry, signer) : undefined,
        databaseUrl: process.env.DATABASE_URL || undefined,
      });
      handler = running.handler;
      closeApp = () => running.close();
    }
    listener = inboundSidecar({
      self: s.identity,
      telemetry,
      verifier: new PeerVerifier(s.peerKey),
      authorizer: () => authorizer,
      mtls: () => mtls,
      handler,
    });
  }
  const traffic = createServer(listener);
  traffic.keepAliveTimeout = 60_000;
  const admin = adminServer(telemetry);
  servers.push(traffic, admin);
  const port = await listen(traffic, s.port);
  const adminPort = await listen(admin, 0);
  send({ type: 'ready', url: `http://127.0.0.1:${port}`, metricsUrl: `http://127.0.0.1:${adminPort}/metrics` });
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Whatever happens below, the process is gone within two seconds.
  setTimeout(() => process.exit(code), 2000).unref();
  for (const s of servers) {
    s.close();
    s.closeAllConnections();
  }
  await Promise.allSettled([pools.close(), closeApp()]);
  process.exit(code);
}
