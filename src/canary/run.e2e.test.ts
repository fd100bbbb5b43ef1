/**
 * `canary run --local` end to end: the real CLI as a child process, the real mesh, load driver,
 * telemetry and judge. Short stages (the quick analysis of testing/) keep each run well under two
 * minutes; the tests run one after another because each takes most of the machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunResult } from './result.ts';
import { alive, descendants, waitFor } from './testing/processes.ts';

const reportsDir = mkdtempSync(join(tmpdir(), 'canary-e2e-'));
/**
 * The embedded default's analysis, with one change: the verdict stands on unreliable load. These
 * runs share the machine with other suites, so the host is often busy; what they check is the
 * judge's verdict on a healthy, slow or erroring canary. The policy itself is tested in
 * report/load-health.test.ts.
 */
const QUICK = join(reportsDir, 'local-warn.yaml');
writeFileSync(QUICK, `${readFileSync('analysis/local.yaml', 'utf8')}\nonUnreliableLoad: warn\n`);
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(reportsDir, { recursive: true, force: true });
});

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
}

/** `group`: start in a process group of its own, so the test can signal it as a terminal's Ctrl-C does. */
function startRun(
  args: string[],
  group = false,
): { child: ChildProcess; done: Promise<Finished>; stderr: () => string } {
  const started = Date.now();
  const child = spawn(
    process.execPath,
    ['bin/canary.js', 'run', '--local', '--config', QUICK, '--reports-dir', reportsDir, '--json', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: group,
    },
  );
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<Finished>((resolve) =>
    child.on('exit', (code) => resolve({ code, stdout, stderr, wallMs: Date.now() - started })),
  );
  return { child, done, stderr: () => stderr };
}

function resultOf(f: Finished): RunResult {
  const summary = JSON.parse(f.stdout) as { reportDir: string };
  return JSON.parse(readFileSync(join(summary.reportDir, 'result.json'), 'utf8')) as RunResult;
}

describe.sequential('canary run --local (e2e)', () => {
  it('healthy: promoted, exit 0, the report exists', async () => {
    // A stage may take long to prove non-inferiority when other suites load the machine (the p90 of
    // two processes of one version drifts apart); the test asserts the verdict, not how soon it came.
    const f = await startRun(['--stages', '10,50', '--max-duration', '150s']).done;
    expect(f.code, f.stderr.slice(-2000)).toBe(0);
    const r = resultOf(f);
    expect(r.status).toBe('promoted');
    expect(r.stages.map((s) => s.outcome)).toEqual(['promote', 'promote', 'promote']);
    expect(r.routes.at(-1)?.route.kind).toBe('promoted');
    const summary = JSON.parse(f.stdout) as { report: string };
    expect(existsSync(summary.report)).toBe(true);
  }, 500_000);

  it('slow (canary 15 % slower): rolled back, exit 1, latency named', async () => {
    const f = await startRun(['--scenario', 'slow']).done;
    expect(f.code, f.stderr.slice(-2000)).toBe(1);
    const r = resultOf(f);
    expect(r.status).toBe('rolled-back');
    expect(r.responsible.some((m) => m.startsWith('latency'))).toBe(true);
    expect(r.reason).toMatch(/latency/);
    expect(r.routes.at(-1)?.route.kind).toBe('safe');
  }, 150_000);

  it('errors (+2 points): rolled back, exit 1, errors named', async () => {
    const f = await startRun(['--scenario', 'errors']).done;
    expect(f.code, f.stderr.slice(-2000)).toBe(1);
    const r = resultOf(f);
    expect(r.responsible).toContain('errors');
    expect(r.routes.at(-1)?.route.kind).toBe('safe');
  }, 150_000);

  it('Ctrl-C (SIGINT to the process group) mid-stage: safe route, then tester traffic on the primary, no child left, exit 130, aborted', async () => {
    const run = startRun(['--min-duration', '60'], true);
    await waitFor(() => /stage header: started/.test(run.stderr()), 60_000);
    const gateway = /through (http:\/\/127\.0\.0\.1:\d+)/.exec(run.stderr())![1];
    const tree = descendants(run.child.pid!);
    expect(tree.length).toBeGreaterThan(3);

    // A canary tester probes the gateway every 20 ms: on the canary during the header stage, on the
    // primary once the route is safe.
    const probes: { sentAt: number; servedBy: string }[] = [];
    let probing = true;
    const probe = (async () => {
      while (probing) {
        const sentAt = Date.now();
        try {
          const res = await request(`${gateway}/api/account/1`, {
            headers: { 'end-user': 'canary-tester-1' },
            headersTimeout: 2000,
            bodyTimeout: 2000,
          });
          await res.body.dump();
          probes.push({ sentAt, servedBy: String(res.headers['x-served-by'] ?? '') });
        } catch {
          // The gateway is gone once the run has torn down.
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await waitFor(() => probes.some((p) => p.servedBy.includes('account-canary')), 30_000);

    const signalledAt = Date.now();
    process.kill(-run.child.pid!, 'SIGINT');
    const f = await run.done;
    probing = false;
    await probe;

    expect(f.code).toBe(130);
    const r = resultOf(f);
    expect(r.status).toBe('aborted');
    expect(r.abort?.cause).toBe('signal');
    // How soon the route is safe after the signal is a figure for the bench (bench:run), not a bound here.
    const safeAt = Date.parse(r.abort!.safeRouteAt!);
    expect(safeAt).toBeGreaterThanOrEqual(signalledAt - 1);
    const after = probes.filter((p) => p.sentAt > safeAt);
    for (const p of after) expect(p.servedBy).toContain('account-primary');
    await waitFor(() => tree.every((pid) => !alive(pid)), 20_000);
  }, 150_000);
});
