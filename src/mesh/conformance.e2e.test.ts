/**
 * Conformance with Istio's documentation tasks, adapted to the reference app and run against the
 * local data plane (real child processes from the committed manifests/). Each test applies the task's
 * VirtualService and asserts the outcome Istio's page documents; a divergence is a red test.
 * - Request routing: https://istio.io/latest/docs/tasks/traffic-management/request-routing/
 * - Traffic shifting: https://istio.io/latest/docs/tasks/traffic-management/traffic-shifting/
 * - Fault injection: https://istio.io/latest/docs/tasks/traffic-management/fault-injection/
 * - Request timeouts: https://istio.io/latest/docs/tasks/traffic-management/request-timeouts/
 * Bookinfo's reviews v1/v2 become account's primary and canary subsets, `productpage` the bff.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { call } from '../../test/support/http.ts';
import type { IVirtualService } from '../manifests/types.ts';
import { startMesh, type Mesh } from './mesh.ts';
import { sampleSum } from './testing.ts';

let mesh: Mesh;
let originals: Record<string, IVirtualService>;

beforeAll(async () => {
  mesh = await startMesh({ manifestsDir: 'manifests', port: 0 });
  originals = { account: mesh.virtualService('account')!, bff: mesh.virtualService('bff')! };
}, 90_000);

afterAll(async () => {
  await mesh?.stop();
});

afterEach(async () => {
  for (const vs of Object.values(originals)) await mesh.applyVirtualService(vs);
});

function accountRoutes(http: unknown[]): IVirtualService {
  return { ...originals.account, spec: { hosts: ['account'], http } } as IVirtualService;
}

function bffRoutes(http: unknown[]): IVirtualService {
  return { ...originals.bff, spec: { ...originals.bff.spec, http } } as IVirtualService;
}

const toBff = { destination: { host: 'bff', subset: 'v1', port: { number: 8080 } } };
const subset = (name: string, weight?: number) => ({
  destination: { host: 'account', subset: name },
  ...(weight === undefined ? {} : { weight }),
});

const profile = (user?: string) =>
  call(`${mesh.gatewayUrl}/api/profile/1`, { headers: user === undefined ? {} : { 'end-user': user } });
const accountOf = async (user?: string) => (await profile(user)).headers['x-served-by']?.split(', ')[1];

async function metricSum(workload: string, labels: Record<string, string>): Promise<number> {
  const urls =
    workload === 'gateway'
      ? [mesh.metricsUrls[0]]
      : mesh.workloads.find((w) => w.name === workload)!.replicas.map((r) => r.metricsUrl);
  let sum = 0;
  for (const url of urls) sum += sampleSum((await call(url)).body, 'istio_requests_total', labels);
  return sum;
}

/**
 * |x − np| within the two-sided 1 − 10⁻⁵ normal interval of a binomial(n, p): the mesh draws from
 * its own unseeded generator, so the level keeps a false alarm out of reach (one run in 100,000)
 * while 400 requests still tell 50/50 from 80/20 by more than ten standard deviations.
 */
function withinBinomial(x: number, n: number, p: number): boolean {
  return Math.abs(x - n * p) <= 4.4172 * Math.sqrt(n * p * (1 - p));
}

describe("Istio's traffic-management tasks on the local data plane", () => {
  it('request routing: the user jason, matched on the end-user header, reaches v2; everyone else v1', async () => {
    await mesh.applyVirtualService(
      accountRoutes([
        { match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [subset('canary')] },
        { route: [subset('primary')] },
      ]),
    );
    for (let i = 0; i < 5; i++) expect(await accountOf('jason')).toBe('account-canary');
    expect(await accountOf('Jason')).toBe('account-primary');
    expect(await accountOf('user-1')).toBe('account-primary');
    expect(await accountOf(undefined)).toBe('account-primary');
  });

  for (const [primary, canary] of [
    [50, 50],
    [80, 20],
  ]) {
    it(`traffic shifting: a ${primary}/${canary} weighted route splits requests in proportion (binomial test)`, async () => {
      await mesh.applyVirtualService(
        accountRoutes([{ route: [subset('primary', primary), subset('canary', canary)] }]),
      );
      const n = 400;
      let onCanary = 0;
      for (let i = 0; i < n; i++) if ((await accountOf(`user-${i}`)) === 'account-canary') onCanary += 1;
      expect(withinBinomial(onCanary, n, canary / 100), `${onCanary} of ${n} on the canary`).toBe(true);
    });
  }

  it('fault injection: an HTTP abort for jason answers 500 without reaching the app; others are served', async () => {
    await mesh.applyVirtualService(
      bffRoutes([
        {
          match: [{ headers: { 'end-user': { exact: 'jason' } } }],
          fault: { abort: { percentage: { value: 100 }, httpStatus: 500 } },
          route: [toBff],
        },
        { route: [toBff] },
      ]),
    );
    const before = await metricSum('bff', { reporter: 'destination' });
    const aborted = await profile('jason');
    expect(aborted).toMatchObject({ status: 500, body: 'fault filter abort' });
    expect(await metricSum('bff', { reporter: 'destination' })).toBe(before);
    expect((await profile('user-1')).status).toBe(200);
    expect(await metricSum('gateway', { reporter: 'source', response_code: '500', response_flags: 'FI' })).toBe(1);
  });

  it('fault injection: a delay for jason is applied and flagged DI; a fault without percentage applies to none', async () => {
    await mesh.applyVirtualService(
      bffRoutes([
        {
          match: [{ headers: { 'end-user': { exact: 'jason' } } }],
          fault: { delay: { percentage: { value: 100 }, fixedDelay: '200ms' } },
          route: [toBff],
        },
        { fault: { abort: { httpStatus: 500 } }, route: [toBff] },
      ]),
    );
    expect((await profile('jason')).status).toBe(200);
    expect(await metricSum('gateway', { reporter: 'source', response_code: '200', response_flags: 'DI' })).toBe(1);
    for (let i = 0; i < 20; i++) expect((await profile(`user-${i}`)).status).toBe(200);
  });

  it('request timeouts: a 2 s delay behind a 0.5 s route timeout answers 504; the destination records 0 / DC', async () => {
    // The task delays ratings and bounds reviews; here the account call is delayed and the bff bounded.
    await mesh.applyVirtualService(
      accountRoutes([
        { fault: { delay: { percentage: { value: 100 }, fixedDelay: '2s' } }, route: [subset('primary')] },
      ]),
    );
    await mesh.applyVirtualService(bffRoutes([{ timeout: '0.5s', route: [toBff] }]));
    const res = await profile('user-1');
    expect(res).toMatchObject({ status: 504, body: 'upstream request timeout' });
    expect(await metricSum('gateway', { reporter: 'source', response_code: '504', response_flags: 'UT' })).toBe(1);
    await vi.waitFor(
      async () =>
        expect(
          await metricSum('bff', {
            reporter: 'destination',
            source_workload: 'istio-ingressgateway',
            response_code: '0',
            response_flags: 'DC',
          }),
        ).toBe(1),
      { timeout: 5000 },
    );
  });
});
