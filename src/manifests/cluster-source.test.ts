/**
 * The cluster source of a ManifestSet against the loopback fake API server: the reference manifests
 * applied to it read back as the same set the file loader reads, without what the server sets, a
 * bad object in the cluster is refused naming `cluster: ns/Kind/name` and the field, and a subset
 * whose pods are gone (a finished run's tracks) is not.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkMesh } from '../mesh/mesh.ts';
import { KubeClient, type KubeObject } from '../platform/kube-client.ts';
import { FakeKubeApi } from '../platform/testing/fake-kube-api.ts';
import { CLUSTER_MANIFEST_KINDS, clusterManifestSet, readClusterManifests } from './cluster-source.ts';
import { loadValidManifests, parseManifestFile, validateManifests } from './load.ts';
import type { ManifestSet } from './types.ts';

const NS = 'sprincube';
const VS = `/apis/networking.istio.io/v1beta1/namespaces/${NS}/virtualservices`;
const DEPLOYMENTS = `/apis/apps/v1/namespaces/${NS}/deployments`;
const FOLDERS = ['app', 'istio'];

let api: FakeKubeApi;
let kubeconfig: string;
let work: string;

beforeEach(async () => {
  api = new FakeKubeApi();
  kubeconfig = api.kubeconfig(await api.start());
  work = mkdtempSync(join(tmpdir(), 'cluster-source-'));
});
afterEach(async () => {
  await api.stop();
  rmSync(work, { recursive: true, force: true });
});

const connect = (caller: 'deploy' | 'follow') =>
  KubeClient.connect({ kubeconfig, context: 'fake' }, { caller, backoffMs: 1 });

/** The reference objects of the kinds the cluster source reads, as the manifests' files hold them. */
function referenceObjects(): KubeObject[] {
  return FOLDERS.flatMap((folder) =>
    readdirSync(join('manifests', folder))
      .filter((f) => f.endsWith('.yaml'))
      .flatMap((f) => parseManifestFile(f, readFileSync(join('manifests', folder, f), 'utf8'))),
  )
    .map((l) => l.value as unknown as KubeObject)
    .filter((o) => (CLUSTER_MANIFEST_KINDS as readonly string[]).includes(o.kind));
}

async function applyReference(): Promise<void> {
  const c = await connect('deploy');
  for (const o of referenceObjects()) await c.apply(structuredClone(o));
}

/** The values of each group and of `all` (limited to `kinds`), in a stable order. */
function contents(set: ManifestSet, kinds: readonly string[]) {
  const byName = <T extends { value: { kind?: string; metadata?: { name?: string } } }>(l: T[]) =>
    l
      .filter((x) => kinds.includes(x.value.kind ?? ''))
      .map((x) => x.value)
      .sort((a, b) => `${a.kind}/${a.metadata?.name}`.localeCompare(`${b.kind}/${b.metadata?.name}`));
  return {
    deployments: byName(set.deployments),
    services: byName(set.services),
    gateways: byName(set.gateways),
    virtualServices: byName(set.virtualServices),
    destinationRules: byName(set.destinationRules),
    authorizationPolicies: byName(set.authorizationPolicies),
    all: byName(set.all),
  };
}

describe('the cluster source of a ManifestSet', () => {
  it('reads back the reference manifests applied to the cluster as the file loader reads them', async () => {
    await applyReference();
    const fromCluster = await readClusterManifests(await connect('follow'), NS);
    for (const folder of FOLDERS) cpSync(join('manifests', folder), join(work, folder), { recursive: true });
    const fromFiles = await loadValidManifests(work);

    const kinds = [...CLUSTER_MANIFEST_KINDS];
    expect(contents(fromCluster, kinds)).toEqual(contents(fromFiles, kinds));
    // Nothing else came from the cluster, and every kind of the reference app is there.
    expect(fromCluster.all.length).toBe(contents(fromFiles, kinds).all.length);
    expect(new Set(fromCluster.all.map((o) => o.value.kind))).toEqual(new Set(kinds));
    const account = fromCluster.virtualServices.find((v) => v.value.metadata?.name === 'account')!;
    expect(account.origin).toEqual({
      file: 'cluster: sprincube/VirtualService/account',
      document: 0,
      object: 'VirtualService/sprincube/account',
    });
    // The file set and the cluster set run the same mesh.
    const checked = await checkMesh({ set: fromCluster });
    const fromDir = await checkMesh({ set: fromFiles });
    const byWorkload = (plans: typeof checked.plans) =>
      [...plans].sort((a, b) => a.identity.workload.localeCompare(b.identity.workload));
    expect(byWorkload(checked.plans)).toEqual(byWorkload(fromDir.plans));
    expect(checked.plans.length).toBe(5);
  });

  it('strips what the server sets: status, managedFields, resourceVersion, uid, creationTimestamp, generation, last-applied', async () => {
    const deployment = referenceObjects().find((o) => o.kind === 'Deployment' && o.metadata.name === 'bff')!;
    const held = structuredClone(deployment) as KubeObject & Record<string, unknown>;
    held.metadata = {
      ...held.metadata,
      uid: '0b7d6c1e-0000-4000-8000-000000000001',
      creationTimestamp: '2026-12-04T10:00:00Z',
      generation: 7,
      managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsV1: {} }],
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(deployment) },
    };
    (held.spec as { template: { metadata: Record<string, unknown> } }).template.metadata.creationTimestamp = null;
    held.status = { replicas: 1, readyReplicas: 1, availableReplicas: 1 };
    api.put(DEPLOYMENTS, held);
    expect(api.get(DEPLOYMENTS, 'bff').metadata.resourceVersion).toBeDefined();

    const c = await connect('follow');
    const listed = (await c.list('Deployment', NS)) as unknown as { items: unknown[] };
    const set = clusterManifestSet(NS, listed.items);
    expect(set.deployments.map((d) => d.value)).toEqual([deployment]);
  });

  it('keeps annotations a person wrote beside the last-applied one', async () => {
    const deployment = referenceObjects().find((o) => o.kind === 'Deployment' && o.metadata.name === 'bff')!;
    const held = structuredClone(deployment);
    held.metadata.annotations = { team: 'mesh', 'kubectl.kubernetes.io/last-applied-configuration': '{}' };
    const set = clusterManifestSet(NS, [held]);
    expect(set.deployments[0]!.value.metadata?.annotations).toEqual({ team: 'mesh' });
  });

  it('refuses an object the schema refuses, naming cluster: ns/Kind/name and the field', async () => {
    await applyReference();
    const vs = structuredClone(api.get(VS, 'account'));
    vs.spec.http[0].route[0].weight = 'ten';
    api.put(VS, vs);
    const c = await connect('follow');
    await expect(readClusterManifests(c, NS)).rejects.toThrow(
      /cluster: sprincube\/VirtualService\/account.*VirtualService\/sprincube\/account at spec\.http\[0\]\.route\[0\]\.weight/,
    );
  });

  it('refuses a field the local data plane does not support, naming the cluster origin and the field', async () => {
    await applyReference();
    const vs = structuredClone(api.get(VS, 'account'));
    vs.spec.http[0].mirror = { host: 'account', subset: 'canary' };
    api.put(VS, vs);
    const set = await readClusterManifests(await connect('follow'), NS);
    await expect(checkMesh({ set })).rejects.toThrow(
      /cluster: sprincube\/VirtualService\/account.*spec\.http\[0\]\.mirror.*does not support mirror/,
    );
  });

  it('refuses an unknown field (what kubectl --validate=strict refuses), naming the cluster origin', async () => {
    await applyReference();
    const d = structuredClone(api.get(DEPLOYMENTS, 'bff'));
    d.spec.replicaz = 2;
    api.put(DEPLOYMENTS, d);
    await expect(readClusterManifests(await connect('follow'), NS)).rejects.toThrow(
      /cluster: sprincube\/Deployment\/bff.*spec\.replicaz/,
    );
  });

  it("accepts a namespace whose run tracks are gone (subsets selecting no workload), which the files' check refuses", async () => {
    await applyReference();
    for (const name of ['account-baseline', 'account-canary']) api.remove(DEPLOYMENTS, name);
    const set = await readClusterManifests(await connect('follow'), NS);
    expect(set.deployments.map((d) => d.value.metadata?.name)).not.toContain('account-canary');
    expect(set.destinationRules.find((d) => d.value.metadata?.name === 'account')).toBeDefined();
    const checked = await checkMesh({ set });
    expect(checked.plans.map((p) => p.identity.workload).sort()).toEqual(['account-primary', 'bff', 'friend']);
    // The same objects as files to deploy are refused: a subset there that selects nothing is a mistake.
    expect(() => validateManifests(set)).toThrow(
      /spec\.subsets\[\d\]\.labels: expected labels that select at least one workload/,
    );
  });

  it('names the kind of list items the server sends without kind and apiVersion', async () => {
    await applyReference();
    const lister = {
      list: async (kind: string) => {
        const c = await connect('follow');
        const l = (await c.list(kind as 'Service', NS)) as unknown as { items: Record<string, unknown>[] };
        return { items: l.items.map(({ kind: _k, apiVersion: _a, ...rest }) => rest) };
      },
    };
    const set = await readClusterManifests(lister, NS);
    expect(set.services.map((s) => s.value.apiVersion)).toEqual(set.services.map(() => 'v1'));
    expect(set.virtualServices.map((s) => s.value.kind)).toEqual(set.virtualServices.map(() => 'VirtualService'));
  });
});
