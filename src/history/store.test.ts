import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sampleRunResult } from '../report/fixtures/run-result.ts';
import { historyRows } from './from-result.ts';
import { HistoryStore } from './store.ts';

const dir = mkdtempSync(join(tmpdir(), 'history-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('HistoryStore', () => {
  it('keeps one row per run, stage and metric, and returns the last runs oldest first', () => {
    const store = new HistoryStore(join(dir, 'h.sqlite'));
    for (let i = 0; i < 5; i++) {
      const result = sampleRunResult('promoted', i + 1);
      result.startedAt = new Date(Date.UTC(2026, 10, 1 + i, 2)).toISOString();
      const rows = historyRows(result);
      store.record(rows.run, rows.metrics);
    }
    const runs = store.runs(3);
    expect(runs.map((r) => r.startedAt)).toEqual([3, 4, 5].map((d) => Date.UTC(2026, 10, d, 2)));
    const metrics = store.metrics(runs.map((r) => r.runId));
    expect(metrics.length).toBe(3 * 2 * 3);
    expect(new Set(metrics.map((m) => `${m.runId}/${m.stage}/${m.metric}`)).size).toBe(metrics.length);
    store.close();
  });

  it('replaces a run recorded twice instead of duplicating its rows', () => {
    const store = new HistoryStore(join(dir, 'twice.sqlite'));
    const rows = historyRows(sampleRunResult('rolled-back'));
    store.record(rows.run, rows.metrics);
    store.record({ ...rows.run, status: 'promoted' }, rows.metrics.slice(0, 2));
    expect(store.runs(10).map((r) => r.status)).toEqual(['promoted']);
    expect(store.metrics([rows.run.runId]).length).toBe(2);
    store.close();
  });
});
