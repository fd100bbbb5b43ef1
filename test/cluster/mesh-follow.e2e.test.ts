/**
 * The local data plane following a namespace of the real test cluster (test/support/cluster.ts):
 * the reference app applied by `canary deploy`'s function as the admin, the real controllers make
 * the ReplicaSets and Pods, KWOK reports them Running and Ready, and the data plane runs a process
 * per pod and routes as the API server's objects say. A route change applied through the API
 * reaches the gateway (its latency is printed, not asserted), a deleted pod's process stops, and
 * `canary mesh up --kubeconfig` does the same from the command line and exits 130 on SIGINT. With
 * `--prometheus` the data plane starts Debian's Prometheus, which scrapes every process through the
 * file SD targets the data plane publishes: its counts per Deployment and version equal the requests
 * sent through the gateway, so does the harness's Prometheus source with the project's PromQL
 * templates, and each series carries the real pod's name and namespace; a Prometheus that dies ends
 * mesh up with exit 4, one whose harness is killed outright goes with it, and a missing binary is
 * refused before anything starts.
 * Fails (never skips) without `npm run cluster:build` or the `prometheus` package.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { REPO_ROOT } from '../../scripts/cluster/layout.ts';
import { type FollowingMesh, startFollowing } from '../../src/mesh/follow.ts';
import { KubeClient, type KubeObject } from '../../src/platform/kube-client.ts';
import { createSource } from '../../src/telemetry/factory.ts';
import { call } from '../support/http.ts';
import type { TestCluster } from '../support/cluster.ts';
import { dataPlaneIdentity, followedWorkloads, startClusterWithReferenceApp } from '../support/reference-app.ts';
import { instantQuery } from '../support/prometheus.ts';

const NS = 'sprincube';
const PODS = `/api/v1/namespaces/${NS}/pods`;
const VS_PATH = `/apis/networking.istio.io/v1beta1/namespaces/${NS}/virtualservices/account`;
const WAIT = { timeout: 60_000, interval: 100 };
/** Pods of the reference app: account-primary has 2 replicas, every other Deployment 1. */
const PODS_EXPECTED = ['account-baseline', 'account-canary', 'account-primary', 'account-primary', 'bff', 'friend'];

// biome-ignore lint/suspicious/noExplicitAny: objects as the API server returns them, read field by field.
type Json = Record<string, any>;

let cluster: TestCluster;
let mesh: FollowingMesh | undefined;
const log: string[] = [];

async function getJson(path: string): Promise<Json | undefined> {
  const res = await cluster.api.request('GET', path);
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status}: ${res.text}`);
  return res.json as Json;
}

/** Names of the pods the cluster reports Running and Ready (and not terminating), by their `app`-track Deployment. */
async function readyPods(): Promise<Json[]> {
  const list = (await getJson(PODS))!;
  return (list.items as Json[]).filter(
    (p) =>
      !p.metadata.deletionTimestamp &&
      p.status?.phase === 'Running' &&
      (p.status.conditions ?? []).some((c: Json) => c.type === 'Ready' && c.status === 'True'),
  );
}

const servedBy = async (gateway: string, user = 'user-1') => {
  const res = await call(`${gateway}/api/profile/1`, { headers: { 'end-user': user } });
  return `${res.status} ${res.headers['x-served-by'] ?? ''}`;
};

/** Pids of live processes with an argument containing `text`. */
function processesWithArgument(text: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        return readFileSync(`/proc/${e}/cmdline`, 'utf8')
          .split('\0')
          .some((a) => a.includes(text));
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

/** `canary mesh up` as a child process, its output collected. */
function meshUpCli(extra: string[], env: NodeJS.ProcessEnv = process.env) {
  const cli = spawn(
    process.execPath,
    [
      resolve(REPO_ROOT, 'bin/canary.js'),
      'mesh',
      'up',
      '--kubeconfig',
      cluster.kubeconfigPath,
      '--namespace',
      NS,
      '--port',
      '0',
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env },
  );
  const output = { out: '', err: '' };
  cli.stdout!.on('data', (c: Buffer) => (output.out += c.toString()));
  cli.stderr!.on('data', (c: Buffer) => (output.err += c.toString()));
  const exited = new Promise<number | null>((r) => cli.once('exit', (code) => r(code)));
  /** The first match of `re` (group 1) in stdout, once it is there. */
  const printed = (re: RegExp) =>
    vi.waitFor(() => {
      const m = re.exec(output.out);
      expect(m, `stdout:\n${output.out}\nstderr:\n${output.err}`).not.toBeNull();
      return m![1]!;
    }, WAIT);
  const kill = () => {
    if (cli.exitCode === null && cli.signalCode === null) cli.kill('SIGKILL');
  };
  return { cli, output, exited, printed, kill };
}

/** The data plane's own identity (cluster/config/rbac/data-plane.yaml), set in beforeAll. */
let dataPlane: string;
const followClient = () =>
  KubeClient.connect({ kubeconfig: dataPlane, context: null }, { caller: 'follow', backoffMs: 100 });

beforeAll(async () => {
  cluster = await startClusterWithReferenceApp(NS);
  dataPlane = await dataPlaneIdentity(cluster);
  await vi.waitFor(async () => expect((await readyPods()).length).toBe(PODS_EXPECTED.length), WAIT);
}, 300_000);

afterAll(async () => {
  await mesh?.stop();
  await cluster?.stop();
}, 60_000);

describe('the data plane following the test cluster', { timeout: 120_000 }, () => {
  it('runs a process per Running pod, named by its Deployment, and serves the account through the gateway', async () => {
    mesh = await startFollowing({ client: await followClient(), namespace: NS, port: 0, log: (l) => log.push(l) });
    await vi.waitFor(() => expect(followedWorkloads(mesh!)).toEqual(PODS_EXPECTED), WAIT);
    const pods = new Set((await readyPods()).map((p) => p.metadata.name));
    expect(new Set(mesh.workloads().map((w) => w.pod))).toEqual(pods);
    expect(mesh.workloads().find((w) => w.workload === 'account-canary')?.version).toBe('v2');
    expect(await servedBy(mesh.gatewayUrl)).toBe('200 bff, account-primary, friend');
    // The route is the server's, not the files': `canary deploy` left the account's VirtualService on the
    // safe route (everyone on the primary), where the files send canary testers to the canary.
    expect(await servedBy(mesh.gatewayUrl, 'canary-tester-4')).toBe('200 bff, account-primary, friend');
    expect(log.join('\n')).not.toContain('refused');
  });

  it('follows a VirtualService change applied through the API: all traffic to the canary, then back', async () => {
    const gateway = mesh!.gatewayUrl;
    const admin = await KubeClient.connect(
      { kubeconfig: cluster.kubeconfigPath, context: null },
      { caller: 'deploy', backoffMs: 100 },
    );
    const held = (await getJson(VS_PATH))!;
    const original: KubeObject = {
      apiVersion: held.apiVersion,
      kind: held.kind,
      metadata: { name: held.metadata.name, namespace: NS },
      spec: held.spec,
    };
    const allCanary = structuredClone(original);
    (allCanary.spec as Json).http = [
      { name: 'all', route: [{ destination: { host: 'account', subset: 'canary' } }], timeout: '10s' },
    ];
    const started = performance.now();
    await admin.apply(allCanary);
    const applied = performance.now();
    await vi.waitFor(async () => expect(await servedBy(gateway)).toBe('200 bff, account-canary, friend'), {
      timeout: 30_000,
      interval: 5,
    });
    const served = performance.now();
    console.log(
      `mesh-follow: route change served through the gateway ${(served - started).toFixed(0)} ms after the apply was sent (${(served - applied).toFixed(0)} ms after the API server answered)`,
    );
    await admin.apply(original);
    await vi.waitFor(async () => expect(await servedBy(gateway)).toBe('200 bff, account-primary, friend'), {
      timeout: 30_000,
      interval: 5,
    });
  });

  it("stops a deleted pod's process, and starts the pod its ReplicaSet makes instead", async () => {
    const victim = mesh!.workloads().find((w) => w.workload === 'account-primary')!;
    expect((await call(victim.metricsUrl)).status).toBe(200);
    const res = await cluster.api.request('DELETE', `${PODS}/${victim.pod}`);
    expect(res.status, res.text).toBe(200);
    await vi.waitFor(() => expect(mesh!.workloads().map((w) => w.pod)).not.toContain(victim.pod), WAIT);
    // Out of the routes at once, stopped once it has drained (as a deleted pod's sidecar).
    await vi.waitFor(() => expect(log.join('\n')).toContain(`pod ${victim.pod}: stopped account-primary`), WAIT);
    await expect(call(victim.metricsUrl)).rejects.toThrow();
    await vi.waitFor(
      () => expect(mesh!.workloads().filter((w) => w.workload === 'account-primary')).toHaveLength(2),
      WAIT,
    );
    expect(await servedBy(mesh!.gatewayUrl)).toBe('200 bff, account-primary, friend');
    await mesh!.stop();
    mesh = undefined;
  });

  it('canary mesh up --kubeconfig --namespace: the gateway URL, the account through it, exit 130 on SIGINT with every process gone', async () => {
    const { cli, output, exited, printed, kill } = meshUpCli([]);
    try {
      const gateway = await printed(/^gateway: (http:\/\/127\.0\.0\.1:\d+)$/m);
      await vi.waitFor(async () => expect(await servedBy(gateway)).toBe('200 bff, account-primary, friend'), WAIT);
      const metrics = [...output.out.matchAll(/^metrics: .* (http:\/\/127\.0\.0\.1:\d+\/metrics)$/gm)].map(
        (m) => m[1]!,
      );
      expect(metrics.length).toBeGreaterThan(1);
      expect(output.out).not.toContain('prometheus:');
      cli.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(output.err).toContain('mesh up: stopped every process (SIGINT)');
      for (const url of metrics) await expect(call(url)).rejects.toThrow();
      await expect(call(`${gateway}/api/profile/1`)).rejects.toThrow();
    } finally {
      kill();
    }
  });

  it('canary mesh up --prometheus: Prometheus counts per Deployment and version exactly the requests sent through the gateway, each series on its real pod', async () => {
    const { cli, output, exited, printed, kill } = meshUpCli(['--prometheus']);
    try {
      const gateway = await printed(/^gateway: (http:\/\/127\.0\.0\.1:\d+)$/m);
      const prometheus = await printed(/^prometheus: (http:\/\/127\.0\.0\.1:\d+)$/m);
      const dataDir = /its data in (\S+), removed at stop/.exec(output.err)?.[1];
      expect(dataDir, output.err).toBeDefined();
      expect(existsSync(dataDir!)).toBe(true);
      expect(processesWithArgument(dataDir!)).toHaveLength(1);
      // Which Deployment each pod's process runs, as mesh up prints it, and the cluster's pods.
      const pods = await readyPods();
      const workloadOfPod = await vi.waitFor(() => {
        const printedPods = new Map(
          [...output.out.matchAll(/^metrics: (\S+) \(pod (\S+)\) http:\/\/127\.0\.0\.1:\d+\/metrics$/gm)].map((m) => [
            m[2]!,
            m[1]!,
          ]),
        );
        expect(new Set(printedPods.keys())).toEqual(new Set(pods.map((p) => p.metadata.name)));
        return printedPods;
      }, WAIT);
      const versionOf = new Map(
        pods.map((p) => [workloadOfPod.get(p.metadata.name)!, p.metadata.labels.version as string]),
      );

      // The first requests of this data plane: every workload that served one counts it once.
      const sent = new Map<string, number>();
      const start = Date.now();
      for (let i = 0; i < 30; i++) {
        const res = await call(`${gateway}/api/profile/1`, { headers: { 'end-user': `user-${i}` } });
        expect(res.status, res.body).toBe(200);
        for (const w of (res.headers['x-served-by'] ?? '').split(', '))
          sent.set(`${w} ${versionOf.get(w)}`, (sent.get(`${w} ${versionOf.get(w)}`) ?? 0) + 1);
      }
      expect(sent).toEqual(
        new Map([
          ['bff v1', 30],
          ['account-primary v1', 30],
          ['friend v1', 30],
        ]),
      );

      const byWorkload = `sum by (destination_workload, destination_version) (istio_requests_total{reporter="destination", destination_workload_namespace="${NS}"})`;
      await vi.waitFor(async () => {
        const counted = new Map(
          (await instantQuery(prometheus, byWorkload)).map((r) => [
            `${r.metric.destination_workload} ${r.metric.destination_version}`,
            Number(r.value[1]),
          ]),
        );
        expect(counted).toEqual(sent);
      }, WAIT);

      const end = Date.now();

      // The harness's own reading, the project's PromQL templates through its Prometheus source.
      const tracks = ['account-primary', 'account-baseline', 'account-canary'];
      const source = createSource('prometheus', {
        url: prometheus,
        service: 'account',
        workloads: tracks,
        resolutionMs: 500,
      });
      const [measured] = await source.measureWindow(start, end, end - start);
      expect(measured!.status, measured!.reason).toBe('ok');
      expect(Object.fromEntries(tracks.map((w) => [w, measured!.workloads[w]!.requests]))).toEqual({
        'account-primary': 30,
        'account-baseline': 0,
        'account-canary': 0,
      });

      // Each series is labelled with the pod and namespace of the process that reported it.
      const byPod = await instantQuery(
        prometheus,
        `sum by (namespace, pod, destination_workload) (istio_requests_total{reporter="destination", destination_workload_namespace="${NS}"})`,
      );
      expect(byPod.length).toBeGreaterThanOrEqual(3);
      for (const r of byPod) {
        expect(r.metric.namespace).toBe(NS);
        expect(workloadOfPod.get(r.metric.pod!), JSON.stringify(r.metric)).toBe(r.metric.destination_workload);
      }
      expect(byPod.reduce((n, r) => n + Number(r.value[1]), 0)).toBe(90);

      cli.kill('SIGINT');
      expect(await exited).toBe(130);
      await expect(call(`${prometheus}/-/ready`)).rejects.toThrow();
      expect(processesWithArgument(dataDir!)).toEqual([]);
      expect(existsSync(dataDir!)).toBe(false);
    } finally {
      kill();
    }
  });

  it('canary mesh up --prometheus exits 4 when its Prometheus dies, naming it, and stops every other process', async () => {
    const { output, exited, printed, kill } = meshUpCli(['--prometheus']);
    try {
      const gateway = await printed(/^gateway: (http:\/\/127\.0\.0\.1:\d+)$/m);
      await printed(/^prometheus: (http:\/\/127\.0\.0\.1:\d+)$/m);
      const dataDir = /its data in (\S+), removed at stop/.exec(output.err)?.[1];
      expect(dataDir, output.err).toBeDefined();
      const [pid, ...others] = processesWithArgument(dataDir!);
      expect(others).toEqual([]);
      process.kill(pid!, 'SIGKILL');
      const metrics = [...output.out.matchAll(/^metrics: .* (http:\/\/127\.0\.0\.1:\d+\/metrics)$/gm)].map(
        (m) => m[1]!,
      );
      expect(metrics.length).toBeGreaterThan(1);
      expect(await exited).toBe(4);
      expect(output.err).toMatch(/canary: prometheus exited \(signal SIGKILL\).*; stopped the mesh/s);
      await expect(call(`${gateway}/api/profile/1`)).rejects.toThrow();
      for (const url of metrics) await expect(call(url)).rejects.toThrow();
      expect(existsSync(dataDir!)).toBe(false);
    } finally {
      kill();
    }
  });

  it('canary mesh up --prometheus killed with SIGKILL leaves no Prometheus and no pod process behind', async () => {
    const { cli, output, exited, printed, kill } = meshUpCli(['--prometheus']);
    let dataDir: string | undefined;
    try {
      await printed(/^prometheus: (http:\/\/127\.0\.0\.1:\d+)$/m);
      dataDir = /its data in (\S+), removed at stop/.exec(output.err)?.[1];
      expect(dataDir, output.err).toBeDefined();
      expect(processesWithArgument(dataDir!)).toHaveLength(1);
      const metrics = [...output.out.matchAll(/^metrics: .* (http:\/\/127\.0\.0\.1:\d+\/metrics)$/gm)].map(
        (m) => m[1]!,
      );
      expect(metrics.length).toBeGreaterThan(1);
      cli.kill('SIGKILL');
      await exited;
      // No exit handler ran: the kernel ends Prometheus, the pods' processes leave with the IPC channel.
      await vi.waitFor(() => expect(processesWithArgument(dataDir!)).toEqual([]), WAIT);
      for (const url of metrics) await vi.waitFor(() => expect(call(url)).rejects.toThrow(), WAIT);
    } finally {
      kill();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('canary mesh up --prometheus without a prometheus on PATH exits 4 naming it, before starting anything', async () => {
    const { output, exited, kill } = meshUpCli(['--prometheus'], { ...process.env, PATH: '/nonexistent' });
    try {
      expect(await exited).toBe(4);
      expect(output.err).toContain(
        "--prometheus: no executable prometheus on PATH (/nonexistent): install Debian's package",
      );
      expect(output.out).not.toContain('gateway:');
    } finally {
      kill();
    }
  });
});
