/**
 * The data plane's own Prometheus (Debian's binary, as `canary mesh up --prometheus` starts it)
 * scraping a /metrics it learns from the file SD file only: series carry the target's `namespace`
 * and `pod`, a target removed from the file is dropped, and stop leaves no process, port or
 * directory behind. Fails (never skips) without the `prometheus` package.
 */
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { call, type LoopbackServer, serveOnLoopback } from '../../../test/support/http.ts';
import { adminServer } from '../admin-server.ts';
import { IstioTelemetry, serviceLabels, workloadLabels } from './istio-metrics.ts';
import { type MeshPrometheus, startMeshPrometheus } from './prometheus-server.ts';
import { targetGroups, writeTargetsFile } from './scrape-targets.ts';
import { instantQuery } from '../../../test/support/prometheus.ts';

const WAIT = { timeout: 30_000, interval: 200 };

let prometheus: MeshPrometheus | undefined;
let metrics: LoopbackServer | undefined;

afterAll(async () => {
  await prometheus?.stop();
  await metrics?.close();
});

describe("the data plane's Prometheus", { timeout: 60_000 }, () => {
  it('scrapes the targets of its file SD file, labelled with their namespace and pod, and drops one removed from it', async () => {
    const telemetry = new IstioTelemetry();
    const account = {
      workload: 'account-canary',
      namespace: 'shop',
      serviceAccount: 'account',
      labels: { app: 'account', version: 'v2' },
    };
    for (let i = 0; i < 7; i++)
      telemetry.record(
        {
          reporter: 'destination',
          source: workloadLabels({ workload: 'bff', namespace: 'shop', serviceAccount: 'bff', labels: { app: 'bff' } }),
          destination: workloadLabels(account),
          service: serviceLabels('account', 'shop'),
          code: 200,
          flags: '-',
        },
        1,
      );
    const admin = adminServer(telemetry);
    metrics = await serveOnLoopback((req, res) => admin.emit('request', req, res));
    prometheus = await startMeshPrometheus();
    expect(prometheus.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await writeTargetsFile(
      prometheus.targetsFile,
      targetGroups([
        {
          metricsUrl: `${metrics.url}/metrics`,
          namespace: 'shop',
          pod: 'account-canary-7c9d-x2k4p',
          podLabels: account.labels,
        },
      ]),
    );
    const promql =
      'sum by (namespace, pod, job, destination_workload, destination_version) (istio_requests_total{reporter="destination"})';
    const result = await vi.waitFor(async () => {
      const r = await instantQuery(prometheus!.url, promql);
      expect(r).toHaveLength(1);
      return r;
    }, WAIT);
    expect(result[0]!.metric).toEqual({
      namespace: 'shop',
      pod: 'account-canary-7c9d-x2k4p',
      job: 'istio-merged-metrics',
      destination_workload: 'account-canary',
      destination_version: 'v2',
    });
    expect(result[0]!.value[1]).toBe('7');

    await writeTargetsFile(prometheus.targetsFile, []);
    await vi.waitFor(async () => {
      const res = await call(`${prometheus!.url}/api/v1/targets?state=active`);
      expect(JSON.parse(res.body).data.activeTargets).toEqual([]);
    }, WAIT);
  });

  it('stops: its port closed and its directory gone', async () => {
    const { url, dir } = prometheus!;
    expect(existsSync(dir)).toBe(true);
    await prometheus!.stop();
    await expect(call(`${url}/-/ready`)).rejects.toThrow();
    expect(existsSync(dir)).toBe(false);
  });

  it('without a prometheus on the path refuses to start, naming it, and leaves no directory', async () => {
    const ours = () => readdirSync(tmpdir()).filter((e) => e.startsWith('canary-mesh-prometheus-'));
    const before = ours();
    await expect(startMeshPrometheus({ path: '/nonexistent' })).rejects.toThrow(
      '--prometheus: no executable prometheus on PATH (/nonexistent)',
    );
    expect(ours()).toEqual(before);
  });
});
