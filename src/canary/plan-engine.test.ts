import { describe, expect, it } from 'vitest';
import { UsageError } from '../core/errors.ts';
import { parseImageFlag } from './plan.ts';
import { TARGET, testPlan } from './testing/fixtures.ts';
import { planRun } from './plan.ts';
import { DEFAULTS } from './testing/fixtures.ts';

const KUBE_TARGET = { ...TARGET, primaryImage: 'sprincube/app:0.1.0' };
const kube = (flags: Parameters<typeof planRun>[0] extends infer F ? Partial<F> : never) =>
  planRun(
    {
      engine: 'kubernetes',
      configFile: 'analysis/default.yaml',
      scenario: 'healthy',
      baseline: 'baseline',
      confirm: false,
      prometheus: 'http://127.0.0.1:9090',
      gateway: 'http://127.0.0.1:8080',
      ...flags,
    },
    DEFAULTS,
    KUBE_TARGET,
  );

describe('engine decisions in the plan', () => {
  it('the local engine: builtin driver, scrape telemetry, no images, the manifests namespace', () => {
    const p = testPlan();
    expect(p.platform).toEqual({ engine: 'local', context: null, kubeconfig: null, namespace: 'sprincube' });
    expect(p.load).toMatchObject({ driver: 'builtin', gateway: null });
    expect(p.telemetry).toEqual({ source: 'scrape', url: null });
    expect(p.tracks.every((t) => t.image === undefined)).toBe(true);
  });

  it('--prometheus on the local engine reads that API instead of scraping', () => {
    expect(testPlan({ prometheus: 'http://127.0.0.1:9090' }).telemetry).toEqual({
      source: 'prometheus',
      url: 'http://127.0.0.1:9090',
    });
  });

  it('the Kubernetes engine: context, namespace (also on the VirtualService), images per track', () => {
    const p = kube({
      context: 'kind-canary',
      namespace: 'staging',
      image: parseImageFlag('account=reg.example/account:v2'),
    });
    expect(p.platform).toEqual({
      engine: 'kubernetes',
      context: 'kind-canary',
      kubeconfig: null,
      namespace: 'staging',
    });
    expect(p.target.namespace).toBe('staging');
    expect(Object.fromEntries(p.tracks.map((t) => [t.track, t.image]))).toEqual({
      primary: 'sprincube/app:0.1.0',
      baseline: 'sprincube/app:0.1.0',
      canary: 'reg.example/account:v2',
    });
    expect(p.load).toMatchObject({ driver: 'builtin', gateway: 'http://127.0.0.1:8080' });
    expect(p.telemetry.source).toBe('prometheus');
  });

  it('without --context the current context is used (null) and without --image the canary runs the primary image', () => {
    const p = kube({});
    expect(p.platform.context).toBeNull();
    expect(p.tracks.find((t) => t.track === 'canary')?.image).toBe('sprincube/app:0.1.0');
  });

  it("k6-operator needs no --gateway: its runners use the cluster's ingress gateway, or the one given", () => {
    expect(kube({ driver: 'k6-operator', gateway: undefined }).load).toMatchObject({
      driver: 'k6-operator',
      gateway: 'http://istio-ingressgateway.istio-system.svc.cluster.local',
    });
    expect(kube({ driver: 'k6-operator', gateway: 'http://gw.mesh.svc:8080' }).load.gateway).toBe(
      'http://gw.mesh.svc:8080',
    );
    expect(kube({ driver: 'k6-operator', parallelism: 4 }).load.parallelism).toBe(4);
    expect(kube({ driver: 'k6-operator' }).load.parallelism).toBe(1);
  });

  it.each([
    [() => testPlan({ driver: 'k6-operator' }), '--driver: k6-operator runs k6 inside a cluster'],
    [() => testPlan({ driver: 'jmeter' }), '--driver: expected one of builtin, k6, k6-operator'],
    [() => testPlan({ gateway: 'http://127.0.0.1:1' }), '--gateway: the local engine starts its own gateway'],
    [() => testPlan({ namespace: 'x' }), '--namespace: is a Kubernetes engine flag'],
    [() => testPlan({ image: { service: 'account', ref: 'a:b' } }), '--image: the local engine'],
    [() => testPlan({ prometheus: 'localhost:9090' }), '--prometheus: expected an http(s) URL'],
    [() => kube({ prometheus: undefined }), "--prometheus: the Kubernetes engine judges from the cluster's Prometheus"],
    [() => kube({ gateway: undefined }), '--gateway: the builtin driver sends load from this machine'],
    [() => kube({ driver: 'k6', gateway: undefined }), '--gateway: the k6 driver'],
    [() => kube({ gateway: 'ftp://x' }), '--gateway: expected an http(s) URL'],
    [() => kube({ parallelism: 2 }), "--parallelism: is the k6-operator's number of runners"],
    [() => kube({ driver: 'k6-operator', parallelism: 0 }), '--parallelism: expected a whole number of runners'],
    [() => kube({ namespace: 'Not_A_Label' }), '--namespace: expected a DNS label'],
    [() => kube({ image: { service: 'friend', ref: 'x:1' } }), "--image: names service 'friend'"],
  ])('%# refuses a bad combination naming the flag', (plan, message) => {
    expect(plan).toThrow(UsageError);
    expect(plan).toThrow(message);
  });

  it('--image is SERVICE=REF', () => {
    expect(parseImageFlag('account=reg.example:5000/account@sha256:ab')).toEqual({
      service: 'account',
      ref: 'reg.example:5000/account@sha256:ab',
    });
    expect(() => parseImageFlag('=x')).toThrow('--image: expected SERVICE=IMAGE');
  });
});
