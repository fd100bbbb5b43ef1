/**
 * `canary mesh up` as a user runs it: `node bin/canary.js mesh up`, a real process with real
 * children. Every spawned CLI carries a unique environment marker that its children inherit, so the
 * test can find any process it left behind, whoever its parent is now.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../../test/support/http.ts';

const CLI = path.resolve('bin/canary.js');
const started: ChildProcess[] = [];
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'canary-mesh-cli-'));
});

afterAll(async () => {
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await rm(scratch, { recursive: true, force: true });
});

interface Run {
  process: ChildProcess;
  marker: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function runCli(args: string[]): Run {
  const marker = `CANARY_MESH_CLI_TEST=${randomUUID()}`;
  const [k, v] = marker.split('=');
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, [k]: v },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { process: child, marker, stdout: () => out, stderr: () => err, exited };
}

/** Pids of live processes whose environment holds the marker. */
async function processesWith(marker: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const environ = await readFile(`/proc/${entry}/environ`).catch(() => undefined);
    if (environ?.toString('utf8').split('\0').includes(marker)) found.push(Number(entry));
  }
  return found;
}

async function waitForLine(run: Run, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const m = run.stdout().match(pattern);
    if (m) return m;
    if (run.process.exitCode !== null || Date.now() > until) {
      throw new Error(
        `no line ${pattern} (exit ${run.process.exitCode}); stdout:\n${run.stdout()}\nstderr:\n${run.stderr()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function brokenManifests(
  name: string,
  edit: (text: string) => string,
  file = 'istio/account-routes.yaml',
): Promise<string> {
  const dir = path.join(scratch, name);
  await cp('manifests', dir, { recursive: true });
  const target = path.join(dir, file);
  await writeFile(target, edit(await readFile(target, 'utf8')));
  return dir;
}

describe('canary mesh up', () => {
  it('prints the gateway URL, serves through it, and on SIGINT stops every child and exits 130', async () => {
    const run = runCli(['mesh', 'up', '--port', '0']);
    const [, gatewayUrl] = await waitForLine(run, /^gateway: (http:\/\/127\.0\.0\.1:\d+)$/m, 60_000);
    await waitForLine(run, /^metrics: friend http:\/\/127\.0\.0\.1:\d+\/metrics$/m, 5_000);
    const res = await call(`${gatewayUrl}/api/profile/1`, { headers: { 'end-user': 'canary-tester-3' } });
    expect(res.status).toBe(200);
    expect(res.headers['x-served-by']).toBe('bff, account-canary, friend');
    const children: number[] = [];
    for (const pid of await processesWith(run.marker)) {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (cmdline.includes('workload-main.ts')) children.push(pid);
    }
    expect(children.length).toBe(7); // gateway + account-primary ×2 + baseline + canary + bff + friend
    run.process.kill('SIGINT');
    expect(await run.exited).toBe(130);
    expect(await processesWith(run.marker)).toEqual([]);
  }, 90_000);

  it('leaves no orphans when the CLI itself is killed: children exit when their IPC channel closes', async () => {
    const run = runCli(['mesh', 'up', '--port', '0']);
    await waitForLine(run, /^metrics: friend /m, 60_000);
    expect((await processesWith(run.marker)).length).toBeGreaterThan(1);
    run.process.kill('SIGKILL');
    await run.exited;
    const until = Date.now() + 5_000;
    let left = await processesWith(run.marker);
    while (left.length > 0 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
      left = await processesWith(run.marker);
    }
    expect(left).toEqual([]);
  }, 90_000);

  it('exits 4 with a clear message when the port is in use, leaving nothing running', async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const run = runCli(['mesh', 'up', '--port', String(port)]);
      expect(await run.exited).toBe(4);
      expect(run.stderr()).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(run.stdout()).not.toContain('gateway:');
      expect(await processesWith(run.marker)).toEqual([]);
    } finally {
      server.close();
    }
  }, 60_000);

  const badManifests: [string, () => Promise<string>, RegExp][] = [
    [
      'malformed YAML',
      () => brokenManifests('malformed', (t) => t.replace('  hosts:\n    - account', '  hosts: [account\n')),
      /account-routes\.yaml.*(malformed|YAML)/i,
    ],
    [
      'an unknown subset',
      () => brokenManifests('subset', (t) => t.replace('subset: canary', 'subset: canary-typo')),
      /account-routes\.yaml.*VirtualService.*account.*canary-typo/,
    ],
    [
      'a missing host',
      () => brokenManifests('host', (t) => t.replace(/host: account\n(\s+)subset: baseline/, 'subset: baseline')),
      /account-routes\.yaml.*VirtualService.*account.*host/,
    ],
  ];
  for (const [what, make, message] of badManifests) {
    it(`exits 3 naming the file and object for ${what}, with nothing left running`, async () => {
      const dir = await make();
      const run = runCli(['mesh', 'up', '--port', '0', '--manifests', dir]);
      expect(await run.exited).toBe(3);
      expect(run.stderr()).toMatch(message);
      expect(run.stdout()).not.toContain('gateway:');
      expect(await processesWith(run.marker)).toEqual([]);
    }, 60_000);
  }
});
