/**
 * Renders every report of a run next to its `result.json`, appends the Markdown to the CI job summary
 * when `$GITHUB_STEP_SUMMARY` is set, and records the run in the history for trend reports.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult } from '../canary/result.ts';
import { historyRows } from '../history/from-result.ts';
import { HistoryStore } from '../history/store.ts';
import { reporters } from './reporter.ts';
import { writeFileAtomic } from './write-file.ts';

export interface RenderOptions {
  /** `reports/history.sqlite` by default; `null` records nothing (re-rendering an old run). */
  historyFile?: string | null;
  /** Where to append the Markdown summary; defaults to `$GITHUB_STEP_SUMMARY`. */
  stepSummary?: string | undefined;
}

export interface RenderedReports {
  files: string[];
  historyFile: string | null;
}

export function renderReports(result: RunResult, runDir: string, options: RenderOptions = {}): RenderedReports {
  const files: string[] = [];
  const rendered = reporters.map((r) => ({ file: join(runDir, r.file), content: r.render(result) }));
  // Render everything before writing anything: a renderer that throws leaves no partial set behind.
  for (const r of rendered) {
    writeFileAtomic(r.file, r.content);
    files.push(r.file);
  }
  const summary = options.stepSummary ?? process.env.GITHUB_STEP_SUMMARY;
  if (summary) appendFileSync(summary, `${rendered.find((r) => r.file.endsWith('report.md'))!.content}\n`);
  const historyFile = options.historyFile === undefined ? join(runDir, '..', 'history.sqlite') : options.historyFile;
  if (historyFile) {
    const store = new HistoryStore(historyFile);
    try {
      const rows = historyRows(result);
      store.record(rows.run, rows.metrics);
    } finally {
      store.close();
    }
  }
  return { files, historyFile };
}
