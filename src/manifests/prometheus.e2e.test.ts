/**
 * The committed scrape configuration, run by a real Prometheus (Debian package) on loopback. The
 * Debian build has no Kubernetes discovery, so file-based discovery stands in for it, handing
 * Prometheus targets with the same `__meta_kubernetes_pod_*` labels Kubernetes pod discovery
 * sets (https://prometheus.io/docs/prometheus/latest/configuration/configuration/#pod); the
 * relabel rules under test are the committed ones, unchanged.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadManifests } from './load.ts';

let scratch: string;
let exporter: Server;
let prometheus: ChildProcess | undefined;
let prometheusUrl: string;
const scrapedPaths: string[] = [];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function pod(name: string, annotations: Record<string, string>, phase = 'Running'): Record<string, string> {
  const labels: Record<string, string> = {
    __meta_kubernetes_namespace: 'sprincube',
    __meta_kubernetes_pod_name: name,
    __meta_kubernetes_pod_ip: '127.0.0.1',
    __meta_kubernetes_pod_phase: phase,
    __meta_kubernetes_pod_label_app: 'account',
    __meta_kubernetes_pod_label_version: 'v2',
    __meta_kubernetes_pod_label_track: 'canary',
    __meta_kubernetes_pod_label_pod_template_hash: 'abc123',
  };
  for (const [k, v] of Object.entries(annotations)) labels[`__meta_kubernetes_pod_annotation_prometheus_io_${k}`] = v;
  return labels;
}

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'prometheus-e2e-'));
  // Stands in for a sidecar's merged-metrics endpoint (pilot-agent, :15020/stats/prometheus).
  exporter = createServer((req, res) => {
    scrapedPaths.push(req.url ?? '');
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end('istio_requests_total{reporter="destination",destination_workload="account-canary"} 7\n');
  });
  await new Promise<void>((resolve) => exporter.listen(0, '127.0.0.1', resolve));
  const exporterPort = (exporter.address() as AddressInfo).port;

  const set = await loadManifests('manifests');
  const map = set.all.find((o) => o.value.kind === 'ConfigMap' && o.value.metadata?.name === 'prometheus-config');
  const config = parse((map!.value as unknown as { data: Record<string, string> }).data['prometheus.yml']) as {
    global: Record<string, string>;
    scrape_configs: Record<string, unknown>[];
  };
  config.global.scrape_interval = '1s';
  const targets = path.join(scratch, 'pods.json');
  await writeFile(
    targets,
    JSON.stringify([
      {
        targets: ['10.1.0.7:8080'],
        labels: pod('account-canary-1', { scrape: 'true', path: '/stats/prometheus', port: String(exporterPort) }),
      },
      { targets: ['10.1.0.8:8080'], labels: pod('not-annotated', { scrape: 'false', port: String(exporterPort) }) },
      {
        targets: ['10.1.0.9:8080'],
        labels: pod('still-pending', { scrape: 'true', port: String(exporterPort) }, 'Pending'),
      },
    ]),
  );
  for (const job of config.scrape_configs) {
    delete job.kubernetes_sd_configs;
    job.file_sd_configs = [{ files: [targets] }];
  }
  const configFile = path.join(scratch, 'prometheus.yml');
  await writeFile(configFile, stringify(config));

  const port = await freePort();
  prometheusUrl = `http://127.0.0.1:${port}`;
  prometheus = spawn(
    'prometheus',
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(scratch, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  prometheus.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const spawnError = new Promise<never>((_, reject) => prometheus!.once('error', reject));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = await Promise.race([
      fetch(`${prometheusUrl}/-/ready`).then(
        (r) => r.ok,
        () => false,
      ),
      spawnError,
    ]);
    if (ready) break;
    if (prometheus.exitCode !== null || Date.now() > deadline) throw new Error(`prometheus did not start:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
});

afterAll(async () => {
  if (prometheus && prometheus.exitCode === null) {
    const exited = new Promise((resolve) => prometheus!.once('exit', resolve));
    prometheus.kill('SIGTERM');
    await exited;
  }
  await new Promise((resolve) => exporter?.close(resolve));
  await rm(scratch, { recursive: true, force: true });
});

interface Target {
  labels: Record<string, string>;
  scrapeUrl: string;
  health: string;
}

describe('the Prometheus scrape configuration', () => {
  it('scrapes only running, annotated pods, at the annotated port and path, labelled with app, version and track', async () => {
    let active: Target[] = [];
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const body = (await (await fetch(`${prometheusUrl}/api/v1/targets?state=active`)).json()) as {
        data: { activeTargets: Target[] };
      };
      active = body.data.activeTargets;
      if (active.length > 0 && active.every((t) => t.health === 'up')) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(active.map((t) => t.labels.pod)).toEqual(['account-canary-1']);
    const [target] = active;
    expect(target.health).toBe('up');
    expect(target.scrapeUrl).toBe(`http://127.0.0.1:${(exporter.address() as AddressInfo).port}/stats/prometheus`);
    expect(target.labels).toMatchObject({
      app: 'account',
      version: 'v2',
      track: 'canary',
      namespace: 'sprincube',
      pod: 'account-canary-1',
    });
    expect(target.labels.pod_template_hash).toBeUndefined();
    expect(scrapedPaths).toContain('/stats/prometheus');

    const query = encodeURIComponent('istio_requests_total{track="canary"}');
    const result = (await (await fetch(`${prometheusUrl}/api/v1/query?query=${query}`)).json()) as {
      data: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    expect(result.data.result.map((r) => [r.metric.destination_workload, r.value[1]])).toEqual([
      ['account-canary', '7'],
    ]);
  });
});
