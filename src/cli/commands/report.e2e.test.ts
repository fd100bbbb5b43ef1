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
    // One line on the terminal: the series, its verdict, the files.
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^trend: slow · analysis\/default\.yaml: 8 run\(s\), .*latency-p99 slower since night-6/);
    expect(lines[0]).toContain(`; wrote ${join(reports, 'trend.md')}, ${join(reports, 'trend.html')}`);
    expect(readFileSync(join(reports, 'trend.md'), 'utf8')).toContain('latency-p99 got slower since night-6');
    expect(existsSync(join(reports, 'trend.html'))).toBe(true);
  });

  it('keeps scenarios apart, leaves aborted runs out, and derives the banner from the series it shows', () => {
    const reports = join(root, 'mixed-reports');
    const runs: [string, 'promoted' | 'rolled-back' | 'aborted'][] = [
      ['healthy', 'promoted'],
      ['slow', 'rolled-back'],
      ['healthy', 'promoted'],
      ['slow', 'rolled-back'],
      ['slow', 'aborted'],
      ['slow', 'rolled-back'],
      ['slow', 'rolled-back'],
    ];
    runs.forEach(([scenario, status], i) => {
      const result = sampleRunResult(status, i + 1);
      result.runId = `run-${i + 1}`;
      result.scenario = scenario as typeof result.scenario;
      result.startedAt = new Date(Date.UTC(2026, 10, 1 + i, 2)).toISOString();
      const dir = join(reports, result.runId);
      mkdirSync(dir, { recursive: true });
      renderReports(result, dir, { stepSummary: '' });
    });
    const r = canary('report', '--trend', '--reports-dir', reports);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const line = r.stdout.trim();
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toContain('healthy · analysis/default.yaml: 2 run(s), no regression');
    expect(line).toContain(
      'slow · analysis/default.yaml: 4 run(s), no shift, but the latest rolled-back (4 of 4 did not promote)',
    );
    expect(line).toContain('1 aborted/errored run(s) left out');
    const html = readFileSync(join(reports, 'trend.html'), 'utf8');
    const banner = /<div class="banner (\w+)" id="verdict"><div class="verdict">([^<]+)<\/div>/.exec(html);
    expect(banner?.slice(1)).toEqual(['warn', 'No shift, but the latest run did not promote']);
    const md = readFileSync(join(reports, 'trend.md'), 'utf8');
    expect(md).toContain('## healthy · analysis/default.yaml: No regression found');
    expect(md).toContain('Left out: 1 aborted or errored run(s) (run-5 aborted)');
  });

  it('re-renders a run named by its id alone, and suggests an id for a typo', () => {
    const reports = join(root, 'by-id');
    const result = sampleRunResult('rolled-back');
    const runDir = join(reports, result.runId);
    mkdirSync(runDir, { recursive: true });
    writeFileSync(join(runDir, 'result.json'), JSON.stringify(result));
    const ok = canary('report', result.runId, '--reports-dir', reports);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(existsSync(join(runDir, 'report.html'))).toBe(true);
    const typo = canary('report', result.runId.replace(/.$/, 'x'), '--reports-dir', reports);
    expect(typo.status).toBe(3);
    expect(typo.stderr).toContain(`did you mean ${result.runId}?`);
  });

  it('refuses a trend without history, naming the flag', () => {
    const r = canary('report', '--trend', '--reports-dir', join(root, 'nothing-here'));
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('--reports-dir');
  });
});
