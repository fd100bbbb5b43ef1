/**
 * The test cluster itself (test/support/cluster.ts) against the real programs of `npm run
 * cluster:build`: the API server answers, KWOK's fake nodes are Ready and run a Deployment's pods,
 * the CRDs are Established, every object of manifests/ passes a server-side dry run, the
 * ImagePullBackOff stage fails the pod annotated for it, the API server restarts, and a
 * ServiceAccount's kubeconfig is held to its RBAC. Fails (never skips) without the build.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ApiException, AppsV1Api, AuthenticationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../../scripts/cluster/layout.ts';
import type { ClusterApi } from '../support/cluster-api.ts';
import { FIELD_MANAGER, KWOK_FAIL_ANNOTATION, startTestCluster, type TestCluster } from '../support/cluster.ts';

const WAIT = { timeout: 90_000, interval: 250 };
const MANIFESTS = join(REPO_ROOT, 'manifests');

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startTestCluster();
}, 300_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

function client<T>(kubeconfigPath: string, api: new (...args: never[]) => T): T {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kc.makeApiClient(api as never) as T;
}

interface Meta {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string };
}

interface Resource {
  plural: string;
  namespaced: boolean;
}

/** apiVersion/kind → resource, from the server's discovery documents. */
async function discover(api: ClusterApi): Promise<Map<string, Resource>> {
  const map = new Map<string, Resource>();
  const versions = ['v1'];
  const groups = (await api.expectOk('GET', '/apis')).json as {
    groups: { versions: { groupVersion: string }[] }[];
  };
  for (const group of groups.groups) for (const v of group.versions) versions.push(v.groupVersion);
  for (const groupVersion of versions) {
    const path = groupVersion === 'v1' ? '/api/v1' : `/apis/${groupVersion}`;
    const list = (await api.expectOk('GET', path)).json as {
      resources: { name: string; kind: string; namespaced: boolean }[];
    };
    for (const r of list.resources) {
      if (!r.name.includes('/')) map.set(`${groupVersion}/${r.kind}`, { plural: r.name, namespaced: r.namespaced });
    }
  }
  return map;
}

function manifestFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return manifestFiles(path);
      return /\.ya?ml$/.test(entry.name) ? [path] : [];
    })
    .sort();
}

function objectPath(resource: Resource, object: Meta): string {
  const base = object.apiVersion === 'v1' ? '/api/v1' : `/apis/${object.apiVersion}`;
  const ns = resource.namespaced ? `/namespaces/${object.metadata?.namespace ?? 'default'}` : '';
  return `${base}${ns}/${resource.plural}/${object.metadata?.name}`;
}

/** Listening TCP sockets of a process: local address (hex, as in /proc/net/tcp*) by port. */
function listeningAddresses(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]);
    } catch {
      // the descriptor closed meanwhile
    }
  }
  const addresses: string[] = [];
  for (const table of ['tcp', 'tcp6']) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length > 9 && fields[3] === '0A' && inodes.has(fields[9])) addresses.push(fields[1]);
    }
  }
  return addresses;
}

const LOOPBACK_V4 = /^0100007F:/;
const LOOPBACK_V6 = /^00000000000000000000000001000000:/;

// Waits for the cluster's controllers go up to 90 s on two busy cores, beyond vitest's default.
describe('test cluster', { timeout: 120_000 }, () => {
  it('answers /readyz with ok and binds every listening socket to loopback', async () => {
    const res = await cluster.api.request('GET', '/readyz');
    expect(res.status).toBe(200);
    expect(res.text.trim()).toBe('ok');
    expect(cluster.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    for (const [name, pid] of Object.entries(cluster.pids())) {
      const addresses = listeningAddresses(pid);
      expect(addresses.length, `${name} listens somewhere`).toBeGreaterThan(0);
      const elsewhere = addresses.filter((a) => !LOOPBACK_V4.test(a) && !LOOPBACK_V6.test(a));
      expect(elsewhere, `${name} listens beyond loopback`).toEqual([]);
    }
  });

  it('has three KWOK nodes, all Ready', async () => {
    const nodes = await client(cluster.kubeconfigPath, CoreV1Api).listNode();
    expect(nodes.items.map((n) => n.metadata?.name).sort()).toEqual(['kwok-node-0', 'kwok-node-1', 'kwok-node-2']);
    for (const node of nodes.items) {
      const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
      expect(ready?.status, `${node.metadata?.name} Ready`).toBe('True');
    }
  });

  it('runs a Deployment: its pods are scheduled on KWOK nodes and become Running and Ready', async () => {
    await cluster.namespace('cluster-e2e');
    const apps = client(cluster.kubeconfigPath, AppsV1Api);
    const core = client(cluster.kubeconfigPath, CoreV1Api);
    await apps.createNamespacedDeployment({
      namespace: 'cluster-e2e',
      body: {
        metadata: { name: 'web', labels: { app: 'web' } },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'web', image: 'sprincube/app:0.1.0', ports: [{ containerPort: 8080 }] }] },
          },
        },
      },
    });
    await vi.waitFor(async () => {
      const d = await apps.readNamespacedDeployment({ name: 'web', namespace: 'cluster-e2e' });
      expect(d.status?.readyReplicas).toBe(3);
      expect(d.status?.availableReplicas).toBe(3);
    }, WAIT);
    const pods = await core.listNamespacedPod({ namespace: 'cluster-e2e', labelSelector: 'app=web' });
    expect(pods.items).toHaveLength(3);
    for (const pod of pods.items) {
      expect(pod.spec?.nodeName).toMatch(/^kwok-node-\d$/);
      expect(pod.status?.phase).toBe('Running');
      expect(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      expect(pod.status?.containerStatuses?.[0]?.state?.running).toBeDefined();
    }
  });

  it('serves the Istio and TestRun CRDs, Established', async () => {
    const names = [
      'virtualservices.networking.istio.io',
      'destinationrules.networking.istio.io',
      'gateways.networking.istio.io',
      'serviceentries.networking.istio.io',
      'workloadentries.networking.istio.io',
      'workloadgroups.networking.istio.io',
      'authorizationpolicies.security.istio.io',
      'peerauthentications.security.istio.io',
      'testruns.k6.io',
    ];
    for (const name of names) {
      const res = await cluster.api.expectOk('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
      const conditions = (res.json as { status: { conditions: { type: string; status: string }[] } }).status.conditions;
      expect(conditions.find((c) => c.type === 'Established')?.status, name).toBe('True');
    }
  });

  it('accepts every object of manifests/ in a server-side dry run (strict field validation)', async () => {
    const resources = await discover(cluster.api);
    const objects: { file: string; object: Meta }[] = [];
    for (const path of manifestFiles(MANIFESTS)) {
      const file = relative(REPO_ROOT, path);
      for (const doc of parseAllDocuments(readFileSync(path, 'utf8'))) {
        if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
        const object = doc.toJS() as Meta | null;
        if (object) objects.push({ file, object });
      }
    }
    expect(objects.length).toBeGreaterThan(40);
    // Namespaces the manifests put objects in must exist for a dry run: the manifests' own
    // Namespace objects are applied for real, and istio-system stands for an Istio install.
    const namespaces = new Set(objects.map(({ object }) => object.metadata?.namespace).filter(Boolean) as string[]);
    for (const ns of namespaces) await cluster.namespace(ns);

    const failures: string[] = [];
    for (const { file, object } of objects) {
      const what = `${file}: ${object.kind} ${object.metadata?.namespace ?? ''}/${object.metadata?.name}`;
      const resource = resources.get(`${object.apiVersion}/${object.kind}`);
      if (!resource) {
        failures.push(`${what}: ${object.apiVersion} ${object.kind} is not served by the API server`);
        continue;
      }
      const res = await cluster.api.apply(objectPath(resource, object), object, FIELD_MANAGER, '&dryRun=All');
      if (res.status !== 200 && res.status !== 201) {
        failures.push(`${what}: HTTP ${res.status}: ${(res.json as { message?: string })?.message ?? res.text}`);
      } else if (res.warnings.length > 0) {
        failures.push(`${what}: warnings: ${res.warnings.join('; ')}`);
      }
    }
    expect(failures).toEqual([]);
    // A dry run stores nothing: the harness's Deployments are not there.
    const after = await cluster.api.expectOk('GET', '/apis/apps/v1/namespaces/sprincube/deployments');
    expect((after.json as { items: unknown[] }).items).toEqual([]);
  });

  it('refuses a manifest field the API does not have (the dry run is strict, not lenient)', async () => {
    await cluster.namespace('cluster-e2e');
    const res = await cluster.api.apply(
      '/api/v1/namespaces/cluster-e2e/services/typo',
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'typo' }, spec: { ports: [{ port: 80 }], selectr: {} } },
      FIELD_MANAGER,
      '&dryRun=All',
    );
    // kube-apiserver answers an apply patch it cannot type with 500 (not 400), naming the field.
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.text).toContain('.spec.selectr: field not declared in schema');
    const stored = await cluster.api.request('GET', '/api/v1/namespaces/cluster-e2e/services/typo');
    expect(stored.status).toBe(404);
  });

  it('fails a pod annotated for the ImagePullBackOff stage: Pending, not Ready, waiting in ImagePullBackOff', async () => {
    await cluster.namespace('cluster-e2e');
    const core = client(cluster.kubeconfigPath, CoreV1Api);
    await core.createNamespacedPod({
      namespace: 'cluster-e2e',
      body: {
        metadata: { name: 'broken', annotations: { [KWOK_FAIL_ANNOTATION]: 'ImagePullBackOff' } },
        spec: { containers: [{ name: 'app', image: 'sprincube/app:does-not-exist' }] },
      },
    });
    const pod = await vi.waitFor(async () => {
      const p = await core.readNamespacedPod({ name: 'broken', namespace: 'cluster-e2e' });
      expect(p.status?.containerStatuses?.[0]?.state?.waiting?.reason).toBe('ImagePullBackOff');
      return p;
    }, WAIT);
    expect(pod.spec?.nodeName).toMatch(/^kwok-node-\d$/);
    expect(pod.status?.phase).toBe('Pending');
    expect(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
    expect(pod.status?.containerStatuses?.[0]?.state?.waiting?.message).toContain('sprincube/app:does-not-exist');
  });

  it('restarts the API server: the same kubeconfig works, stored objects remain, the other components reconnect', async () => {
    await cluster.namespace('cluster-e2e');
    await cluster.api.expectOk('POST', '/api/v1/namespaces/cluster-e2e/configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'survives-restart' },
      data: { a: '1' },
    });
    const before = cluster.pids()['kube-apiserver'];
    await cluster.restartApiServer();
    expect(cluster.pids()['kube-apiserver']).not.toBe(before);
    const res = await cluster.api.request('GET', '/readyz');
    expect(res.text.trim()).toBe('ok');
    const core = client(cluster.kubeconfigPath, CoreV1Api);
    const cm = await core.readNamespacedConfigMap({ name: 'survives-restart', namespace: 'cluster-e2e' });
    expect(cm.data).toEqual({ a: '1' });
    expect((await core.listNode()).items).toHaveLength(3);
    // The controller-manager, scheduler and KWOK are connected again: a new Deployment runs.
    for (const [name, pid] of Object.entries(cluster.pids())) {
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), `${name} is running`).not.toBe('');
    }
    const apps = client(cluster.kubeconfigPath, AppsV1Api);
    await apps.createNamespacedDeployment({
      namespace: 'cluster-e2e',
      body: {
        metadata: { name: 'after-restart' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'after-restart' } },
          template: {
            metadata: { labels: { app: 'after-restart' } },
            spec: { containers: [{ name: 'app', image: 'sprincube/app:0.1.0' }] },
          },
        },
      },
    });
    await vi.waitFor(async () => {
      const d = await apps.readNamespacedDeployment({ name: 'after-restart', namespace: 'cluster-e2e' });
      expect(d.status?.readyReplicas).toBe(1);
    }, WAIT);
  });

  it('runAs: a ServiceAccount token kubeconfig is that identity, held to the harness Role of manifests/rbac', async () => {
    await cluster.namespace('sprincube');
    const file = join(MANIFESTS, 'rbac', 'harness.yaml');
    const resources = await discover(cluster.api);
    for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
      const object = doc.toJS() as Meta;
      const resource = resources.get(`${object.apiVersion}/${object.kind}`) as Resource;
      const res = await cluster.api.apply(objectPath(resource, object), object, FIELD_MANAGER);
      expect(res.status, `${object.kind} ${object.metadata?.name}: ${res.text}`).toBeLessThan(300);
    }
    const kubeconfig = await cluster.runAs('canary-harness', 'sprincube');

    const review = await client(kubeconfig, AuthenticationV1Api).createSelfSubjectReview({
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    });
    expect(review.status?.userInfo?.username).toBe('system:serviceaccount:sprincube:canary-harness');

    const apps = client(kubeconfig, AppsV1Api);
    const core = client(kubeconfig, CoreV1Api);
    // Allowed: list Deployments in its namespace.
    await expect(apps.listNamespacedDeployment({ namespace: 'sprincube' })).resolves.toBeDefined();
    const status = async (call: Promise<unknown>) => {
      try {
        await call;
        return 200;
      } catch (error) {
        if (error instanceof ApiException) return error.code;
        throw error;
      }
    };
    // Forbidden: a verb the Role does not grant, a resource it does not name, another namespace.
    expect(
      await status(
        core.createNamespacedPod({
          namespace: 'sprincube',
          body: {
            metadata: { name: 'not-allowed' },
            spec: { containers: [{ name: 'app', image: 'sprincube/app:0.1.0' }] },
          },
        }),
      ),
    ).toBe(403);
    expect(await status(core.listNamespacedSecret({ namespace: 'sprincube' }))).toBe(403);
    expect(await status(apps.listNamespacedDeployment({ namespace: 'cluster-e2e' }))).toBe(403);
  });
});
