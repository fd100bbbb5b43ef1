/**
 * The proxies in process, over real loopback HTTP: ingress gateway → inbound sidecar → app handler,
 * and the bff's outbound sidecar. No child processes here; mesh.e2e.test.ts covers those.
 */
import type { RequestListener } from 'node:http';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { IAuthorizationPolicy, IDestinationRule, IVirtualService } from '../../manifests/types.ts';
import { compileAuthorizer, type Authorizer } from '../authz/authorization.ts';
import { type MtlsMode, peerAuthenticationMode } from '../authz/peer-authentication.ts';
import { GATEWAY_IDENTITY, type MeshEndpoint, type ProxyConfig, type WorkloadIdentity } from '../config.ts';
import { echoHandler } from '../echo-app.ts';
import { compileRouteTable, type RouteTable } from '../routing/route-table.ts';
import { IstioTelemetry } from '../telemetry/istio-metrics.ts';
import { call, serveOnLoopback } from '../../../test/support/http.ts';
import { sampleSum } from '../testing.ts';
import { UpstreamPools } from './forward.ts';
import { ingressGateway } from './gateway.ts';
import { inboundSidecar } from './inbound-sidecar.ts';
import { OutboundSidecar } from './outbound-sidecar.ts';
import { newPeerKey, PEER_HEADER, PeerSigner, PeerVerifier } from './peer-identity.ts';

const NS = 'sprincube';
const BFF: WorkloadIdentity = {
  workload: 'bff',
  namespace: NS,
  serviceAccount: 'bff',
  labels: { app: 'bff', version: 'v1' },
};

const accountFromBff = {
  apiVersion: 'security.istio.io/v1beta1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'account-from-bff', namespace: NS },
  spec: {
    selector: { matchLabels: { app: 'account' } },
    action: 'ALLOW',
    rules: [
      {
        from: [{ source: { principals: [`cluster.local/ns/${NS}/sa/bff`] } }],
        to: [{ operation: { methods: ['GET'], paths: ['/api/*'] } }],
      },
    ],
  },
} as IAuthorizationPolicy;

const accountRule = {
  apiVersion: 'networking.istio.io/v1beta1',
  kind: 'DestinationRule',
  metadata: { name: 'account', namespace: NS },
  spec: {
    host: 'account',
    subsets: [
      { name: 'primary', labels: { track: 'primary' } },
      { name: 'flaky', labels: { track: 'flaky' } },
      { name: 'gone', labels: { track: 'gone' } },
      { name: 'broken', labels: { track: 'broken' } },
    ],
  },
} as IDestinationRule;

function vs(name: string, spec: Record<string, unknown>): IVirtualService {
  return {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'VirtualService',
    metadata: { name, namespace: NS },
    spec,
  } as IVirtualService;
}

/** Gateway routes: straight to account (what the policy must refuse), plus faults, a slow path and retries. */
const gatewayRoutes = vs('edge', {
  hosts: ['*'],
  gateways: ['edge-gateway'],
  http: [
    {
      match: [{ headers: { 'end-user': { exact: 'abort-me' } } }],
      fault: { abort: { httpStatus: 503, percentage: { value: 100 } } },
      route: [{ destination: { host: 'account', subset: 'primary' } }],
    },
    {
      match: [{ headers: { 'end-user': { exact: 'delay-me' } } }],
      fault: { delay: { fixedDelay: '150ms', percentage: { value: 100 } } },
      route: [{ destination: { host: 'bff' } }],
    },
    {
      match: [{ uri: { prefix: '/slow-retry' } }],
      timeout: '1s',
      retries: { attempts: 1, perTryTimeout: '100ms', retryOn: 'gateway-error' },
      route: [{ destination: { host: 'bff' } }],
    },
    { match: [{ uri: { prefix: '/slow-unbounded' } }], route: [{ destination: { host: 'bff' } }] },
    { match: [{ uri: { prefix: '/slow' } }], timeout: '100ms', route: [{ destination: { host: 'bff' } }] },
    {
      match: [{ uri: { prefix: '/broken' } }],
      retries: { attempts: 2, retryOn: '5xx' },
      route: [{ destination: { host: 'account', subset: 'broken' } }],
    },
    { match: [{ uri: { prefix: '/big' } }], route: [{ destination: { host: 'bff' } }] },
    {
      match: [{ uri: { prefix: '/flaky' } }],
      retries: { attempts: 2, retryOn: '5xx' },
      route: [{ destination: { host: 'account', subset: 'flaky' } }],
    },
    { match: [{ uri: { prefix: '/gone' } }], route: [{ destination: { host: 'account', subset: 'gone' } }] },
    {
      match: [{ uri: { prefix: '/direct/account' } }],
      route: [{ destination: { host: 'account', subset: 'primary' } }],
    },
    { match: [{ uri: { prefix: '/api' } }], route: [{ destination: { host: 'bff' } }] },
  ],
});

interface Replica {
  endpoint: MeshEndpoint;
  telemetry: IstioTelemetry;
  close(): Promise<void>;
}

const closers: (() => Promise<void>)[] = [];
const pools = new UpstreamPools(16);
let routes: RouteTable;
const authorizers = new Map<string, Authorizer>();
let gatewayUrl = '';
const gatewayTelemetry = new IstioTelemetry();
const bffTelemetry = new IstioTelemetry();
const replicas: Record<string, Replica> = {};

const peerKey = newPeerKey();
/** PeerAuthentication mode per workload (PERMISSIVE unless a test says otherwise). */
const mtlsModes = new Map<string, MtlsMode>();

async function replica(identity: MeshEndpoint, handler: RequestListener): Promise<Replica> {
  const telemetry = new IstioTelemetry();
  const server = await serveOnLoopback(
    inboundSidecar({
      self: identity,
      telemetry,
      verifier: new PeerVerifier(peerKey),
      authorizer: () => authorizers.get(identity.workload)!,
      mtls: () => mtlsModes.get(identity.workload) ?? 'PERMISSIVE',
      handler,
    }),
  );
  closers.push(server.close);
  return { endpoint: { ...identity, url: server.url }, telemetry, close: server.close };
}

function account(track: string): MeshEndpoint {
  return {
    workload: `account-${track}`,
    service: 'account',
    version: 'v1',
    track,
    namespace: NS,
    serviceAccount: 'account',
    labels: { app: 'account', track },
    url: '',
  };
}

/** How many tries of each /slow… path reached the bff. */
const slowTries = new Map<string, number>();
/** How many of them the bff answered (late, to a proxy that may have gone). */
const slowAnswered = new Map<string, number>();

beforeAll(async () => {
  const outbound = new OutboundSidecar(BFF, () => routes, pools, bffTelemetry, new PeerSigner(peerKey, BFF));
  let flakyCalls = 0;
  replicas.primary = await replica(account('primary'), echoHandler('account-primary'));
  // Not labelled app=account, so the bff-only policy does not apply to it.
  replicas.flaky = await replica({ ...account('flaky'), labels: { app: 'flaky', track: 'flaky' } }, (req, res) => {
    req.resume();
    flakyCalls += 1;
    res.writeHead(flakyCalls % 2 === 1 ? 503 : 200, { 'x-served-by': 'account-flaky' });
    res.end(`call ${flakyCalls}`);
  });
  replicas.broken = await replica({ ...account('broken'), labels: { app: 'broken', track: 'broken' } }, (req, res) => {
    req.resume();
    res.writeHead(503);
    res.end('down');
  });
  replicas.bff = await replica({ ...BFF, service: 'bff', version: 'v1', url: '' }, (req, res) => {
    if (req.url?.startsWith('/big')) {
      // A streamed (chunked) answer of 200 KiB: the gateway must pipe it, not buffer it.
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      for (let i = 0; i < 100; i++) res.write(Buffer.alloc(2048, i));
      res.end();
      return;
    }
    if (req.url?.startsWith('/slow')) {
      slowTries.set(req.url, (slowTries.get(req.url) ?? 0) + 1);
      setTimeout(() => {
        res.writeHead(200);
        res.end('late');
        slowAnswered.set(req.url!, (slowAnswered.get(req.url!) ?? 0) + 1);
      }, 400);
      return;
    }
    void outbound
      .request('account', '/api/account?id=1', { headers: { 'end-user': String(req.headers['end-user'] ?? '') } })
      .then((up) => {
        res.writeHead(up.status, { 'x-served-by': `bff, ${up.headers['x-served-by'] ?? ''}` });
        res.end(up.body);
      });
  });
  const gone: MeshEndpoint = { ...account('gone'), url: 'http://127.0.0.1:1' };
  const config: ProxyConfig = {
    virtualServices: [
      gatewayRoutes,
      vs('account', {
        hosts: ['account'],
        http: [{ route: [{ destination: { host: 'account', subset: 'primary' } }] }],
      }),
    ],
    destinationRules: [accountRule],
    authorizationPolicies: [accountFromBff],
    gatewayNames: ['edge-gateway'],
    services: ['account', 'bff'],
    endpoints: [...Object.values(replicas).map((r) => r.endpoint), gone],
  };
  routes = compileRouteTable(config);
  for (const r of Object.values(replicas))
    authorizers.set(r.endpoint.workload, compileAuthorizer(config.authorizationPolicies, r.endpoint));
  const gateway = await serveOnLoopback(
    ingressGateway({
      self: GATEWAY_IDENTITY,
      routes: () => routes,
      pools,
      telemetry: gatewayTelemetry,
      signer: new PeerSigner(peerKey, GATEWAY_IDENTITY),
    }),
  );
  closers.push(gateway.close);
  gatewayUrl = gateway.url;
});

afterAll(async () => {
  await pools.close();
  await Promise.all(closers.map((c) => c()));
});

const text = async (t: IstioTelemetry) => (await t.exposition()).body;

describe('gateway → bff → account through the sidecars', () => {
  it('serves a request and reports it on the source and destination sides', async () => {
    const res = await call(`${gatewayUrl}/api/profile/1`, { headers: { 'end-user': 'user-7' } });
    expect(res.status).toBe(200);
    expect(res.headers['x-served-by']).toBe('bff, account-primary');
    expect(JSON.parse(res.body)).toMatchObject({
      workload: 'account-primary',
      path: '/api/account?id=1',
      endUser: 'user-7',
    });
    const gw = await text(gatewayTelemetry);
    expect(
      sampleSum(gw, 'istio_requests_total', {
        reporter: 'source',
        source_workload: 'istio-ingressgateway',
        destination_workload: 'bff',
        destination_service_name: 'bff',
        response_code: '200',
        response_flags: '-',
      }),
    ).toBe(1);
    expect(
      sampleSum(await text(bffTelemetry), 'istio_requests_total', {
        reporter: 'source',
        source_workload: 'bff',
        destination_workload: 'account-primary',
        destination_version: 'v1',
      }),
    ).toBe(1);
    const acct = await text(replicas.primary.telemetry);
    expect(
      sampleSum(acct, 'istio_requests_total', {
        reporter: 'destination',
        source_workload: 'bff',
        destination_workload: 'account-primary',
        response_code: '200',
      }),
    ).toBe(1);
    expect(
      sampleSum(acct, 'istio_request_duration_milliseconds_count', {
        reporter: 'destination',
        destination_workload: 'account-primary',
      }),
    ).toBe(1);
    expect(acct).toContain('le="0.5"');
  });

  it('denies a call to account that does not come from the bff with 403, and counts it', async () => {
    const res = await call(`${gatewayUrl}/direct/account`);
    expect(res.status).toBe(403);
    expect(res.body).toBe('RBAC: access denied');
    const acct = await text(replicas.primary.telemetry);
    expect(
      sampleSum(acct, 'istio_requests_total', {
        reporter: 'destination',
        source_workload: 'istio-ingressgateway',
        destination_workload: 'account-primary',
        response_code: '403',
        response_flags: '-',
      }),
    ).toBe(1);
    expect(
      sampleSum(await text(gatewayTelemetry), 'istio_requests_total', {
        reporter: 'source',
        destination_workload: 'account-primary',
        response_code: '403',
      }),
    ).toBe(1);
  });

  it('ignores a peer identity a client claims: the gateway replaces it with its own', async () => {
    const res = await call(`${gatewayUrl}/direct/account`, { headers: { [PEER_HEADER]: 'bff;sprincube;bff' } });
    expect(res.status).toBe(403);
  });

  it('believes only an identity the data plane signed: STRICT refuses a raw client claiming to be the bff', async () => {
    const strict = {
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name: 'default', namespace: NS },
      spec: { mtls: { mode: 'STRICT' } },
    };
    const primary = replicas.primary.endpoint;
    mtlsModes.set(primary.workload, peerAuthenticationMode([strict], primary));
    expect(mtlsModes.get(primary.workload)).toBe('STRICT');
    try {
      const claims = {
        'a bare header': 'bff;sprincube;bff',
        'a header signed with another key': new PeerSigner(newPeerKey(), BFF).header(),
        'a stale signature': new PeerSigner(peerKey, BFF).header(Date.now() - 120_000),
        'no header': undefined,
      };
      for (const [what, claim] of Object.entries(claims)) {
        const headers = claim === undefined ? {} : { [PEER_HEADER]: claim };
        const refused = await request(`${primary.url}/api/account?id=1`, { headers }).then(
          (r) => `answered ${r.statusCode}`,
          (e: unknown) => e,
        );
        expect(refused, what).toBeInstanceOf(Error);
      }
      // The bff's own calls carry a signed identity and still get through.
      const res = await call(`${gatewayUrl}/api/profile/1`, { headers: { 'end-user': 'user-8' } });
      expect(res.status).toBe(200);
      // PERMISSIVE lets the raw client in, but without an identity: the bff-only policy denies it.
      mtlsModes.set(primary.workload, 'PERMISSIVE');
      const forged = await call(`${primary.url}/api/account?id=1`, { headers: { [PEER_HEADER]: 'bff;sprincube;bff' } });
      expect(forged.status).toBe(403);
      expect(
        sampleSum(await text(replicas.primary.telemetry), 'istio_requests_total', {
          reporter: 'destination',
          source_workload: 'unknown',
          response_code: '403',
          connection_security_policy: 'none',
        }),
      ).toBe(1);
      expect(
        sampleSum(await text(replicas.primary.telemetry), 'istio_requests_total', {
          reporter: 'destination',
          source_workload: 'bff',
          source_principal: `spiffe://cluster.local/ns/${NS}/sa/bff`,
          connection_security_policy: 'mutual_tls',
        }),
      ).toBeGreaterThanOrEqual(1);
    } finally {
      mtlsModes.delete(primary.workload);
    }
  });

  it('answers a fault abort itself with flag FI, and delays with flag DI', async () => {
    const aborted = await call(`${gatewayUrl}/api/x`, { headers: { 'end-user': 'abort-me' } });
    expect(aborted).toMatchObject({ status: 503, body: 'fault filter abort' });
    const delayed = await call(`${gatewayUrl}/api/x`, { headers: { 'end-user': 'delay-me' } });
    expect(delayed.status).toBe(200);
    const gw = await text(gatewayTelemetry);
    expect(
      sampleSum(gw, 'istio_requests_total', {
        response_code: '503',
        response_flags: 'FI',
        destination_service_name: 'account',
        destination_workload: 'unknown',
      }),
    ).toBe(1);
    expect(sampleSum(gw, 'istio_requests_total', { response_code: '200', response_flags: 'DI' })).toBe(1);
  });

  it('times a slow upstream out with 504 and flag UT', async () => {
    // The upstream answers 'late' after 400 ms; a 504 from the proxy shows it gave up first.
    const res = await call(`${gatewayUrl}/slow`);
    expect(res).toMatchObject({ status: 504, body: 'upstream request timeout' });
    expect(slowTries.get('/slow')).toBe(1);
    expect(
      sampleSum(await text(gatewayTelemetry), 'istio_requests_total', { response_code: '504', response_flags: 'UT' }),
    ).toBe(1);
  });

  it('cancels the try when the route timeout fires: the destination records 0 with flag DC, never a late 200', async () => {
    const destination200 = async () =>
      sampleSum(await text(replicas.bff.telemetry), 'istio_requests_total', {
        reporter: 'destination',
        destination_workload: 'bff',
        response_code: '200',
      });
    const answeredBefore = await destination200();
    const res = await call(`${gatewayUrl}/slow?case=timeout`);
    expect(res.status).toBe(504);
    const destination = {
      reporter: 'destination',
      destination_workload: 'bff',
      source_workload: 'istio-ingressgateway',
    };
    await vi.waitFor(async () =>
      expect(
        sampleSum(await text(replicas.bff.telemetry), 'istio_requests_total', {
          ...destination,
          response_code: '0',
          response_flags: 'DC',
        }),
      ).toBeGreaterThanOrEqual(1),
    );
    // The handler answers 400 ms later, to a connection that is gone: nothing more is recorded.
    await vi.waitFor(() => expect(slowAnswered.get('/slow?case=timeout')).toBe(1));
    expect(await destination200()).toBe(answeredBefore);
  });

  it('records a client that disconnects as 0 / DC at the gateway and at the destination', async () => {
    const client = new AbortController();
    const pending = request(`${gatewayUrl}/slow-unbounded`, { signal: client.signal }).catch((e: unknown) => e);
    await vi.waitFor(() => expect(slowTries.get('/slow-unbounded')).toBe(1));
    client.abort();
    expect(await pending).toBeInstanceOf(Error);
    await vi.waitFor(async () => {
      expect(
        sampleSum(await text(gatewayTelemetry), 'istio_requests_total', {
          reporter: 'source',
          destination_workload: 'unknown',
          destination_service_name: 'bff',
          response_code: '0',
          response_flags: 'DC',
        }),
      ).toBe(1);
      expect(
        sampleSum(await text(replicas.bff.telemetry), 'istio_requests_total', {
          reporter: 'destination',
          destination_workload: 'bff',
          response_code: '0',
          response_flags: 'DC',
        }),
      ).toBeGreaterThanOrEqual(1);
    });
  });

  it('passes on the last 5xx when the retries are exhausted, with flag URX', async () => {
    const res = await call(`${gatewayUrl}/broken`);
    expect(res).toMatchObject({ status: 503, body: 'down' });
    expect(
      sampleSum(await text(replicas.broken.telemetry), 'istio_requests_total', {
        reporter: 'destination',
        response_code: '503',
      }),
    ).toBe(3);
    expect(
      sampleSum(await text(gatewayTelemetry), 'istio_requests_total', {
        reporter: 'source',
        destination_workload: 'account-broken',
        response_code: '503',
        response_flags: 'URX',
      }),
    ).toBe(1);
  });

  it('retries a try that exceeds its perTryTimeout, then answers 504 with UT,URX before the route timeout', async () => {
    // Each try outlives its perTryTimeout (the upstream answers after 400 ms); had the proxy waited
    // for the route timeout instead, a single try would have reached the bff.
    const res = await call(`${gatewayUrl}/slow-retry`);
    expect(res.status).toBe(504);
    expect(slowTries.get('/slow-retry')).toBe(2);
    expect(
      sampleSum(await text(gatewayTelemetry), 'istio_requests_total', {
        response_code: '504',
        response_flags: 'UT,URX',
      }),
    ).toBe(1);
  });

  it('retries a 5xx when the route says so; the destination sees every try', async () => {
    const res = await call(`${gatewayUrl}/flaky`);
    expect(res).toMatchObject({ status: 200, body: 'call 2' });
    const flaky = await text(replicas.flaky.telemetry);
    expect(sampleSum(flaky, 'istio_requests_total', { reporter: 'destination', response_code: '503' })).toBe(1);
    expect(sampleSum(flaky, 'istio_requests_total', { reporter: 'destination', response_code: '200' })).toBe(1);
  });

  it('streams a large answer through the gateway intact', async () => {
    const res = await request(`${gatewayUrl}/big`);
    const body = Buffer.from(await res.body.arrayBuffer());
    expect(res.statusCode).toBe(200);
    expect(body.length).toBe(100 * 2048);
    expect(body[0]).toBe(0);
    expect(body[body.length - 1]).toBe(99);
  });

  it('answers 503 UF when the replica refuses connections, and 404 NR without a route', async () => {
    const gone = await call(`${gatewayUrl}/gone`);
    expect(gone.status).toBe(503);
    const noRoute = await call(`${gatewayUrl}/nowhere`);
    expect(noRoute.status).toBe(404);
    const gw = await text(gatewayTelemetry);
    expect(sampleSum(gw, 'istio_requests_total', { response_code: '503', response_flags: 'UF,URX' })).toBe(1);
    expect(sampleSum(gw, 'istio_requests_total', { response_code: '404', response_flags: 'NR' })).toBe(1);
  });
});
