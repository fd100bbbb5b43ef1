import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.ts';
import { readTargetFacts, targetFactsFrom } from './target-facts.ts';

const deployment = (name: string, env: Record<string, string> = {}, version = 'v1') => ({
  file: 'app.yaml',
  object: {
    kind: 'Deployment',
    metadata: { name, namespace: 'shop', labels: { version } },
    spec: {
      template: { spec: { containers: [{ env: Object.entries(env).map(([n, value]) => ({ name: n, value })) }] } },
    },
  },
});
const vs = {
  file: 'vs.yaml',
  object: {
    kind: 'VirtualService',
    metadata: { name: 'cart-routes', namespace: 'shop' },
    spec: { hosts: ['cart'], http: [{ timeout: '3s' }] },
  },
};

describe('targetFactsFrom', () => {
  it("reads the tracks, the primary's version and env, and the VirtualService", () => {
    const facts = targetFactsFrom(
      [
        deployment('cart-primary', { LATENCY: 'constant:ms=5' }, 'v7'),
        deployment('cart-baseline'),
        deployment('cart-canary'),
        vs,
      ],
      'cart',
      'dir',
    );
    expect(facts).toEqual({
      service: 'cart',
      host: 'cart',
      virtualService: 'cart-routes',
      namespace: 'shop',
      routeTimeout: '3s',
      workloads: { primary: 'cart-primary', baseline: 'cart-baseline', canary: 'cart-canary' },
      primaryVersion: 'v7',
      primaryEnv: { LATENCY: 'constant:ms=5' },
      derivedTracks: false,
    });
  });

  it('a service with one Deployment named like it: that is the primary, baseline and canary are derived', () => {
    const facts = targetFactsFrom([deployment('cart', {}, 'v3'), vs], 'cart', 'dir');
    expect(facts).toMatchObject({
      workloads: { primary: 'cart', baseline: 'cart-baseline', canary: 'cart-canary' },
      primaryVersion: 'v3',
      derivedTracks: true,
    });
  });

  it("reads the primary's image for the Kubernetes engine", () => {
    expect(readTargetFacts('manifests', 'account').primaryImage).toBe('sprincube/app:0.1.0');
  });

  it('names the missing Deployment', () => {
    expect(() => targetFactsFrom([deployment('cart-primary'), deployment('cart-canary'), vs], 'cart', 'dir')).toThrow(
      /Deployment\/cart-baseline/,
    );
    expect(() => targetFactsFrom([deployment('shop'), vs], 'cart', 'dir')).toThrow(
      /Deployment\/cart-primary: the service under canary needs a Deployment named cart or cart-primary/,
    );
  });

  it('names the missing VirtualService', () => {
    expect(() =>
      targetFactsFrom(
        [deployment('cart-primary'), deployment('cart-baseline'), deployment('cart-canary')],
        'cart',
        'dir',
      ),
    ).toThrow(ConfigError);
  });

  it('reads the committed manifests of the reference app', () => {
    const facts = readTargetFacts('manifests', 'account');
    expect(facts).toMatchObject({ virtualService: 'account', namespace: 'sprincube', primaryVersion: 'v1' });
  });

  it('a directory that does not exist is a ConfigError naming it', () => {
    expect(() => readTargetFacts('no-such-dir', 'account')).toThrow(/no-such-dir/);
  });
});
