import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.ts';
import type { IAuthorizationPolicy } from '../../manifests/types.ts';
import { compileAuthorizer, type AuthzRequest } from './authorization.ts';

function policy(name: string, spec: Record<string, unknown>, namespace = 'sprincube'): IAuthorizationPolicy {
  return {
    apiVersion: 'security.istio.io/v1beta1',
    kind: 'AuthorizationPolicy',
    metadata: { name, namespace },
    spec,
  } as IAuthorizationPolicy;
}

const BFF = 'cluster.local/ns/sprincube/sa/bff';
const GATEWAY = 'cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account';
const account = { namespace: 'sprincube', labels: { app: 'account', track: 'canary' } };
const get = (principal: string | undefined, path = '/api/account', method = 'GET'): AuthzRequest => ({
  principal,
  method,
  path,
  namespace: principal?.split('/')[2],
});

// The shape of manifests/istio/authorization.yaml: account accepts only the bff, GET/POST under /api/.
const accountFromBff = policy('account-from-bff', {
  selector: { matchLabels: { app: 'account' } },
  action: 'ALLOW',
  rules: [
    { from: [{ source: { principals: [BFF] } }], to: [{ operation: { methods: ['GET', 'POST'], paths: ['/api/*'] } }] },
  ],
});

describe('AuthorizationPolicy', () => {
  it('allows everything when no policy selects the workload', () => {
    const authz = compileAuthorizer([accountFromBff], { namespace: 'sprincube', labels: { app: 'friend' } });
    expect(authz(get(undefined)).allowed).toBe(true);
  });

  it('allows the bff and denies any other principal, a plain-text caller, another method or path', () => {
    const authz = compileAuthorizer([accountFromBff], account);
    expect(authz(get(BFF))).toEqual({ allowed: true, reason: 'ALLOW sprincube/account-from-bff' });
    expect(authz(get(BFF, '/api/account?id=3')).allowed).toBe(true);
    expect(authz(get(GATEWAY))).toEqual({ allowed: false, reason: 'no ALLOW policy matched' });
    expect(authz(get(undefined)).allowed).toBe(false);
    expect(authz(get(BFF, '/api/account', 'DELETE')).allowed).toBe(false);
    expect(authz(get(BFF, '/admin')).allowed).toBe(false);
  });

  it('applies DENY before ALLOW', () => {
    const denyPost = policy('no-post', { action: 'DENY', rules: [{ to: [{ operation: { methods: ['POST'] } }] }] });
    const authz = compileAuthorizer([accountFromBff, denyPost], account);
    expect(authz(get(BFF, '/api/account', 'POST'))).toEqual({ allowed: false, reason: 'DENY sprincube/no-post' });
    expect(authz(get(BFF)).allowed).toBe(true);
  });

  it('denies everything with an ALLOW policy without rules and allows everything with one empty rule', () => {
    expect(compileAuthorizer([policy('deny-all', {})], account)(get(BFF)).allowed).toBe(false);
    expect(compileAuthorizer([policy('allow-all', { rules: [{}] })], account)(get(undefined)).allowed).toBe(true);
  });

  it('matches path prefixes, suffixes and wildcards, and notPaths / notPrincipals / namespaces', () => {
    const authz = compileAuthorizer(
      [
        policy('mixed', {
          rules: [
            { to: [{ operation: { paths: ['*/healthz'] } }] },
            {
              from: [{ source: { namespaces: ['istio-system'] } }],
              to: [{ operation: { notPaths: ['/api/private/*'] } }],
            },
            { from: [{ source: { notPrincipals: [GATEWAY], principals: ['cluster.local/ns/sprincube/sa/*'] } }] },
          ],
        }),
      ],
      account,
    );
    expect(authz(get(undefined, '/x/healthz')).allowed).toBe(true);
    expect(authz(get(GATEWAY, '/api/account')).allowed).toBe(true);
    expect(authz(get(GATEWAY, '/api/private/keys')).allowed).toBe(false);
    expect(authz(get('cluster.local/ns/sprincube/sa/friend', '/anything')).allowed).toBe(true);
    expect(authz(get('cluster.local/ns/other/sa/friend', '/anything')).allowed).toBe(false);
  });

  it('applies root-namespace policies to every workload and ignores other namespaces and selectors', () => {
    const meshWide = policy(
      'mesh-deny-delete',
      { action: 'DENY', rules: [{ to: [{ operation: { methods: ['DELETE'] } }] }] },
      'istio-system',
    );
    const elsewhere = policy('elsewhere', { action: 'DENY', rules: [{}] }, 'other');
    const otherSelector = policy('friend-only', {
      selector: { matchLabels: { app: 'friend' } },
      action: 'DENY',
      rules: [{}],
    });
    const authz = compileAuthorizer([meshWide, elsewhere, otherSelector], account);
    expect(authz(get(BFF, '/api/account', 'DELETE')).allowed).toBe(false);
    expect(authz(get(BFF)).allowed).toBe(true);
  });

  it('rejects what the local engine cannot honour, naming the policy', () => {
    const custom = policy('ext', { action: 'CUSTOM', provider: { name: 'x' }, rules: [{}] });
    expect(() => compileAuthorizer([custom], account, () => 'manifests/istio/authorization.yaml')).toThrow(ConfigError);
    const when = policy('jwt', { rules: [{ when: [{ key: 'request.auth.claims[iss]', values: ['x'] }] }] });
    expect(() => compileAuthorizer([when], account)).toThrow(
      /AuthorizationPolicy\/sprincube\/jwt spec\.rules\[0\]\.when/,
    );
  });
});
