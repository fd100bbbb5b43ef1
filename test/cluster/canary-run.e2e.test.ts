/**
 * A whole `canary run` on the test cluster (test/support/cluster.ts), nothing faked but the container
 * runtime: the reference app applied as the admin, the local data plane following the namespace
 * (`startFollowing`) with its own Prometheus scraping every pod's process, and the real CLI as a
 * child process, as the harness's ServiceAccount, with the builtin driver through the data plane's
 * gateway and the Prometheus source with the project's PromQL templates. An A/A run (the canary is
 * the primary's image and version) is not rolled back, and the API server then holds the engine's
 * promised end state. The healthy, slow and errors cases of issue 10 are not here yet: a healthy run
 * ended inconclusive on a sample-ratio mismatch in 2 of 3 tries (canary 54-56 % of the header
 * stage's tracked requests, though the driver sent the two tester cohorts alike), and until that is
 * understood a test that asserts promotion would fail one run in three.
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
import type { TestCluster } from '../support/cluster.ts';
import { appReads, startClusterWithReferenceApp } from '../support/reference-app.ts';

const NS = 'sprincube';
const DEPLOYMENTS = `/apis/apps/v1/namespaces/${NS}/deployments`;
const WAIT = { timeout: 90_000, interval: 250 };
const ON_PRIMARY = [[['primary', 100]]];

const { getJson, routes, image } = appReads(() => cluster, NS);

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
  for (const name of ['account-baseline', 'account-canary'])
    await cluster.api.request('DELETE', `${DEPLOYMENTS}/${name}?propagationPolicy=Foreground`);
  await vi.waitFor(async () => {
    expect(await getJson(`${DEPLOYMENTS}/account-baseline`)).toBeUndefined();
    expect(await getJson(`${DEPLOYMENTS}/account-canary`)).toBeUndefined();
  }, WAIT);
  prometheus = await startMeshPrometheus();
  const client = await KubeClient.connect(
    { kubeconfig: cluster.kubeconfigPath, context: null },
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
    () =>
      expect(
        mesh!
          .workloads()
          .map((w) => w.workload)
          .sort(),
      ).toEqual(['account-primary', 'account-primary', 'bff', 'friend']),
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

/** `canary run` on the cluster as a user runs it, as the harness's ServiceAccount. */
function canaryRun(args: string[]): Promise<Finished> {
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
      'builtin',
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
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
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

/** The run's result.json (through the path the JSON summary names), and that junit.xml is beside it. */
function readResult(f: Finished): { result: RunResult; junit: string } {
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
}

/** Where a failed run's story is: its summary and the end of its log. */
const story = (f: Finished) => `${f.stdout}\n${f.stderr.split('\n').slice(-40).join('\n')}`;

describe('canary run on the test cluster through the following data plane', { timeout: 180_000 }, () => {
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
});
