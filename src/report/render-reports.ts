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
import { type WriteFs, writeFileAtomic } from './write-file.ts';

export interface RenderOptions {
  /** `reports/history.sqlite` by default; `null` records nothing (re-rendering an old run). */
  historyFile?: string | null;
  /** Where to append the Markdown summary; defaults to `$GITHUB_STEP_SUMMARY`. */
  stepSummary?: string | undefined;
  /** File-system calls for the reports (tests play a full disk); the history store opens its own file. */
  fs?: WriteFs;
}

/** Some reports could not be written; each one that could is whole, and no temp file is left. */
export class ReportWriteError extends Error {
  constructor(
    readonly failures: { file: string; problem: string }[],
    readonly written: string[],
  ) {
    super(
      `could not write ${failures.map((f) => `${f.file} (${f.problem})`).join(', ')}${written.length ? `; written: ${written.join(', ')}` : ''}`,
    );
    this.name = 'ReportWriteError';
  }
}

export interface RenderedReports {
  files: string[];
  historyFile: string | null;
}

export function renderReports(result: RunResult, runDir: string, options: RenderOptions = {}): RenderedReports {
  const files: string[] = [];
  const failures: { file: string; problem: string }[] = [];
  const attempt = (file: string, write: () => void): boolean => {
    try {
      write();
      return true;
    } catch (err) {
      failures.push({ file, problem: err instanceof Error ? err.message : String(err) });
      return false;
    }
  };
  const rendered = reporters.map((r) => ({ file: join(runDir, r.file), content: r.render(result) }));
  // Render everything before writing anything: a renderer that throws leaves no partial set behind.
  // Then each file on its own: one that cannot be written (a full disk) does not keep the next from trying.
  for (const r of rendered)
    if (attempt(r.file, () => writeFileAtomic(r.file, r.content, { fs: options.fs }))) files.push(r.file);
  const summary = options.stepSummary ?? process.env.GITHUB_STEP_SUMMARY;
  if (summary)
    attempt(summary, () => appendFileSync(summary, `${rendered.find((r) => r.file.endsWith('report.md'))!.content}\n`));
  const historyFile = options.historyFile === undefined ? join(runDir, '..', 'history.sqlite') : options.historyFile;
  if (historyFile) {
    attempt(historyFile, () => {
      const store = new HistoryStore(historyFile);
      try {
        const rows = historyRows(result);
        store.record(rows.run, rows.metrics);
      } finally {
        store.close();
      }
    });
  }
  if (failures.length > 0) throw new ReportWriteError(failures, files);
  return { files, historyFile };
}
