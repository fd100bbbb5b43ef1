import { describe, expect, it } from 'vitest';
import { knobsFromEnv } from '../app/knobs.ts';
import { ConfigError } from '../core/errors.ts';
import { loadManifests, parseManifestFile } from './load.ts';
import { meshTopology } from './topology.ts';
import type { ManifestSet } from './types.ts';

function setOf(file: string, text: string): ManifestSet {
  const all = parseManifestFile(file, text);
  return {
    dir: 'fixtures',
    deployments: all.filter((o) => o.value.kind === 'Deployment') as ManifestSet['deployments'],
    services: [],
    gateways: [],
    virtualServices: [],
    destinationRules: [],
    authorizationPolicies: [],
    all,
  };
}

describe('meshTopology', () => {
  it('lists the five app workloads of the committed manifests, without the database scenarios', async () => {
    const workloads = meshTopology(await loadManifests('manifests'));
    expect(workloads.map((w) => [w.name, w.service, w.version, w.track, w.serviceAccount, w.port])).toEqual([
      ['account-primary', 'account', 'v1', 'primary', 'account', 8080],
      ['account-baseline', 'account', 'v1', 'baseline', 'account', 8080],
      ['account-canary', 'account', 'v2', 'canary', 'account', 8080],
      ['bff', 'bff', 'v1', 'primary', 'bff', 8080],
      ['friend', 'friend', 'v1', 'primary', 'friend', 8080],
    ]);
    for (const w of workloads) {
      expect(w.env.VERSION, w.name).toBe(w.version);
      expect(w.replicas, w.name).toBeGreaterThanOrEqual(1);
      expect(w.labels).toMatchObject({ app: w.service, version: w.version });
      // The knobs the Deployment sets are ones the app accepts (it throws a ConfigError otherwise).
      expect(knobsFromEnv(w.env).version, w.name).toBe(w.version);
      expect(w.env.SERVICE, w.name).toBe(w.service);
      expect(w.env.WORKLOAD, w.name).toBe(w.name);
    }
    const friend = workloads.find((w) => w.name === 'friend')!;
    expect(friend.env.DATABASE_URL).toBeUndefined();
    expect(friend.valueFrom).toEqual({ DATABASE_URL: 'secret friend-database key url (optional)' });
  });

  it('takes literal env, replicas (default 1), the http port and the service account from the pod template', () => {
    const set = setOf(
      'fixtures/worker.yaml',
      `apiVersion: apps/v1
kind: Deployment
metadata: { name: worker-v3, namespace: demo }
spec:
  selector: { matchLabels: { app: worker } }
  template:
    metadata: { labels: { app: worker, version: v3 } }
    spec:
      containers:
        - name: sidecar-helper
          image: x
        - name: worker
          image: x
          ports: [{ name: metrics, containerPort: 9090 }, { name: http, containerPort: 7000 }]
          env:
            - { name: A, value: "1" }
            - { name: EMPTY }
            - { name: POD, valueFrom: { fieldRef: { fieldPath: metadata.name } } }
`,
    );
    const [worker] = meshTopology(set);
    expect(worker).toMatchObject({
      name: 'worker-v3',
      namespace: 'demo',
      service: 'worker',
      version: 'v3',
      replicas: 1,
      port: 7000,
      serviceAccount: 'default',
      env: { A: '1', EMPTY: '' },
      valueFrom: { POD: 'field metadata.name' },
    });
    expect(worker.track).toBeUndefined();
  });

  it('names the Deployment when a workload lacks the version label Istio needs', () => {
    const set = setOf(
      'fixtures/bad.yaml',
      `apiVersion: apps/v1
kind: Deployment
metadata: { name: nameless, namespace: demo }
spec:
  selector: { matchLabels: { app: x } }
  template:
    metadata: { labels: { app: x } }
    spec: { containers: [{ name: x, image: x, ports: [{ containerPort: 1 }] }] }
`,
    );
    expect(() => meshTopology(set)).toThrow(ConfigError);
    expect(() => meshTopology(set)).toThrow(
      'fixtures/bad.yaml Deployment/demo/nameless at spec.template.metadata.labels: expected a "version" label',
    );
  });
});
