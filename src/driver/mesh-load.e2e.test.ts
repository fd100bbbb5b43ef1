/**
 * The builtin driver against the real local mesh (`startMesh`): 200 requests/s for 20 s. The achieved
 * rate is within 1 % of the target, and the client's per-workload counts (from `x-served-by`) equal
 * the data plane's own `istio_requests_total{reporter="destination"}` exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultTrafficModel } from '../../load/lib/traffic.ts';
import { startMesh } from '../mesh/mesh.ts';
import type { Mesh } from '../mesh/mesh.ts';
import { sampleSum } from '../mesh/testing.ts';
import { BuiltinDriver } from './builtin.ts';
import { constantProfile } from './driver.ts';
import { assertTargetReachable } from './target.ts';

let mesh: Mesh;
beforeAll(async () => {
  mesh = await startMesh({ port: 0 });
});
afterAll(async () => {
  await mesh?.stop();
});

/** `istio_requests_total{reporter="destination"}` per destination workload, summed over every /metrics. */
async function destinationCounts(workloads: string[]): Promise<Record<string, number>> {
  const texts = await Promise.all(mesh.metricsUrls.map(async (u) => (await fetch(u)).text()));
  const out: Record<string, number> = {};
  for (const w of workloads)
    out[w] = texts.reduce(
      (n, t) => n + sampleSum(t, 'istio_requests_total', { reporter: 'destination', destination_workload: w }),
      0,
    );
  return out;
}

function diff(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.keys(a).map((k) => [k, a[k] - (b[k] ?? 0)]));
}

const settle = () => new Promise((r) => setTimeout(r, 500));

describe('builtin driver against the local mesh', () => {
  it('200 requests/s for 20 s: rate within 1 %, per-workload counts equal the data plane', {
    timeout: 90_000,
  }, async () => {
    const workloads = mesh.workloads.map((w) => w.name).filter((w) => w !== 'gateway');
    const before = await destinationCounts(workloads);
    const run = await new BuiltinDriver().start({
      target: mesh.gatewayUrl,
      model: { kind: 'open', profile: constantProfile(200, 20) },
      traffic: defaultTrafficModel(),
    });
    const result = await run.result();
    await settle();
    const after = await destinationCounts(workloads);
    // The driver's pre-flight request also went through the mesh: measure what one such probe adds.
    await assertTargetReachable(mesh.gatewayUrl);
    await settle();
    const probe = diff(await destinationCounts(workloads), after);

    expect(result.status).toBe('completed');
    expect(result.sent).toBe(4000);
    expect(result.requests).toBe(4000);
    expect(Math.abs(result.achievedRate - 200) / 200).toBeLessThan(0.01);
    expect(result.byTrack['account-canary'] ?? 0).toBeGreaterThan(0);
    expect(result.byTrack['account-baseline'] ?? 0).toBeGreaterThan(0);
    const dataPlane = diff(diff(after, before), probe);
    const client = Object.fromEntries(workloads.map((w) => [w, result.byWorkload[w] ?? 0]));
    expect(client).toEqual(dataPlane);
    expect(client.bff).toBe(4000 - result.series.reduce((n, s) => n + s.transportErrors, 0));
  });
});
