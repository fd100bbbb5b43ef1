/**
 * The whole local mesh from the committed manifests/: real child processes, the reference app,
 * the ingress gateway on a free port.
 */
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IVirtualService } from '../manifests/types.ts';
import { startMesh, type Mesh, type UnexpectedExit } from './mesh.ts';
import { call } from '../../test/support/http.ts';
import { sampleSum } from './testing.ts';

let mesh: Mesh;
const pids: number[] = [];

beforeAll(async () => {
  mesh = await startMesh({ manifestsDir: 'manifests', port: 0 });
  for (const w of mesh.workloads) for (const r of w.replicas) pids.push(r.pid);
}, 90_000);

afterAll(async () => {
  await mesh?.stop();
});

const profile = (user?: string) =>
  call(`${mesh.gatewayUrl}/api/profile/1`, { headers: user === undefined ? {} : { 'end-user': user } });

async function metricSum(workload: string, labels: Record<string, string>): Promise<number> {
  const w = mesh.workloads.find((x) => x.name === workload)!;
  let sum = 0;
  for (const r of w.replicas) sum += sampleSum((await call(r.metricsUrl)).body, 'istio_requests_total', labels);
  return sum;
}

describe('the local mesh from manifests/', () => {
  it('starts every workload and track of the manifests, one process per replica', () => {
    expect(mesh.gatewayUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(mesh.workloads.map((w) => w.name).sort()).toEqual([
      'account-baseline',
      'account-canary',
      'account-primary',
      'bff',
      'friend',
    ]);
    expect(mesh.metricsUrls).toHaveLength(1 + pids.length);
    expect(new Set(pids).size).toBe(pids.length);
  });

  it('serves /api/profile/1 through the gateway: the account and its friends', async () => {
    const res = await profile();
    expect(res.status).toBe(200);
    const body = JSON.parse(res.body) as { account: { id: number }; friends: unknown[] };
    expect(body.account.id).toBe(1);
    expect(body.friends.length).toBeGreaterThan(0);
  });

  it('routes the cohorts by end-user, as x-served-by shows', async () => {
    const servedBy = async (user?: string) => (await profile(user)).headers['x-served-by'];
    expect(await servedBy('canary-tester-7')).toBe('bff, account-canary, friend');
    expect(await servedBy('baseline-tester-7')).toBe('bff, account-baseline, friend');
    expect(await servedBy('user-7')).toBe('bff, account-primary, friend');
    expect(await servedBy(undefined)).toBe('bff, account-primary, friend');
    expect(await servedBy('canary-tester-7x')).toBe('bff, account-primary, friend');
  });

  it('counts each request once on the destination side of the workload that served it', async () => {
    const labels = { reporter: 'destination', source_workload: 'bff', response_code: '200' };
    const before = await metricSum('account-canary', labels);
    const sourceBefore = await metricSum('bff', { reporter: 'source', destination_workload: 'account-canary' });
    for (let i = 0; i < 5; i++) expect((await profile(`canary-tester-${i}`)).status).toBe(200);
    expect(await metricSum('account-canary', labels)).toBe(before + 5);
    expect(await metricSum('bff', { reporter: 'source', destination_workload: 'account-canary' })).toBe(
      sourceBefore + 5,
    );
  });

  it('applies a VirtualService in every proxy before resolving, and can put it back', async () => {
    const original = mesh.virtualService('account')!;
    expect(original).toBeDefined();
    const allCanary: IVirtualService = {
      ...original,
      spec: { hosts: ['account'], http: [{ route: [{ destination: { host: 'account', subset: 'canary' } }] }] },
    } as IVirtualService;
    await mesh.applyVirtualService(allCanary);
    try {
      expect((await profile('user-7')).headers['x-served-by']).toBe('bff, account-canary, friend');
      expect(mesh.virtualService('account')?.spec?.http).toHaveLength(1);
    } finally {
      await mesh.applyVirtualService(original);
    }
    expect((await profile('user-7')).headers['x-served-by']).toBe('bff, account-primary, friend');
  });

  it('splits 10,000 requests 90/10 within the 99.9 % binomial interval, and telemetry counts them exactly', async () => {
    const original = mesh.virtualService('account')!;
    const weighted = structuredClone(original);
    weighted.spec!.http = [
      {
        name: 'weighted',
        route: [
          { destination: { host: 'account', subset: 'primary' }, weight: 90 },
          { destination: { host: 'account', subset: 'canary' }, weight: 10 },
        ],
      },
    ];
    const canaryLabels = { reporter: 'destination', source_workload: 'bff', destination_workload: 'account-canary' };
    const before = await metricSum('account-canary', canaryLabels);
    await mesh.applyVirtualService(weighted);
    const n = 10_000;
    const served: Record<string, number> = {};
    try {
      const pool = new Pool(mesh.gatewayUrl, { connections: 16 });
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < n) {
          next += 1;
          const res = await pool.request({
            method: 'GET',
            path: '/api/account/1',
            headers: { 'end-user': `user-${next}` },
          });
          await res.body.dump();
          expect(res.statusCode).toBe(200);
          const track = String(res.headers['x-served-by']).split(', ')[1];
          served[track] = (served[track] ?? 0) + 1;
        }
      };
      await Promise.all(Array.from({ length: 16 }, worker));
      await pool.close();
    } finally {
      await mesh.applyVirtualService(original);
    }
    expect(Object.keys(served).sort()).toEqual(['account-canary', 'account-primary']);
    const halfWidth = 3.2905 * Math.sqrt(n * 0.1 * 0.9);
    expect(Math.abs(served['account-canary'] - n * 0.1)).toBeLessThanOrEqual(halfWidth);
    expect(await metricSum('account-canary', canaryLabels)).toBe(before + served['account-canary']);
  }, 120_000);

  it('rejects a VirtualService with an unknown subset without changing any proxy', async () => {
    const bad = {
      ...mesh.virtualService('account')!,
      spec: { hosts: ['account'], http: [{ route: [{ destination: { host: 'account', subset: 'nope' } }] }] },
    } as IVirtualService;
    await expect(mesh.applyVirtualService(bad)).rejects.toThrow(/subset "nope"/);
    expect((await profile('canary-tester-1')).headers['x-served-by']).toBe('bff, account-canary, friend');
  });

  it('denies a call to account that does not come from the bff with 403, and counts it', async () => {
    const gatewayVs = mesh.virtualService('bff')!;
    const direct = structuredClone(gatewayVs);
    direct.spec!.http = [
      {
        name: 'straight-to-account',
        match: [{ headers: { 'x-route': { exact: 'account' } } }],
        route: [{ destination: { host: 'account', subset: 'primary' } }],
      },
      ...(gatewayVs.spec!.http ?? []),
    ];
    const denied = {
      reporter: 'destination',
      source_workload: 'istio-ingressgateway',
      response_code: '403',
      response_flags: '-',
    };
    const before = await metricSum('account-primary', denied);
    await mesh.applyVirtualService(direct);
    try {
      const res = await call(`${mesh.gatewayUrl}/api/account?id=1`, { headers: { 'x-route': 'account' } });
      expect(res.status).toBe(403);
      expect(res.body).toBe('RBAC: access denied');
    } finally {
      await mesh.applyVirtualService(gatewayVs);
    }
    expect(await metricSum('account-primary', denied)).toBe(before + 1);
    const gateway = (await call(mesh.metricsUrls[0])).body;
    expect(
      sampleSum(gateway, 'istio_requests_total', {
        reporter: 'source',
        destination_service_name: 'account',
        response_code: '403',
      }),
    ).toBe(1);
  });

  it('reports a child that exits unasked, and stop() leaves no child process', async () => {
    const exits: UnexpectedExit[] = [];
    mesh.onUnexpectedExit((e) => exits.push(e));
    const friend = mesh.workloads.find((w) => w.name === 'friend')!.replicas[0].pid;
    process.kill(friend, 'SIGKILL');
    await waitFor(() => exits.length > 0, 5000);
    expect(exits[0]).toMatchObject({ workload: 'friend', signal: 'SIGKILL' });
    await mesh.stop();
    await mesh.stop(); // idempotent
    for (const pid of pids) expect(isRunning(pid), `pid ${pid}`).toBe(false);
  });
});

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
