/**
 * Contract tests of the Kubernetes engine against a loopback fake API server: the exact sequence of
 * requests of deploy, routing, promotion, rollback and teardown, and how failures of the cluster
 * (a pod that cannot pull its image, a progress deadline, a route changed behind its back) end a run.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InfraError } from '../core/errors.ts';
import type { CanaryPlan } from '../canary/plan-types.ts';
import { KubeClient } from './kube-client.ts';
import { deploymentReadiness, fatalPodProblem, firstDifference, KubernetesPlatform } from './kubernetes.ts';
import { KUBE_TEST_FLAGS, kubeTestPlan } from './testing/kube-plan.ts';
import { planRun } from '../canary/plan.ts';
import { DEFAULTS } from '../canary/testing/fixtures.ts';
import { readTargetFacts } from './target-facts.ts';
import { FakeKubeApi, type Json } from './testing/fake-kube-api.ts';

const NS = 'sprincube';
const DEPLOYMENTS = `/apis/apps/v1/namespaces/${NS}/deployments`;
const PODS = `/api/v1/namespaces/${NS}/pods`;
const VS = `/apis/networking.istio.io/v1beta1/namespaces/${NS}/virtualservices`;

let api: FakeKubeApi;
let kubeconfig: string;

/** Like the Deployment controller and kubelet together: every applied Deployment becomes ready. */
function readyController(collection: string, obj: Json, a: FakeKubeApi): void {
  if (collection !== DEPLOYMENTS) return;
  const n = obj.spec.replicas ?? 1;
  a.put(DEPLOYMENTS, {
    ...obj,
    status: { observedGeneration: obj.metadata.generation, replicas: n, updatedReplicas: n, availableReplicas: n },
  });
}

beforeEach(async () => {
  api = new FakeKubeApi();
  kubeconfig = api.kubeconfig(await api.start());
  // What `canary deploy` left on the cluster: the account tracks (baseline and canary at 0).
  for (const name of ['account-primary', 'account-baseline', 'account-canary'])
    api.put(DEPLOYMENTS, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: NS, labels: { app: 'account' } },
      spec: { replicas: name.endsWith('primary') ? 2 : 0 },
      status: { observedGeneration: 1 },
    });
  api.onApply = readyController;
});
afterEach(() => api.stop());

function plan(flags: Partial<Parameters<typeof kubeTestPlan>[0]> = {}): CanaryPlan {
  return kubeTestPlan({ image: { service: 'account', ref: 'registry.example/account:v2' }, ...flags });
}

function platform(p: CanaryPlan = plan()): KubernetesPlatform {
  return new KubernetesPlatform({
    connect: () => KubeClient.connect({ kubeconfig, context: 'fake' }, { caller: 'run', backoffMs: 1 }),
    plan: p,
    manifestsDir: 'manifests',
    readyTimeoutMs: 30_000,
  });
}

const applied = () =>
  api
    .sent('PATCH')
    .map((r) => `${(r.body as { kind: string }).kind}/${(r.body as { metadata: { name: string } }).metadata.name}`);
const container = (name: string) => api.get(DEPLOYMENTS, name)?.spec.template.spec.containers[0];
/** Each http route of the VirtualService the server holds, as [subset, weight] pairs. */
const routes = () =>
  api.get(VS, 'account')?.spec.http.map((r: Json) => r.route.map((d: Json) => [d.destination.subset, d.weight]));
const ON_PRIMARY = [[['primary', 100]]];

describe('the Kubernetes platform', () => {
  it('deploy: the safe route first, then baseline and canary with their image, version and env; ready from status', async () => {
    const p = platform();
    const d = await p.deploy(plan().tracks);
    expect(d).toEqual({ gatewayUrl: 'http://127.0.0.1:8080', metricsUrls: [] });
    expect(applied()).toEqual(['VirtualService/account', 'Deployment/account-baseline', 'Deployment/account-canary']);
    for (const r of api.sent('PATCH'))
      expect(r).toMatchObject({
        contentType: 'application/apply-patch+yaml',
        query: { fieldManager: 'sprincube-canary', force: 'false' },
      });
    expect(routes()).toEqual(ON_PRIMARY);
    expect(container('account-canary')).toMatchObject({ image: 'registry.example/account:v2' });
    expect(container('account-canary').env).toContainEqual({ name: 'VERSION', value: 'v2' });
    expect(container('account-baseline')).toMatchObject({ image: 'sprincube/app:0.1.0' });
    expect(api.get(DEPLOYMENTS, 'account-canary')?.spec.template.metadata.labels).toMatchObject({
      track: 'canary',
      version: 'v2',
    });
    // Readiness was followed by watch, on the Deployment and on its pods.
    expect(api.sent('GET', DEPLOYMENTS).some((r) => r.query.fieldSelector === 'metadata.name=account-canary')).toBe(
      true,
    );
    expect(api.sent('GET', PODS).some((r) => r.query.labelSelector === 'app=account,track=canary')).toBe(true);
  });

  it('setRoute applies the VirtualService and reads it back', async () => {
    const p = platform();
    await p.deploy(plan().tracks);
    api.requests.length = 0;
    await p.setRoute(plan().stages[1]!.route);
    const toRoutes = api.requests.filter((r) => r.path.startsWith(VS));
    expect(toRoutes.map((r) => `${r.method} ${r.path}`)).toEqual([`PATCH ${VS}/account`, `GET ${VS}/account`]);
    const weights = api
      .get(VS, 'account')
      ?.spec.http.at(-1)
      .route.map((r: Json) => [r.destination.subset, r.weight]);
    expect(weights).toEqual([
      ['primary', 90],
      ['baseline', 5],
      ['canary', 5],
    ]);
  });

  it("a route read back with the keys in the server's order and defaults added is the route applied", async () => {
    const p = platform();
    await p.deploy(plan().tracks);
    const sortKeys = (v: Json): Json =>
      Array.isArray(v)
        ? v.map(sortKeys)
        : v && typeof v === 'object'
          ? Object.fromEntries(
              Object.keys(v)
                .sort()
                .map((k) => [k, sortKeys(v[k])]),
            )
          : v;
    api.onApply = (collection, obj, a) => {
      if (collection === VS) a.put(VS, { ...obj, spec: sortKeys({ ...obj.spec, exportTo: ['*'] }) });
    };
    await p.setRoute(plan().stages[1]!.route);
  });

  it('firstDifference names where the server holds something else', () => {
    expect(firstDifference({ a: [{ w: 5 }, { w: 95 }] }, { a: [{ w: 5, x: 1 }, { w: 95 }], b: 2 })).toBeNull();
    expect(firstDifference({ a: [{ w: 5 }, { w: 95 }] }, { a: [{ w: 5 }, { w: 90 }] })).toBe('.a[1].w');
    expect(firstDifference({ a: [1, 2] }, { a: [1] })).toBe('.a');
    expect(firstDifference({ a: 1 }, null)).toBe('.');
  });

  it('a route the server holds differently (another controller rewrote it) is an InfraError', async () => {
    const p = platform();
    await p.deploy(plan().tracks);
    api.onApply = (collection, obj, a) => {
      if (collection === VS) a.put(VS, { ...obj, spec: { ...obj.spec, http: [] } });
    };
    await expect(p.setRoute(plan().stages[1]!.route)).rejects.toThrow(/holds a different spec than was applied/);
  });

  it('promote: the primary takes the canary image and env, is waited for, all traffic to it, tracks scaled to 0', async () => {
    const p = platform();
    await p.deploy(plan().tracks);
    await p.setRoute({ kind: 'promoted' });
    api.requests.length = 0;
    await p.conclude('promote');
    expect(applied()).toEqual([
      'Deployment/account-primary',
      'VirtualService/account',
      'Deployment/account-baseline',
      'Deployment/account-canary',
    ]);
    expect(container('account-primary')).toMatchObject({ image: 'registry.example/account:v2' });
    expect(container('account-primary').env).toContainEqual({ name: 'VERSION', value: 'v2' });
    expect(api.get(DEPLOYMENTS, 'account-primary')?.spec.replicas).toBe(2);
    expect(routes()).toEqual(ON_PRIMARY);
    expect(api.get(DEPLOYMENTS, 'account-baseline')?.spec.replicas).toBe(0);
    expect(api.get(DEPLOYMENTS, 'account-canary')?.spec.replicas).toBe(0);
    // The primary's readiness was waited for before the route moved.
    const firstVs = api.requests.findIndex((r) => r.method === 'PATCH' && r.path.startsWith(VS));
    const primaryWatch = api.requests.findIndex((r) => r.query.fieldSelector === 'metadata.name=account-primary');
    expect(primaryWatch).toBeGreaterThan(-1);
    expect(primaryWatch).toBeLessThan(firstVs);
    await p.teardown();
  });

  it('rollback: the route goes to the primary before anything is scaled down; the primary is untouched', async () => {
    const p = platform();
    await p.deploy(plan().tracks);
    await p.setRoute(plan().stages[2]!.route);
    api.requests.length = 0;
    await p.conclude('rollback');
    expect(applied()).toEqual(['VirtualService/account', 'Deployment/account-baseline', 'Deployment/account-canary']);
    expect(routes()).toEqual(ON_PRIMARY);
    expect(api.get(DEPLOYMENTS, 'account-primary')?.spec.template).toBeUndefined();
  });

  it('a track the run created is deleted at the end, one that was there is scaled to 0', async () => {
    api.onApply = readyController;
    api.remove(DEPLOYMENTS, 'account-canary');
    const p = platform();
    await p.deploy(plan().tracks);
    await p.teardown();
    expect(api.sent('DELETE').map((r) => r.path)).toEqual([`${DEPLOYMENTS}/account-canary`]);
    expect(api.get(DEPLOYMENTS, 'account-canary')).toBeUndefined();
    expect(api.get(DEPLOYMENTS, 'account-baseline')?.spec.replicas).toBe(0);
    expect(routes()).toEqual(ON_PRIMARY);
  });

  it('a canary pod in ImagePullBackOff ends deploy with an InfraError naming pod, container and reason; teardown leaves traffic on the primary', async () => {
    api.onApply = (collection, obj, a) => {
      if (collection !== DEPLOYMENTS) return;
      if (obj.metadata.name !== 'account-canary') return readyController(collection, obj, a);
      a.put(PODS, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'account-canary-7d9f-x2x', labels: { app: 'account', track: 'canary' } },
        status: {
          containerStatuses: [
            {
              name: 'account',
              state: {
                waiting: {
                  reason: 'ImagePullBackOff',
                  message: 'Back-off pulling image "registry.example/account:v2"',
                },
              },
            },
          ],
        },
      });
    };
    const p = platform();
    const err = await p.deploy(plan().tracks).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfraError);
    expect((err as Error).message).toBe(
      'Deployment account-canary: pod account-canary-7d9f-x2x container account: ImagePullBackOff (Back-off pulling image "registry.example/account:v2")',
    );
    await p.teardown();
    expect(routes()).toEqual(ON_PRIMARY);
    expect(api.get(DEPLOYMENTS, 'account-canary')?.spec.replicas).toBe(0);
  });

  it('a teardown that cannot restore the safe route says so and leaves the tracks serving', async () => {
    const p = platform();
    await p.deploy(plan().tracks);
    await p.setRoute(plan().stages[2]!.route);
    api.fail((r) => r.method === 'PATCH' && r.path.startsWith(VS), 500, 100);
    await expect(p.teardown()).rejects.toThrow(
      /could not put all traffic back on the primary .*left running: put VirtualService sprincube\/account on the primary with `canary rollback --context/,
    );
    expect(api.get(DEPLOYMENTS, 'account-canary')?.spec.replicas).toBe(1);
  });

  it('a VirtualService whose routes another manager owns stops deploy with the conflict, before any track changes', async () => {
    api.put(VS, {
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'VirtualService',
      metadata: { name: 'account', namespace: NS },
      spec: { hosts: ['account'], http: [{ route: [{ destination: { host: 'account', subset: 'primary' } }] }] },
    });
    api.own({ path: VS, name: 'account', field: '.spec.http', manager: 'argocd-controller' });
    const err = await platform()
      .deploy(plan().tracks)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfraError);
    expect((err as Error).message).toMatch(
      /VirtualService\/sprincube\/account: .*\.spec\.http .*argocd-controller.*Nothing was changed/,
    );
    expect(api.sent('PATCH').map((r) => r.path)).toEqual([`${VS}/account`]);
    expect(api.get(DEPLOYMENTS, 'account-canary')?.spec.template).toBeUndefined();
  });

  it('ProgressDeadlineExceeded ends the wait with an InfraError', async () => {
    api.onApply = (collection, obj, a) => {
      if (collection !== DEPLOYMENTS) return;
      a.put(DEPLOYMENTS, {
        ...obj,
        status: {
          observedGeneration: obj.metadata.generation,
          conditions: [
            {
              type: 'Progressing',
              status: 'False',
              reason: 'ProgressDeadlineExceeded',
              message: 'ReplicaSet has timed out progressing.',
            },
          ],
        },
      });
    };
    await expect(platform().deploy(plan().tracks)).rejects.toThrow(
      /ProgressDeadlineExceeded \(ReplicaSet has timed out progressing\.\)/,
    );
  });

  it('refuses to deploy when the primary is not on the cluster, before changing anything', async () => {
    api.remove(DEPLOYMENTS, 'account-primary');
    await expect(platform().deploy(plan().tracks)).rejects.toThrow(
      /account-primary is not on the cluster.*canary deploy/,
    );
    expect(api.sent('PATCH')).toHaveLength(0);
  });

  it('runningPrimary reads the image, version and literal env the primary runs with, as the cluster holds them', async () => {
    api.put(DEPLOYMENTS, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'account-primary', namespace: NS, labels: { app: 'account', version: 'v2' } },
      spec: {
        replicas: 2,
        template: {
          spec: {
            containers: [
              {
                name: 'account',
                image: 'registry.example/account:v2',
                env: [
                  { name: 'VERSION', value: 'v2' },
                  { name: 'LATENCY', value: 'lognormal:median=20,sigma=0.3' },
                  { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
                ],
              },
            ],
          },
        },
      },
    });
    const p = platform();
    await p.prepare();
    expect(await p.runningPrimary('account-primary')).toEqual({
      primaryImage: 'registry.example/account:v2',
      primaryVersion: 'v2',
      primaryEnv: { VERSION: 'v2', LATENCY: 'lognormal:median=20,sigma=0.3' },
    });
    expect(await p.runningPrimary('friend')).toBeNull();
    // A primary with no version anywhere cannot be copied: said, naming it.
    api.put(DEPLOYMENTS, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'account-primary', namespace: NS },
      spec: { replicas: 1, template: { spec: { containers: [{ name: 'account', image: 'x' }] } } },
    });
    await expect(p.runningPrimary('account-primary')).rejects.toThrow(
      /Deployment sprincube\/account-primary on the cluster has neither a version label nor a VERSION variable/,
    );
  });

  it('check needs no cluster and refuses a service whose DestinationRule has no track subsets', async () => {
    await platform().check(plan().tracks, [{ kind: 'safe' }]);
    expect(api.requests).toHaveLength(0);
    const friend = planRun(KUBE_TEST_FLAGS, DEFAULTS, readTargetFacts('manifests', 'friend'));
    await expect(platform(friend).check(friend.tracks, [])).rejects.toThrow(
      /DestinationRule for friend: the routes need subsets primary, baseline and canary.*missing: primary, baseline, canary/,
    );
  });
});

describe('readiness', () => {
  const d = (status: object, generation = 2, replicas = 2) =>
    ({ metadata: { name: 'x', generation }, spec: { replicas }, status }) as never;
  it.each([
    [{ observedGeneration: 1, updatedReplicas: 2, availableReplicas: 2, replicas: 2 }, 'pending', /generation 2/],
    [
      { observedGeneration: 2, updatedReplicas: 1, availableReplicas: 2, replicas: 3 },
      'pending',
      /1\/2 replicas updated/,
    ],
    [
      { observedGeneration: 2, updatedReplicas: 2, availableReplicas: 1, replicas: 2 },
      'pending',
      /1\/2 replicas available/,
    ],
    [{ observedGeneration: 2, updatedReplicas: 2, availableReplicas: 2, replicas: 3 }, 'pending', /old replicas/],
    [{ observedGeneration: 2, updatedReplicas: 2, availableReplicas: 2, replicas: 2 }, 'ready', undefined],
  ])('%o is %s', (status, state, why) => {
    const r = deploymentReadiness(d(status));
    expect(r.state).toBe(state);
    if (why) expect((r as { why: string }).why).toMatch(why);
  });

  it.each(['ErrImagePull', 'ImagePullBackOff', 'CrashLoopBackOff', 'CreateContainerConfigError'])(
    '%s in a container or an init container is fatal',
    (reason) => {
      const pod = (key: string) => ({
        metadata: { name: 'p' },
        status: { [key]: [{ name: 'c', state: { waiting: { reason } } }] },
      });
      expect(fatalPodProblem([pod('containerStatuses') as never])).toBe(`pod p container c: ${reason}`);
      expect(fatalPodProblem([pod('initContainerStatuses') as never])).toBe(`pod p container c: ${reason}`);
    },
  );

  it('ContainerCreating is not fatal', () => {
    expect(
      fatalPodProblem([
        {
          metadata: { name: 'p' },
          status: { containerStatuses: [{ name: 'c', state: { waiting: { reason: 'ContainerCreating' } } }] },
        } as never,
      ]),
    ).toBeNull();
  });
});
