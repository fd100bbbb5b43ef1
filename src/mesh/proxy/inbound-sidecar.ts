/**
 * The inbound half of a workload's sidecar: establishes the peer (a signed identity, peer-identity.ts),
 * applies PeerAuthentication (STRICT closes the connection of a caller without one, as a sidecar
 * refuses plain text on a STRICT port), enforces AuthorizationPolicy, hands the request to the app,
 * and reports `reporter="destination"` telemetry when the response is done. A denial is Envoy's RBAC
 * local reply: 403, body `RBAC: access denied`, and no response flag, as Istio reports it
 * (`response_flags="-"`, see istio/istio#47622 and envoyproxy/envoy#12873).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Authorizer } from '../authz/authorization.ts';
import type { MtlsMode } from '../authz/peer-authentication.ts';
import type { WorkloadIdentity } from '../config.ts';
import { type IstioTelemetry, serviceLabels, UNKNOWN_WORKLOAD, workloadLabels } from '../telemetry/istio-metrics.ts';
import type { PeerVerifier } from './peer-identity.ts';

export interface InboundSidecarOptions {
  self: WorkloadIdentity & { service: string; version: string };
  telemetry: IstioTelemetry;
  verifier: PeerVerifier;
  /** Read per request so a configuration update takes effect at once. */
  authorizer: () => Authorizer;
  /** PeerAuthentication's mode for this workload; PERMISSIVE when unset. Read per request. */
  mtls?: () => MtlsMode;
  handler: (req: IncomingMessage, res: ServerResponse) => void;
}

const DENIED_BODY = 'RBAC: access denied';

export function inboundSidecar(opts: InboundSidecarOptions): RequestListener {
  const { self, telemetry, handler, verifier } = opts;
  const destination = workloadLabels(self);
  const service = serviceLabels(self.service, self.namespace);
  const mtls = opts.mtls ?? (() => 'PERMISSIVE' as const);
  return (req, res) => {
    const start = performance.now();
    const signed = verifier.take(req);
    const mode = mtls();
    if (mode === 'STRICT' && !signed) {
      // No identity the data plane made: the connection is refused before any HTTP is spoken.
      req.socket.destroy();
      return;
    }
    const peer = mode === 'DISABLE' ? undefined : signed;
    const source = peer?.labels ?? UNKNOWN_WORKLOAD;
    res.once('close', () => {
      // A response the client abandoned is Envoy's downstream disconnect: code 0, flag DC.
      const done = res.writableFinished;
      telemetry.record(
        {
          reporter: 'destination',
          source,
          destination,
          service,
          code: done ? res.statusCode : 0,
          flags: done ? '-' : 'DC',
          authenticated: peer !== undefined,
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
