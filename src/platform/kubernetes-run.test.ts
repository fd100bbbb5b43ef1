/**
 * Whole runs through the state machine on the Kubernetes engine, against the loopback fake API
 * server (load, telemetry and judge are the canary tests' fakes): what the API server holds at the
 * end of a promotion, a rollback, a canary that cannot pull its image, and a SIGINT mid-stage.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCanary, type RunnerDeps } from '../canary/runner.ts';
import { DEFAULTS } from '../canary/testing/fixtures.ts';
import { FakeDriver, FakeSource, manualSignals, ScriptedJudge } from '../canary/testing/fakes.ts';
import type { StageDecision } from '../judge/verdict.ts';
import { KubeClient } from './kube-client.ts';
import { KubernetesPlatform } from './kubernetes.ts';
import { kubeTestPlan } from './testing/kube-plan.ts';
import { FakeKubeApi, type Json } from './testing/fake-kube-api.ts';

const NS = 'sprincube';
const DEPLOYMENTS = `/apis/apps/v1/namespaces/${NS}/deployments`;
const PODS = `/api/v1/namespaces/${NS}/pods`;
const VS = `/apis/networking.istio.io/v1beta1/namespaces/${NS}/virtualservices`;
const ON_PRIMARY = [[['primary', 100]]];

const reportsDir = mkdtempSync(join(tmpdir(), 'canary-kube-run-'));
afterAll(() => rmSync(reportsDir, { recursive: true, force: true }));

// Fast stages: looks every 20 ms, promote allowed after 40 ms.
const plan = kubeTestPlan(
  { image: { service: 'account', ref: 'registry.example/account:v2' }, stagesPercent: [10, 50] },
  {
    ...DEFAULTS,
    intervalMs: 20,
    header: { minDurationMs: 40, maxDurationMs: 1000, minSamples: 100 },
    // Long enough that a test acting mid-stage (crash, SIGINT) does so before the stage ends on a loaded machine.
    weighted: { minDurationMs: 40, maxDurationMs: 10_000, minSamples: 100 },
  },
);

let api: FakeKubeApi;
let kubeconfig: string;

function ready(obj: Json): void {
  const n = obj.spec.replicas ?? 1;
  api.put(DEPLOYMENTS, {
    ...obj,
    status: { observedGeneration: obj.metadata.generation, replicas: n, updatedReplicas: n, availableReplicas: n },
  });
}

beforeEach(async () => {
  api = new FakeKubeApi();
  kubeconfig = api.kubeconfig(await api.start());
  api.put(DEPLOYMENTS, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'account-primary', labels: { app: 'account' } },
    spec: { replicas: 2, template: { spec: { containers: [{ name: 'account', image: 'sprincube/app:0.1.0' }] } } },
  });
  api.onApply = (collection, obj) => {
    if (collection === DEPLOYMENTS) ready(obj);
  };
});
afterEach(() => api.stop());

function deps(decide: (stage: string, look: number) => StageDecision, signals = manualSignals()): RunnerDeps {
  return {
    platform: new KubernetesPlatform({
      connect: () => KubeClient.connect({ kubeconfig, context: 'fake' }, { caller: 'run', backoffMs: 1 }),
      plan,
      manifestsDir: 'manifests',
    }),
    driver: new FakeDriver(),
    createSource: () => new FakeSource(),
    judge: new ScriptedJudge(decide),
    signals: signals.subscribe,
  };
}

const run = (d: RunnerDeps) =>
  runCanary(plan, d, { reportsDir, config: { file: 'analysis/default.yaml', analysis: {}, flags: {} } });
const routes = () =>
  api.get(VS, 'account')?.spec.http.map((r: Json) => r.route.map((d: Json) => [d.destination.subset, d.weight]));
const deployment = (name: string) => api.get(DEPLOYMENTS, name);
/** An applied VirtualService of the weighted-10 stage: the canary subset at weight 10. */
const inWeighted10 = (vs: Json) =>
  vs.spec.http.some((r: Json) => r.route.some((d: Json) => d.destination.subset === 'canary' && d.weight === 10));

describe('a run on the Kubernetes engine', () => {
  it('promoted: the primary runs the canary image, baseline and canary are gone, all traffic on the primary', async () => {
    const out = await run(deps((_, look) => (look >= 3 ? 'promote' : 'continue')));
    expect(out.result.status).toBe('promoted');
    expect(out.result.exitCode).toBe(0);
    expect(deployment('account-primary')?.spec.template.spec.containers[0].image).toBe('registry.example/account:v2');
    expect(deployment('account-baseline')).toBeUndefined();
    expect(deployment('account-canary')).toBeUndefined();
    expect(routes()).toEqual(ON_PRIMARY);
    // Every stage's route was applied in turn (header, 10 %, 50 %), the promoted one before the promotion.
    const applied = api
      .sent('PATCH', VS)
      .map((r) => (r.body as Json).metadata.annotations['canary.sprincube.io/route'] as string);
    expect(applied[0]).toBe('safe');
    expect(applied.at(-1)).toBe('safe');
    expect(applied.some((a) => a.includes('50'))).toBe(true);
  });

  it('rolled back: the primary keeps its image, the run removes its tracks, all traffic on the primary', async () => {
    const out = await run(deps((stage) => (stage === 'weighted-10' ? 'rollback' : 'promote')));
    expect(out.result.status).toBe('rolled-back');
    expect(out.result.exitCode).toBe(1);
    expect(deployment('account-primary')?.spec.template.spec.containers[0].image).toBe('sprincube/app:0.1.0');
    expect(deployment('account-canary')).toBeUndefined();
    expect(routes()).toEqual(ON_PRIMARY);
  });

  it('a canary that cannot pull its image ends with exit 4 naming pod, container and reason; traffic on the primary', async () => {
    api.onApply = (collection, obj) => {
      if (collection !== DEPLOYMENTS) return;
      if (obj.metadata.name !== 'account-canary') return ready(obj);
      api.put(PODS, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'account-canary-5c6d-q1', labels: { app: 'account', track: 'canary' } },
        status: { containerStatuses: [{ name: 'account', state: { waiting: { reason: 'ErrImagePull' } } }] },
      });
    };
    const out = await run(deps(() => 'promote'));
    expect(out.result.exitCode).toBe(4);
    expect(out.result.reason).toContain('pod account-canary-5c6d-q1 container account: ErrImagePull');
    expect(routes()).toEqual(ON_PRIMARY);
    expect(deployment('account-canary')).toBeUndefined();
  });

  it('a canary pod that starts crash-looping mid-run ends it with exit 4 naming it; traffic on the primary', async () => {
    const running = run(deps((stage) => (stage === 'header' ? 'promote' : 'continue')));
    await vi.waitFor(() => {
      if (!api.sent('PATCH', VS).some((r) => inWeighted10(r.body as Json)))
        throw new Error('not in the weighted stage yet');
    }, 10_000);
    api.put(PODS, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'account-canary-5c6d-q2', labels: { app: 'account', track: 'canary' } },
      status: {
        containerStatuses: [
          { name: 'account', state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting' } } },
        ],
      },
    });
    const out = await running;
    expect(out.result.exitCode).toBe(4);
    // The pod watch reports it as a crashed workload, or a readiness wait still in progress sees it
    // first ("Deployment account-canary: ..."): either way the pod, container and reason are named.
    expect(out.result.reason).toMatch(/workload account-canary exited unexpectedly|Deployment account-canary: /);
    expect(out.result.reason).toContain(
      'pod account-canary-5c6d-q2 container account: CrashLoopBackOff (back-off 10s restarting)',
    );
    expect(routes()).toEqual(ON_PRIMARY);
  });

  it('SIGINT mid-stage: the route is back on the primary before the run ends with 130', async () => {
    const signals = manualSignals();
    const running = run(deps((stage) => (stage === 'header' ? 'promote' : 'continue'), signals));
    await vi.waitFor(() => {
      if (!api.sent('PATCH', VS).some((r) => inWeighted10(r.body as Json)))
        throw new Error('not in the weighted stage yet');
    }, 10_000);
    signals.fire('SIGINT');
    const out = await running;
    expect(out.result.exitCode).toBe(130);
    expect(routes()).toEqual(ON_PRIMARY);
  });
});
