/**
 * The outbound half of the bff's sidecar, in process: implements the app's `Upstream` so the bff's
 * calls to `account` and `friend` are routed by the mesh's VirtualServices (context `mesh`, the bff as
 * source), sent with its peer identity, and reported with `reporter="source"`.
 */
import type { MeshEndpoint, WorkloadIdentity } from '../config.ts';
import type { RouteDecision, RouteTable } from '../routing/route-table.ts';
import {
  type IstioTelemetry,
  type ServiceLabels,
  serviceLabels,
  UNKNOWN_WORKLOAD,
  type WorkloadLabels,
  workloadLabels,
} from '../telemetry/istio-metrics.ts';
import { forward, upstreamRequestHeaders, type UpstreamPools } from './forward.ts';
import { PEER_HEADER, type PeerSigner } from './peer-identity.ts';

/** Mirrors `UpstreamResponse` of the app contract (src/app/service.ts). */
export interface MeshUpstreamResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export class OutboundSidecar {
  private readonly source: WorkloadLabels;

  constructor(
    private readonly self: WorkloadIdentity,
    private readonly routes: () => RouteTable,
    private readonly pools: UpstreamPools,
    private readonly telemetry: IstioTelemetry,
    private readonly signer: PeerSigner,
  ) {
    this.source = workloadLabels(self);
  }

  async request(
    service: string,
    path: string,
    init: { method?: string; headers: Record<string, string> },
  ): Promise<MeshUpstreamResponse> {
    const start = performance.now();
    const method = (init.method ?? 'GET').toUpperCase();
    const lower: Record<string, string> = {};
    for (const k in init.headers) lower[k.toLowerCase()] = init.headers[k];
    const decision = this.routes().resolve({
      context: 'mesh',
      host: service,
      method,
      uri: path,
      headers: lower,
      sourceLabels: this.self.labels,
      sourceNamespace: this.self.namespace,
    });
    if (!decision) {
      this.record(serviceLabels('unknown', undefined), UNKNOWN_WORKLOAD, 404, 'NR', start);
      return { status: 404, headers: {}, body: '' };
    }
    const headers = upstreamRequestHeaders(lower);
    headers[PEER_HEADER] = this.signer.header();
    const out = await forward(decision, { method, path, headers, body: null }, this.pools);
    let body = out.localBody ?? '';
    const flat: Record<string, string> = {};
    if (out.body) {
      try {
        body = await out.body.text();
      } finally {
        out.release();
      }
      for (const k in out.headers) {
        const v = out.headers[k];
        if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
      }
    }
    this.record(destinationService(decision), endpointLabels(out.endpoint), out.status, out.flags, start);
    return { status: out.status, headers: flat, body };
  }

  private record(
    service: ServiceLabels,
    destination: WorkloadLabels,
    code: number,
    flags: string,
    start: number,
  ): void {
    this.telemetry.record(
      { reporter: 'source', source: this.source, destination, service, code, flags },
      performance.now() - start,
    );
  }
}

const endpointCache = new WeakMap<MeshEndpoint, WorkloadLabels>();
const serviceCache = new WeakMap<RouteDecision['cluster'], ServiceLabels>();

/** Telemetry labels of the replica that answered (computed once per endpoint), or `unknown`. */
export function endpointLabels(endpoint: MeshEndpoint | undefined): WorkloadLabels {
  if (!endpoint) return UNKNOWN_WORKLOAD;
  let l = endpointCache.get(endpoint);
  if (!l) {
    l = workloadLabels(endpoint);
    endpointCache.set(endpoint, l);
  }
  return l;
}

/** The destination service of a routing decision, with the namespace of its replicas. */
export function destinationService(decision: RouteDecision): ServiceLabels {
  let l = serviceCache.get(decision.cluster);
  if (!l) {
    l = serviceLabels(decision.service, decision.cluster.endpoints[0]?.namespace);
    serviceCache.set(decision.cluster, l);
  }
  return l;
}
