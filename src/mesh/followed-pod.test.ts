import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import {
  type ClusterObject,
  decidePod,
  KWOK_FAIL_ANNOTATION,
  type PodOwners,
  type PodWorkload,
} from './followed-pod.ts';
import { newPeerKey, PEER_HEADER, PeerSigner, PeerVerifier } from './proxy/peer-identity.ts';
import { IstioTelemetry, serviceLabels, workloadLabels } from './telemetry/istio-metrics.ts';
import { sampleSum } from './testing.ts';

const NS = 'shop';

function deployment(name: string): ClusterObject {
  return { metadata: { name, uid: `uid-${name}` } };
}

function replicaSet(deploymentName: string): ClusterObject {
  return {
    metadata: {
      name: `${deploymentName}-7c9d`,
      ownerReferences: [{ kind: 'Deployment', name: deploymentName, controller: true }],
    },
  };
}

/** A pod as the API server reports it once the kubelet (KWOK) has it Running and Ready. */
function pod(
  deploymentName: string,
  labels: Record<string, string>,
  opts: { image?: string; serviceAccount?: string; ready?: boolean } = {},
): ClusterObject {
  const name = `${deploymentName}-7c9d-x2k4p`;
  return {
    metadata: {
      name,
      uid: `uid-${name}`,
      labels: { ...labels, 'pod-template-hash': '7c9d' },
      ownerReferences: [{ kind: 'ReplicaSet', name: `${deploymentName}-7c9d`, controller: true }],
    },
    spec: {
      serviceAccountName: opts.serviceAccount,
      containers: [
        {
          name: labels.app ?? 'app',
          image: opts.image ?? 'sprincube/app:0.2.0',
          env: [
            { name: 'VERSION', value: 'from-env' },
            { name: 'LATENCY_MS', value: '5' },
            { name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'db', key: 'url' } } },
          ],
        },
      ],
    },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }],
    },
  };
}

const owners = (...names: string[]): PodOwners => ({
  deployments: new Map(names.map((n) => [n, deployment(n)])),
  replicaSets: new Map(names.map((n) => [`${n}-7c9d`, replicaSet(n)])),
});

function run(p: ClusterObject, o: PodOwners): PodWorkload {
  const d = decidePod(p, o, NS);
  if (d.kind !== 'run') throw new Error(`expected the pod to run, got ${JSON.stringify(d)}`);
  return d.workload;
}

describe('a pod of a followed namespace', () => {
  const o = owners('storefront', 'ledger-canary');
  const caller = run(pod('storefront', { app: 'bff', version: 'v1' }, { serviceAccount: 'storefront' }), o);
  const callee = run(
    pod('ledger-canary', { app: 'account', version: 'v7', track: 'canary' }, { serviceAccount: 'ledger' }),
    o,
  );

  it("runs under the cluster's names: workload the Deployment, version the pod's label, the namespace, the pod's service account", () => {
    expect(callee.pod).toBe('ledger-canary-7c9d-x2k4p');
    expect(callee.endpoint).toEqual({
      workload: 'ledger-canary',
      service: 'account',
      version: 'v7',
      track: 'canary',
      namespace: NS,
      serviceAccount: 'ledger',
      labels: { app: 'account', version: 'v7', track: 'canary', 'pod-template-hash': '7c9d' },
    });
    // The container's literal environment is the process's; a value from a Secret is not read here.
    expect(callee.env).toEqual({ VERSION: 'from-env', LATENCY_MS: '5' });
  });

  it("reports Istio metrics with the cluster's names on both sides, as the callee's sidecar and the caller's see them", async () => {
    const key = newPeerKey();
    const signed = new PeerSigner(key, caller.endpoint).header();
    const peer = new PeerVerifier(key).take({ headers: { [PEER_HEADER]: signed } } as unknown as IncomingMessage);
    expect(peer).toBeDefined();
    const telemetry = new IstioTelemetry();
    const service = serviceLabels(callee.endpoint.service, callee.endpoint.namespace);
    const destination = workloadLabels(callee.endpoint);
    telemetry.record(
      {
        reporter: 'destination',
        source: peer!.labels,
        destination,
        service,
        code: 200,
        flags: '-',
        authenticated: true,
      },
      2,
    );
    telemetry.record(
      { reporter: 'source', source: workloadLabels(caller.endpoint), destination, service, code: 200, flags: '-' },
      3,
    );
    const { body } = await telemetry.exposition();
    const names = {
      source_workload: 'storefront',
      source_workload_namespace: NS,
      source_app: 'bff',
      source_version: 'v1',
      source_principal: `spiffe://cluster.local/ns/${NS}/sa/storefront`,
      destination_workload: 'ledger-canary',
      destination_workload_namespace: NS,
      destination_app: 'account',
      destination_version: 'v7',
      destination_principal: `spiffe://cluster.local/ns/${NS}/sa/ledger`,
      destination_service: `account.${NS}.svc.cluster.local`,
      destination_service_name: 'account',
      destination_service_namespace: NS,
      destination_canonical_service: 'account',
      destination_canonical_revision: 'v7',
    };
    expect(sampleSum(body, 'istio_requests_total', { reporter: 'destination', ...names })).toBe(1);
    expect(sampleSum(body, 'istio_requests_total', { reporter: 'source', ...names })).toBe(1);
  });

  it('without a service account is the default one, as on a cluster', () => {
    expect(run(pod('storefront', { app: 'bff', version: 'v1' }), o).endpoint.serviceAccount).toBe('default');
  });

  it('runs nothing until it is Running and Ready and its ReplicaSet and Deployment are known', () => {
    const p = pod('storefront', { app: 'bff', version: 'v1' });
    expect(decidePod(pod('storefront', { app: 'bff', version: 'v1' }, { ready: false }), o, NS)).toEqual({
      kind: 'none',
    });
    expect(decidePod(p, owners('other'), NS)).toEqual({ kind: 'none' });
    expect(decidePod(p, { deployments: new Map(), replicaSets: o.replicaSets }, NS)).toEqual({ kind: 'none' });
    const terminating = structuredClone(p);
    terminating.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
    expect(decidePod(terminating, o, NS)).toEqual({ kind: 'none' });
  });

  it('with another image is one whose image cannot be pulled, in any phase, marked or not yet', () => {
    const other = pod('storefront', { app: 'bff', version: 'v1' }, { image: 'nginx:1.27', ready: false });
    other.status = { phase: 'Pending' };
    expect(decidePod(other, o, NS)).toEqual({
      kind: 'unknown-image',
      key: 'uid-storefront-7c9d-x2k4p',
      pod: 'storefront-7c9d-x2k4p',
      why: 'pod storefront-7c9d-x2k4p: image "nginx:1.27" is not the reference app (sprincube/app:TAG); not started, reported as ImagePullBackOff',
      marked: false,
    });
    other.metadata.annotations = { [KWOK_FAIL_ANNOTATION]: 'ImagePullBackOff' };
    expect(decidePod(other, o, NS)).toMatchObject({ kind: 'unknown-image', marked: true });
    // A reference image that is not Running yet is simply not run yet.
    const pending = pod('storefront', { app: 'bff', version: 'v1' });
    pending.status = { phase: 'Pending' };
    expect(decidePod(pending, o, NS)).toEqual({ kind: 'none' });
  });

  it('is passed over, saying why, without the labels Istio names it by', () => {
    const noVersion = decidePod(pod('storefront', { app: 'bff' }), o, NS);
    expect(noVersion.kind === 'pass-over' && noVersion.why).toContain('expected labels app and version');
  });
});
