/**
 * Contract tests of the exact requests `kube-client.ts` sends, against a loopback fake API server
 * (`testing/fake-kube-api.ts`) that answers as the API server does.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, InfraError } from '../core/errors.ts';
import { KubeClient, type KubeObject } from './kube-client.ts';
import { FakeKubeApi } from './testing/fake-kube-api.ts';

const DEPLOYMENTS = '/apis/apps/v1/namespaces/sprincube/deployments';
const VS = '/apis/networking.istio.io/v1beta1/namespaces/sprincube/virtualservices';

const deployment = (name: string, replicas = 1): KubeObject =>
  ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'sprincube', labels: { app: 'account' } },
    spec: { replicas },
  }) as KubeObject;

let api: FakeKubeApi;
let kubeconfig: string;

beforeEach(async () => {
  api = new FakeKubeApi();
  kubeconfig = api.kubeconfig(await api.start());
});
afterEach(() => api.stop());

const client = (over: Partial<Parameters<typeof KubeClient.connect>[1]> = {}) =>
  KubeClient.connect({ kubeconfig, context: 'fake' }, { caller: 'run', backoffMs: 1, ...over });

describe('kube-client requests', () => {
  it('server-side apply: PATCH with apply-patch+yaml, fieldManager sprincube-canary, no force, the bearer token', async () => {
    const c = await client();
    const held = await c.apply(deployment('account-canary'));
    expect(held.metadata.resourceVersion).toBeDefined();
    expect(api.requests).toEqual([
      {
        method: 'PATCH',
        path: `${DEPLOYMENTS}/account-canary`,
        query: { fieldManager: 'sprincube-canary', force: 'false' },
        contentType: 'application/apply-patch+yaml',
        authorization: 'Bearer test-token-not-a-secret',
        body: deployment('account-canary'),
      },
    ]);
  });

  it('dry run adds dryRun=All and changes nothing on the server', async () => {
    const c = await client();
    await c.apply(deployment('account-canary'), { dryRun: true });
    expect(api.requests[0]?.query).toEqual({ fieldManager: 'sprincube-canary', force: 'false', dryRun: 'All' });
    expect(api.get(DEPLOYMENTS, 'account-canary')).toBeUndefined();
  });

  it('a 409 conflict is an InfraError naming the field and the other manager, and nothing changed', async () => {
    const c = await client();
    api.put(VS, {
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'VirtualService',
      metadata: { name: 'account' },
      spec: { http: [] },
    });
    api.own({ path: VS, name: 'account', field: '.spec.http', manager: 'argocd-controller' });
    const vs = {
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'VirtualService',
      metadata: { name: 'account', namespace: 'sprincube' },
      spec: { http: [{ name: 'x' }] },
    } as KubeObject;
    const err = await c.apply(vs).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfraError);
    expect(String((err as Error).message)).toMatch(
      /VirtualService\/sprincube\/account: .*conflicts.*\.spec\.http.*argocd-controller.*Nothing was changed/,
    );
    expect(api.get(VS, 'account')?.spec).toEqual({ http: [] });
    expect(api.sent('PATCH')).toHaveLength(1);
  });

  it('get answers null on 404; delete answers false when already gone and sends background propagation', async () => {
    const c = await client();
    expect(await c.get('Deployment', 'sprincube', 'nope')).toBeNull();
    expect(await c.delete('Deployment', 'sprincube', 'nope')).toBe(false);
    expect(api.sent('DELETE')[0]).toMatchObject({
      path: `${DEPLOYMENTS}/nope`,
      body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' },
    });
  });

  it('retries 429 and 5xx with backoff, then succeeds', async () => {
    const c = await client();
    api.fail((r) => r.method === 'PATCH', 429, 1, '0');
    api.fail((r) => r.method === 'PATCH', 503, 2);
    await c.apply(deployment('account-canary'));
    expect(api.sent('PATCH')).toHaveLength(4);
    expect(api.get(DEPLOYMENTS, 'account-canary')).toBeDefined();
  });

  it('gives up after the retry bound with the last answer in the error', async () => {
    const c = await client({ retries: 2 });
    api.fail((r) => r.method === 'GET', 500, 10);
    await expect(c.get('Deployment', 'sprincube', 'account-primary')).rejects.toThrow(/500 InternalError injected/);
    expect(api.sent('GET')).toHaveLength(3);
  });

  it('a 4xx other than 404/409/429 is not retried', async () => {
    const c = await client();
    api.fail((r) => r.method === 'GET', 403, 10);
    await expect(c.get('Deployment', 'sprincube', 'x')).rejects.toThrow(/403/);
    expect(api.sent('GET')).toHaveLength(1);
  });

  it('refuses a request the caller is not declared to make (the Role is derived from the declared calls)', async () => {
    const c = await client();
    await expect(c.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } })).rejects.toThrow(
      'run may not patch Namespace',
    );
    expect(api.requests).toHaveLength(0);
  });

  it('a missing context is a ConfigError naming it and the contexts there are', async () => {
    await expect(KubeClient.connect({ kubeconfig, context: 'prod' }, { caller: 'run' })).rejects.toThrow(ConfigError);
    await expect(KubeClient.connect({ kubeconfig, context: 'prod' }, { caller: 'run' })).rejects.toThrow(
      'context prod: no such context; the kubeconfig has: fake',
    );
  });
});

describe('kube-client watches', () => {
  const ready = (o: KubeObject[]) => (o.find((d) => (d.status as { ready?: boolean })?.ready) ? 'ready' : undefined);

  it('lists, then watches from the list version, and decides on a MODIFIED event', async () => {
    const c = await client();
    api.put(DEPLOYMENTS, { ...deployment('account-canary'), status: { ready: false } });
    const done = c.follow(
      'Deployment',
      'sprincube',
      { fieldSelector: 'metadata.name=account-canary' },
      ready,
      new AbortController().signal,
    );
    await waitFor(() => api.sent('GET', DEPLOYMENTS).some((r) => r.query.watch === '1'));
    api.put(DEPLOYMENTS, { ...deployment('account-canary'), status: { ready: true } });
    expect(await done).toBe('ready');
    const [list, watch] = api.sent('GET', DEPLOYMENTS);
    expect(list?.query).toEqual({ fieldSelector: 'metadata.name=account-canary' });
    expect(watch?.query).toMatchObject({
      watch: '1',
      resourceVersion: '101',
      fieldSelector: 'metadata.name=account-canary',
    });
  });

  it('re-lists on 410 Gone', async () => {
    const c = await client();
    api.put(DEPLOYMENTS, { ...deployment('account-canary'), status: { ready: false } });
    api.goneOnWatch(1);
    const done = c.follow('Deployment', 'sprincube', {}, ready, new AbortController().signal);
    await waitFor(() => api.sent('GET', DEPLOYMENTS).filter((r) => r.query.watch === '1').length === 2);
    api.put(DEPLOYMENTS, { ...deployment('account-canary'), status: { ready: true } });
    expect(await done).toBe('ready');
    const kinds = api.sent('GET', DEPLOYMENTS).map((r) => (r.query.watch ? 'watch' : 'list'));
    expect(kinds).toEqual(['list', 'watch', 'list', 'watch']);
  });

  it('reconnects from the last version seen when the stream closes, and retries a 503 on reconnect', async () => {
    const c = await client();
    api.put(DEPLOYMENTS, { ...deployment('account-canary'), status: { ready: false } });
    const done = c.follow('Deployment', 'sprincube', {}, ready, new AbortController().signal);
    await waitFor(() => api.sent('GET', DEPLOYMENTS).some((r) => r.query.watch === '1'));
    api.put(DEPLOYMENTS, { ...deployment('account-canary'), status: { ready: false, seen: 1 } });
    api.fail((r) => r.query.watch === '1', 503, 1);
    api.closeWatches();
    await waitFor(() => api.sent('GET', DEPLOYMENTS).filter((r) => r.query.watch === '1').length === 3);
    api.put(DEPLOYMENTS, { ...deployment('account-canary'), status: { ready: true } });
    expect(await done).toBe('ready');
    const watches = api.sent('GET', DEPLOYMENTS).filter((r) => r.query.watch === '1');
    expect(Number(watches[2]?.query.resourceVersion)).toBeGreaterThan(Number(watches[0]?.query.resourceVersion));
  });

  it('retries a 403 while reconnecting (a restarted API server before its authorizer has synced), not on the first watch', async () => {
    const c = await client();
    api.put(DEPLOYMENTS, { ...deployment('account-canary'), status: { ready: false } });
    const done = c.follow('Deployment', 'sprincube', {}, ready, new AbortController().signal);
    await waitFor(() => api.sent('GET', DEPLOYMENTS).some((r) => r.query.watch === '1'));
    api.fail((r) => r.query.watch === '1', 403, 2);
    api.closeWatches();
    await waitFor(() => api.sent('GET', DEPLOYMENTS).filter((r) => r.query.watch === '1').length === 4);
    api.put(DEPLOYMENTS, { ...deployment('account-canary'), status: { ready: true } });
    expect(await done).toBe('ready');

    api.fail((r) => r.query.watch === '1', 403, 1);
    const first = c.follow('Deployment', 'sprincube', {}, () => undefined, new AbortController().signal);
    await expect(first).rejects.toThrow(/403/);
  });

  it('an abort ends the watch with the abort reason', async () => {
    const c = await client();
    const ac = new AbortController();
    const done = c.follow('Deployment', 'sprincube', {}, () => undefined, ac.signal);
    await waitFor(() => api.sent('GET', DEPLOYMENTS).some((r) => r.query.watch === '1'));
    ac.abort(new Error('stop now'));
    await expect(done).rejects.toThrow('stop now');
  });
});

/** Waits for the event (a request reaching the fake), bounded generously for a loaded machine. */
async function waitFor(cond: () => boolean): Promise<void> {
  await vi.waitFor(() => {
    if (!cond()) throw new Error('not yet');
  }, 10_000);
}

describe('kube-client watches across an API server restart', () => {
  it('reconnects after the API server is down for a while, and sees what changed meanwhile', async () => {
    const c = await client();
    api.put(DEPLOYMENTS, { ...deployment('account-canary'), status: { ready: false } });
    const done = c.follow(
      'Deployment',
      'sprincube',
      {},
      (o: KubeObject[]) => (o.find((d) => (d.status as { ready?: boolean })?.ready) ? 'ready' : undefined),
      new AbortController().signal,
    );
    const watches = () => api.sent('GET', DEPLOYMENTS).filter((r) => r.query.watch === '1').length;
    await waitFor(() => watches() > 0);
    await api.restart(async () => {
      // While it is down, the client's reconnects are refused; the object changes in etcd.
      api.put(DEPLOYMENTS, { ...deployment('account-canary'), status: { ready: true } });
    });
    expect(await done).toBe('ready');
    expect(watches()).toBeGreaterThanOrEqual(2);
  });
});
