import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.ts';
import { peerAuthenticationMode } from './peer-authentication.ts';

const pa = (namespace: string, mode: string, matchLabels?: Record<string, string>) => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'PeerAuthentication',
  metadata: { name: `${namespace}-${mode}`, namespace },
  spec: { ...(matchLabels ? { selector: { matchLabels } } : {}), mtls: { mode } },
});
const account = { namespace: 'sprincube', labels: { app: 'account', track: 'canary' } };

describe('PeerAuthentication mode of a workload', () => {
  it('is PERMISSIVE without any policy, as in Istio', () => {
    expect(peerAuthenticationMode([], account)).toBe('PERMISSIVE');
  });

  it('takes the workload policy over the namespace one over the mesh-wide one; UNSET inherits', () => {
    const mesh = pa('istio-system', 'STRICT');
    const ns = pa('sprincube', 'PERMISSIVE');
    const wl = pa('sprincube', 'DISABLE', { app: 'account' });
    expect(peerAuthenticationMode([mesh], account)).toBe('STRICT');
    expect(peerAuthenticationMode([mesh, ns], account)).toBe('PERMISSIVE');
    expect(peerAuthenticationMode([wl, mesh, ns], account)).toBe('DISABLE');
    expect(peerAuthenticationMode([mesh, pa('sprincube', 'UNSET', { app: 'account' })], account)).toBe('STRICT');
    expect(peerAuthenticationMode([pa('sprincube', 'STRICT', { app: 'friend' })], account)).toBe('PERMISSIVE');
    expect(peerAuthenticationMode([pa('other', 'STRICT')], account)).toBe('PERMISSIVE');
  });

  it('refuses an unknown mode naming the object and field', () => {
    expect(() => peerAuthenticationMode([pa('sprincube', 'MUTUAL')], account)).toThrow(ConfigError);
    expect(() => peerAuthenticationMode([pa('sprincube', 'MUTUAL')], account)).toThrow(
      /PeerAuthentication\/sprincube\/sprincube-MUTUAL spec\.mtls\.mode: expected UNSET, STRICT, PERMISSIVE or DISABLE/,
    );
  });
});
