import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HistoryStore } from '../history/store.ts';
import { sampleRunResult } from './fixtures/run-result.ts';
import { renderReports } from './render-reports.ts';

const root = mkdtempSync(join(tmpdir(), 'render-reports-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('renderReports', () => {
  it('writes the three reports, appends the job summary and records the run in the history', () => {
    const result = sampleRunResult('rolled-back');
    const runDir = join(root, 'reports', result.runId);
    const summary = join(root, 'summary.md');
    writeFileSync(summary, 'earlier step\n');
    mkdirSync(runDir, { recursive: true });
    const out = renderReports(result, runDir, { stepSummary: summary });
    expect(readdirSync(runDir).sort()).toEqual(['junit.xml', 'report.html', 'report.md']);
    expect(out.files.map((f) => f.slice(runDir.length + 1))).toEqual(['report.md', 'report.html', 'junit.xml']);
    const appended = readFileSync(summary, 'utf8');
    expect(appended.startsWith('earlier step\n# ❌ Canary account: ROLLED BACK')).toBe(true);
    const store = new HistoryStore(join(root, 'reports', 'history.sqlite'));
    expect(store.runs(10).map((r) => [r.runId, r.status, r.canaryVersion])).toEqual([
      [result.runId, 'rolled-back', 'v2'],
    ]);
    expect(
      store.metrics([result.runId]).find((m) => m.stage === 'weighted-5' && m.metric === 'latency-p99')?.classification,
    ).toBe('fail');
    store.close();
  });

  it('leaves no report behind when rendering fails', () => {
    const result = sampleRunResult('promoted');
    (result as { stages: unknown }).stages = null;
    const runDir = mkdtempSync(join(root, 'broken-'));
    expect(() => renderReports(result, runDir, { historyFile: null, stepSummary: undefined })).toThrow();
    expect(readdirSync(runDir)).toEqual([]);
    expect(existsSync(join(runDir, '..', 'history.sqlite'))).toBe(false);
  });
});
