/**
 * The ingress gateway (Istio's istio-ingressgateway role): routes every request with the VirtualServices
 * bound to a Gateway, forwards it to a replica with the gateway's peer identity, streams the answer back
 * and reports `reporter="source"` telemetry. Like Envoy, it sets `x-request-id` when the client did not.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import type { WorkloadIdentity } from '../config.ts';
import type { RouteTable } from '../routing/route-table.ts';
import {
  type IstioTelemetry,
  type ServiceLabels,
  serviceLabels,
  UNKNOWN_WORKLOAD,
  type WorkloadLabels,
  workloadLabels,
} from '../telemetry/istio-metrics.ts';
import {
  Cancellation,
  downstreamResponseHeaders,
  forward,
  upstreamRequestHeaders,
  type UpstreamPools,
} from './forward.ts';
import { destinationService, endpointLabels } from './outbound-sidecar.ts';
import { PEER_HEADER, type PeerSigner } from './peer-identity.ts';

const SMALL_BODY_BYTES = 64 * 1024;

export interface GatewayOptions {
  self: WorkloadIdentity;
  routes: () => RouteTable;
  pools: UpstreamPools;
  telemetry: IstioTelemetry;
  signer: PeerSigner;
}

const NO_SERVICE = serviceLabels('unknown', undefined);

export function ingressGateway(opts: GatewayOptions): RequestListener {
  const { self, pools, telemetry, signer } = opts;
  const source = workloadLabels(self);
  const record = (
    service: ServiceLabels,
    destination: WorkloadLabels,
    code: number,
    flags: string,
    start: number,
  ): void =>
    telemetry.record({ reporter: 'source', source, destination, service, code, flags }, performance.now() - start);

  return (req, res) => {
    const start = performance.now();
    // A client that goes away before its answer is Envoy's downstream disconnect: the try in flight
    // is cancelled and the request recorded as 0 / DC.
    const downstream = new Cancellation();
    const onClose = (): void => {
      if (!res.writableFinished) downstream.abort();
    };
    res.once('close', onClose);
    void readBody(req)
      .then(async (body) => {
        const method = req.method ?? 'GET';
        const uri = req.url ?? '/';
        const decision = opts.routes().resolve({
          context: 'gateway',
          host: req.headers.host ?? '',
          method,
          uri,
          headers: req.headers,
          sourceLabels: self.labels,
          sourceNamespace: self.namespace,
        });
        if (!decision) {
          localReply(res, 404, '');
          record(NO_SERVICE, UNKNOWN_WORKLOAD, 404, 'NR', start);
          return;
        }
        const headers = upstreamRequestHeaders(req.headers);
        headers[PEER_HEADER] = signer.header();
        if (headers['x-request-id'] === undefined) headers['x-request-id'] = randomUUID();
        const out = await forward(decision, { method, path: uri, headers, body }, pools, Math.random, downstream);
        const service = destinationService(decision);
        const destination = endpointLabels(out.endpoint);
        if (downstream.aborted) {
          if (out.body) out.body.destroy();
          out.release();
          record(service, destination, 0, 'DC', start);
          return;
        }
        if (!out.body) {
          localReply(res, out.status, out.localBody ?? '');
          record(service, destination, out.status, out.flags, start);
          return;
        }
        const answerHeaders = downstreamResponseHeaders(out.headers ?? {});
        const length = Number(out.headers?.['content-length']);
        if (length <= SMALL_BODY_BYTES) {
          // The app's answers are small JSON: reading them whole and writing them in one call costs
          // far less than a stream pipeline per request.
          const body = Buffer.from(await out.body.arrayBuffer());
          out.release();
          if (downstream.aborted) {
            // The client went away while the answer was read: nothing reaches it.
            record(service, destination, 0, 'DC', start);
            return;
          }
          res.writeHead(out.status, answerHeaders);
          res.end(body);
          record(service, destination, out.status, out.flags, start);
          return;
        }
        res.writeHead(out.status, answerHeaders);
        pipeline(out.body, res, (err) => {
          out.release();
          record(service, destination, err ? 0 : out.status, err ? 'DC' : out.flags, start);
        });
      })
      .catch((err: unknown) => {
        if (!res.headersSent) localReply(res, 500, `gateway error: ${(err as Error).message}`);
        else res.destroy();
        record(NO_SERVICE, UNKNOWN_WORKLOAD, 500, '-', start);
      });
  };
}

function localReply(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** The request body, or `null` when the request has none (most of the app's traffic is GET). */
async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) {
    req.resume();
    return null;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
