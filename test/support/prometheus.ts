/**
 * A real, throwaway Prometheus for e2e suites: the Debian package's `/usr/bin/prometheus` on a free
 * loopback port, with a temporary storage directory and a generated configuration that scrapes the
 * given `/metrics` URLs as static targets every second. `stop()` shuts it down and removes the
 * directory.
 *
 * A missing binary is an error, never a skipped suite (the CI script installs `prometheus`).
 */
import { openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { findPrometheus, waitForPrometheusReady } from '../../src/mesh/telemetry/prometheus-server.ts';
import { ServerProcess, freeLoopbackPort } from './server-process.ts';

export interface PrometheusServer {
  /** `http://127.0.0.1:PORT`, the API's base URL. */
  url: string;
  port: number;
  /** Job name per scraped URL (one job each, so paths may differ); `instance` is host:port. */
  jobs: Record<string, string>;
  scrapeIntervalMs: number;
  /**
   * Resolves once every target has been scraped successfully by a scrape that started at or after
   * `since` (epoch ms), and its samples are queryable. Throws, with each target's state, after
   * `timeoutMs`.
   */
  waitForScrapes(since: number, timeoutMs?: number): Promise<void>;
  /** Stops the server and removes its directory; idempotent. */
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  /** `/metrics` URLs to scrape. */
  targets: string[];
  /** Default 1 000 ms. */
  scrapeIntervalMs?: number;
  readyTimeoutMs?: number;
}

/** Debian's `/usr/bin/prometheus`, or one on PATH (the product's own lookup). */
export function findPrometheusBinary(): string {
  return findPrometheus(['/usr/bin', process.env.PATH ?? ''].join(delimiter), 'the e2e suites');
}

export async function startPrometheus(opts: PrometheusOptions): Promise<PrometheusServer> {
  const binary = findPrometheusBinary();
  const interval = opts.scrapeIntervalMs ?? 1_000;
  const root = await mkdtemp(join(tmpdir(), 'canary-prometheus-'));
  const configFile = join(root, 'prometheus.yml');
  const logFile = join(root, 'prometheus.log');
  const jobs: Record<string, string> = {};
  const scrapeConfigs = opts.targets.map((target, i) => {
    const u = new URL(target);
    const job = `target-${i}`;
    jobs[target] = job;
    return {
      job_name: job,
      scheme: u.protocol.replace(':', ''),
      metrics_path: u.pathname,
      static_configs: [{ targets: [u.host] }],
    };
  });
  // JSON is YAML: no need for a YAML writer for a generated file.
  writeFileSync(
    configFile,
    JSON.stringify({
      global: {
        scrape_interval: `${interval}ms`,
        scrape_timeout: `${interval}ms`,
        evaluation_interval: `${interval}ms`,
      },
      scrape_configs: scrapeConfigs,
    }),
  );

  const server = new ServerProcess(root, 10_000);
  const stop = () => server.stop();

  try {
    let port = 0;
    // The free port may be taken between the probe and Prometheus' bind: try a few times.
    for (let attempt = 1; ; attempt++) {
      port = await freeLoopbackPort();
      const log = openSync(logFile, 'w');
      const spawned = server.spawn(
        binary,
        [
          `--config.file=${configFile}`,
          `--storage.tsdb.path=${join(root, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--storage.tsdb.retention.time=1h',
          '--log.level=warn',
        ],
        { stdio: ['ignore', log, log] },
      );
      closeSync(log);
      const ready = await waitForPrometheusReady(spawned, `http://127.0.0.1:${port}`, opts.readyTimeoutMs ?? 30_000);
      if (ready === 'ready') break;
      server.forget();
      const text = readFileSync(logFile, 'utf8');
      if (ready === 'exited' && /address already in use/i.test(text) && attempt < 3) continue;
      throw new Error(`prometheus did not become ready (${ready}); log ${logFile}:\n${text.slice(-2000)}`);
    }
    const url = `http://127.0.0.1:${port}`;
    return {
      url,
      port,
      jobs,
      scrapeIntervalMs: interval,
      waitForScrapes: (since, timeoutMs = 15_000) => waitForScrapes(url, since, timeoutMs),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

interface ActiveTarget {
  scrapeUrl: string;
  health: string;
  lastScrape: string;
  lastError: string;
}

async function waitForScrapes(url: string, since: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let targets: ActiveTarget[] = [];
  while (Date.now() < deadline) {
    // /api/v1/targets is Prometheus-only; fine here, the harness itself never uses it.
    const res = await request(`${url}/api/v1/targets?state=active`);
    const body = (await res.body.json()) as { data: { activeTargets: ActiveTarget[] } };
    targets = body.data.activeTargets;
    if (targets.length > 0 && targets.every((t) => t.health === 'up' && Date.parse(t.lastScrape) >= since)) {
      // The target's state is updated at the end of its scrape; leave a moment for the append to
      // be visible to queries.
      await sleep(100);
      return;
    }
    await sleep(100);
  }
  const states = targets.map((t) => `${t.scrapeUrl}: ${t.health} last ${t.lastScrape} ${t.lastError}`).join('\n');
  throw new Error(
    `prometheus at ${url}: not every target was scraped after ${new Date(since).toISOString()} within ${timeoutMs} ms:\n${states}`,
  );
}

/** An instant query's result vector; throws with Prometheus's answer unless it is 200. */
export async function instantQuery(
  url: string,
  promql: string,
): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await request(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`Prometheus query ${promql}: HTTP ${res.statusCode}: ${body}`);
  return JSON.parse(body).data.result;
}
