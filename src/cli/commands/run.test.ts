import { describe, expect, it } from 'vitest';
import { main } from '../main.ts';
import { toOptions } from './run.ts';

const base = {
  local: true,
  config: 'analysis/default.yaml',
  manifests: 'manifests',
  scenario: 'healthy',
  baseline: 'baseline',
  evidence: 'run',
  'on-inconclusive': 'rollback',
  confirm: false,
  'dry-run': false,
  'reports-dir': 'reports',
  json: false,
};

describe('canary run flags', () => {
  it('maps flags to typed options, keeping the given flags for result.json', () => {
    const o = toOptions({ ...base, rate: 200, stages: '5,20', 'min-duration': 3 });
    expect(o).toMatchObject({
      engine: 'local',
      rate: 200,
      stages: [5, 20],
      minDuration: 3,
      scenario: 'healthy',
      evidence: 'run',
    });
    expect(o.flags).toMatchObject({ rate: 200, stages: '5,20', 'min-duration': 3, scenario: 'healthy' });
  });

  it.each([
    [{ scenario: 'weird' }, '--scenario'],
    [{ baseline: 'prod' }, '--baseline'],
    [{ evidence: 'all' }, '--evidence'],
    [{ 'on-inconclusive': 'ignore' }, '--on-inconclusive'],
    [{ stages: '5,x' }, '--stages'],
    [{ rate: Number.NaN }, '--rate'],
  ])('%o is a usage error naming %s', (flags, flag) => {
    expect(() => toOptions({ ...base, ...flags })).toThrow(flag);
  });

  it('--context selects the Kubernetes engine', () => {
    expect(toOptions({ ...base, context: 'kind-canary' }).engine).toBe('kubernetes');
  });

  it('through main: a bad flag exits 3 before anything starts', async () => {
    const code = await main(['run', '--stages', '50,10', '--dry-run']);
    expect(code).toBe(3);
  });
});
