/**
 * Peer identity between the proxies of the local data plane. Istio proves it with mutual TLS and
 * SPIFFE certificates; locally every proxy is on loopback, so the calling proxy states its workload,
 * namespace and service account in one internal header. The inbound side removes the header before
 * the app sees it and believes it only from a loopback peer, so a client cannot claim an identity
 * from elsewhere; the ingress gateway overwrites whatever a client sent.
 */
import type { IncomingMessage } from 'node:http';
import { principalOf, type WorkloadIdentity } from '../config.ts';

export const PEER_HEADER = 'x-canary-mesh-peer';

export interface Peer {
  workload: string;
  namespace: string;
  principal: string;
}

export function peerHeaderValue(self: WorkloadIdentity): string {
  return `${self.workload};${self.namespace};${self.serviceAccount}`;
}

/** Reads and removes the peer header; `undefined` when absent, malformed or not from loopback. */
export function takePeer(req: IncomingMessage): Peer | undefined {
  const raw = req.headers[PEER_HEADER];
  if (raw === undefined) return undefined;
  delete req.headers[PEER_HEADER];
  if (typeof raw !== 'string' || !isLoopback(req.socket.remoteAddress)) return undefined;
  const [workload, namespace, serviceAccount] = raw.split(';');
  if (!workload || !namespace || !serviceAccount) return undefined;
  return { workload, namespace, principal: principalOf({ namespace, serviceAccount }) };
}

function isLoopback(address: string | undefined): boolean {
  return (
    address !== undefined && (address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.'))
  );
}
