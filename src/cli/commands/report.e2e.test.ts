import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sampleRunResult } from '../../report/fixtures/run-result.ts';
import { renderReports } from '../../report/render-reports.ts';

const root = mkdtempSync(join(tmpdir(), 'report-cmd-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function canary(...args: string[]) {
  return spawnSync(process.execPath, ['bin/canary.js', ...args], { encoding: 'utf8', timeout: 30_000 });
}

describe('canary report', () => {
  it('re-renders a run from its result.json without recording it again', () => {
    const result = sampleRunResult('rolled-back');
    const runDir = join(root, 'reports', result.runId);
    mkdirSync(runDir, { recursive: true });
    writeFileSync(join(runDir, 'result.json'), JSON.stringify(result));
    const r = canary('report', runDir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(join(runDir, 'report.md'), 'utf8')).toContain('ROLLED BACK');
    expect(existsSync(join(runDir, 'junit.xml'))).toBe(true);
    expect(existsSync(join(root, 'reports', 'history.sqlite'))).toBe(false);
  });

  it('names the file and the path inside it when result.json is not a result', () => {
    const bad = join(root, 'bad.json');
    const result = sampleRunResult('promoted') as unknown as Record<string, unknown>;
    writeFileSync(bad, JSON.stringify({ ...result, status: 'maybe' }));
    const r = canary('report', bad);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(`${bad} status:`);
  });

  it('writes the trend report from the history and names the shift', () => {
    const reports = join(root, 'trend-reports');
    for (let night = 0; night < 8; night++) {
      const result = sampleRunResult('promoted', night + 1);
      result.runId = `night-${night + 1}`;
      result.startedAt = new Date(Date.UTC(2026, 10, 1 + night, 2)).toISOString();
      const decided = result.stages[1].intervals.at(-1)!.assessment!;
      decided.metrics[1].canary = night >= 5 ? 30 + night * 0.1 : 20 + night * 0.1;
      const dir = join(reports, result.runId);
      mkdirSync(dir, { recursive: true });
      renderReports(result, dir, { stepSummary: '' });
    }
    const r = canary('report', '--trend', '--reports-dir', reports, '--last', '8');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('shift: latency-p99 slower since night-6');
    expect(readFileSync(join(reports, 'trend.md'), 'utf8')).toContain('latency-p99 got slower since night-6');
    expect(existsSync(join(reports, 'trend.html'))).toBe(true);
  });

  it('refuses a trend without history, naming the flag', () => {
    const r = canary('report', '--trend', '--reports-dir', join(root, 'nothing-here'));
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('--reports-dir');
  });
});
