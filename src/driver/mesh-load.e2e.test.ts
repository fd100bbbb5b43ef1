/**
 * The builtin driver against the real local mesh (`startMesh`): 200 requests/s for 20 s. The achieved
 * rate is within 1 % of the target, and the client's per-workload counts (from `x-served-by`) equal
 * the data plane's own `istio_requests_total{reporter="destination"}` exactly.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
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

/** Reads the data plane's counts until `ready` holds for them (the last answers' telemetry may trail the client). */
async function countsWhen(
  workloads: string[],
  ready: (counts: Record<string, number>) => boolean,
): Promise<Record<string, number>> {
  let counts: Record<string, number> = {};
  await vi.waitFor(
    async () => {
      counts = await destinationCounts(workloads);
      expect(ready(counts)).toBe(true);
    },
    { timeout: 15_000, interval: 50 },
  );
  return counts;
}

describe('builtin driver against the local mesh', () => {
  it('200 requests/s for 20 s: every request sent, per-workload counts equal the data plane', {
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
    // Wait until the data plane has counted at least every answer the client attributed to a workload.
    const total = (c: Record<string, number>) => workloads.reduce((n, w) => n + (c[w] ?? 0), 0);
    const attributed = workloads.reduce((n, w) => n + (result.byWorkload[w] ?? 0), 0);
    const after = await countsWhen(workloads, (c) => total(c) - total(before) >= attributed);
    // The driver's pre-flight request also went through the mesh: measure what one such probe adds
    // (its answer has arrived, so whatever it added is counted).
    await assertTargetReachable(mesh.gatewayUrl);
    const probe = diff(await destinationCounts(workloads), after);

    expect(result.status).toBe('completed');
    expect(result.sent).toBe(4000);
    expect(result.requests).toBe(4000);
    expect(result.byTrack['account-canary'] ?? 0).toBeGreaterThan(0);
    expect(result.byTrack['account-baseline'] ?? 0).toBeGreaterThan(0);
    const dataPlane = diff(diff(after, before), probe);
    const client = Object.fromEntries(workloads.map((w) => [w, result.byWorkload[w] ?? 0]));
    expect(client).toEqual(dataPlane);
    expect(client.bff).toBe(4000 - result.series.reduce((n, s) => n + s.transportErrors, 0));
  });
});
