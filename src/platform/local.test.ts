import { describe, expect, it } from 'vitest';
import type { IVirtualService, Mesh, MeshOptions } from '../mesh/mesh.ts';
import { LocalPlatform } from './local.ts';
import { testPlan } from '../canary/testing/fixtures.ts';

type ExitListener = Parameters<Mesh['onUnexpectedExit']>[0];

/** A mesh that records what it was asked and lets the test fire an unexpected exit. */
function fakeMesh() {
  const applied: IVirtualService[] = [];
  let listener: ExitListener | undefined;
  let stops = 0;
  const mesh: Mesh = {
    gatewayUrl: 'http://127.0.0.1:9',
    workloads: [],
    metricsUrls: ['http://127.0.0.1:9/metrics'],
    applyVirtualService: async (vs) => void applied.push(vs),
    virtualService: () => undefined,
    onUnexpectedExit: (l) => void (listener = l),
    stop: async () => void stops++,
  } as Mesh;
  return { mesh, applied, exit: (e: Parameters<ExitListener>[0]) => listener?.(e), stops: () => stops };
}

const plan = testPlan({ scenario: 'slow' });
const workloads = { primary: 'account-primary', baseline: 'account-baseline', canary: 'account-canary' };

describe('LocalPlatform', () => {
  it("starts the mesh with each track's version and knobs, then the safe route before anything else", async () => {
    const f = fakeMesh();
    let options: MeshOptions | undefined;
    const platform = new LocalPlatform({
      manifestsDir: 'manifests',
      target: plan.target,
      workloads,
      start: async (o) => ((options = o), f.mesh),
    });
    const deployment = await platform.deploy(plan.tracks);
    expect(deployment).toEqual({ gatewayUrl: 'http://127.0.0.1:9', metricsUrls: ['http://127.0.0.1:9/metrics'] });
    expect(options?.port).toBe(0);
    expect(options?.overrides?.['account-canary']?.env).toMatchObject({
      VERSION: 'v2',
      LATENCY: 'lognormal:median=23,sigma=0.3',
    });
    expect(options?.overrides?.['account-baseline']?.env).toMatchObject({ VERSION: 'v1' });
    expect(f.applied.map((vs) => vs.metadata?.annotations?.['canary.sprincube.io/route'])).toEqual(['safe']);
  });

  it('--baseline primary: the baseline runs with 0 replicas', async () => {
    const f = fakeMesh();
    let options: MeshOptions | undefined;
    const p = testPlan({ baseline: 'primary' });
    await new LocalPlatform({
      manifestsDir: 'manifests',
      target: p.target,
      workloads,
      start: async (o) => ((options = o), f.mesh),
    }).deploy(p.tracks);
    expect(options?.overrides?.['account-baseline']).toEqual({ replicas: 0 });
  });

  it('applies each route as the VirtualService of routes.ts', async () => {
    const f = fakeMesh();
    const platform = new LocalPlatform({
      manifestsDir: 'manifests',
      target: plan.target,
      workloads,
      start: async () => f.mesh,
    });
    await platform.deploy(plan.tracks);
    await platform.setRoute(plan.stages[1].route);
    const last = f.applied[f.applied.length - 1];
    expect(last.metadata?.name).toBe('account');
    expect(last.spec?.http?.at(-1)?.route?.map((d) => d.weight)).toEqual([90, 5, 5]);
  });

  it('forwards an unexpected exit during the run, but not the exits teardown causes', async () => {
    const f = fakeMesh();
    const exits: string[] = [];
    const platform = new LocalPlatform({
      manifestsDir: 'manifests',
      target: plan.target,
      workloads,
      start: async () => f.mesh,
    });
    await platform.deploy(plan.tracks, { onUnexpectedExit: (e) => exits.push(`${e.workload} ${e.detail}`) });
    f.exit({ workload: 'account-canary', code: 1, signal: null });
    await platform.teardown();
    f.exit({ workload: 'bff', code: null, signal: 'SIGTERM' });
    expect(exits).toEqual(['account-canary exit code 1']);
    expect(f.stops()).toBe(1);
  });

  it('teardown during a deploy still stops the mesh once it has started; a second teardown is a no-op', async () => {
    const f = fakeMesh();
    let release!: () => void;
    const platform = new LocalPlatform({
      manifestsDir: 'manifests',
      target: plan.target,
      workloads,
      start: () => new Promise((resolve) => (release = () => resolve(f.mesh))),
    });
    const deploying = platform.deploy(plan.tracks).catch(() => undefined);
    const tearing = platform.teardown();
    release();
    await tearing;
    await deploying;
    await platform.teardown();
    expect(f.stops()).toBeGreaterThanOrEqual(1);
  });

  it('setRoute before deploy is an infrastructure error, not a silent no-op', async () => {
    const platform = new LocalPlatform({
      manifestsDir: 'manifests',
      target: plan.target,
      workloads,
      start: async () => fakeMesh().mesh,
    });
    await expect(platform.setRoute({ kind: 'safe' })).rejects.toThrow(/not running/);
  });
});
