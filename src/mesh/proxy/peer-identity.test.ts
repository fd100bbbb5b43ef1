import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { newPeerKey, PEER_HEADER, PeerSigner, PeerVerifier } from './peer-identity.ts';

const bff = { workload: 'bff', namespace: 'sprincube', serviceAccount: 'bff', labels: { app: 'bff', version: 'v1' } };
const requestWith = (value?: string) =>
  ({ headers: value === undefined ? {} : { [PEER_HEADER]: value } }) as unknown as IncomingMessage;

describe('signed peer identity', () => {
  const key = newPeerKey();
  const now = 1_800_000_000_000;

  it('verifies what a signer of the same run made, and removes the header before the app sees it', () => {
    const req = requestWith(new PeerSigner(key, bff).header(now));
    const peer = new PeerVerifier(key).take(req, now + 10);
    expect(peer).toMatchObject({
      workload: 'bff',
      namespace: 'sprincube',
      principal: 'cluster.local/ns/sprincube/sa/bff',
    });
    expect(peer?.labels).toMatchObject({
      app: 'bff',
      version: 'v1',
      principal: 'spiffe://cluster.local/ns/sprincube/sa/bff',
    });
    expect(req.headers[PEER_HEADER]).toBeUndefined();
  });

  it('refuses a bare claim, another run key, a tampered identity and a stale signature', () => {
    const verifier = new PeerVerifier(key);
    const signed = new PeerSigner(key, bff).header(now);
    const cases = {
      bare: 'bff;sprincube;bff',
      'another key': new PeerSigner(newPeerKey(), bff).header(now),
      tampered: signed.replace('bff;sprincube;bff', 'account;sprincube;account'),
      'no signature': signed.slice(0, signed.lastIndexOf(';')),
    };
    for (const [what, value] of Object.entries(cases))
      expect(verifier.take(requestWith(value), now), what).toBeUndefined();
    expect(verifier.take(requestWith(signed), now + 61_000), 'stale').toBeUndefined();
    // Remembered once verified, but still only while fresh.
    expect(verifier.take(requestWith(signed), now)).toBeDefined();
    expect(verifier.take(requestWith(signed), now + 61_000)).toBeUndefined();
  });

  it('signs afresh each second with a new nonce', () => {
    const signer = new PeerSigner(key, bff);
    const a = signer.header(now);
    expect(signer.header(now + 500)).toBe(a);
    const b = signer.header(now + 1000);
    expect(b).not.toBe(a);
    expect(new PeerVerifier(key).take(requestWith(b), now + 1000)).toBeDefined();
  });
});
