/**
 * The Prometheus a data plane starts for itself (`canary mesh up --prometheus`): the `prometheus`
 * binary found on PATH (Debian's package), listening on 127.0.0.1, with its configuration, its
 * targets file and its storage in a temporary directory that `stop()` removes. It scrapes every
 * target of the file SD file (scrape-targets.ts) at `/metrics` every `scrapeIntervalMs`, as job
 * `istio-merged-metrics` (the job name of the project's scrape configuration for a cluster). It runs
 * in a process group of its own, so Ctrl-C reaches the harness, which stops it after the data plane;
 * it is killed if the harness exits first, and by the kernel if the harness dies without running its
 * exit handlers (SIGKILL, a crash), through util-linux's `setpriv --pdeathsig KILL` when it is
 * installed (its temporary directory then stays behind).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { InfraError } from '../../core/errors.ts';
import { freeLoopbackPort } from '../../core/loopback.ts';

export interface MeshPrometheusOptions {
  /** Default 1 000 ms: several points per analysis interval. */
  scrapeIntervalMs?: number;
  /** How long Prometheus may take to answer /-/ready (default 30 s). */
  readyTimeoutMs?: number;
  /** Directories searched for `prometheus`; default PATH. */
  path?: string;
}

export interface MeshPrometheus {
  /** `http://127.0.0.1:PORT`, the API's base URL. */
  url: string;
  /** The file SD file it scrapes through; the data plane keeps it up to date. */
  targetsFile: string;
  /** The temporary directory (configuration, targets, storage, log), removed by `stop()`. */
  dir: string;
  /** Settles if Prometheus exits before `stop()` was called, with its exit and the end of its log. */
  readonly died: Promise<string>;
  /** Stops Prometheus and removes its directory; idempotent. */
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 10_000;
const SETPRIV = '/usr/bin/setpriv';

/**
 * The `prometheus` executable on `path`; an error naming `needer` (what wanted it), the binary and
 * its Debian package otherwise.
 */
export function findPrometheus(path = process.env.PATH ?? '', needer = '--prometheus'): string {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'prometheus');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new InfraError(
    `${needer}: no executable prometheus on PATH (${path || 'empty'}): install Debian's package (apt-get install prometheus) or put the binary on PATH`,
  );
}

/** The configuration, as JSON (which YAML reads). */
export function prometheusConfig(targetsFile: string, scrapeIntervalMs: number): string {
  const interval = `${scrapeIntervalMs}ms`;
  return JSON.stringify(
    {
      global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
      scrape_configs: [
        {
          job_name: 'istio-merged-metrics',
          metrics_path: '/metrics',
          scheme: 'http',
          file_sd_configs: [{ files: [targetsFile], refresh_interval: interval }],
        },
      ],
    },
    null,
    2,
  );
}

export async function startMeshPrometheus(opts: MeshPrometheusOptions = {}): Promise<MeshPrometheus> {
  const binary = findPrometheus(opts.path);
  const interval = opts.scrapeIntervalMs ?? 1_000;
  if (!Number.isInteger(interval) || interval < 100)
    throw new InfraError(`prometheus scrape interval: expected an integer ≥ 100 ms, got ${interval}`);
  const dir = await mkdtemp(join(tmpdir(), 'canary-mesh-prometheus-'));
  const targetsFile = join(dir, 'targets.json');
  const configFile = join(dir, 'prometheus.yml');
  const logFile = join(dir, 'prometheus.log');
  let child: ChildProcess | undefined;
  let stopping = false;
  let stopPromise: Promise<void> | undefined;
  const killOnExit = (): void => {
    child?.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  let reportDeath: (why: string) => void = () => {};
  const died = new Promise<string>((resolve) => {
    reportDeath = resolve;
  });

  const stop = (): Promise<void> => {
    stopping = true;
    stopPromise ??= (async () => {
      const c = child;
      if (c && c.exitCode === null && c.signalCode === null) {
        const exited = new Promise((resolve) => c.once('exit', resolve));
        c.kill('SIGTERM');
        const timer = setTimeout(() => c.kill('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      process.off('exit', killOnExit);
      await rm(dir, { recursive: true, force: true });
    })();
    return stopPromise;
  };

  try {
    await writeFile(targetsFile, '[]\n');
    await writeFile(configFile, prometheusConfig(targetsFile, interval));
    // A free port may be taken between the probe and Prometheus's bind: try a few times.
    for (let attempt = 1; ; attempt++) {
      const port = await freeLoopbackPort();
      const log = openSync(logFile, 'w');
      const args = [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ];
      // setpriv sets the parent-death signal, then execs Prometheus (same process id).
      const [command, argv] = existsSync(SETPRIV)
        ? [SETPRIV, ['--pdeathsig', 'KILL', '--', binary, ...args]]
        : [binary, args];
      const c = spawn(command, argv, { stdio: ['ignore', log, log], detached: true });
      closeSync(log);
      child = c;
      const spawned = new Promise<Error | undefined>((resolve) => {
        c.once('spawn', () => resolve(undefined));
        c.once('error', (err) => resolve(err));
      });
      const spawnError = await spawned;
      if (spawnError) throw new InfraError(`prometheus (${binary}) could not be started: ${spawnError.message}`);
      const url = `http://127.0.0.1:${port}`;
      const ready = await waitForPrometheusReady(c, url, opts.readyTimeoutMs ?? 30_000);
      if (ready === 'ready') {
        c.once('exit', (code, signal) => {
          if (stopping) return;
          reportDeath(
            `prometheus exited (${signal ? `signal ${signal}` : `exit code ${code}`}); its log ${logFile}:\n${tail(logFile)}`,
          );
        });
        return { url, targetsFile, dir, died, stop };
      }
      const text = tail(logFile);
      if (ready === 'exited' && /address already in use/i.test(text) && attempt < 3) continue;
      throw new InfraError(`prometheus did not become ready on ${url} (${ready}); the end of its log:\n${text}`);
    }
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Polls Prometheus's /-/ready until 200, the process exits, or the time is up (then kills it). */
export async function waitForPrometheusReady(
  child: ChildProcess,
  url: string,
  timeoutMs: number,
): Promise<'ready' | 'exited' | 'timeout'> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return 'exited';
    try {
      const res = await request(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) });
      await res.body.dump();
      if (res.statusCode === 200) return 'ready';
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  child.kill('SIGKILL');
  return 'timeout';
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-2_000);
  } catch {
    return '(no log)';
  }
}
