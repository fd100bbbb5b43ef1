import { describe, expect, it } from 'vitest';
import { main } from '../main.ts';
import { toOptions } from './run.ts';

const base = {
  local: true,
  config: 'analysis/default.yaml',
  manifests: 'manifests',
  scenario: 'healthy',
  service: 'account',
  driver: 'builtin',
  'compare-with': 'baseline',
  evidence: 'run',
  'on-inconclusive': 'rollback',
  confirm: false,
  'dry-run': false,
  'reports-dir': 'reports',
  json: false,
};

describe('canary run flags', () => {
  it('maps flags to typed options, keeping the given flags for result.json', () => {
    const o = toOptions({ ...base, rate: '200', stages: '5,20', 'min-duration': '3', interval: '500ms' });
    expect(o).toMatchObject({
      engine: 'local',
      rate: 200,
      stages: [5, 20],
      minDuration: 3,
      interval: 0.5,
      scenario: 'healthy',
      evidence: 'run',
    });
    expect(o.flags).toMatchObject({ rate: '200', stages: '5,20', 'min-duration': '3', scenario: 'healthy' });
  });

  it.each([
    [{ scenario: 'weird' }, '--scenario'],
    [{ 'compare-with': 'prod' }, '--compare-with'],
    [{ evidence: 'all' }, '--evidence'],
    [{ 'on-inconclusive': 'ignore' }, '--on-inconclusive'],
    [{ stages: '5,x' }, '--stages'],
    [{ rate: 'fast' }, '--rate: expected a positive number of requests per second'],
    [{ interval: '2 s' }, '--interval: expected a duration like 500ms, 30s, 5m'],
    [{ 'max-duration': '-1m' }, '--max-duration'],
    [{ 'min-samples': 2.5 }, '--min-samples'],
    [{ driver: 'jmeter' }, '--driver'],
    [{ image: 'account' }, '--image: expected SERVICE=IMAGE'],
  ])('%o is a usage error naming %s', (flags, flag) => {
    expect(() => toOptions({ ...base, ...flags })).toThrow(flag);
  });

  it('reads every duration flag in the one syntax: 2s, 500ms, 1m or bare seconds', () => {
    expect(toOptions({ ...base, interval: '2s', 'min-duration': '1m', 'max-duration': '90' })).toMatchObject({
      interval: 2,
      minDuration: 60,
      maxDuration: 90,
    });
  });

  it('--context selects the Kubernetes engine', () => {
    expect(toOptions({ ...base, context: 'kind-canary' }).engine).toBe('kubernetes');
  });

  it('through main: a bad flag exits 3 before anything starts', async () => {
    const code = await main(['run', '--stages', '50,10', '--dry-run']);
    expect(code).toBe(3);
  });
});
