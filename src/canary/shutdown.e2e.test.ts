/**
 * Issue 12, the signal cases, on the real processes: `npm start` and `bin/canary.js run`, signalled
 * at their pid, at npm as their parent, and at their process group, during deploy, the header stage
 * and a weighted stage; a workload killed under the run; npm killed outright (the harness then sees
 * its parent go). Each run asserts the route the data plane held at the end (result.json's routes
 * and safeRouteAt, applied only once every proxy acknowledged), the exit code, the files in the run
 * directory, and that no process of the run is left. Runs one at a time: each takes the machine.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunResult } from './result.ts';
import { alive, descendants, waitFor } from './testing/processes.ts';

const reportsDir = mkdtempSync(join(tmpdir(), 'canary-shutdown-e2e-'));
const started: ChildProcess[] = [];
afterAll(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(reportsDir, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  stderr: () => string;
  done: Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>;
}

/** Short stages; `via: 'npm'` runs `npm start -- …`, in a process group of its own in both cases. */
function start(via: 'npm' | 'bin', args: string[] = []): Run {
  // A long header stage by default, so that a signal sent in it lands in it.
  const runArgs = ['--reports-dir', reportsDir, '--json', ...(args.length ? args : ['--min-duration', '30'])];
  const child =
    via === 'npm'
      ? spawn('npm', ['start', '--silent', '--', ...runArgs], { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
      : spawn(process.execPath, ['bin/canary.js', 'run', '--local', ...runArgs], {
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true,
        });
  started.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, stderr: () => stderr, done };
}

/** The harness's pid: the node process running bin/canary.js (npm's child when started through npm). */
function harnessPid(run: Run): number {
  const pid = run.child.pid!;
  const cmd = (p: number): string => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8');
    } catch {
      return '';
    }
  };
  if (cmd(pid).includes('bin/canary.js')) return pid;
  const found = descendants(pid).find((p) => cmd(p).includes('bin/canary.js'));
  if (!found) throw new Error('no harness process under npm');
  return found;
}

function latestResult(before: Set<string>): { dir: string; result: RunResult } {
  const dirs = readdirSync(reportsDir).filter((d) => d !== 'history.sqlite' && !before.has(d));
  expect(dirs).toHaveLength(1);
  const dir = join(reportsDir, dirs[0]!);
  return { dir, result: JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as RunResult };
}

const existing = (): Set<string> => new Set(readdirSync(reportsDir));

/** The end state every stopped run must reach: safe route held, whole reports, nothing left running. */
async function expectSafeEnd(
  run: Run,
  before: Set<string>,
  tree: number[],
  expected: { cause: string; exitCode: number },
): Promise<RunResult> {
  const { dir, result } = latestResult(before);
  expect(result.status, result.reason).toBe('aborted');
  expect(result.abort?.cause).toBe(expected.cause);
  expect(result.exitCode).toBe(expected.exitCode);
  // The route the data plane held at the end: the last applied, and applied after the abort when
  // anything but the safe route had been applied before.
  const last = result.routes.at(-1);
  if (last) expect(last.route.kind).toBe('safe');
  if (result.routes.some((r) => r.route.kind !== 'safe')) expect(result.abort?.safeRouteAt).not.toBeNull();
  expect(readdirSync(dir).sort()).toEqual(['junit.xml', 'report.html', 'report.md', 'result.json']);
  await waitFor(() => tree.every((p) => !alive(p)), 10_000, 'every process of the run to exit');
  expect(run.child.exitCode !== null || run.child.signalCode !== null).toBe(true);
  return result;
}

const stage = (run: Run, name: string) => () => new RegExp(`stage ${name}: started`).test(run.stderr());

describe.sequential('a run stopped every way it can be (e2e)', () => {
  it('SIGTERM to npm start (a CI cancel), in the header stage: the harness hears it, safe route, npm exits 130', async () => {
    const before = existing();
    const run = start('npm');
    await waitFor(stage(run, 'header'), 90_000, 'the header stage');
    const tree = [run.child.pid!, ...descendants(run.child.pid!)];
    expect(tree.length).toBeGreaterThan(4);
    process.kill(run.child.pid!, 'SIGTERM');
    const f = await run.done;
    expect(f.code, f.stderr.slice(-1500)).toBe(130);
    const r = await expectSafeEnd(run, before, tree, { cause: 'signal', exitCode: 130 });
    expect(r.abort?.detail).toBe('SIGTERM');
    expect(r.status).not.toBe('promoted');
  }, 150_000);

  it('SIGINT to npm only, in a weighted stage: aborted, never promoted, exit 130', async () => {
    const before = existing();
    const run = start('npm', ['--min-duration', '4', '--stages', '10']);
    await waitFor(stage(run, 'weighted-10'), 120_000, 'the weighted stage');
    const tree = [run.child.pid!, ...descendants(run.child.pid!)];
    process.kill(run.child.pid!, 'SIGINT');
    const f = await run.done;
    expect(f.code, f.stderr.slice(-1500)).toBe(130);
    const r = await expectSafeEnd(run, before, tree, { cause: 'signal', exitCode: 130 });
    expect(r.routes.some((x) => x.route.kind === 'weighted')).toBe(true);
  }, 180_000);

  it('SIGTERM to the process group (docker stop), in the header stage: workloads outlive it until the route is safe', async () => {
    const before = existing();
    const run = start('bin');
    await waitFor(stage(run, 'header'), 90_000, 'the header stage');
    const tree = [run.child.pid!, ...descendants(run.child.pid!)];
    process.kill(-run.child.pid!, 'SIGTERM');
    const f = await run.done;
    expect(f.code, f.stderr.slice(-1500)).toBe(130);
    const r = await expectSafeEnd(run, before, tree, { cause: 'signal', exitCode: 130 });
    expect(r.abort?.safeRouteAt).not.toBeNull();
    expect(r.reason).toBe('interrupted by SIGTERM');
  }, 150_000);

  it('SIGTERM to the group during deploy: nothing routed to the canary, exit 130, nothing left', async () => {
    const before = existing();
    const run = start('bin');
    await waitFor(() => /deploying/.test(run.stderr()), 60_000, 'deploy');
    const tree = [run.child.pid!, ...descendants(run.child.pid!)];
    process.kill(-run.child.pid!, 'SIGTERM');
    const f = await run.done;
    expect(f.code, f.stderr.slice(-1500)).toBe(130);
    const r = await expectSafeEnd(run, before, tree, { cause: 'signal', exitCode: 130 });
    expect(r.routes.filter((x) => x.route.kind !== 'safe')).toEqual([]);
    // Children started after the signal are stopped too.
    await waitFor(() => descendants(run.child.pid!).length === 0 || !alive(run.child.pid!), 10_000, 'no children');
  }, 150_000);

  it('Ctrl-C again and again to the harness, from the header stage until it exits: every report whole, exit 130', async () => {
    const before = existing();
    const run = start('bin');
    await waitFor(stage(run, 'header'), 90_000, 'the header stage');
    const pid = harnessPid(run);
    const tree = [pid, ...descendants(pid)];
    // Until the verdict is printed, which happens once every report is written: a signal in the
    // process's last microseconds (Node restores the default action while it exits) would be the
    // shell's 130 anyway, but not the harness's own exit.
    let printed = false;
    run.child.stdout!.on('data', () => (printed = true));
    let sent = 0;
    while (!printed && sent < 1000) {
      try {
        process.kill(pid, 'SIGINT');
        sent++;
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    const f = await run.done;
    expect(sent).toBeGreaterThan(3);
    expect(f.code, f.stderr.slice(-1500)).toBe(130);
    expect(f.stderr).toMatch(/SIGINT: already stopping|SIGINT received: already stopping/);
    await expectSafeEnd(run, before, tree, { cause: 'signal', exitCode: 130 });
    expect(readdirSync(latestResult(before).dir).some((x) => x.endsWith('.tmp'))).toBe(false);
  }, 150_000);

  it('a workload killed in the header stage: the safe route still applied on the live proxies, exit 4 naming it', async () => {
    const before = existing();
    const run = start('bin');
    await waitFor(stage(run, 'header'), 90_000, 'the header stage');
    const tree = [run.child.pid!, ...descendants(run.child.pid!)];
    const canary = tree.find((p) => {
      try {
        return readFileSync(`/proc/${p}/environ`, 'utf8').split('\0').includes('VERSION=v2');
      } catch {
        return false;
      }
    });
    expect(canary, 'the canary workload process').toBeDefined();
    process.kill(canary!, 'SIGKILL');
    const f = await run.done;
    expect(f.code, f.stderr.slice(-1500)).toBe(4);
    const r = await expectSafeEnd(run, before, tree, { cause: 'crash', exitCode: 4 });
    expect(r.abort?.safeRouteAt).not.toBeNull();
    expect(r.reason).toMatch(/account-canary exited unexpectedly \(signal SIGKILL\)/);
  }, 150_000);

  it('npm killed outright (SIGKILL) in the header stage: the harness sees its parent go, makes the route safe, leaves nothing', async () => {
    const before = existing();
    const run = start('npm');
    await waitFor(stage(run, 'header'), 90_000, 'the header stage');
    const pid = harnessPid(run);
    const tree = [run.child.pid!, ...descendants(run.child.pid!)];
    process.kill(run.child.pid!, 'SIGKILL');
    await waitFor(() => !alive(pid), 60_000, 'the harness to finish');
    const r = await expectSafeEnd(run, before, tree, { cause: 'signal', exitCode: 130 });
    expect(r.reason).toMatch(/^interrupted: parent process \d+ exited/);
  }, 150_000);
});
