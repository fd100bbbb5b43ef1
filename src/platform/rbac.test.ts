/**
 * Least privilege, from the code's side: every flow the harness runs on a cluster (deploy, routes,
 * promotion, rollback, a track the run creates and deletes, a failing pod, a k6-operator load),
 * driven against the loopback fake API server, with each (kind, verb) the client sends collected.
 * What is collected must be exactly `KUBE_CALLS.run`, which `manifests/policy.test.ts` compares
 * with the Role in `manifests/rbac/harness.yaml`: no verb granted that the code never calls, none
 * called that is not granted (the client refuses those before sending).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_COHORTS } from '../../load/lib/cohorts.ts';
import { DEFAULT_MIX } from '../../load/lib/mix.ts';
import { K6OperatorDriver } from '../driver/k6-operator.ts';
import { type Kind, KUBE_CALLS, KubeClient, type Verb } from './kube-client.ts';
import { KubernetesPlatform } from './kubernetes.ts';
import { kubeTestPlan } from './testing/kube-plan.ts';
import { FakeKubeApi, type Json } from './testing/fake-kube-api.ts';

const NS = 'sprincube';
const DEPLOYMENTS = `/apis/apps/v1/namespaces/${NS}/deployments`;
const PODS = `/api/v1/namespaces/${NS}/pods`;
const TESTRUNS = `/apis/k6.io/v1alpha1/namespaces/${NS}/testruns`;
const JOBS = `/apis/batch/v1/namespaces/${NS}/jobs`;

let api: FakeKubeApi;
let kubeconfig: string;
const used = new Set<string>();
const connect = () =>
  KubeClient.connect(
    { kubeconfig, context: 'fake' },
    { caller: 'run', backoffMs: 1, onCall: (kind: Kind, verb: Verb) => used.add(`${kind} ${verb}`) },
  );

beforeEach(async () => {
  api = new FakeKubeApi();
  kubeconfig = api.kubeconfig(await api.start());
  api.put(DEPLOYMENTS, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'account-primary', labels: { app: 'account' } },
    spec: { replicas: 2 },
  });
  api.onApply = (collection, obj: Json) => {
    if (collection === DEPLOYMENTS) markReady(obj);
  };
});

function markReady(obj: Json): void {
  const n = obj.spec.replicas ?? 1;
  api.put(DEPLOYMENTS, {
    ...obj,
    status: { observedGeneration: obj.metadata.generation, replicas: n, updatedReplicas: n, availableReplicas: n },
  });
}

const watching = (path: string) =>
  vi.waitFor(() => {
    if (!api.requests.some((r) => r.path === path && r.query.watch === '1')) throw new Error(`no watch on ${path} yet`);
  }, 10_000);
afterEach(() => api.stop());

const plan = kubeTestPlan({ driver: 'k6-operator', gateway: undefined });

describe('the harness Role is what the code calls', () => {
  it('a promotion: tracks created, followed, routed, promoted, deleted', async () => {
    const p = new KubernetesPlatform({ connect, plan, manifestsDir: 'manifests' });
    // The tracks become ready only once the engine watches them (readiness through the watch).
    api.onApply = () => {};
    const deployed = p.deploy(plan.tracks);
    await watching(DEPLOYMENTS);
    api.onApply = (collection, obj: Json) => {
      if (collection === DEPLOYMENTS) markReady(obj);
    };
    for (const name of ['account-baseline', 'account-canary']) markReady(api.get(DEPLOYMENTS, name));
    await deployed;
    for (const s of plan.stages) await p.setRoute(s.route);
    await p.conclude('promote');
    await p.teardown();
  });

  it('a rollback of tracks that were already there (scaled to 0, not deleted)', async () => {
    for (const name of ['account-baseline', 'account-canary'])
      api.put(DEPLOYMENTS, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, labels: { app: 'account' } },
        spec: { replicas: 0 },
      });
    const p = new KubernetesPlatform({ connect, plan, manifestsDir: 'manifests' });
    await p.deploy(plan.tracks);
    await p.conclude('rollback');
    await p.teardown();
  });

  it('a k6-operator load', async () => {
    const d = new K6OperatorDriver({
      connect,
      namespace: NS,
      name: 'canary-load-rbac',
      bundle: async () => 'export const options = {};',
    });
    const run = await d.start({
      target: 'http://istio-ingressgateway.istio-system.svc',
      model: { kind: 'open', profile: { kind: 'constant', rate: 10, durationS: 1 } },
      traffic: { cohorts: [...DEFAULT_COHORTS], mix: DEFAULT_MIX, seed: 1 },
    });
    const labels = { app: 'k6', k6_cr: 'canary-load-rbac', runner: 'true' };
    api.put(JOBS, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'canary-load-rbac-1', labels },
      status: { succeeded: 1 },
    });
    api.put(PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'canary-load-rbac-1-x', labels }, status: {} });
    await watching(TESTRUNS);
    api.put(TESTRUNS, { ...(api.get(TESTRUNS, 'canary-load-rbac') as Json), status: { stage: 'finished' } });
    expect((await run.result()).status).toBe('completed');
  });

  it('collected over the flows above: exactly KUBE_CALLS.run', () => {
    const declared = Object.entries(KUBE_CALLS.run).flatMap(([kind, verbs]) => verbs.map((v) => `${kind} ${v}`));
    expect([...used].sort()).toEqual(declared.sort());
  });
});
