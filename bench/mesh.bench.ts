/**
 * Benchmark of the local data plane (`npm run bench:mesh`), in one run, against calling a workload
 * directly:
 *   1. latency added per hop at p50 / p99 under an open-model load of 1,000 requests/s;
 *   2. the ingress gateway's maximum throughput to a trivial upstream.
 *
 * Every server is its own process (as in the mesh): a bare HTTP server answering a fixed body
 * ("direct"), a mesh workload child serving the same body behind its inbound sidecar (authz with an
 * ALLOW policy, destination telemetry), and the ingress gateway child (routing with a 10 s route
 * timeout as in manifests/, source telemetry, keep-alive pools). The load generator runs in this
 * process: undici for the latency runs, `wrk` (or autocannon when wrk is missing) for throughput.
 *
 * Options (environment): BENCH_SECONDS (seconds of latency load per path, in 1 s turns; default 5), BENCH_RATE (default 1000),
 * BENCH_CONNECTIONS (throughput, default 64).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { Pool } from 'undici';
import { GATEWAY_IDENTITY, type MeshEndpoint, type ProxyConfig } from '../src/mesh/config.ts';
import type { ChildSpec } from '../src/mesh/ipc.ts';
import { UpstreamPools } from '../src/mesh/proxy/forward.ts';
import { OutboundSidecar } from '../src/mesh/proxy/outbound-sidecar.ts';
import { newPeerKey, PEER_HEADER, PeerSigner } from '../src/mesh/proxy/peer-identity.ts';
import { compileRouteTable } from '../src/mesh/routing/route-table.ts';
import { IstioTelemetry } from '../src/mesh/telemetry/istio-metrics.ts';
import { ProxyChild } from '../src/mesh/proxy-child.ts';
import type { IAuthorizationPolicy, IVirtualService } from '../src/manifests/types.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const RATE = Number(process.env.BENCH_RATE ?? 1000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const NS = 'bench';

const BARE_SERVER = `
const http = require('node:http');
const body = JSON.stringify({ workload: 'echo-direct', ok: true });
const server = http.createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-served-by': 'echo-direct' });
  res.end(body);
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
process.on('disconnect', () => process.exit(0));
`;

async function startBareServer(): Promise<{ url: string; process: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', BARE_SERVER], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (c: Buffer) => resolve(c.toString().trim()));
    child.once('exit', (code) => reject(new Error(`bare server exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, process: child };
}

function identity(workload: string, service: string) {
  return {
    workload,
    service,
    version: 'v1',
    namespace: NS,
    serviceAccount: workload,
    labels: { app: service, version: 'v1' },
  };
}

async function main(): Promise<void> {
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const bare = await startBareServer();
  const peerKey = newPeerKey();
  const workloadSpec: ChildSpec = {
    role: 'workload',
    identity: identity('echo-sidecar', 'echo-sidecar'),
    app: 'echo',
    port: 0,
    peerKey,
  };
  const gatewaySpec: ChildSpec = {
    role: 'gateway',
    identity: { ...GATEWAY_IDENTITY, service: 'istio-ingressgateway', version: 'unknown' },
    app: 'echo',
    port: 0,
    peerKey,
  };
  const workload = new ProxyChild('echo-sidecar', workloadSpec, process.env, log);
  const gateway = new ProxyChild('gateway', gatewaySpec, process.env, log);
  const children = [workload, gateway];
  try {
    await Promise.all(children.map((c) => c.start(30_000)));
    const endpoints: MeshEndpoint[] = [
      { ...identity('echo-direct', 'echo-direct'), url: bare.url },
      { ...workloadSpec.identity, url: workload.url },
    ];
    const gatewayRoutes = {
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'VirtualService',
      metadata: { name: 'bench', namespace: NS },
      spec: {
        hosts: ['*'],
        gateways: ['bench-gateway'],
        http: [
          {
            match: [{ uri: { prefix: '/sidecar' } }],
            timeout: '10s',
            route: [{ destination: { host: 'echo-sidecar' } }],
          },
          { timeout: '10s', route: [{ destination: { host: 'echo-direct' } }] },
        ],
      },
    } as IVirtualService;
    const allowGateway = {
      apiVersion: 'security.istio.io/v1beta1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'echo-from-gateway', namespace: NS },
      spec: {
        selector: { matchLabels: { app: 'echo-sidecar' } },
        action: 'ALLOW',
        rules: [
          {
            from: [
              {
                source: {
                  principals: [
                    'cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account',
                    `cluster.local/ns/${NS}/sa/bench`,
                  ],
                },
              },
            ],
          },
        ],
      },
    } as IAuthorizationPolicy;
    const config: ProxyConfig = {
      virtualServices: [gatewayRoutes],
      destinationRules: [],
      authorizationPolicies: [allowGateway],
      gatewayNames: ['bench-gateway'],
      services: ['echo-direct', 'echo-sidecar'],
      endpoints,
    };
    await Promise.all(children.map((c) => c.configure(1, config, 10_000)));

    // The inbound sidecar believes only an identity signed with the run's key: the bench client
    // signs one per request as an allowed workload, the way a calling sidecar does.
    const benchIdentity = { workload: 'bench', namespace: NS, serviceAccount: 'bench', labels: { app: 'bench' } };
    const signer = new PeerSigner(peerKey, benchIdentity);
    const asPeer = () => ({ [PEER_HEADER]: signer.header() });
    // The bff's outbound sidecar runs in its caller's process: here it is this process, calling the
    // echo workload through the mesh's route table, as the bff calls account.
    const routes = compileRouteTable(config);
    const outboundPools = new UpstreamPools(64);
    const outbound = new OutboundSidecar(benchIdentity, () => routes, outboundPools, new IstioTelemetry(), signer);
    const senders = {
      direct: undiciSender(bare.url, '/api/account', {}),
      sidecar: undiciSender(workload.url, '/api/account', asPeer),
      gatewayBare: undiciSender(gateway.url, '/api/account', {}),
      gatewaySidecar: undiciSender(gateway.url, '/sidecar/api/account', {}),
    };
    const paths: { name: string; send: Send; hops: number; baseline?: string; cpuPids: number[] }[] = [
      { name: 'direct (bare server)', send: senders.direct.send, hops: 0, cpuPids: [bare.process.pid!] },
      { name: 'inbound sidecar + app', send: senders.sidecar.send, hops: 1, cpuPids: [workload.pid] },
      {
        name: 'outbound sidecar → sidecar + app',
        send: async () => (await outbound.request('echo-sidecar', '/api/account', { headers: {} })).status,
        hops: 1,
        baseline: 'inbound sidecar + app',
        cpuPids: [workload.pid],
      },
      { name: 'gateway → bare server', send: senders.gatewayBare.send, hops: 1, cpuPids: [gateway.pid] },
      {
        name: 'gateway → sidecar + app',
        send: senders.gatewaySidecar.send,
        hops: 2,
        cpuPids: [gateway.pid, workload.pid],
      },
    ];
    log(`latency: ${RATE} requests/s, ${SECONDS} turns of 1 s per path (after 1 s of warm-up each)`);
    const results: {
      name: string;
      hops: number;
      baseline?: string;
      p50: number;
      p99: number;
      errors: number;
      n: number;
      cpuUs: number;
    }[] = [];
    // The paths take turns, one second each, so that whatever else loads the machine weighs on
    // every path alike; each path's latencies are pooled over its turns.
    for (const p of paths) await openModel(p.send, RATE, 1); // warm-up: connections, JIT
    const pooled = paths.map(() => ({ latencies: [] as number[], errors: 0, cpuMs: 0 }));
    for (let round = 0; round < SECONDS; round++) {
      for (const [i, p] of paths.entries()) {
        const cpuBefore = p.cpuPids.map(cpuMs);
        const r = await openModel(p.send, RATE, 1);
        pooled[i].cpuMs += p.cpuPids.reduce((sum, pid, j) => sum + cpuMs(pid) - cpuBefore[j], 0);
        pooled[i].latencies.push(...r.latencies);
        pooled[i].errors += r.errors;
      }
    }
    for (const [i, p] of paths.entries()) {
      const sorted = pooled[i].latencies.sort((a, b) => a - b);
      const q = (x: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(x * sorted.length) - 1)];
      const r = {
        p50: q(0.5),
        p99: q(0.99),
        errors: pooled[i].errors,
        n: sorted.length,
        cpuUs: (pooled[i].cpuMs * 1000) / sorted.length,
      };
      results.push({ name: p.name, hops: p.hops, baseline: p.baseline, ...r });
      log(
        `  ${p.name}: p50 ${r.p50.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms, ${r.cpuUs.toFixed(0)} µs CPU/request, ${r.errors} errors`,
      );
    }
    await Promise.all([...Object.values(senders).map((x) => x.close()), outboundPools.close()]);
    log(`throughput: ${CONNECTIONS} connections, ${SECONDS} s per target`);
    const directRps = await maxThroughput(`${bare.url}/api/account`, CONNECTIONS, SECONDS);
    const gatewayRps = await maxThroughput(`${gateway.url}/api/account`, CONNECTIONS, SECONDS);
    const fullRps = await maxThroughput(`${gateway.url}/sidecar/api/account`, CONNECTIONS, SECONDS);

    const rows = results.map((r) => {
      const base = results.find((b) => b.name === (r.baseline ?? 'direct (bare server)'))!;
      const added = r.hops > 0;
      return [
        r.name,
        added ? base.name : '',
        String(r.hops),
        r.p50.toFixed(3),
        r.p99.toFixed(3),
        added ? `+${(r.p50 - base.p50).toFixed(3)}` : '',
        added ? `+${(r.p99 - base.p99).toFixed(3)}` : '',
        added ? `+${((r.p50 - base.p50) / r.hops).toFixed(3)}` : '',
        (r.p50 / base.p50).toFixed(2),
        r.cpuUs.toFixed(0),
        String(r.errors),
      ];
    });
    const direct = results[0];
    const out: string[] = [];
    out.push(`## local data plane benchmark (${new Date().toISOString()})`);
    out.push(
      `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    out.push('');
    out.push(
      `### added latency at ${RATE} requests/s (${SECONDS} interleaved turns of 1 s, ${direct.n} requests per path; ms)`,
    );
    out.push(
      table(
        [
          'path',
          'compared with',
          'hops',
          'p50',
          'p99',
          'added p50',
          'added p99',
          'added p50 per hop',
          'p50 ratio',
          'CPU µs/request*',
          'errors',
        ],
        rows,
      ),
    );
    out.push(
      '*CPU time per request of the serving child processes (from /proc; the outbound sidecar runs in this process and is not included).',
    );
    out.push('');
    out.push(`### maximum throughput (${CONNECTIONS} connections, ${SECONDS} s, ${hasWrk() ? 'wrk' : 'autocannon'})`);
    out.push(
      table(
        ['target', 'requests/s', 'ratio to direct'],
        [
          ['direct (bare server)', directRps.toFixed(0), '1.00'],
          ['gateway → bare server', gatewayRps.toFixed(0), (gatewayRps / directRps).toFixed(2)],
          ['gateway → sidecar + app', fullRps.toFixed(0), (fullRps / directRps).toFixed(2)],
        ],
      ),
    );
    out.push('');
    out.push(`targets: ≤ 0.3 ms added at p50 per hop; ≥ 5,000 requests/s through the gateway.`);
    out.push(
      `reproduce: npm run bench:mesh   (BENCH_SECONDS=${SECONDS} BENCH_RATE=${RATE} BENCH_CONNECTIONS=${CONNECTIONS})`,
    );
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    await Promise.all(children.map((c) => c.stop(2000)));
    bare.process.kill();
  }
}

type Send = () => Promise<number>;

/** An undici keep-alive sender for one origin and path. */
function undiciSender(
  origin: string,
  path: string,
  headers: Record<string, string> | (() => Record<string, string>),
): { send: Send; close(): Promise<void> } {
  const pool = new Pool(origin, { connections: 64, keepAliveTimeout: 30_000 });
  return {
    send: async () => {
      const res = await pool.request({
        method: 'GET',
        path,
        headers: typeof headers === 'function' ? headers() : headers,
      });
      await res.body.dump();
      return res.statusCode;
    },
    close: () => pool.close(),
  };
}

/** Sends `rate` requests/s on schedule for `seconds`, whatever the answers' latency (open model). */
async function openModel(send: Send, rate: number, seconds: number) {
  const total = Math.round(rate * seconds);
  const latencies = new Float64Array(total);
  let errors = 0;
  let sent = 0;
  let done = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const fire = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
      while (sent < due) {
        const i = sent++;
        const t0 = performance.now();
        send()
          .then((status) => {
            if (status !== 200) errors += 1;
          })
          .catch(() => {
            errors += 1;
          })
          .finally(() => {
            latencies[i] = performance.now() - t0;
            if (++done === total) resolve();
          });
      }
      if (sent < total) setTimeout(fire, 1);
    };
    fire();
  });
  return { latencies: Array.from(latencies), errors };
}

/** User + system CPU time of a process in ms, from /proc/<pid>/stat (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

function hasWrk(): boolean {
  return spawnSync('wrk', ['--version']).error === undefined;
}

async function maxThroughput(url: string, connections: number, seconds: number): Promise<number> {
  if (hasWrk()) {
    const r = spawnSync('wrk', ['-t', '1', '-c', String(connections), '-d', `${seconds}s`, url], { encoding: 'utf8' });
    const m = r.stdout.match(/Requests\/sec:\s+([\d.]+)/);
    if (!m) throw new Error(`could not read wrk's output:\n${r.stdout}\n${r.stderr}`);
    if (/Non-2xx/.test(r.stdout)) throw new Error(`non-2xx answers from ${url}:\n${r.stdout}`);
    return Number(m[1]);
  }
  const { default: autocannon } = await import('autocannon');
  const result = await autocannon({ url, connections, duration: seconds });
  if (result.non2xx > 0) throw new Error(`non-2xx answers from ${url}`);
  return result.requests.average;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');
}

await main();
