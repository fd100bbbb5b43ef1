import { existsSync, readdirSync } from 'node:fs';
import { suggest } from '../../core/suggest.ts';
import { dirname, join } from 'node:path';
import { seededRandom } from '../../core/random.ts';
import { ExitCode, UsageError } from '../../core/errors.ts';
import { HistoryStore } from '../../history/store.ts';
import { readRunResult } from '../../report/read-result.ts';
import { renderReports } from '../../report/render-reports.ts';
import { buildTrend, renderTrendHtml, renderTrendMarkdown, trendSummaryLine } from '../../report/trend.ts';
import { writeFileAtomic } from '../../report/write-file.ts';
import { defineCommand } from '../command.ts';

export interface ReportOptions {
  /** Run directory or result.json to re-render. */
  run?: string;
  trend: boolean;
  last: number;
  reportsDir: string;
  json: boolean;
}

export interface ReportOutcome {
  files: string[];
  shifts?: string[];
  /** Trend only: the one line the terminal prints. */
  summary?: string;
}

/**
 * A run as given: a path to a run directory or result.json, or a bare run id under the reports
 * directory (`canary report 20261125-193142-a1b2`). An unknown id lists the latest ids that exist.
 */
export function resolveRun(run: string, reportsDir: string): string {
  if (existsSync(run)) return run;
  const underReports = join(reportsDir, run);
  if (existsSync(underReports)) return underReports;
  if (!run.includes('/') && !run.endsWith('.json')) {
    const ids = existsSync(reportsDir)
      ? readdirSync(reportsDir, { withFileTypes: true })
          .filter((d) => d.isDirectory() && existsSync(join(reportsDir, d.name, 'result.json')))
          .map((d) => d.name)
          .sort()
      : [];
    const near = suggest(run, ids);
    throw new UsageError(
      'run',
      `no run '${run}' in ${reportsDir}${near.length ? `; did you mean ${near[0]}?` : ''}${ids.length ? ` (latest: ${ids.slice(-3).join(', ')})` : ''}`,
    );
  }
  return run;
}

/** Re-renders one run's reports from its result.json, or writes the trend report from the history. */
export function report(options: ReportOptions): ReportOutcome {
  if (options.trend) {
    if (!Number.isInteger(options.last) || options.last < 2)
      throw new UsageError('--last', `expected a whole number of runs, at least 2; got ${options.last}`);
    const historyFile = join(options.reportsDir, 'history.sqlite');
    if (!existsSync(historyFile))
      throw new UsageError('--reports-dir', `no run history at ${historyFile}; run 'canary run' first`);
    const store = new HistoryStore(historyFile);
    try {
      // A fixed seed: the same history always gives the same report.
      const trend = buildTrend(store, { last: options.last, random: seededRandom(0x5eed) });
      const md = join(options.reportsDir, 'trend.md');
      const html = join(options.reportsDir, 'trend.html');
      writeFileAtomic(md, renderTrendMarkdown(trend));
      writeFileAtomic(html, renderTrendHtml(trend));
      return {
        files: [md, html],
        shifts: trend.metrics.flatMap((m) => m.shifts.map((s) => `${m.metric} ${s.direction} since ${s.runId}`)),
        summary: trendSummaryLine(trend, [md, html]),
      };
    } finally {
      store.close();
    }
  }
  if (!options.run) throw new UsageError('run', 'name a run id, a run directory or result.json, or pass --trend');
  const { file, result } = readRunResult(resolveRun(options.run, options.reportsDir));
  // Re-rendering an old run must not record it in the history a second time.
  return { files: renderReports(result, dirname(file), { historyFile: null }).files };
}

export const reportCommand = defineCommand({
  command: 'report [run]',
  describe: 're-render a run’s reports from result.json, or (--trend) the regression report from the history',
  examples: [
    ['$0 report 20261125-193142-a1b2', 're-render reports/20261125-193142-a1b2/'],
    ['$0 report reports/20261125-193142-a1b2/result.json', 'the same, from a path'],
    ['$0 report --trend --last 10', 'the regression report over the last 10 runs per scenario'],
  ],
  builder: (y) =>
    y
      .positional('run', {
        type: 'string',
        describe: 'run id (under --reports-dir), run directory, or its result.json',
      })
      .option('trend', {
        type: 'boolean',
        default: false,
        describe: 'compare the latest runs in reports/history.sqlite',
      })
      .option('last', {
        type: 'number',
        default: 30,
        describe: 'how many runs of each series (scenario · configuration) the trend covers',
      })
      .option('reports-dir', {
        type: 'string',
        default: 'reports',
        describe: 'where result directories and history.sqlite live',
      })
      .option('json', { type: 'boolean', default: false, describe: 'print the written files as JSON' }),
  run: async (args) => {
    const a = args as unknown as { run?: string; trend: boolean; last: number; reportsDir: string; json: boolean };
    const outcome = report({ run: a.run, trend: a.trend, last: a.last, reportsDir: a.reportsDir, json: a.json });
    if (a.json) process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
    else if (outcome.summary) process.stdout.write(`${outcome.summary}\n`);
    else for (const f of outcome.files) process.stdout.write(`wrote ${f}\n`);
    return ExitCode.pass;
  },
});
