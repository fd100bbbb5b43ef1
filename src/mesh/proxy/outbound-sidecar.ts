/**
 * The outbound half of the bff's sidecar, in process: implements the app's `Upstream` so the bff's
 * calls to `account` and `friend` are routed by the mesh's VirtualServices (context `mesh`, the bff as
 * source), sent with its peer identity, and reported with `reporter="source"`.
 */
import type { WorkloadIdentity } from '../config.ts';
import type { RouteTable } from '../routing/route-table.ts';
import type { IstioTelemetry } from '../telemetry/istio-metrics.ts';
import { forward, upstreamRequestHeaders, type UpstreamPools } from './forward.ts';
import { PEER_HEADER, peerHeaderValue } from './peer-identity.ts';

/** Mirrors `UpstreamResponse` of the app contract (src/app/service.ts). */
export interface MeshUpstreamResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export class OutboundSidecar {
  private readonly peer: string;

  constructor(
    private readonly self: WorkloadIdentity,
    private readonly routes: () => RouteTable,
    private readonly pools: UpstreamPools,
    private readonly telemetry: IstioTelemetry,
  ) {
    this.peer = peerHeaderValue(self);
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
      this.record(service, 'unknown', 'unknown', 404, 'NR', start);
      return { status: 404, headers: {}, body: '' };
    }
    const headers = upstreamRequestHeaders(lower);
    headers[PEER_HEADER] = this.peer;
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
    this.record(
      decision.service,
      out.endpoint?.workload ?? 'unknown',
      out.endpoint?.version ?? 'unknown',
      out.status,
      out.flags,
      start,
    );
    return { status: out.status, headers: flat, body };
  }

  private record(
    service: string,
    workload: string,
    version: string,
    status: number,
    flags: string,
    start: number,
  ): void {
    this.telemetry.record(
      {
        reporter: 'source',
        source_workload: this.self.workload,
        destination_workload: workload,
        destination_service_name: service,
        destination_version: version,
        response_code: status,
        response_flags: flags,
      },
      performance.now() - start,
    );
  }
}
