/**
 * The inbound half of a workload's sidecar: establishes the peer, enforces AuthorizationPolicy, hands
 * the request to the app, and reports `reporter="destination"` telemetry when the response is done.
 * A denial is Envoy's RBAC local reply: 403, body `RBAC: access denied`, and no response flag, as
 * Istio reports it (`response_flags="-"`, see istio/istio#47622 and envoyproxy/envoy#12873).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Authorizer } from '../authz/authorization.ts';
import type { IstioTelemetry } from '../telemetry/istio-metrics.ts';
import { takePeer } from './peer-identity.ts';

export interface InboundSidecarOptions {
  self: { workload: string; service: string; version: string };
  telemetry: IstioTelemetry;
  /** Read per request so a configuration update takes effect at once. */
  authorizer: () => Authorizer;
  handler: (req: IncomingMessage, res: ServerResponse) => void;
}

const DENIED_BODY = 'RBAC: access denied';

export function inboundSidecar(opts: InboundSidecarOptions): RequestListener {
  const { self, telemetry, handler } = opts;
  return (req, res) => {
    const start = performance.now();
    const peer = takePeer(req);
    const sourceWorkload = peer?.workload ?? 'unknown';
    res.once('close', () => {
      // A response the client abandoned is Envoy's downstream disconnect: code 0, flag DC.
      const done = res.writableFinished;
      telemetry.record(
        {
          reporter: 'destination',
          source_workload: sourceWorkload,
          destination_workload: self.workload,
          destination_service_name: self.service,
          destination_version: self.version,
          response_code: done ? res.statusCode : 0,
          response_flags: done ? '-' : 'DC',
        },
        performance.now() - start,
      );
    });
    const decision = opts.authorizer()({
      principal: peer?.principal,
      namespace: peer?.namespace,
      method: req.method ?? 'GET',
      path: req.url ?? '/',
    });
    if (!decision.allowed) {
      req.resume();
      res.writeHead(403, { 'content-type': 'text/plain', 'content-length': DENIED_BODY.length });
      res.end(DENIED_BODY);
      return;
    }
    handler(req, res);
  };
}
