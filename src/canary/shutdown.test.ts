/**
 * The runner's side of the shutdown path (issue 12): the exit code follows the route the record shows
 * (case 3), a signal while reports are written is acknowledged and changes nothing (case 4), and no
 * credential reaches result.json or a report (case 7).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InfraError } from '../core/errors.ts';
import { renderReports } from '../report/render-reports.ts';
import { runCanary, type RunnerDeps } from './runner.ts';
import { DEFAULTS, testPlan } from './testing/fixtures.ts';
import { FakeDriver, FakePlatform, FakeSource, ScriptedJudge, manualSignals } from './testing/fakes.ts';
import type { StageDecision } from '../judge/verdict.ts';

const defaults = {
  ...DEFAULTS,
  intervalMs: 20,
  header: { minDurationMs: 40, maxDurationMs: 1000, minSamples: 100 },
  weighted: { minDurationMs: 40, maxDurationMs: 1000, minSamples: 100 },
};
const plan = testPlan({}, defaults);
const reportsDir = mkdtempSync(join(tmpdir(), 'canary-shutdown-'));
afterAll(() => rmSync(reportsDir, { recursive: true, force: true }));

function setup(decide: (stage: string, look: number) => StageDecision, over: Partial<RunnerDeps> = {}) {
  const platform = new FakePlatform();
  const signals = manualSignals();
  const logged: string[] = [];
  const deps: RunnerDeps = {
    platform,
    driver: new FakeDriver(),
    createSource: () => new FakeSource(),
    judge: new ScriptedJudge(decide),
    signals: signals.subscribe,
    log: (l) => void logged.push(l),
    ...over,
  };
  return { platform, signals, deps, logged };
}

const run = (deps: RunnerDeps, flags: Record<string, string> = {}) =>
  runCanary(plan, deps, { reportsDir, config: { file: 'analysis/local.yaml', analysis: {}, flags } });

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('shutdown: exit code from the record', () => {
  it('SIGTERM while the safe route cannot be applied: exit 4 naming the route left in place, never 130', async () => {
    const t = setup(() => 'continue');
    const pending = run(t.deps);
    await until(() => t.platform.currentRoute === 'header');
    t.platform.failOn.setRoute = new InfraError('account-primary did not acknowledge configuration 3 within 10000 ms');
    t.signals.fire('SIGTERM');
    const out = await pending;
    expect(out.result.status).toBe('aborted');
    expect(out.result.abort?.safeRouteAt).toBeNull();
    expect(out.result.exitCode).toBe(4);
    expect(out.result.reason).toMatch(
      /the safe route could not be applied: the data plane may still hold route header/,
    );
    expect(JSON.parse(readFileSync(join(out.runDir, 'result.json'), 'utf8')).exitCode).toBe(4);
  });

  it('a parent that exits is an abort like a signal, naming it (exit 130 once the route is safe)', async () => {
    const t = setup(() => 'continue');
    const pending = run(t.deps);
    await until(() => t.platform.currentRoute === 'header');
    t.signals.fire('parent-exit', 'parent process 4711 exited');
    const out = await pending;
    expect(out.result).toMatchObject({
      status: 'aborted',
      exitCode: 130,
      reason: 'interrupted: parent process 4711 exited',
    });
    expect(out.result.abort).toMatchObject({ cause: 'signal', detail: 'parent-exit: parent process 4711 exited' });
    expect(t.platform.currentRoute).toBe('safe');
  });
});

describe('shutdown: signals while the reports are written', () => {
  it('are acknowledged, not fatal: every report is written and the verdict stands', async () => {
    let t: ReturnType<typeof setup>;
    let listenersWhileRendering = -1;
    t = setup((_, look) => (look >= 2 ? 'promote' : 'continue'), {
      renderReports: (result, dir) => {
        listenersWhileRendering = t.signals.listeners;
        t.signals.fire('SIGINT');
        t.signals.fire('SIGINT');
        renderReports(result, dir, { historyFile: null, stepSummary: undefined });
      },
    });
    const out = await run(t.deps);
    expect(listenersWhileRendering).toBe(1);
    expect(out.result).toMatchObject({ status: 'promoted', exitCode: 0 });
    expect(out.rendered).toBe(true);
    expect(readdirSync(out.runDir).sort()).toEqual(['junit.xml', 'report.html', 'report.md', 'result.json']);
    expect(t.logged.filter((l) => /SIGINT: already stopping/.test(l))).toHaveLength(2);
    expect(t.signals.listeners).toBe(0);
  });
});

describe('shutdown: credentials', () => {
  it('a planted password in a database URL reaches no file of the run directory and no log line', async () => {
    const secret = 'Pl4nted-S3cret';
    const url = `mysql://friend@127.0.0.1:3306/friends?password=${secret}`;
    const t = setup(() => 'continue');
    t.platform.failOn.deploy = new InfraError(`friend exited while starting: cannot connect to ${url}`);
    const out = await run(t.deps, { 'database-url': url, token: `https://h/x?token=${secret}` });
    renderReports(out.result, out.runDir, { historyFile: null, stepSummary: undefined });
    const files = readdirSync(out.runDir);
    expect(files.sort()).toEqual(['junit.xml', 'report.html', 'report.md', 'result.json']);
    for (const f of files) expect(readFileSync(join(out.runDir, f), 'utf8'), f).not.toContain(secret);
    expect(readFileSync(join(out.runDir, 'result.json'), 'utf8')).toContain('password=***');
    expect(t.logged.join('\n')).not.toContain(secret);
  });
});
