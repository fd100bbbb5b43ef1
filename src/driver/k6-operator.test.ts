/**
 * Contract tests of the k6-operator driver against a loopback fake API server that plays the
 * operator: the ConfigMap and TestRun it applies, how it follows `status.stage`, how it reads the
 * runner Jobs and pods, and that it always deletes what it created.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_COHORTS } from '../../load/lib/cohorts.ts';
import { DEFAULT_MIX } from '../../load/lib/mix.ts';
import { KubeClient } from '../platform/kube-client.ts';
import { FakeKubeApi, type Json } from '../platform/testing/fake-kube-api.ts';
import type { LoadPlan } from './driver.ts';
import { K6OperatorDriver, testRunObject } from './k6-operator.ts';

const NS = 'sprincube';
const TESTRUNS = `/apis/k6.io/v1alpha1/namespaces/${NS}/testruns`;
const CONFIGMAPS = `/api/v1/namespaces/${NS}/configmaps`;
const JOBS = `/apis/batch/v1/namespaces/${NS}/jobs`;
const PODS = `/api/v1/namespaces/${NS}/pods`;

const PLAN: LoadPlan = {
  target: 'http://istio-ingressgateway.istio-system.svc',
  model: { kind: 'open', profile: { kind: 'constant', rate: 200, durationS: 60 } },
  traffic: { cohorts: [...DEFAULT_COHORTS], mix: DEFAULT_MIX, seed: 7 },
};

let api: FakeKubeApi;
let kubeconfig: string;

beforeEach(async () => {
  api = new FakeKubeApi();
  kubeconfig = api.kubeconfig(await api.start());
});
afterEach(() => api.stop());

function driver(parallelism = 2) {
  return new K6OperatorDriver({
    connect: () => KubeClient.connect({ kubeconfig, context: 'fake' }, { caller: 'run', backoffMs: 1 }),
    namespace: NS,
    parallelism,
    name: 'canary-load-test',
    bundle: async (file) => `// bundled ${file.split('/').slice(-2).join('/')}\nexport default function () {}\n`,
  });
}

const labels = { app: 'k6', k6_cr: 'canary-load-test', runner: 'true' };

/** The operator's side: runner Jobs and pods with the given k6 exit codes, then the final stage. */
function operatorFinishes(exitCodes: number[], stage: 'finished' | 'error' = 'finished') {
  exitCodes.forEach((code, i) => {
    api.put(JOBS, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: `canary-load-test-${i + 1}`, labels },
      status: code === 0 ? { succeeded: 1 } : { failed: 1 },
    });
    api.put(PODS, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `canary-load-test-${i + 1}-abcde`, labels },
      status: { containerStatuses: [{ name: 'k6', state: { terminated: { exitCode: code } } }] },
    });
  });
  const tr = api.get(TESTRUNS, 'canary-load-test') as Json;
  api.put(TESTRUNS, { ...tr, status: { stage } });
}

async function started() {
  const run = await driver().start(PLAN);
  return run;
}

describe('the k6-operator driver', () => {
  it('applies the bundled script as a ConfigMap and a TestRun with parallelism and the plan in --env', async () => {
    const run = await started();
    const [cm, tr] = api.sent('PATCH');
    expect(cm).toMatchObject({
      path: `${CONFIGMAPS}/canary-load-test`,
      query: { fieldManager: 'sprincube-canary', force: 'false' },
      contentType: 'application/apply-patch+yaml',
      body: { kind: 'ConfigMap', data: { 'canary.js': '// bundled load/canary.ts\nexport default function () {}\n' } },
    });
    expect(tr).toMatchObject({
      path: `${TESTRUNS}/canary-load-test`,
      body: {
        apiVersion: 'k6.io/v1alpha1',
        kind: 'TestRun',
        spec: { parallelism: 2, script: { configMap: { name: 'canary-load-test', file: 'canary.js' } } },
      },
    });
    const args = (tr!.body as Json).spec.arguments as string;
    expect(args).toContain('--env TARGET=http://istio-ingressgateway.istio-system.svc');
    expect(args).toContain('--env RATE=200');
    expect(args).toContain('--env DURATION=60s');
    operatorFinishes([0, 0]);
    await run.result();
  });

  it('finished with every runner exiting 0 is a completed load; TestRun and ConfigMap are deleted', async () => {
    const run = await started();
    operatorFinishes([0, 0]);
    const r = await run.result();
    expect(r).toMatchObject({ driver: 'k6-operator', status: 'completed', exit: { code: 0, meaning: 'ok' } });
    expect(api.sent('DELETE').map((q) => q.path)).toEqual([
      `${TESTRUNS}/canary-load-test`,
      `${CONFIGMAPS}/canary-load-test`,
    ]);
    expect(api.get(TESTRUNS, 'canary-load-test')).toBeUndefined();
    expect(api.get(CONFIGMAPS, 'canary-load-test')).toBeUndefined();
    const lists = api.sent('GET').filter((q) => q.path === JOBS || q.path === PODS);
    expect(lists.map((q) => q.query.labelSelector)).toEqual([
      'app=k6,k6_cr=canary-load-test,runner=true',
      'app=k6,k6_cr=canary-load-test,runner=true',
    ]);
  });

  it.each([
    [99, 'thresholds failed'],
    [107, 'script error'],
    [108, 'script aborted (test.abort())'],
    [110, 'test marked as failed (test.fail())'],
  ])('finished with a runner exiting %i is a failed load (%s), not a pass', async (code, meaning) => {
    const run = await started();
    operatorFinishes([0, code]);
    const r = await run.result();
    expect(r.status).toBe('failed');
    expect(r.exit).toEqual({ code, meaning });
    expect(r.reason).toBe(`runner pod canary-load-test-2-abcde: k6 exited ${code} (${meaning})`);
    expect(api.get(TESTRUNS, 'canary-load-test')).toBeUndefined();
  });

  it('a failed runner Job without an exit code is a failed load', async () => {
    const run = await started();
    operatorFinishes([0, 0]);
    // Replace the second runner: its Job failed and its pod was never scheduled.
    api.remove(PODS, 'canary-load-test-2-abcde');
    api.put(JOBS, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'canary-load-test-2', labels },
      status: { failed: 1 },
    });
    const r = await run.result();
    expect(r.status).toBe('failed');
  });

  it('stage error is a failed load', async () => {
    const run = await started();
    operatorFinishes([], 'error');
    const r = await run.result();
    expect(r.status).toBe('failed');
    expect(r.reason).toMatch(/TestRun canary-load-test: stage error/);
  });

  it('stop deletes the TestRun and the ConfigMap and reports the stop', async () => {
    const run = await started();
    const r = await run.stop('interrupted');
    expect(r.status).toBe('interrupted');
    expect(api.get(TESTRUNS, 'canary-load-test')).toBeUndefined();
    expect(api.get(CONFIGMAPS, 'canary-load-test')).toBeUndefined();
  });

  it('refuses a parallelism below 1 and an --env value the operator would split', () => {
    expect(() => testRunObject('t', NS, 0, {}, {})).toThrow('parallelism must be a whole number ≥ 1, got 0');
    expect(() => testRunObject('t', NS, 1, { MIX: 'a=1, b=2' }, {})).toThrow('--env MIX has whitespace');
  });

  it('has no client-side view of the requests: snapshots are empty, never invented', async () => {
    const run = await started();
    expect(await run.snapshot()).toMatchObject({ sent: 0, completed: 0, series: [] });
    await run.stop('stopped');
  });
});
