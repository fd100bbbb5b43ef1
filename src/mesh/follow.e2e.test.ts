/**
 * The data plane that follows a namespace, against the loopback fake API server (the real test
 * cluster is test/cluster/mesh-follow.e2e.test.ts): real child processes of the reference app, one
 * per pod the fake reports Running and Ready, routes as the fake holds them. The fake plays the
 * controllers: the test writes the ReplicaSets and Pods a Deployment would have.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { call } from '../../test/support/http.ts';
import { CLUSTER_MANIFEST_KINDS } from '../manifests/cluster-source.ts';
import { parseManifestFile } from '../manifests/load.ts';
import { KubeClient, type KubeObject } from '../platform/kube-client.ts';
import { FakeKubeApi, type Json } from '../platform/testing/fake-kube-api.ts';
import type { UnexpectedExit } from './children.ts';
import { type FollowingMesh, startFollowing } from './follow.ts';
import { sampleSum } from './testing.ts';

const NS = 'sprincube';
const VS = `/apis/networking.istio.io/v1beta1/namespaces/${NS}/virtualservices`;
const RS = `/apis/apps/v1/namespaces/${NS}/replicasets`;
const PODS = `/api/v1/namespaces/${NS}/pods`;
const AP = `/apis/security.istio.io/v1beta1/namespaces/${NS}/authorizationpolicies`;
/** What the bff answers when the account's sidecar denies it a 403: an upstream error. */
const DENIED_THROUGH_BFF = 502;
const WAIT = { timeout: 15_000, interval: 50 };

let api: FakeKubeApi;
let server: string;
let mesh: FollowingMesh;
const log: string[] = [];
let uid = 0;
const targetsDir = mkdtempSync(join(tmpdir(), 'canary-follow-targets-'));
const targetsFile = join(targetsDir, 'targets.json');

/** The file SD targets on file, as `pod host:port`, sorted. */
function targetsOnFile(): string[] {
  const groups = JSON.parse(readFileSync(targetsFile, 'utf8')) as { targets: string[]; labels: Json }[];
  return groups.map((g) => `${g.labels.namespace}/${g.labels.pod} ${g.targets.join(',')}`).sort();
}

/** What the file should hold: the gateway and every pod running now, each its /metrics host:port. */
function targetsRunning(): string[] {
  return [
    `istio-system/istio-ingressgateway ${new URL(mesh.metricsUrls()[0]!).host}`,
    ...mesh.workloads().map((w) => `${NS}/${w.pod} ${new URL(w.metricsUrl).host}`),
  ].sort();
}

function referenceObjects(): KubeObject[] {
  return ['app', 'istio']
    .flatMap((folder) =>
      readdirSync(join('manifests', folder))
        .filter((f) => f.endsWith('.yaml'))
        .flatMap((f) => parseManifestFile(f, readFileSync(join('manifests', folder, f), 'utf8'))),
    )
    .map((l) => l.value as unknown as KubeObject)
    .filter((o) => (CLUSTER_MANIFEST_KINDS as readonly string[]).includes(o.kind));
}

/** The ReplicaSet the Deployment controller would create for `deployment`. */
function replicaSetOf(deployment: Json): Json {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${deployment.metadata.name}-5d8f`,
      namespace: NS,
      labels: deployment.spec.template.metadata.labels,
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name, controller: true },
      ],
    },
    spec: { replicas: 1, selector: deployment.spec.selector, template: deployment.spec.template },
  };
}

/** A pod of that ReplicaSet, Running and Ready as a kubelet (KWOK) reports it, unless told otherwise. */
function podOf(deployment: Json, suffix: string, over: { ready?: boolean; image?: string } = {}): Json {
  const template = structuredClone(deployment.spec.template);
  if (over.image) template.spec.containers[0].image = over.image;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${deployment.metadata.name}-5d8f-${suffix}`,
      namespace: NS,
      uid: `pod-uid-${++uid}`,
      labels: { ...template.metadata.labels, 'pod-template-hash': '5d8f' },
      annotations: template.metadata.annotations,
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${deployment.metadata.name}-5d8f`, controller: true },
      ],
    },
    spec: template.spec,
    status: {
      phase: 'Running',
      podIP: '10.244.0.9', // a label only: nothing dials it
      conditions: [{ type: 'Ready', status: over.ready === false ? 'False' : 'True' }],
    },
  };
}

/** Pids of this process's live children that run a proxy of the data plane. */
function childProxies(): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
        return (
          ppid === process.pid && state !== 'Z' && readFileSync(`/proc/${e}/cmdline`, 'utf8').includes('workload-main')
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function deletePod(name: string): Promise<void> {
  const res = await fetch(`${server}${PODS}/${name}`, { method: 'DELETE' });
  expect(res.status).toBe(200);
}

const servedBy = async (user = 'user-1') =>
  (await call(`${mesh.gatewayUrl}/api/profile/1`, { headers: { 'end-user': user } })).headers['x-served-by'];

beforeAll(async () => {
  api = new FakeKubeApi();
  server = await api.start();
  const kubeconfig = api.kubeconfig(server);
  const admin = await KubeClient.connect({ kubeconfig, context: 'fake' }, { caller: 'deploy', backoffMs: 1 });
  const objects = referenceObjects();
  for (const o of objects) await admin.apply(structuredClone(o));
  // One pod each for the bff, friend, the account primary and canary; the baseline has none yet.
  for (const d of objects.filter((o) => o.kind === 'Deployment') as Json[]) {
    api.put(RS, replicaSetOf(d));
    if (d.metadata.name !== 'account-baseline') api.put(PODS, podOf(d, 'a'));
  }
  const client = await KubeClient.connect({ kubeconfig, context: 'fake' }, { caller: 'follow', backoffMs: 1 });
  mesh = await startFollowing({ client, namespace: NS, port: 0, log: (l) => log.push(l), targetsFile });
}, 90_000);

afterAll(async () => {
  await mesh?.stop();
  await api?.stop();
  rmSync(targetsDir, { recursive: true, force: true });
});

const deployment = (name: string) => api.get(`/apis/apps/v1/namespaces/${NS}/deployments`, name) as Json;

describe('the data plane following a namespace', () => {
  it('runs a process for every Running and Ready pod, named by its Deployment and version label', async () => {
    expect(mesh.gatewayUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(
      mesh
        .workloads()
        .map((w) => `${w.workload} ${w.version} ${w.pod}`)
        .sort(),
    ).toEqual([
      'account-canary v2 account-canary-5d8f-a',
      'account-primary v1 account-primary-5d8f-a',
      'bff v1 bff-5d8f-a',
      'friend v1 friend-5d8f-a',
    ]);
    expect(mesh.workloads().every((w) => /^http:\/\/127\.0\.0\.1:\d+$/.test(w.url))).toBe(true);
    expect(childProxies()).toHaveLength(1 + mesh.workloads().length);
    expect(childProxies()).toEqual(expect.arrayContaining(mesh.workloads().map((w) => w.pid)));
    expect(await servedBy()).toBe('bff, account-primary, friend');
    expect(await servedBy('canary-tester-3')).toBe('bff, account-canary, friend');
  });

  it('publishes the gateway and every pod as file SD targets on loopback, labelled with namespace, pod and the pod labels', () => {
    expect(targetsOnFile()).toHaveLength(5);
    expect(targetsOnFile()).toEqual(targetsRunning());
    const groups = JSON.parse(readFileSync(targetsFile, 'utf8')) as { targets: string[]; labels: Json }[];
    expect(groups.find((g) => g.labels.pod === 'account-canary-5d8f-a')?.labels).toEqual({
      app: 'account',
      version: 'v2',
      track: 'canary',
      namespace: NS,
      pod: 'account-canary-5d8f-a',
    });
    expect(groups.flatMap((g) => g.targets).every((t) => /^127\.0\.0\.1:\d+$/.test(t))).toBe(true);
  });

  it('follows a VirtualService change: all traffic to the canary, then back', async () => {
    const original = structuredClone(api.get(VS, 'account'));
    const allCanary = structuredClone(original);
    allCanary.spec.http = [{ name: 'all', route: [{ destination: { host: 'account', subset: 'canary' } }] }];
    api.put(VS, allCanary);
    await vi.waitFor(async () => expect(await servedBy()).toBe('bff, account-canary, friend'), WAIT);
    api.put(VS, original);
    await vi.waitFor(async () => expect(await servedBy()).toBe('bff, account-primary, friend'), WAIT);
  });

  it('a change that does not compile is logged naming the object and field, and the previous routes stay', async () => {
    const original = structuredClone(api.get(VS, 'account'));
    const bad = structuredClone(original);
    bad.spec.http[2].mirror = { host: 'account', subset: 'canary' };
    bad.spec.http[2].route = [{ destination: { host: 'account', subset: 'canary' } }];
    api.put(VS, bad);
    await vi.waitFor(
      () =>
        expect(log.join('\n')).toMatch(
          /change refused, the previous configuration stays in force: .*cluster: sprincube\/VirtualService\/account.*spec\.http\[2\]\.mirror/,
        ),
      WAIT,
    );
    await mesh.settled();
    expect(await servedBy()).toBe('bff, account-primary, friend');
    delete bad.spec.http[2].mirror;
    api.put(VS, bad);
    await vi.waitFor(async () => expect(await servedBy()).toBe('bff, account-canary, friend'), WAIT);
    expect(log.join('\n')).toContain('configuration accepted again');
    api.put(VS, original);
    await vi.waitFor(async () => expect(await servedBy()).toBe('bff, account-primary, friend'), WAIT);
  });

  it('follows an AuthorizationPolicy added and deleted: the account denies the bff, then serves it again', async () => {
    const account = () => call(`${mesh.gatewayUrl}/api/account/1`, { headers: { 'end-user': 'user-1' } });
    expect((await account()).status).toBe(200);
    api.put(AP, {
      apiVersion: 'security.istio.io/v1beta1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'deny-account-reads', namespace: NS },
      spec: {
        selector: { matchLabels: { app: 'account' } },
        action: 'DENY',
        rules: [{ to: [{ operation: { paths: ['/api/*'] } }] }],
      },
    });
    await vi.waitFor(async () => expect((await account()).status).toBe(DENIED_THROUGH_BFF), WAIT);
    // The account's sidecar denied it, and counted the denial.
    const primary = mesh.workloads().find((w) => w.workload === 'account-primary')!;
    const denied = { reporter: 'destination', source_workload: 'bff', response_code: '403' };
    expect(sampleSum((await call(primary.metricsUrl)).body, 'istio_requests_total', denied)).toBeGreaterThan(0);
    const res = await fetch(`${server}${AP}/deny-account-reads`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    await vi.waitFor(async () => expect((await account()).status).toBe(200), WAIT);
  });

  it('starts a pod that becomes Ready, and not one with an image other than the reference app', async () => {
    const baseline = deployment('account-baseline');
    const notReady = podOf(baseline, 'b', { ready: false });
    api.put(PODS, notReady);
    api.put(PODS, podOf(baseline, 'x', { image: 'registry.example/account:v2' }));
    await vi.waitFor(() => expect(log.join('\n')).toContain('registry.example/account:v2'), WAIT);
    await mesh.settled();
    expect(mesh.workloads().map((w) => w.workload)).not.toContain('account-baseline');
    expect(log.join('\n')).toContain(
      'pod account-baseline-5d8f-x: image "registry.example/account:v2" is not the reference app (sprincube/app:TAG); not started, reported as ImagePullBackOff',
    );
    // Marked for KWOK's failure stage, by a merge patch of its annotations only, once.
    await vi.waitFor(
      () =>
        expect(api.get(PODS, 'account-baseline-5d8f-x')?.metadata.annotations).toMatchObject({
          'kwok.canary.sprincube.io/fail': 'ImagePullBackOff',
        }),
      WAIT,
    );
    const marks = api.sent('PATCH', PODS);
    expect(marks.map((r) => [r.path, r.contentType, r.body])).toEqual([
      [
        `${PODS}/account-baseline-5d8f-x`,
        'application/merge-patch+json',
        { metadata: { annotations: { 'kwok.canary.sprincube.io/fail': 'ImagePullBackOff' } } },
      ],
    ]);
    notReady.status.conditions[0].status = 'True';
    api.put(PODS, notReady);
    await vi.waitFor(() => expect(mesh.workloads().map((w) => w.pod)).toContain('account-baseline-5d8f-b'), WAIT);
    await vi.waitFor(
      async () => expect(await servedBy('baseline-tester-1')).toBe('bff, account-baseline, friend'),
      WAIT,
    );
    expect(targetsOnFile()).toContain(
      `${NS}/account-baseline-5d8f-b ${new URL(mesh.workloads().find((w) => w.pod === 'account-baseline-5d8f-b')!.metricsUrl).host}`,
    );
    expect(targetsOnFile()).toEqual(targetsRunning());
    expect(targetsOnFile().join('\n')).not.toContain('account-baseline-5d8f-x');
  });

  it("stops a deleted pod's process: its /metrics stops answering and the routes lose it", async () => {
    const primary = mesh.workloads().find((w) => w.workload === 'account-primary')!;
    expect((await call(primary.metricsUrl)).status).toBe(200);
    await deletePod(primary.pod);
    await vi.waitFor(() => expect(mesh.workloads().map((w) => w.workload)).not.toContain('account-primary'), WAIT);
    // Out of the routes at once; its process drains (still scraped) before it stops.
    expect(log.join('\n')).toContain(
      `pod ${primary.pod}: gone; account-primary out of the routes, stopping in 5000 ms`,
    );
    await vi.waitFor(() => expect(log.join('\n')).toContain(`pod ${primary.pod}: stopped account-primary`), WAIT);
    await expect(call(primary.metricsUrl)).rejects.toThrow();
    await mesh.settled();
    expect(targetsOnFile().join('\n')).not.toContain(primary.pod);
    expect(targetsOnFile()).toEqual(targetsRunning());
    // The default route still names the primary subset, which has no endpoint now: 503 from the mesh.
    const res = await call(`${mesh.gatewayUrl}/api/account/1`, { headers: { 'end-user': 'user-1' } });
    expect(res.status).not.toBe(200);
  });

  it('reports a process that dies unasked, drops its endpoint and does not start it again', async () => {
    const exits: UnexpectedExit[] = [];
    mesh.onUnexpectedExit((e) => exits.push(e));
    const friend = mesh.workloads().find((w) => w.workload === 'friend')!;
    process.kill(friend.pid, 'SIGKILL');
    await vi.waitFor(() => expect(exits.map((e) => e.workload)).toEqual(['friend']), WAIT);
    expect(exits[0]!.signal).toBe('SIGKILL');
    await mesh.settled();
    expect(mesh.workloads().map((w) => w.workload)).not.toContain('friend');
    expect(log.join('\n')).toContain(`pod ${friend.pod}: friend exited unexpectedly; not started again`);
    expect(targetsOnFile().join('\n')).not.toContain(friend.pod);
    expect(targetsOnFile()).toEqual(targetsRunning());
  });

  it('stops every process on stop', async () => {
    const urls = mesh.metricsUrls();
    expect(urls.length).toBe(1 + mesh.workloads().length);
    await mesh.stop();
    for (const url of urls) await expect(call(url)).rejects.toThrow();
    expect(targetsOnFile()).toEqual([]);
  });
});

describe('the data plane following a namespace whose objects do not compile', () => {
  it('refuses to start, naming cluster: ns/Kind/name and the field, and leaves no process running', async () => {
    const bad = new FakeKubeApi();
    const url = await bad.start();
    try {
      const kubeconfig = bad.kubeconfig(url);
      const admin = await KubeClient.connect({ kubeconfig, context: 'fake' }, { caller: 'deploy', backoffMs: 1 });
      for (const o of referenceObjects()) {
        const copy = structuredClone(o) as Json;
        if (copy.kind === 'DestinationRule' && copy.metadata.name === 'account')
          copy.spec.trafficPolicy.loadBalancer = { consistentHash: { httpHeaderName: 'end-user' } };
        await admin.apply(copy);
      }
      const client = await KubeClient.connect({ kubeconfig, context: 'fake' }, { caller: 'follow', backoffMs: 1 });
      const lines: string[] = [];
      const started = startFollowing({ client, namespace: NS, port: 0, log: (l) => lines.push(l) });
      await expect(started).rejects.toThrow(
        /cluster: sprincube\/DestinationRule\/account.*spec\.trafficPolicy\.loadBalancer\.consistentHash/,
      );
      expect(lines.join('\n')).not.toContain('started');
      // The gateway had started before the objects were read; it is gone again.
      expect(childProxies()).toEqual([]);
    } finally {
      await bad.stop();
    }
  });
});
