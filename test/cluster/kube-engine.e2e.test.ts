/**
 * The Kubernetes engine on the real test cluster (test/support/cluster.ts): whole runs through the
 * state machine as the harness's ServiceAccount (manifests/rbac/harness.yaml, applied with the
 * reference app by the engine's own `canary deploy` as the admin), so the real RBAC authorizer,
 * server-side apply, field managers, the controllers and KWOK's pods are real. KWOK pods serve
 * nothing, so load, telemetry and the judge are the canary tests' fakes. Every assertion is on what
 * the API server holds. Fails (never skips) without `npm run cluster:build`.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AuthorizationV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { DEFAULT_COHORTS } from '../../load/lib/cohorts.ts';
import { DEFAULT_MIX } from '../../load/lib/mix.ts';
import { REPO_ROOT } from '../../scripts/cluster/layout.ts';
import { kubeTestPlan } from '../../src/platform/testing/kube-plan.ts';
import type { CanaryPlan } from '../../src/canary/plan-types.ts';
import { type RunnerDeps, runCanary } from '../../src/canary/runner.ts';
import { DEFAULTS } from '../../src/canary/testing/fixtures.ts';
import { FakeDriver, FakeSource, manualSignals, ScriptedJudge } from '../../src/canary/testing/fakes.ts';
import { K6OperatorDriver } from '../../src/driver/k6-operator.ts';
import type { StageDecision } from '../../src/judge/verdict.ts';
import { KubeClient, type KubeObject, RESOURCES, kindOf } from '../../src/platform/kube-client.ts';
import { applyReferenceApp } from '../../src/platform/kube-deploy.ts';
import { readManifestObjects, routeObject, trackDeployment } from '../../src/platform/kube-objects.ts';
import { KubernetesPlatform } from '../../src/platform/kubernetes.ts';
import { FIELD_MANAGER, KWOK_FAIL_ANNOTATION, type TestCluster } from '../support/cluster.ts';
import { appReads, type Json, REFERENCE_MANIFESTS, startClusterWithReferenceApp } from '../support/reference-app.ts';

const NS = 'sprincube';
const DEPLOYMENTS = `/apis/apps/v1/namespaces/${NS}/deployments`;
const VS_PATH = `/apis/networking.istio.io/v1beta1/namespaces/${NS}/virtualservices/account`;
const ROLE_PATH = `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/roles/canary-harness`;
const HARNESS = `system:serviceaccount:${NS}:canary-harness`;
const MANIFESTS = REFERENCE_MANIFESTS;
const ON_PRIMARY = [[['primary', 100]]];
const WAIT = { timeout: 90_000, interval: 250 };
const CANARY_IMAGE = 'registry.example/account:v2';

const { getJson, routes, image, deleteTracks } = appReads(() => cluster, NS);

let cluster: TestCluster;
/** The harness's ServiceAccount's kubeconfig (a TokenRequest token). */
let harness: string;
const work = mkdtempSync(join(tmpdir(), 'canary-kube-engine-'));
const reportsDir = join(work, 'reports');

beforeAll(async () => {
  // `canary deploy` as the admin: namespace, the harness's ServiceAccount, Role and RoleBinding, the app.
  cluster = await startClusterWithReferenceApp(NS);
  harness = await cluster.runAs('canary-harness', NS);
  // Between runs only the primary serves: the manifests' own baseline and canary are not running.
  await deleteTracks();
  await vi.waitFor(async () => {
    const d = await getJson(`${DEPLOYMENTS}/account-primary`);
    expect(d?.status?.availableReplicas).toBe(2);
  }, WAIT);
}, 300_000);

afterAll(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
}, 60_000);

function makePlan(manifestsDir = MANIFESTS, stageMaxMs = 1000): CanaryPlan {
  const stage = { minDurationMs: 40, maxDurationMs: stageMaxMs, minSamples: 100 };
  return kubeTestPlan(
    { image: { service: 'account', ref: CANARY_IMAGE }, stagesPercent: [10, 50] },
    { ...DEFAULTS, intervalMs: 20, header: stage, weighted: stage },
    manifestsDir,
  );
}

interface RunSetup {
  plan?: CanaryPlan;
  manifestsDir?: string;
  signals?: ReturnType<typeof manualSignals>;
  log?: string[];
}

function runAsHarness(decide: (stage: string, look: number) => StageDecision, setup: RunSetup = {}) {
  const manifestsDir = setup.manifestsDir ?? MANIFESTS;
  const plan = setup.plan ?? makePlan(manifestsDir);
  const log = setup.log ?? [];
  const deps: RunnerDeps = {
    platform: new KubernetesPlatform({
      connect: () =>
        KubeClient.connect(
          { kubeconfig: harness, context: null },
          { caller: 'run', backoffMs: 100, log: (l) => log.push(l) },
        ),
      plan,
      manifestsDir,
      log: (l) => log.push(l),
    }),
    driver: new FakeDriver(),
    createSource: () => new FakeSource(),
    judge: new ScriptedJudge(decide),
    signals: (setup.signals ?? manualSignals()).subscribe,
  };
  return runCanary(plan, deps, {
    reportsDir,
    config: { file: 'analysis/default.yaml', analysis: {}, flags: {} },
  });
}

/** Passes the header stage, then stays in the 10 % stage (until its 60 s maximum). */
const inWeighted10 = (stage: string): StageDecision => (stage === 'header' ? 'promote' : 'continue');

/** Resolves when the server's VirtualService sends `percent` % of the default route to the canary. */
async function waitForWeight(percent: number): Promise<void> {
  await vi.waitFor(async () => {
    const last = (await routes()).at(-1) as [string, number][];
    expect(last).toContainEqual(['canary', percent]);
  }, WAIT);
}

describe('the Kubernetes engine on the test cluster, as the harness ServiceAccount', { timeout: 120_000 }, () => {
  it('promotes through header stage and weighted steps: the primary runs the canary image, tracks gone, route on the primary', async () => {
    const before = await image('account-primary');
    expect(before).toBe('sprincube/app:0.1.0');
    const seen: unknown[][] = [];
    // At the second look of each stage the route the stage applied is read from the server.
    const looks: Promise<void>[] = [];
    const out = await runAsHarness((stage, look) => {
      if (look === 2) looks.push(routes().then((r) => void seen.push([stage, r])));
      return look >= 3 ? 'promote' : 'continue';
    });
    await Promise.all(looks);
    expect(out.result.reason).toBeDefined();
    expect(out.result.status, out.result.reason).toBe('promoted');
    expect(out.result.exitCode).toBe(0);
    expect(await image('account-primary')).toBe(CANARY_IMAGE);
    const primary = await getJson(`${DEPLOYMENTS}/account-primary`);
    expect(primary?.status?.availableReplicas).toBe(2);
    expect(primary?.status?.updatedReplicas).toBe(2);
    expect(await getJson(`${DEPLOYMENTS}/account-baseline`)).toBeUndefined();
    expect(await getJson(`${DEPLOYMENTS}/account-canary`)).toBeUndefined();
    expect(await routes()).toEqual(ON_PRIMARY);
    // Each stage ran on its own route: header (default route all-primary), then 10 % and 50 %.
    const byStage = Object.fromEntries(seen.map(([s, r]) => [s, r]));
    expect(byStage.header).toEqual([[['canary', 100]], [['baseline', 100]], [['primary', 100]]]);
    expect((byStage['weighted-10'] as unknown[]).at(-1)).toContainEqual(['canary', 10]);
    expect((byStage['weighted-50'] as unknown[]).at(-1)).toContainEqual(['canary', 50]);
    // The primary's image field is the harness's now.
    const managers = ((primary?.metadata.managedFields ?? []) as Json[]).map((m) => m.manager);
    expect(managers).toContain(FIELD_MANAGER);
  });

  it('rolls back: route on the primary, baseline and canary gone, the primary keeps its image', async () => {
    const before = await image('account-primary');
    const out = await runAsHarness((stage) => (stage === 'weighted-10' ? 'rollback' : 'promote'));
    expect(out.result.status, out.result.reason).toBe('rolled-back');
    expect(out.result.exitCode).toBe(1);
    expect(await image('account-primary')).toBe(before);
    expect(await getJson(`${DEPLOYMENTS}/account-baseline`)).toBeUndefined();
    expect(await getJson(`${DEPLOYMENTS}/account-canary`)).toBeUndefined();
    expect(await routes()).toEqual(ON_PRIMARY);
  });

  it('a canary whose image cannot be pulled (KWOK ImagePullBackOff) ends with exit 4 naming the reason, well within 60 s', {
    timeout: 60_000,
  }, async () => {
    // A copy of the manifests whose canary pods carry the annotation KWOK fails pods by.
    const dir = join(work, 'manifests-failing-canary');
    cpSync(MANIFESTS, dir, { recursive: true });
    const file = join(dir, 'app', 'account.yaml');
    const docs = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as Json);
    const canary = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'account-canary');
    if (!canary) throw new Error('manifests/app/account.yaml has no account-canary Deployment');
    canary.spec.template.metadata.annotations = {
      ...canary.spec.template.metadata.annotations,
      [KWOK_FAIL_ANNOTATION]: 'ImagePullBackOff',
    };
    writeFileSync(file, docs.map((d) => stringify(d)).join('---\n'));

    const out = await runAsHarness(() => 'promote', { manifestsDir: dir });
    expect(out.result.exitCode).toBe(4);
    expect(out.result.reason).toMatch(
      /Deployment account-canary: pod account-canary-[a-z0-9-]+ container account: ImagePullBackOff/,
    );
    expect(await routes()).toEqual(ON_PRIMARY);
    expect(await getJson(`${DEPLOYMENTS}/account-canary`)).toBeUndefined();
    expect(await getJson(`${DEPLOYMENTS}/account-baseline`)).toBeUndefined();
  });

  it('SIGINT mid-stage puts the route back on the primary before the run ends with 130', async () => {
    const signals = manualSignals();
    const running = runAsHarness(inWeighted10, { signals, plan: makePlan(MANIFESTS, 60_000) });
    await waitForWeight(10);
    signals.fire('SIGINT');
    const out = await running;
    expect(out.result.exitCode).toBe(130);
    expect(await routes()).toEqual(ON_PRIMARY);
    expect(await getJson(`${DEPLOYMENTS}/account-canary`)).toBeUndefined();
  });

  it('after a run killed mid-stage, canary rollback --kubeconfig (as the harness) puts all traffic on the primary and scales the tracks to 0', async () => {
    // What a run leaves when its process is killed (SIGKILL, a lost CI runner): the tracks deployed
    // and the 10 % route applied, nothing after that.
    const plan = makePlan(MANIFESTS, 60_000);
    const killed = new KubernetesPlatform({
      connect: () => KubeClient.connect({ kubeconfig: harness, context: null }, { caller: 'run', backoffMs: 100 }),
      plan,
      manifestsDir: MANIFESTS,
    });
    await killed.deploy(plan.tracks);
    await killed.setRoute(plan.stages[1]!.route);
    await waitForWeight(10);
    const primary = await image('account-primary');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(REPO_ROOT, 'bin/canary.js'), 'rollback', '--kubeconfig', harness, '--namespace', NS],
      { cwd: REPO_ROOT, timeout: 60_000 },
    );
    expect(stdout).toContain('VirtualService sprincube/account: all traffic on account-primary (read back)');
    expect(stdout).toContain('Deployment sprincube/account-canary: scaled from 1 to 0');
    expect(await routes()).toEqual(ON_PRIMARY);
    for (const name of ['account-baseline', 'account-canary'])
      expect((await getJson(`${DEPLOYMENTS}/${name}`))?.spec.replicas, name).toBe(0);
    expect(await image('account-primary')).toBe(primary);
    await deleteTracks();
  });

  it('the pod watch reconnects after the API server restarts mid-run: a canary pod failing afterwards ends the run with exit 4', async () => {
    const log: string[] = [];
    const running = runAsHarness(inWeighted10, { plan: makePlan(MANIFESTS, 60_000), log });
    await waitForWeight(10);
    const pid = cluster.pids()['kube-apiserver'];
    await cluster.restartApiServer();
    expect(cluster.pids()['kube-apiserver']).not.toBe(pid);
    // A pod of the canary track that can only be seen through a watch opened after the restart.
    await cluster.api.expectOk('POST', `/api/v1/namespaces/${NS}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'account-canary-after-restart',
        labels: { app: 'account', track: 'canary' },
        annotations: { [KWOK_FAIL_ANNOTATION]: 'ImagePullBackOff' },
      },
      spec: { containers: [{ name: 'account', image: 'sprincube/app:does-not-exist' }] },
    });
    const out = await running;
    await cluster.api.request(
      'DELETE',
      `/api/v1/namespaces/${NS}/pods/account-canary-after-restart?gracePeriodSeconds=0`,
    );
    expect(out.result.exitCode, `${out.result.reason}\n${log.join('\n')}`).toBe(4);
    expect(out.result.reason).toContain('pod account-canary-after-restart container account: ImagePullBackOff');
    expect(await routes()).toEqual(ON_PRIMARY);
    expect(await getJson(`${DEPLOYMENTS}/account-canary`)).toBeUndefined();
    expect(await getJson(`${DEPLOYMENTS}/account-baseline`)).toBeUndefined();
  });

  it('concludes a promotion begun after an API server restart: readiness follows the restarted server', async () => {
    let restarted = false;
    const running = runAsHarness((stage) => (restarted || stage === 'header' ? 'promote' : 'continue'), {
      plan: makePlan(MANIFESTS, 60_000),
    });
    await waitForWeight(10);
    await cluster.restartApiServer();
    restarted = true;
    const out = await running;
    expect(out.result.status, out.result.reason).toBe('promoted');
    expect(await image('account-primary')).toBe(CANARY_IMAGE);
    expect(await getJson(`${DEPLOYMENTS}/account-canary`)).toBeUndefined();
    expect(await routes()).toEqual(ON_PRIMARY);
  });

  it('a VirtualService field owned by another manager stops the run with a clear error and changes nothing', async () => {
    const theirs = structuredClone((await getJson(VS_PATH)) as Json);
    const other = {
      apiVersion: theirs.apiVersion,
      kind: theirs.kind,
      metadata: { name: 'account', namespace: NS },
      spec: { ...theirs.spec, http: theirs.spec.http.map((r: Json) => ({ ...r, timeout: '3s' })) },
    };
    const taken = await cluster.api.apply(VS_PATH, other, 'platform-team', '&force=true');
    expect(taken.status, taken.text).toBe(200);
    const held = (await getJson(VS_PATH)) as Json;
    const out = await runAsHarness(() => 'promote');
    try {
      expect(out.result.exitCode).toBe(4);
      expect(out.result.reason).toContain('conflicts with another field manager');
      expect(out.result.reason).toContain('platform-team');
      expect(out.result.reason).toContain('.spec.http');
      const after = (await getJson(VS_PATH)) as Json;
      expect(after.spec).toEqual(held.spec);
      expect(after.metadata.resourceVersion).toBe(held.metadata.resourceVersion);
      expect(await getJson(`${DEPLOYMENTS}/account-canary`)).toBeUndefined();
      expect(await getJson(`${DEPLOYMENTS}/account-baseline`)).toBeUndefined();
    } finally {
      // The route back in the harness's hands for the tests after this one.
      await cluster.api.expectOk('DELETE', VS_PATH);
      await applyReferenceApp({
        manifestsDir: MANIFESTS,
        service: 'account',
        kubeconfig: cluster.kubeconfigPath,
        context: null,
      });
      await deleteTracks();
    }
  });

  it('a Role without delete on deployments: the rollback stands, and the reason names verb, resource and identity', async () => {
    const role = (await getJson(ROLE_PATH)) as Json;
    const rules = (role.rules as Json[]).map((r) =>
      r.resources.includes('deployments') ? { ...r, verbs: r.verbs.filter((v: string) => v !== 'delete') } : r,
    );
    const cut = {
      apiVersion: role.apiVersion,
      kind: role.kind,
      metadata: { name: role.metadata.name, namespace: NS },
      rules,
    };
    await cluster.api.expectOk('PUT', ROLE_PATH, {
      ...cut,
      metadata: { ...cut.metadata, resourceVersion: role.metadata.resourceVersion },
    });
    try {
      // The authorizer sees the new Role once its informer has it: ask as the harness.
      await vi.waitFor(async () => expect(await harnessMay('delete', 'deployments', 'apps')).toBe(false), WAIT);
      const log: string[] = [];
      const out = await runAsHarness((stage) => (stage === 'weighted-10' ? 'rollback' : 'promote'), { log });
      // Rolled back (the verdict stands, traffic is safe), and the reason says what could not be cleaned up.
      expect(out.result.status, `${out.result.reason}\n${log.join('\n')}`).toBe('rolled-back');
      expect(out.result.reason).toContain('cleanup failed: DELETE /apis/apps/v1/namespaces/sprincube/deployments/');
      expect(out.result.reason).toContain(`User "${HARNESS}" cannot delete resource "deployments" in API group "apps"`);
      // The route was put back before the cleanup failed.
      expect(await routes()).toEqual(ON_PRIMARY);
    } finally {
      const now = (await getJson(ROLE_PATH)) as Json;
      await cluster.api.expectOk('PUT', ROLE_PATH, {
        ...role,
        metadata: { ...role.metadata, resourceVersion: now.metadata.resourceVersion, managedFields: undefined },
      });
      await deleteTracks();
      await vi.waitFor(async () => expect(await harnessMay('delete', 'deployments', 'apps')).toBe(true), WAIT);
    }
  });

  it('a TestRun whose runner Job fails is a failed load, and the TestRun and its ConfigMap are deleted', async () => {
    const driver = new K6OperatorDriver({
      connect: () => KubeClient.connect({ kubeconfig: harness, context: null }, { caller: 'run', backoffMs: 100 }),
      namespace: NS,
      name: 'canary-load-e2e',
    });
    const load = await driver.start({
      target: 'http://istio-ingressgateway.istio-system.svc',
      model: { kind: 'open', profile: { kind: 'constant', rate: 50, durationS: 30 } },
      traffic: { cohorts: [...DEFAULT_COHORTS], mix: DEFAULT_MIX, seed: 7 },
    });
    const testRun = `/apis/k6.io/v1alpha1/namespaces/${NS}/testruns/canary-load-e2e`;
    const applied = (await getJson(testRun)) as Json;
    expect(applied.spec.parallelism).toBe(1);
    expect(applied.spec.script.configMap.name).toBe('canary-load-e2e');
    expect((await getJson(`/api/v1/namespaces/${NS}/configmaps/canary-load-e2e`))?.data['canary.js']).toContain(
      'export',
    );
    // The absent operator's part: its runner Job, which the Job controller fails (the pod never
    // starts: KWOK keeps it pulling; the deadline passes), then the TestRun's stage.
    const labels = { app: 'k6', k6_cr: 'canary-load-e2e', runner: 'true' };
    await cluster.api.expectOk('POST', `/apis/batch/v1/namespaces/${NS}/jobs`, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'canary-load-e2e-1', labels },
      spec: {
        backoffLimit: 0,
        activeDeadlineSeconds: 2,
        template: {
          metadata: { labels, annotations: { [KWOK_FAIL_ANNOTATION]: 'ImagePullBackOff' } },
          spec: { restartPolicy: 'Never', containers: [{ name: 'k6', image: 'grafana/k6:absent' }] },
        },
      },
    });
    await vi.waitFor(async () => {
      const job = (await getJson(`/apis/batch/v1/namespaces/${NS}/jobs/canary-load-e2e-1`)) as Json;
      expect(job.status?.conditions?.find((c: Json) => c.type === 'Failed')?.status).toBe('True');
    }, WAIT);
    await cluster.api.expectOk(
      'PATCH',
      `${testRun}/status`,
      { status: { stage: 'finished' } },
      'application/merge-patch+json',
    );
    const result = await load.result();
    expect(result.status).toBe('failed');
    expect(result.reason).toBe('runner Job canary-load-e2e-1 failed');
    expect(await getJson(testRun)).toBeUndefined();
    expect(await getJson(`/api/v1/namespaces/${NS}/configmaps/canary-load-e2e`)).toBeUndefined();
    await cluster.api.request(
      'DELETE',
      `/apis/batch/v1/namespaces/${NS}/jobs/canary-load-e2e-1?propagationPolicy=Background`,
    );
  });

  it('every object the engine renders is accepted by the API server in a strict server-side dry run', async () => {
    // `canary deploy --dry-run -o json` as a user runs it.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(REPO_ROOT, 'bin', 'canary.js'), 'deploy', '--dry-run', '-o', 'json', '--image', `account=${CANARY_IMAGE}`],
      { cwd: REPO_ROOT },
    );
    const printed = (JSON.parse(stdout) as { items: KubeObject[] }).items;
    expect(printed.length).toBeGreaterThan(20);
    // And the run's own objects: tracks, every stage's route, the promoted primary, the scaled-down tracks.
    const plan = makePlan();
    const found = readManifestObjects(MANIFESTS);
    const primary = plan.tracks.find((t) => t.track === 'primary')!;
    const canary = plan.tracks.find((t) => t.track === 'canary')!;
    const run: KubeObject[] = [
      ...plan.tracks.map((t) => trackDeployment(found, plan, t)),
      ...plan.tracks.map((t) => trackDeployment(found, plan, t, 0)),
      trackDeployment(found, plan, { ...primary, image: canary.image, version: canary.version, env: canary.env }),
      routeObject(plan, { kind: 'safe' }),
      ...plan.stages.map((s) => routeObject(plan, s.route)),
    ];
    const failures: string[] = [];
    for (const o of [...printed, ...run]) {
      const r = RESOURCES[kindOf(o)];
      const base = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
      const path = `${base}${r.namespaced ? `/namespaces/${o.metadata.namespace ?? NS}` : ''}/${r.plural}/${o.metadata.name}`;
      const res = await cluster.api.apply(path, o, FIELD_MANAGER, '&dryRun=All');
      const what = `${o.kind}/${o.metadata.name}`;
      if (res.status !== 200 && res.status !== 201)
        failures.push(`${what}: HTTP ${res.status}: ${res.text.slice(0, 300)}`);
      else if (res.warnings.length > 0) failures.push(`${what}: warnings: ${res.warnings.join('; ')}`);
    }
    expect(failures).toEqual([]);
  });
});

/** A SelfSubjectAccessReview as the harness. */
async function harnessMay(verb: string, resource: string, group: string): Promise<boolean> {
  const kc = new KubeConfig();
  kc.loadFromFile(harness);
  const review = await kc.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({
    body: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { namespace: NS, verb, resource, group } },
    },
  });
  return review.status?.allowed === true;
}
