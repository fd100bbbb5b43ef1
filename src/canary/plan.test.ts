import { describe, expect, it } from 'vitest';
import { UsageError } from '../core/errors.ts';
import { nextVersion, parseSteps, planRun, REFERENCE_LATENCY, scenarioEnv } from './plan.ts';
import { DEFAULTS, TARGET, testPlan } from './testing/fixtures.ts';

describe('planRun', () => {
  it('default: primary, a fresh baseline of the same version, the canary at the next version; header then 5,10,25,50', () => {
    const plan = testPlan({ stagesPercent: undefined });
    expect(plan.tracks.map((t) => [t.track, t.workload, t.version])).toEqual([
      ['primary', 'account-primary', 'v1'],
      ['baseline', 'account-baseline', 'v1'],
      ['canary', 'account-canary', 'v2'],
    ]);
    expect(plan.stages.map((s) => s.name)).toEqual([
      'header',
      'weighted-5',
      'weighted-10',
      'weighted-25',
      'weighted-50',
    ]);
    expect(plan.stages[1].route).toMatchObject({ kind: 'weighted', canary: 5, baseline: 5 });
    expect(plan.comparison).toMatchObject({
      control: { workload: 'account-baseline' },
      treatment: { workload: 'account-canary' },
      biased: false,
    });
    expect(plan.inconclusive).toEqual({ action: 'rollback', exitCode: 2, onUnreliableLoad: 'inconclusive' });
    expect(plan.stages[0]).toMatchObject(DEFAULTS.header);
    expect(plan.intervalMs).toBe(DEFAULTS.intervalMs);
  });

  it('flags override rate, interval, steps and the inconclusive policy', () => {
    const plan = testPlan({ rate: 120, intervalSeconds: 0.5, stagesPercent: [10, 20], onInconclusive: 'promote' });
    expect(plan.load.ratePerSecond).toBe(120);
    expect(plan.intervalMs).toBe(500);
    expect(plan.stages.map((s) => s.name)).toEqual(['header', 'weighted-10', 'weighted-20']);
    expect(plan.inconclusive.action).toBe('promote');
  });

  it('--baseline primary: no baseline track, steps up to 100, and the plan says it is biased', () => {
    const plan = testPlan({ baseline: 'primary', stagesPercent: [25, 75] });
    expect(plan.tracks.map((t) => t.track)).toEqual(['primary', 'canary']);
    expect(plan.comparison.control.workload).toBe('account-primary');
    expect(plan.comparison.biased).toBe(true);
    expect(plan.notes.join('\n')).toMatch(/biased/);
    expect(plan.header.baseline).toBeNull();
    expect(plan.stages[2].route).toMatchObject({ canary: 75, baseline: 0 });
  });

  it('scenario knobs go to the canary only; a manifest without latency gets the reference latency on every track', () => {
    const plan = planRun(
      { engine: 'local', configFile: 'a.yaml', scenario: 'slow', baseline: 'baseline', confirm: false },
      DEFAULTS,
      { ...TARGET, primaryEnv: { LATENCY: 'none' } },
    );
    const env = Object.fromEntries(plan.tracks.map((t) => [t.track, t.env]));
    expect(env.primary).toEqual({ LATENCY: REFERENCE_LATENCY });
    expect(env.baseline).toEqual({ LATENCY: REFERENCE_LATENCY });
    expect(env.canary).toEqual({ LATENCY: 'lognormal:median=23,sigma=0.3', VERSION: 'v2' });
  });

  it.each([
    [{ rate: 0 }, '--rate'],
    [{ rate: Number.NaN }, '--rate'],
    [{ intervalSeconds: 0 }, '--interval'],
    [{ stagesPercent: [] }, '--stages'],
    [{ stagesPercent: [10, 5] }, '--stages'],
    [{ stagesPercent: [5, 60] }, '--stages'],
    [{ stagesPercent: [2.5] }, '--stages'],
    [{ scenario: 'broken' as never }, '--scenario'],
    [{ canaryVersion: '2' }, '--canary-version'],
  ])('rejects %o naming %s', (flags, flag) => {
    expect(() => testPlan(flags)).toThrow(UsageError);
    try {
      testPlan(flags);
    } catch (err) {
      expect((err as UsageError).flag).toBe(flag);
    }
  });

  it('rejects stage bounds where the minimum exceeds the maximum', () => {
    expect(() =>
      testPlan({}, { ...DEFAULTS, weighted: { minDurationMs: 5000, maxDurationMs: 1000, minSamples: 1 } }),
    ).toThrow(/weighted-5/);
  });
});

describe('scenarioEnv', () => {
  const primary = { LATENCY: 'lognormal:median=20,sigma=0.4', ERROR_RATE: '0.005' };
  it('slow scales the latency distribution by 1.15', () => {
    expect(scenarioEnv('slow', primary).canary).toEqual({ LATENCY: 'lognormal:median=23,sigma=0.4' });
    expect(scenarioEnv('slow', { LATENCY: 'constant:ms=10' }).canary).toEqual({ LATENCY: 'constant:ms=11.5' });
  });
  it('errors adds 2 percentage points', () => {
    expect(scenarioEnv('errors', primary).canary).toEqual({ ERROR_RATE: '0.025' });
  });
  it('flaky adds 1 point of errors and a longer tail', () => {
    expect(scenarioEnv('flaky', primary).canary).toEqual({
      ERROR_RATE: '0.015',
      LATENCY: 'lognormal:median=20,sigma=0.6',
    });
  });
  it('healthy changes nothing', () => {
    expect(scenarioEnv('healthy', primary)).toEqual({ all: {}, canary: {} });
  });
});

describe('parseSteps and nextVersion', () => {
  it('parses comma-separated percentages', () => expect(parseSteps('5, 10,25')).toEqual([5, 10, 25]));
  it('rejects text naming --stages', () => expect(() => parseSteps('5,ten')).toThrow(/--stages/));
  it('bumps the major version', () => {
    expect(nextVersion('v1')).toBe('v2');
    expect(nextVersion('v3.2')).toBe('v4');
  });
});
