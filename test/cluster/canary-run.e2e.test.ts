/**
 * Whole `canary run`s on the test cluster (test/support/cluster.ts), nothing faked but the container
 * runtime: the reference app applied as the admin, the local data plane following the namespace
 * (`startFollowing`) with its own Prometheus scraping every pod's process, and the real CLI as a
 * child process, as the harness's ServiceAccount, with the builtin driver through the data plane's
 * gateway and the Prometheus source with the project's PromQL templates. A canary 15 % slower and
 * one with 2 points more errors (the scenario's knobs in the canary pod's environment) are rolled
 * back naming the metric; an A/A run is not rolled back; a healthy new tag is promoted, and the
 * data plane then runs the promoted primary. After each, the API server holds the engine's promised
 * end state, and result.json and junit.xml are written. The cases run in this order: the promotion
 * changes the primary's image, which the others check is still the committed one.
 * Fails (never skips) without `npm run cluster:build` or the `prometheus` package.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { REPO_ROOT } from '../../scripts/cluster/layout.ts';
import type { RunResult } from '../../src/canary/result.ts';
import { type FollowingMesh, startFollowing } from '../../src/mesh/follow.ts';
import { type MeshPrometheus, startMeshPrometheus } from '../../src/mesh/telemetry/prometheus-server.ts';
import { KubeClient } from '../../src/platform/kube-client.ts';
import { createSource } from '../../src/telemetry/factory.ts';
import type { TestCluster } from '../support/cluster.ts';
import {
  appReads,
  dataPlaneIdentity,
  followedWorkloads,
  startClusterWithReferenceApp,
} from '../support/reference-app.ts';

const NS = 'sprincube';
const DEPLOYMENTS = `/apis/apps/v1/namespaces/${NS}/deployments`;
const WAIT = { timeout: 90_000, interval: 250 };
const ON_PRIMARY = [[['primary', 100]]];
const CANARY_IMAGE = 'sprincube/app:v2';
/** Requests in flight per track when the load stops: 400 requests/s at tens of ms each. */
const IN_FLIGHT = 20;

const { getJson, routes, image, deleteTracks } = appReads(() => cluster, NS);

let cluster: TestCluster;
let mesh: FollowingMesh | undefined;
let prometheus: MeshPrometheus | undefined;
/** The harness's ServiceAccount's kubeconfig (a TokenRequest token). */
let harness: string;
const log: string[] = [];
const work = mkdtempSync(join(tmpdir(), 'canary-cluster-run-'));
const reportsDir = join(work, 'reports');
/**
 * The embedded default's analysis (seconds-long stages), its verdict standing on unreliable load
 * (these runs share two cores with the data plane, Prometheus and other suites, as the local runs
 * do in src/canary/run.e2e.test.ts), with one weighted step and stages of 10 s to 40 s (flags
 * below) at the default 400 requests/s, so that each run takes well under a minute.
 */
const QUICK = join(work, 'local-warn.yaml');
writeFileSync(QUICK, `${readFileSync(join(REPO_ROOT, 'analysis/local.yaml'), 'utf8')}\nonUnreliableLoad: warn\n`);

beforeAll(async () => {
  cluster = await startClusterWithReferenceApp(NS);
  harness = await cluster.runAs('canary-harness', NS);
  // Between runs only the primary serves: the manifests' own baseline and canary are not running.
  await deleteTracks();
  prometheus = await startMeshPrometheus();
  // The data plane as its own ServiceAccount: it lists and watches, and marks a pod it cannot run.
  const client = await KubeClient.connect(
    { kubeconfig: await dataPlaneIdentity(cluster), context: null },
    { caller: 'follow', backoffMs: 100 },
  );
  mesh = await startFollowing({
    client,
    namespace: NS,
    port: 0,
    targetsFile: prometheus.targetsFile,
    log: (l) => log.push(l),
  });
  await vi.waitFor(
    () => expect(followedWorkloads(mesh!)).toEqual(['account-primary', 'account-primary', 'bff', 'friend']),
    WAIT,
  );
}, 300_000);

afterAll(async () => {
  await mesh?.stop();
  await prometheus?.stop();
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
}, 60_000);

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
}

/** The k6 stand-in (src/driver/testing/), sending the plan's real requests: k6 itself cannot be installed here. */
const K6_STANDIN = { K6_BINARY: resolve(REPO_ROOT, 'src/driver/testing/k6-standin.mjs'), STANDIN_MODE: 'send' };

/** `canary run` on the cluster as a user runs it, as the harness's ServiceAccount; the builtin driver unless told. */
function canaryRun(
  args: string[],
  driver: { name: string; env?: Record<string, string> } = { name: 'builtin' },
): Promise<Finished> {
  const started = Date.now();
  const child = spawn(
    process.execPath,
    [
      resolve(REPO_ROOT, 'bin/canary.js'),
      'run',
      '--no-local',
      '--kubeconfig',
      harness,
      '--namespace',
      NS,
      '--driver',
      driver.name,
      '--gateway',
      mesh!.gatewayUrl,
      '--prometheus',
      prometheus!.url,
      '--config',
      QUICK,
      '--stages',
      '50',
      '--interval',
      '1s',
      '--min-duration',
      '10s',
      '--max-duration',
      '40s',
      '--reports-dir',
      reportsDir,
      '--json',
      ...args,
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...driver.env } },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((done) =>
    child.on('exit', (code) => {
      const wallMs = Date.now() - started;
      console.log(`canary-run: ${args.join(' ')}: exit ${code} after ${(wallMs / 1000).toFixed(1)} s`);
      done({ code, stdout, stderr, wallMs });
    }),
  );
}

/** Where a failed run's story is: its summary and the end of its log. */
const story = (f: Finished) => `${f.stdout}\n${f.stderr.split('\n').slice(-40).join('\n')}`;

/** The run's result.json (through the path the JSON summary names), and that junit.xml is beside it. */
function readResult(f: Finished): { result: RunResult; junit: string } {
  expect(f.stdout, `no JSON summary on stdout: ${story(f)}`).toMatch(/^\{/);
  const summary = JSON.parse(f.stdout) as { reportDir: string };
  const result = JSON.parse(readFileSync(join(summary.reportDir, 'result.json'), 'utf8')) as RunResult;
  const junitFile = join(summary.reportDir, 'junit.xml');
  expect(existsSync(junitFile), `no junit.xml in ${summary.reportDir}`).toBe(true);
  return { result, junit: readFileSync(junitFile, 'utf8') };
}

async function expectTracksGone(): Promise<void> {
  expect(await getJson(`${DEPLOYMENTS}/account-baseline`)).toBeUndefined();
  expect(await getJson(`${DEPLOYMENTS}/account-canary`)).toBeUndefined();
  expect(await routes()).toEqual(ON_PRIMARY);
  // The next case starts once the data plane has stopped the deleted tracks' processes (after their
  // drain): a run begun while the previous run's pods of the same names are still scraped would
  // read their last counts in its first looks (README, "Left out").
  await vi.waitFor(() => {
    const targets = JSON.parse(readFileSync(prometheus!.targetsFile, 'utf8')) as { labels: { pod: string } }[];
    expect(targets.map((t) => t.labels.pod).filter((p) => /^account-(baseline|canary)-/.test(p))).toEqual([]);
  }, WAIT);
}

/**
 * Prometheus's count of requests per track over the run (the project's PromQL templates, through the
 * harness's own source) against the builtin driver's count of responses served by that track (its
 * `x-served-by`, result.json's load section). The driver counts answers only, so Prometheus may count
 * up to the requests in flight at the window's edge more. The baseline's and canary's pods are
 * deleted at the end of the run; their processes drain (still scraped) for a few seconds before
 * they stop, as a deleted pod's sidecar does on a cluster, so what they counted last is read too.
 */
async function expectPrometheusCountsTheDriver(result: RunResult): Promise<void> {
  const tracks = result.plan.tracks.map((t) => t.workload);
  const load = result.load!;
  const driver = load.byWorkload;
  const start = Date.parse(result.startedAt);
  const source = createSource('prometheus', {
    url: prometheus!.url,
    service: 'account',
    workloads: tracks,
    resolutionMs: 500,
  });
  await vi.waitFor(async () => {
    const end = Date.now();
    const [m] = await source.measureWindow(start - 1000, end, end - start + 1000);
    expect(m!.status, m!.reason).toBe('ok');
    const counted = Object.fromEntries(tracks.map((w) => [w, m!.workloads[w]!.requests]));
    const summary = `Prometheus ${JSON.stringify(counted)}, driver ${JSON.stringify(driver)}`;
    for (const w of tracks) {
      expect(driver[w], w).toBeGreaterThan(0);
      expect(counted[w]! - driver[w]!, `${w}: ${summary}`).toBeGreaterThanOrEqual(0);
      expect(counted[w]! - driver[w]!, `${w}: ${summary}`).toBeLessThanOrEqual(IN_FLIGHT);
    }
    console.log(`canary-run: ${summary}`);
  }, WAIT);
}

describe('canary run on the test cluster through the following data plane', { timeout: 180_000 }, () => {
  it('rolls back a canary 15 % slower (latency knob in its pod), naming latency; the primary keeps its image', async () => {
    const before = await image('account-primary');
    const f = await canaryRun(['--image', `account=${CANARY_IMAGE}`, '--scenario', 'slow']);
    expect(f.code, story(f)).toBe(1);
    const { result, junit } = readResult(f);
    expect(result.status).toBe('rolled-back');
    expect(result.responsible.join(' '), result.reason).toMatch(/latency/);
    expect(result.responsible).not.toContain('errors');
    // JUnit: a latency test case of the deciding stage fails.
    expect(junit).toMatch(/<testcase classname="canary\.account\.[\w-]+" name="latency-p\d+"[^>]*><failure/);
    // The canary ran with the slower latency the plan rendered into its pod's environment.
    const canaryTrack = result.plan.tracks.find((t) => t.track === 'canary')!;
    expect(canaryTrack.env.LATENCY).toBe('lognormal:median=23,sigma=0.3');
    expect(log.join('\n')).toMatch(/started account-canary \(v2\)/);
    expect(await image('account-primary')).toBe(before);
    await expectTracksGone();
    await expectPrometheusCountsTheDriver(result);
  });

  it('with the k6 driver (its stand-in sending real requests): rolls back the slower canary, naming latency', async () => {
    const f = await canaryRun(['--image', `account=${CANARY_IMAGE}`, '--scenario', 'slow'], {
      name: 'k6',
      env: K6_STANDIN,
    });
    expect(f.code, story(f)).toBe(1);
    const { result } = readResult(f);
    expect(result.status).toBe('rolled-back');
    expect(result.responsible.join(' '), result.reason).toMatch(/latency/);
    // The load was the k6 driver's: its requests went through the data plane's gateway.
    expect(result.load?.driver).toBe('k6');
    expect(result.load?.byWorkload['account-canary']).toBeGreaterThan(0);
    expect(await image('account-primary')).toBe('sprincube/app:0.1.0');
    await expectTracksGone();
  });

  it('rolls back a canary with 2 points more errors (error knob in its pod), naming errors', async () => {
    const f = await canaryRun(['--image', `account=${CANARY_IMAGE}`, '--scenario', 'errors']);
    expect(f.code, story(f)).toBe(1);
    const { result, junit } = readResult(f);
    expect(result.status).toBe('rolled-back');
    expect(result.responsible, result.reason).toContain('errors');
    expect(result.plan.tracks.find((t) => t.track === 'canary')!.env.ERROR_RATE).toBe('0.02');
    expect(junit).toMatch(/<testcase classname="canary\.account\.[\w-]+" name="errors"[^>]*><failure/);
    // The driver saw the canary's errors too: it is the canary's pod that served them.
    expect(result.load?.errors).toBeGreaterThan(0);
    expect(await image('account-primary')).toBe('sprincube/app:0.1.0');
    await expectTracksGone();
  });

  it('ends with exit 4 naming ImagePullBackOff for a canary image the data plane cannot run; traffic on the primary', async () => {
    const f = await canaryRun(['--image', 'account=registry.example/account:v9']);
    expect(f.code, story(f)).toBe(4);
    const { result } = readResult(f);
    expect(result.exitCode).toBe(4);
    // The kubelet's reason, read from the canary pod's status: while the run waits for the canary
    // (as on a real cluster), or a moment after when KWOK made the pod Running before the data
    // plane marked it (the run's pod watch then ends it).
    expect(result.reason).toMatch(/account-canary.*pod account-canary-[a-z0-9-]+ container account: ImagePullBackOff/);
    expect(log.join('\n')).toMatch(/image "registry\.example\/account:v9" is not the reference app/);
    expect(await image('account-primary')).toBe('sprincube/app:0.1.0');
    await expectTracksGone();
  });

  it("does not roll back an A/A run (the canary is the primary's image and version)", async () => {
    const f = await canaryRun(['--canary-version', 'v1']);
    const { result } = readResult(f);
    expect(result.plan.tracks.map((t) => [t.track, t.image, t.version])).toEqual([
      ['primary', 'sprincube/app:0.1.0', 'v1'],
      ['baseline', 'sprincube/app:0.1.0', 'v1'],
      ['canary', 'sprincube/app:0.1.0', 'v1'],
    ]);
    expect(result.status, story(f)).not.toBe('rolled-back');
    expect([0, 2], story(f)).toContain(f.code);
    expect(result.exitCode).toBe(f.code);
    expect(await image('account-primary')).toBe('sprincube/app:0.1.0');
    await expectTracksGone();
  });

  it('promotes a healthy canary (a new image tag): the primary runs it, baseline and canary gone, route on the primary', async () => {
    expect(await image('account-primary')).toBe('sprincube/app:0.1.0');
    const f = await canaryRun(['--image', `account=${CANARY_IMAGE}`]);
    const { result, junit } = readResult(f);
    expect(f.code, story(f)).toBe(0);
    expect(result.status).toBe('promoted');
    expect(result.stages.map((s) => s.outcome)).toEqual(['promote', 'promote']);
    expect(junit).toMatch(/<testsuites [^>]*tests="8" failures="0"/);
    expect(junit).toContain('<testcase classname="canary.account.weighted-50" name="latency-p90"');
    expect(await image('account-primary')).toBe(CANARY_IMAGE);
    const primary = await getJson(`${DEPLOYMENTS}/account-primary`);
    expect(primary?.status?.availableReplicas).toBe(2);
    expect(primary?.status?.updatedReplicas).toBe(2);
    await expectTracksGone();
    // The data plane runs the promoted primary: the pods of the new ReplicaSet, at version v2.
    await vi.waitFor(() => {
      const primaries = mesh!.workloads().filter((w) => w.workload === 'account-primary');
      expect(primaries.map((w) => w.version)).toEqual(['v2', 'v2']);
    }, WAIT);
  });

  it("after the promotion, the next run's baseline copies the primary as it runs, and its promotion puts v3 on the primary", async () => {
    expect(await image('account-primary')).toBe(CANARY_IMAGE);
    const f = await canaryRun(['--image', 'account=sprincube/app:v3']);
    expect(f.code, story(f)).toBe(0);
    const { result } = readResult(f);
    expect(result.plan.tracks.map((t) => [t.track, t.image, t.version])).toEqual([
      ['primary', CANARY_IMAGE, 'v2'],
      ['baseline', CANARY_IMAGE, 'v2'],
      ['canary', 'sprincube/app:v3', 'v3'],
    ]);
    expect(f.stderr).toContain(
      "kubernetes: account-primary runs sprincube/app:v2 (v2); the baseline copies it, not the manifests' sprincube/app:0.1.0 (v1)",
    );
    expect(log.join('\n')).toMatch(/started account-baseline \(v2\)/);
    // Promoted: the primary takes this run's canary, image and version both.
    const primary = await getJson(`${DEPLOYMENTS}/account-primary`);
    expect(primary?.spec.template.spec.containers[0].image).toBe('sprincube/app:v3');
    expect(primary?.spec.template.metadata.labels.version).toBe('v3');
    await expectTracksGone();
  });
});
