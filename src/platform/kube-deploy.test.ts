/**
 * `canary deploy`: the rendered objects (no cluster) and the requests that apply them, against a
 * loopback fake API server.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyReferenceApp, renderDeployObjects } from './kube-deploy.ts';
import { APPLY_ORDER, checkRendered } from './kube-objects.ts';
import type { Kind } from './kube-client.ts';
import { FakeKubeApi, type Json } from './testing/fake-kube-api.ts';

const request = { manifestsDir: 'manifests', service: 'account' };

describe('canary deploy --dry-run objects', () => {
  it('are in apply order, namespace first and labelled for sidecar injection, with the harness identity', () => {
    const objects = renderDeployObjects(request);
    const ranks = objects.map((o) => APPLY_ORDER.indexOf(o.kind as Kind));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(ranks.every((r) => r >= 0)).toBe(true);
    expect(objects[0]).toMatchObject({
      kind: 'Namespace',
      metadata: { name: 'sprincube', labels: { 'istio-injection': 'enabled' } },
    });
    const names = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    for (const n of ['ServiceAccount/canary-harness', 'Role/canary-harness', 'RoleBinding/canary-harness'])
      expect(names).toContain(n);
    expect(new Set(names).size).toBe(names.length);
  });

  it('carry the chosen image on the canary only, and the chosen namespace on every namespaced object', () => {
    const objects = renderDeployObjects({
      ...request,
      image: { service: 'account', ref: 'registry.example/account:v2' },
      namespace: 'staging',
    });
    const image = (name: string) =>
      (objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name) as Json).spec.template.spec
        .containers[0].image;
    expect(image('account-canary')).toBe('registry.example/account:v2');
    expect(image('account-primary')).toBe('sprincube/app:0.1.0');
    expect(image('account-baseline')).toBe('sprincube/app:0.1.0');
    expect(objects.filter((o) => o.kind !== 'Namespace').every((o) => o.metadata.namespace === 'staging')).toBe(true);
    expect(objects[0]?.metadata.name).toBe('staging');
    const binding = objects.find((o) => o.kind === 'RoleBinding') as Json;
    expect(binding.subjects[0].namespace).toBe('staging');
    const vs = objects.find((o) => o.kind === 'VirtualService' && o.metadata.name === 'account') as Json;
    expect(vs.spec.http.map((r: Json) => r.route.map((d: Json) => d.destination.subset))).toEqual([['primary']]);
  });

  it('are checked against the real schemas: a field the schema does not know is refused, naming object and path', () => {
    const [deployment] = renderDeployObjects(request).filter((o) => o.kind === 'Deployment');
    const bad = { ...deployment!, spec: { ...(deployment as Json).spec, replica: 2 } };
    expect(() => checkRendered([bad])).toThrow(/rendered Deployment\/account-primary: .*replica/);
  });

  it('refuses an image for another service than --service', () => {
    expect(() => renderDeployObjects({ ...request, image: { service: 'friend', ref: 'x:1' } })).toThrow(
      "--image: names service 'friend', but --service is 'account'",
    );
  });
});

describe('canary deploy on a cluster', () => {
  let api: FakeKubeApi;
  let kubeconfig: string;
  beforeEach(async () => {
    api = new FakeKubeApi();
    kubeconfig = api.kubeconfig(await api.start());
  });
  afterEach(() => api.stop());

  it('server-side applies every object in order, the namespace at its cluster-scoped path; again changes nothing', async () => {
    const r = { ...request, kubeconfig, context: null };
    const first = await applyReferenceApp(r);
    const objects = renderDeployObjects(request);
    expect(first).toHaveLength(objects.length);
    expect(api.requests[0]).toMatchObject({
      method: 'PATCH',
      path: '/api/v1/namespaces/sprincube',
      query: { fieldManager: 'sprincube-canary', force: 'false' },
      contentType: 'application/apply-patch+yaml',
    });
    expect(api.requests.map((q) => (q.body as Json).metadata.name)).toEqual(objects.map((o) => o.metadata.name));
    expect(api.requests[1]?.path).toBe('/api/v1/namespaces/sprincube/serviceaccounts/bff');
    const generations = () =>
      api.requests.map(
        (q) => api.get(q.path.replace(/\/[^/]+$/, ''), (q.body as Json).metadata.name)?.metadata.generation,
      );
    const before = generations();
    await applyReferenceApp(r);
    expect(api.requests).toHaveLength(2 * objects.length);
    expect(generations().slice(0, objects.length)).toEqual(before.slice(0, objects.length));
  });

  it('--server-dry-run sends dryRun=All and stores nothing', async () => {
    await applyReferenceApp({ ...request, kubeconfig, context: null, dryRun: true });
    expect(api.requests.every((q) => q.query.dryRun === 'All')).toBe(true);
    expect(api.get('/api/v1/namespaces', 'sprincube')).toBeUndefined();
  });
});
