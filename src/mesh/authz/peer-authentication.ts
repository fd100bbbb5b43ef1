/**
 * PeerAuthentication at a workload's inbound sidecar, pure: which mutual-TLS mode applies to it.
 * Istio's precedence (https://istio.io/latest/docs/reference/config/security/peer_authentication/):
 * a policy with a selector matching the workload beats one for its whole namespace (no selector),
 * which beats the mesh-wide one in the root namespace; `UNSET` inherits from the next level; with no
 * policy at all the mode is PERMISSIVE. Locally "mutual TLS" is the identity the data plane signs
 * (peer-identity.ts): STRICT refuses a caller without one, PERMISSIVE takes both, DISABLE ignores it.
 */
import { ConfigError } from '../../core/errors.ts';
import { ROOT_NAMESPACE } from '../config.ts';
import type { AuthzTarget } from './authorization.ts';

export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

interface PeerAuthenticationView {
  metadata?: { name?: string; namespace?: string };
  spec?: { selector?: { matchLabels?: Record<string, string> }; mtls?: { mode?: string } };
}

export function peerAuthenticationMode(
  policies: readonly unknown[],
  target: AuthzTarget,
  originOf: (kind: string, name: string) => string | undefined = () => undefined,
): MtlsMode {
  let workload: MtlsMode | undefined;
  let namespace: MtlsMode | undefined;
  let mesh: MtlsMode | undefined;
  for (const raw of policies as readonly PeerAuthenticationView[]) {
    const ns = raw.metadata?.namespace ?? 'default';
    const name = raw.metadata?.name ?? '(unnamed)';
    const mode = raw.spec?.mtls?.mode ?? 'UNSET';
    if (mode !== 'UNSET' && mode !== 'STRICT' && mode !== 'PERMISSIVE' && mode !== 'DISABLE') {
      throw new ConfigError(
        originOf('PeerAuthentication', name) ?? `PeerAuthentication ${name}`,
        `PeerAuthentication/${ns}/${name} spec.mtls.mode`,
        `expected UNSET, STRICT, PERMISSIVE or DISABLE, got ${JSON.stringify(mode)}`,
      );
    }
    if (mode === 'UNSET') continue;
    const selector = raw.spec?.selector?.matchLabels;
    if (selector && Object.keys(selector).length > 0) {
      if (ns === target.namespace && Object.entries(selector).every(([k, v]) => target.labels[k] === v))
        workload = mode;
    } else if (ns === target.namespace) namespace = mode;
    else if (ns === ROOT_NAMESPACE) mesh = mode;
  }
  return workload ?? namespace ?? mesh ?? 'PERMISSIVE';
}
