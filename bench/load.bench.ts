/**
 * `npm run bench:load [-- --quick]`: the builtin driver against its peers, on one loopback target.
 *
 * 1. Closed loop, 32 connections, against nginx (Debian, temp config, one worker) serving a 2-byte
 *    200: requests/s of the builtin driver, autocannon (programmatic), wrk (-t1, like a single Node
 *    thread) and hey, with each one's ratio to autocannon.
 * 2. Open model at 5,000 requests/s for 30 s: achieved share of the target and the driver's CPU in
 *    cores (process.cpuUsage over wall time).
 * 3. Timers against polling at 200 requests/s (the canary runner's spinMs 0 against the default):
 *    driver CPU with the ratio between the two, achieved share and scheduler lag p99.
 * 4. Memory: `canary load` as a child process at 2,000 requests/s for 10 minutes; peak RSS (VmHWM).
 * `--quick`: 5 s closed loops, a 10 s open model, a 60 s memory run.
 * The closed loops run in 3 alternating rounds (the machine is shared); the table shows medians.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { defaultTrafficModel } from '../load/lib/traffic.ts';
import { BuiltinDriver } from '../src/driver/builtin.ts';
import { constantProfile } from '../src/driver/driver.ts';

const run = promisify(execFile);
const quick = process.argv.includes('--quick');
/** `--only closed|open|timers|memory` runs one part. */
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const part = (name: string) => only === undefined || only === name;
const CLOSED_S = quick ? 5 : 10;
const OPEN_S = quick ? 10 : 30;
const OPEN_RATE = 5000;
/** The canary runner's default rate, for the timers-against-polling comparison. */
const TIMERS_RATE = 200;
const MEMORY_S = quick ? 60 : 600;
const MEMORY_RATE = 2000;
const CONNECTIONS = 32;
const ROUNDS = 3;
const BIN = fileURLToPath(new URL('../bin/canary.js', import.meta.url));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** nginx with a throw-away prefix; `return 200` for every path. */
async function startNginx(): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'canary-bench-nginx-'));
  const port = await freePort();
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:${port}; location / { return 200 'ok'; } }
}
`,
  );
  const child = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(url);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    stop: async () => {
      child.kill('SIGQUIT');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function builtinClosed(url: string): Promise<number> {
  const r = await (
    await new BuiltinDriver().start({
      target: url,
      model: { kind: 'closed', connections: CONNECTIONS, durationS: CLOSED_S },
      traffic: defaultTrafficModel(),
    })
  ).result();
  return r.requests / r.elapsedS;
}

async function autocannonClosed(url: string): Promise<number> {
  const { default: autocannon } = await import('autocannon');
  const r = await autocannon({ url: `${url}/api/account/1`, connections: CONNECTIONS, duration: CLOSED_S });
  return r.requests.total / CLOSED_S;
}

async function wrkClosed(url: string): Promise<number> {
  const { stdout } = await run('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${CLOSED_S}s`, `${url}/api/account/1`]);
  return Number(/Requests\/sec:\s+([0-9.]+)/.exec(stdout)![1]);
}

async function heyClosed(url: string): Promise<number> {
  const { stdout } = await run('hey', ['-z', `${CLOSED_S}s`, '-c', String(CONNECTIONS), `${url}/api/account/1`], {
    maxBuffer: 64 << 20,
  });
  return Number(/Requests\/sec:\s+([0-9.]+)/.exec(stdout)![1]);
}

async function openModel(
  url: string,
  rate = OPEN_RATE,
  seconds = OPEN_S,
  spinMs?: number,
): Promise<{ achieved: number; share: number; cores: number; p99: number | null; lagP99: number | undefined }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await (
    await new BuiltinDriver().start({
      target: url,
      model: { kind: 'open', profile: constantProfile(rate, seconds), ...(spinMs === undefined ? {} : { spinMs }) },
      traffic: defaultTrafficModel(),
    })
  ).result();
  const cpu = process.cpuUsage(cpu0);
  const wallUs = (performance.now() - t0) * 1000;
  return {
    achieved: r.achievedRate,
    share: r.requests / (rate * seconds),
    cores: (cpu.user + cpu.system) / wallUs,
    p99: r.latencyMs.p99,
    lagP99: r.schedulerLagMs?.p99,
  };
}

/**
 * A load in a child process; peak RSS from /proc/<pid>/status VmHWM, sampled every second. `cli`:
 * the whole `canary load` command (its RSS includes tsx and every command's imports); `driver`: only
 * the driver, snapshotted every 5 s as the canary runner does (this file with --memory-child).
 */
async function memoryRun(
  url: string,
  what: MemoryMode,
): Promise<{ peakMb: number; requests: number; achieved: number }> {
  const reports = mkdtempSync(join(tmpdir(), 'canary-bench-reports-'));
  const childArgs = [url, ...(quick ? ['--quick'] : [])];
  const args =
    what === 'cli'
      ? [
          BIN,
          'load',
          '--target',
          url,
          '--rate',
          String(MEMORY_RATE),
          '--duration',
          String(MEMORY_S),
          '--json',
          '--reports-dir',
          reports,
        ]
      : what === 'driver-tsx'
        ? ['--import', 'tsx', fileURLToPath(import.meta.url), '--memory-child', ...childArgs]
        : [await bundleMemoryChild(reports), '--memory-child', ...childArgs];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  let peakKb = 0;
  const sample = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peakKb = Math.max(peakKb, Number(m[1]));
    } catch {
      /* exited */
    }
  }, 1000);
  await new Promise((r) => child.once('exit', r));
  clearInterval(sample);
  rmSync(reports, { recursive: true, force: true });
  const s = JSON.parse(out) as { requests: number; achievedRate: number };
  return { peakMb: peakKb / 1024, requests: s.requests, achieved: s.achievedRate };
}

type MemoryMode = 'driver-bundled' | 'driver-tsx' | 'cli';
const MEMORY_MODES: Record<MemoryMode, string> = {
  'driver-bundled': 'driver, bundled, plain node',
  'driver-tsx': 'driver under the tsx loader',
  cli: 'whole `canary load` CLI (tsx)',
};

/**
 * This file bundled by esbuild (tsx's own dependency) into plain JS, so the process holds the driver
 * and nothing else: tsx's loader runs in a second V8 isolate that costs ~60 MB before any load.
 */
async function bundleMemoryChild(dir: string): Promise<string> {
  const { build } = await import('esbuild');
  const outfile = join(dir, 'load-memory-child.mjs');
  await build({
    entryPoints: [fileURLToPath(import.meta.url)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'error',
    // Only the memory child runs from the bundle: the peers stay out of it.
    external: ['autocannon', 'esbuild'],
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  return outfile;
}

/** The driver alone at MEMORY_RATE for MEMORY_S, with a snapshot every 5 s; prints the summary. */
async function memoryChild(url: string): Promise<void> {
  const r = await new BuiltinDriver().start({
    target: url,
    model: { kind: 'open', profile: constantProfile(MEMORY_RATE, MEMORY_S) },
    traffic: defaultTrafficModel(),
  });
  const snapshots = setInterval(() => void r.snapshot(), 5000);
  const result = await r.result();
  clearInterval(snapshots);
  process.stdout.write(JSON.stringify({ requests: result.requests, achievedRate: result.achievedRate }));
}

const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });

async function main(): Promise<void> {
  const nginx = await startNginx();
  try {
    process.stderr.write(
      `target ${nginx.url} (nginx, 1 worker); closed loop ${CONNECTIONS} connections × ${CLOSED_S} s each\n`,
    );
    if (part('closed')) await closedLoops(nginx.url);
    if (part('open')) {
      const open = await openModel(nginx.url);
      process.stdout.write(
        `\nopen model ${fmt(OPEN_RATE)} req/s × ${OPEN_S} s: achieved ${open.achieved.toFixed(1)} req/s (${(open.share * 100).toFixed(2)} % of planned requests), ` +
          `driver CPU ${open.cores.toFixed(2)} cores, p99 ${open.p99} ms, scheduler lag p99 ${open.lagP99} ms\n`,
      );
    }
    if (part('timers')) await timersAgainstPolling(nginx.url);
    if (part('memory')) {
      for (const what of Object.keys(MEMORY_MODES) as MemoryMode[]) {
        const mem = await memoryRun(nginx.url, what);
        process.stdout.write(
          `memory (${MEMORY_MODES[what]}) ${fmt(MEMORY_RATE)} req/s × ${MEMORY_S} s: peak RSS ${mem.peakMb.toFixed(1)} MB (${fmt(mem.requests)} requests, ${mem.achieved.toFixed(1)} req/s)\n`,
        );
      }
    }
    process.stdout.write(
      `load average at the end: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} on ${cpus().length} cores\n`,
    );
  } finally {
    await nginx.stop();
  }
}

/**
 * The canary runner's setting (spinMs 0: dispatch on timers alone) against the default (poll the
 * last millisecond before each request), at the runner's 200 requests/s, in alternating rounds:
 * CPU of the driver process (cores) with the ratio timers / polling, and the scheduler lag p99.
 */
async function timersAgainstPolling(url: string): Promise<void> {
  const seconds = quick ? 3 : 10;
  const modes: [string, number | undefined][] = [
    ['timers (spinMs 0)', 0],
    ['polling (default)', undefined],
  ];
  const runs = new Map<string, Awaited<ReturnType<typeof openModel>>[]>(modes.map(([n]) => [n, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, spinMs] of modes) runs.get(name)!.push(await openModel(url, TIMERS_RATE, seconds, spinMs));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const cores = (name: string) => median(runs.get(name)!.map((r) => r.cores));
  const lines = [
    `| open model ${TIMERS_RATE} req/s × ${seconds} s | driver CPU, cores (median of ${ROUNDS}) | ratio to polling | achieved share | scheduler lag p99 |`,
    '|---|---:|---:|---:|---:|',
  ];
  for (const [name] of modes) {
    const rs = runs.get(name)!;
    lines.push(
      `| ${name} | ${cores(name).toFixed(3)} | ${(cores(name) / cores('polling (default)')).toFixed(2)}x | ${(median(rs.map((r) => r.share)) * 100).toFixed(2)} % | ${median(rs.map((r) => r.lagP99 ?? Number.NaN)).toFixed(2)} ms |`,
    );
  }
  process.stdout.write(`\n${lines.join('\n')}\n`);
}

async function closedLoops(url: string): Promise<void> {
  {
    // The machine is shared: run the four in alternating rounds and report each one's median.
    const peers: [string, (url: string) => Promise<number>][] = [
      ['builtin', builtinClosed],
      ['autocannon 8', autocannonClosed],
      ['wrk -t1', wrkClosed],
      ['hey', heyClosed],
    ];
    const samples = new Map<string, number[]>(peers.map(([n]) => [n, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, fn] of peers) samples.get(name)!.push(await fn(url));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const ac = median(samples.get('autocannon 8')!);
    const lines = [`| driver | requests/s (median of ${ROUNDS}) | runs | ratio to autocannon |`, '|---|---:|---|---:|'];
    for (const [name] of peers) {
      const xs = samples.get(name)!;
      lines.push(`| ${name} | ${fmt(median(xs))} | ${xs.map(fmt).join(' / ')} | ${(median(xs) / ac).toFixed(2)}x |`);
    }
    process.stdout.write(`\n${lines.join('\n')}\n`);
  }
}

const childAt = process.argv.indexOf('--memory-child');
if (childAt >= 0) await memoryChild(process.argv[childAt + 1]);
else await main();
