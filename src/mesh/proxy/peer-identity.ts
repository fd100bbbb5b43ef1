/**
 * Peer identity between the proxies of the local data plane. Istio proves it with mutual TLS and
 * SPIFFE certificates; locally every proxy is on loopback, where any process can connect to a
 * sidecar's port, so a bare header would let anyone claim to be the bff. Instead the supervisor makes
 * a secret key when the mesh starts and hands it to each proxy over the IPC channel (never in the
 * environment, the command line or a log). The calling proxy states its identity in one internal
 * header and signs it, with a timestamp and a nonce, by HMAC-SHA256 under that key; the inbound side
 * removes the header before the app sees it and believes only a signature it can verify that is less
 * than a minute old. A caller without one is a plain-text peer: no principal, and refused outright
 * where PeerAuthentication is STRICT. A signature is made afresh every second (not per request) and
 * a verifier remembers the few it checked last, so the hot path pays a string comparison.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { principalOf } from '../config.ts';
import { type WorkloadDescription, type WorkloadLabels, workloadLabels } from '../telemetry/istio-metrics.ts';

export const PEER_HEADER = 'x-canary-mesh-peer';

/** How long a signed identity is believed after it was made (clocks are the same machine's). */
const FRESH_MS = 60_000;
/** How long a signer reuses one signature. */
const RESIGN_MS = 1_000;

export interface Peer {
  workload: string;
  namespace: string;
  /** `cluster.local/ns/<ns>/sa/<sa>`, as AuthorizationPolicy `principals` spell it. */
  principal: string;
  /** The peer as telemetry labels it. */
  labels: WorkloadLabels;
}

/** A new per-run key (256 bits), made by the supervisor when the mesh starts. */
export function newPeerKey(): string {
  return randomBytes(32).toString('base64');
}

/** Signs this proxy's identity for each request it sends. */
export class PeerSigner {
  private readonly key: Buffer;
  private readonly identity: string;
  private readonly noncePrefix = randomBytes(6).toString('base64url');
  private counter = 0;
  private current = '';
  private signedAt = Number.NEGATIVE_INFINITY;

  constructor(key: string, self: WorkloadDescription) {
    this.key = Buffer.from(key, 'base64');
    const l = workloadLabels(self);
    this.identity = [
      self.workload,
      self.namespace,
      self.serviceAccount,
      l.app,
      l.version,
      l.canonicalService,
      l.canonicalRevision,
    ].join(';');
  }

  header(now = Date.now()): string {
    if (now - this.signedAt < RESIGN_MS && now >= this.signedAt) return this.current;
    const payload = `${this.identity};${now};${this.noncePrefix}${(this.counter++).toString(36)}`;
    this.current = `${payload};${createHmac('sha256', this.key).update(payload).digest('base64url')}`;
    this.signedAt = now;
    return this.current;
  }
}

/** Checks and removes the identity header of each request a sidecar receives. */
export class PeerVerifier {
  private readonly key: Buffer;
  private readonly known = new Map<string, Peer>();
  /** Headers verified lately, with the time they were signed: each peer resends one for a second. */
  private readonly verified = new Map<string, { peer: Peer; at: number }>();

  constructor(key: string) {
    this.key = Buffer.from(key, 'base64');
  }

  /** The signed peer, or `undefined` when the header is absent, malformed, forged or stale. */
  take(req: IncomingMessage, now = Date.now()): Peer | undefined {
    const raw = req.headers[PEER_HEADER];
    if (raw === undefined) return undefined;
    delete req.headers[PEER_HEADER];
    if (typeof raw !== 'string') return undefined;
    const seen = this.verified.get(raw);
    if (seen) return Math.abs(now - seen.at) <= FRESH_MS ? seen.peer : undefined;
    const cut = raw.lastIndexOf(';');
    if (cut < 0) return undefined;
    const payload = raw.slice(0, cut);
    const mac = Buffer.from(raw.slice(cut + 1), 'base64url');
    const want = createHmac('sha256', this.key).update(payload).digest();
    if (mac.length !== want.length || !timingSafeEqual(mac, want)) return undefined;
    const fields = payload.split(';');
    if (fields.length !== 9) return undefined;
    const at = Number(fields[7]);
    if (!(Math.abs(now - at) <= FRESH_MS)) return undefined;
    const identity = fields.slice(0, 7).join(';');
    let peer = this.known.get(identity);
    if (!peer) {
      const [workload, namespace, serviceAccount, app, version, canonicalService, canonicalRevision] = fields;
      const labels = workloadLabels({
        workload,
        namespace,
        serviceAccount,
        labels: {
          'service.istio.io/canonical-name': canonicalService,
          'service.istio.io/canonical-revision': canonicalRevision,
          ...(app === 'unknown' ? {} : { app }),
        },
        version,
      });
      peer = { workload, namespace, principal: principalOf({ namespace, serviceAccount }), labels };
      // Identities are the mesh's few workloads; the bound only keeps a misbehaving peer from growing it.
      if (this.known.size < 1000) this.known.set(identity, peer);
    }
    if (this.verified.size >= 64) this.verified.clear();
    this.verified.set(raw, { peer, at });
    return peer;
  }
}
