import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InfraError } from '../core/errors.ts';
import { runCanary, type RunnerDeps } from './runner.ts';
import type { RunResult } from './result.ts';
import { DEFAULTS, testPlan } from './testing/fixtures.ts';
import { FakeDriver, FakePlatform, FakeSource, ScriptedJudge, manualSignals } from './testing/fakes.ts';
import type { StageDecision } from '../judge/verdict.ts';

// Fast stages: looks every 20 ms, promote allowed after 40 ms, at most 1 s per stage.
const defaults = {
  ...DEFAULTS,
  intervalMs: 20,
  header: { minDurationMs: 40, maxDurationMs: 1000, minSamples: 100 },
  weighted: { minDurationMs: 40, maxDurationMs: 1000, minSamples: 100 },
};
const plan = testPlan({}, defaults);
const reportsDir = mkdtempSync(join(tmpdir(), 'canary-runner-'));
afterAll(() => rmSync(reportsDir, { recursive: true, force: true }));

function setup(
  decide: (stage: string, look: number) => StageDecision,
  over: Partial<RunnerDeps> = {},
  statuses?: ('ok' | 'error' | 'nodata')[],
) {
  const platform = new FakePlatform();
  const driver = new FakeDriver();
  const source = new FakeSource(statuses);
  const judge = new ScriptedJudge(decide);
  const signals = manualSignals();
  const rendered: string[] = [];
  const deps: RunnerDeps = {
    platform,
    driver,
    createSource: () => source,
    judge,
    signals: signals.subscribe,
    renderReports: (_r, dir) => void rendered.push(dir),
    ...over,
  };
  return { platform, driver, source, judge, signals, deps, rendered };
}

const run = (deps: RunnerDeps, p = plan) =>
  runCanary(p, deps, {
    reportsDir,
    config: { file: 'analysis/default.yaml', analysis: {}, flags: { scenario: 'healthy' } },
  });

function readResult(dir: string): RunResult {
  return JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as RunResult;
}

describe('runCanary', () => {
  it('healthy: walks every stage, promotes, tears down, writes result.json and calls the report hook', async () => {
    const t = setup((_, look) => (look >= 3 ? 'promote' : 'continue'));
    const out = await run(t.deps);
    expect(out.result).toMatchObject({ status: 'promoted', exitCode: 0, abort: null });
    expect(t.platform.calls).toEqual([
      'deploy primary,baseline,canary',
      'setRoute header',
      'setRoute weighted',
      'setRoute weighted',
      'setRoute promoted',
      'promote',
      'teardown',
    ]);
    expect(t.driver.plan?.target).toBe('http://127.0.0.1:1');
    expect(t.driver.stopped).toBe('stopped');
    const saved = readResult(out.runDir);
    expect(saved.runId).toBe(out.result.runId);
    expect(saved.stages.map((s) => [s.name, s.outcome, s.intervals.length])).toEqual([
      ['header', 'promote', 3],
      ['weighted-5', 'promote', 3],
      ['weighted-50', 'promote', 3],
    ]);
    for (const s of saved.stages) {
      expect(s.timeToDecisionMs).toBeGreaterThanOrEqual(40);
      expect(
        s.intervals.every(
          (i) =>
            i.assessment !== null &&
            i.baseline?.workload === 'account-baseline' &&
            i.canary?.workload === 'account-canary',
        ),
      ).toBe(true);
      expect(s.intervals[0].split.percent).toEqual({ primary: 80, baseline: 10, canary: 10 });
    }
    expect(saved.routes.map((r) => r.shares.canary)).toEqual([0, 5, 50, 100]);
    expect(saved.load).toMatchObject({
      requests: 10,
      byWorkload: { 'account-primary': 6, 'account-baseline': 2, 'account-canary': 2 },
    });
    expect(t.rendered).toEqual([out.runDir]);
    expect(readdirSync(out.runDir)).toEqual(['result.json']); // no temp file left behind
    expect(t.signals.listeners).toBe(0);
  });

  it("evidence run: the judge sees every measurement since the first stage, with the stage's bounds and the compared workloads", async () => {
    const t = setup((_, look) => (look >= 2 ? 'promote' : 'continue'));
    await run(t.deps);
    // The header stage takes two looks or more (a promote waits for the stage's minimum duration,
    // which a slow machine may not have reached by the second look); the weighted stage's first look
    // sees all of them and its own.
    const headerLooks = t.judge.inputs.filter((i) => i.stage.name === 'header').length;
    expect(headerLooks).toBeGreaterThanOrEqual(2);
    const firstOfStage2 = t.judge.inputs.find((i) => i.stage.name === 'weighted-5')!;
    expect(firstOfStage2.measurements).toHaveLength(headerLooks + 1);
    expect(firstOfStage2.elapsedMs).toBeLessThan(
      firstOfStage2.measurements.at(-1)!.end - firstOfStage2.measurements[0].start,
    );
    expect(firstOfStage2).toMatchObject({
      control: 'account-baseline',
      treatment: 'account-canary',
      expectedCanaryShare: 0.5,
    });
  });

  it('evidence stage: the judge sees only the current stage', async () => {
    const t = setup((_, look) => (look >= 2 ? 'promote' : 'continue'));
    await run(t.deps, testPlan({ evidence: 'stage' }, defaults));
    // Each stage's looks see 1, 2, ... measurements: its own only (a stage takes two looks or more).
    for (const name of ['header', 'weighted-5', 'weighted-50']) {
      const counts = t.judge.inputs.filter((i) => i.stage.name === name).map((i) => i.measurements.length);
      expect(counts.length, name).toBeGreaterThanOrEqual(2);
      expect(counts, name).toEqual(counts.map((_, k) => k + 1));
    }
  });

  it('checks the load before promoting: on unreliable load the run is inconclusive and never routes to the canary alone', async () => {
    const t = setup(() => 'promote');
    t.driver.achievedShare = 0.5;
    const out = await run(t.deps);
    expect(out.result).toMatchObject({ status: 'inconclusive', exitCode: 2 });
    expect(out.result.reason).toMatch(/^load unreliable: achieved .* the judge promoted \(every stage passed/);
    expect(t.platform.calls.slice(-3)).toEqual(['setRoute safe', 'rollback', 'teardown']);
    expect(t.platform.calls).not.toContain('setRoute promoted');
    expect(out.result.routes.at(-1)?.route.kind).toBe('safe');
  });

  it('with onUnreliableLoad warn, unreliable load still promotes', async () => {
    const t = setup(() => 'promote');
    t.driver.achievedShare = 0.5;
    const warn = testPlan({}, defaults);
    const out = await run(t.deps, { ...warn, inconclusive: { ...warn.inconclusive, onUnreliableLoad: 'warn' } });
    expect(out.result).toMatchObject({ status: 'promoted', exitCode: 0 });
    expect(t.platform.calls.slice(-3)).toEqual(['setRoute promoted', 'promote', 'teardown']);
  });

  it('a failed stage rolls back at once: safe route, rollback, exit 1, the metric named', async () => {
    const t = setup((stage) => (stage === 'weighted-5' ? 'rollback' : 'promote'));
    const out = await run(t.deps);
    expect(out.result).toMatchObject({ status: 'rolled-back', exitCode: 1, responsible: ['latency-p99'] });
    expect(out.result.reason).toMatch(/weighted-5: latency-p99/);
    expect(t.platform.calls.slice(-3)).toEqual(['setRoute safe', 'rollback', 'teardown']);
    expect(out.result.stages.map((s) => s.outcome)).toEqual(['promote', 'rollback', 'skipped']);
  });

  it('SIGINT mid-stage: safe route, load interrupted, torn down, aborted, exit 130', async () => {
    const t = setup(() => 'continue');
    const p = testPlan({}, { ...defaults, header: { ...defaults.header, maxDurationMs: 60_000 } });
    const pending = run(t.deps, { ...p, intervalMs: 5000 });
    await until(() => t.platform.currentRoute === 'header');
    const firedAt = Date.now();
    t.signals.fire('SIGINT');
    const out = await pending;
    // The safe route came after the signal (how soon is a figure for the bench, not a bound here).
    expect(t.platform.routeAt[t.platform.routeAt.length - 1]).toBeGreaterThanOrEqual(firedAt);
    expect(t.platform.currentRoute).toBe('safe');
    expect(t.platform.tornDown).toBe(true);
    expect(t.driver.stopped).toBe('interrupted');
    expect(out.result).toMatchObject({
      status: 'aborted',
      exitCode: 130,
      abort: { cause: 'signal', detail: 'SIGINT' },
    });
    expect(out.result.abort?.safeRouteAt).not.toBeNull();
    expect(out.result.stages[0].outcome).toBe('aborted');
    expect(readResult(out.runDir).status).toBe('aborted');
  });

  it('a crashed canary: aborted (never a verdict), safe route, exit 4', async () => {
    const t = setup(() => 'continue');
    const pending = run(t.deps);
    await until(() => t.platform.currentRoute === 'header');
    t.platform.crash?.({ workload: 'account-canary', detail: 'exit code 1' });
    const out = await pending;
    expect(out.result).toMatchObject({ status: 'aborted', exitCode: 4, abort: { cause: 'crash' } });
    expect(t.platform.calls.slice(-2)).toEqual(['setRoute safe', 'teardown']);
  });

  it('a telemetry source that stops answering: aborted after two failed reads, exit 4', async () => {
    const t = setup(() => 'continue', {}, ['ok', 'error', 'error']);
    const out = await run(t.deps);
    expect(out.result).toMatchObject({ status: 'aborted', exitCode: 4, abort: { cause: 'telemetry' } });
    expect(out.result.abort?.detail).toMatch(/127\.0\.0\.1:1/);
    expect(t.platform.currentRoute).toBe('safe');
    expect(out.result.stages[0].intervals.map((i) => i.measurement.status)).toEqual(['ok', 'error', 'error']);
  });

  it('an exception in the judge: error, safe route, exit 4', async () => {
    const t = setup(() => {
      throw new TypeError('boom');
    });
    const out = await run(t.deps);
    expect(out.result).toMatchObject({ status: 'error', exitCode: 4, abort: { cause: 'exception', detail: 'boom' } });
    expect(t.platform.currentRoute).toBe('safe');
    expect(t.platform.tornDown).toBe(true);
  });

  it('an infrastructure failure while routing: aborted, exit 4, the safe route retried', async () => {
    const t = setup((_, look) => (look >= 2 ? 'promote' : 'continue'));
    t.platform.failOn.setRoute = new InfraError('proxy gateway did not apply the route');
    const out = await run(t.deps);
    expect(out.result).toMatchObject({ status: 'aborted', exitCode: 4, abort: { cause: 'infrastructure' } });
    expect(t.platform.calls).toEqual([
      'deploy primary,baseline,canary',
      'setRoute header',
      'setRoute safe',
      'teardown',
    ]);
  });

  it('a failed deploy: nothing to route, torn down, exit 4', async () => {
    const t = setup(() => 'promote');
    t.platform.failOn.deploy = new InfraError('port in use');
    const out = await run(t.deps);
    expect(out.result).toMatchObject({ status: 'aborted', exitCode: 4 });
    expect(t.platform.calls).toEqual(['deploy primary,baseline,canary', 'teardown']);
  });

  it('a teardown that fails still ends the run and says so', async () => {
    const t = setup(() => 'continue');
    t.platform.failOn.teardown = new Error('kill failed');
    const pending = run(t.deps);
    await until(() => t.platform.currentRoute === 'header');
    t.signals.fire('SIGTERM');
    const out = await pending;
    expect(out.result.status).toBe('aborted');
    expect(out.result.reason).toMatch(/cleanup failed: kill failed/);
  });

  it('--confirm: asks after the last stage; "no" rolls back', async () => {
    const questions: string[] = [];
    const logged: string[] = [];
    const t = setup(() => 'promote', {
      confirm: async (q) => (questions.push(q), false),
      log: (l) => logged.push(l),
    });
    const out = await run(t.deps, testPlan({ confirm: true }, defaults));
    expect(questions).toEqual([expect.stringMatching(/Promote account v2/)]);
    expect(out.result).toMatchObject({ status: 'rolled-back', exitCode: 1 });
    // Answering no must never read as "confirmed".
    expect(logged).toContain('promotion declined');
    expect(logged.filter((l) => /confirmed/.test(l))).toEqual([]);
  });

  it('--confirm: a signal while the question waits aborts at once, without an answer', async () => {
    let asked = false;
    const t = setup(() => 'promote', { confirm: () => ((asked = true), new Promise<boolean>(() => {})) });
    const pending = run(t.deps, testPlan({ confirm: true }, defaults));
    await until(() => asked);
    t.signals.fire('SIGINT');
    const out = await pending;
    expect(out.result).toMatchObject({ status: 'aborted', exitCode: 130 });
    expect(t.platform.currentRoute).toBe('safe');
    expect(out.result.stages.map((s) => s.outcome)).toEqual(['promote', 'promote', 'promote']);
  });

  it('a bug outside the actions (the state machine throws) still ends safe, torn down, status error', async () => {
    const t = setup(() => 'continue');
    const p = testPlan({}, defaults);
    const pending = run(t.deps, p);
    await until(() => t.platform.currentRoute === 'header');
    p.stages.length = 0; // the next look finds no current stage: step() throws a TypeError
    const out = await pending;
    expect(out.result).toMatchObject({ status: 'error', exitCode: 4, abort: { cause: 'exception' } });
    expect(out.result.reason).toMatch(/harness error/);
    expect(t.platform.currentRoute).toBe('safe');
    expect(t.platform.tornDown).toBe(true);
    expect(t.driver.stopped).toBe('stopped');
  });

  it('a report hook that throws leaves result.json in place', async () => {
    const t = setup(() => 'promote', {
      renderReports: () => {
        throw new Error('no charts today');
      },
    });
    const out = await run(t.deps);
    expect(out).toMatchObject({ rendered: false, reportError: 'no charts today' });
    expect(readResult(out.runDir).status).toBe('promoted');
  });
});

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('runCanary listeners', () => {
  it('leaves no abort listener behind per look: 15 looks in a stage raise no MaxListenersExceededWarning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => void warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const t = setup((_, look) => (look >= 15 ? 'promote' : 'continue'));
      const out = await run(t.deps);
      expect(out.result.status).toBe('promoted');
      await new Promise((r) => setImmediate(r)); // 'warning' is emitted on a later tick
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});
