/**
 * `reports/history.sqlite`: one row per run, and one per run, stage and metric, so nightly runs can be
 * compared over time (`canary report --trend`). better-sqlite3 is synchronous, which suits a file that
 * is written once at the end of a run and read by one report.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export interface RunRow {
  runId: string;
  /** Unix epoch milliseconds. */
  startedAt: number;
  endedAt: number;
  status: string;
  exitCode: number;
  service: string;
  baselineVersion: string | null;
  canaryVersion: string | null;
  scenario: string | null;
  /** The analysis configuration the run was judged with (its file, as given); null in older histories. */
  config?: string | null;
}

export interface MetricRow {
  runId: string;
  stage: string;
  /** Position of the stage in the run's plan, from 0. */
  stageIndex: number;
  metric: string;
  kind: string;
  classification: string;
  baselineValue: number | null;
  canaryValue: number | null;
  estimate: number | null;
  ciLow: number | null;
  ciHigh: number | null;
  eValue: number | null;
  pValue: number | null;
  nBaseline: number;
  nCanary: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  run_id TEXT PRIMARY KEY,
  started_at INTEGER NOT NULL,
  ended_at INTEGER NOT NULL,
  status TEXT NOT NULL,
  exit_code INTEGER NOT NULL,
  service TEXT NOT NULL,
  baseline_version TEXT,
  canary_version TEXT,
  scenario TEXT
);
CREATE TABLE IF NOT EXISTS metrics (
  run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
  stage TEXT NOT NULL,
  stage_index INTEGER NOT NULL,
  metric TEXT NOT NULL,
  kind TEXT NOT NULL,
  classification TEXT NOT NULL,
  baseline_value REAL,
  canary_value REAL,
  estimate REAL,
  ci_low REAL,
  ci_high REAL,
  e_value REAL,
  p_value REAL,
  n_baseline INTEGER NOT NULL,
  n_canary INTEGER NOT NULL,
  PRIMARY KEY (run_id, stage, metric)
);
CREATE INDEX IF NOT EXISTS runs_started ON runs(started_at);
`;

export class HistoryStore {
  private readonly db: Database.Database;

  constructor(readonly file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('foreign_keys = ON');
    this.db.exec(SCHEMA);
    // Histories written before runs had a configuration column get it (empty for their old rows).
    const columns = this.db.prepare(`PRAGMA table_info(runs)`).all() as { name: string }[];
    if (!columns.some((c) => c.name === 'config')) this.db.exec(`ALTER TABLE runs ADD COLUMN config TEXT`);
  }

  /** Records a run and its metric rows in one transaction; recording the same run again replaces it. */
  record(run: RunRow, metrics: readonly MetricRow[]): void {
    const insertRun = this.db.prepare(
      `INSERT OR REPLACE INTO runs (run_id, started_at, ended_at, status, exit_code, service, baseline_version, canary_version, scenario, config)
       VALUES (@runId, @startedAt, @endedAt, @status, @exitCode, @service, @baselineVersion, @canaryVersion, @scenario, @config)`,
    );
    const deleteMetrics = this.db.prepare(`DELETE FROM metrics WHERE run_id = ?`);
    const insertMetric = this.db.prepare(
      `INSERT INTO metrics VALUES (@runId, @stage, @stageIndex, @metric, @kind, @classification, @baselineValue, @canaryValue, @estimate, @ciLow, @ciHigh, @eValue, @pValue, @nBaseline, @nCanary)`,
    );
    this.db.transaction(() => {
      insertRun.run({ ...run, config: run.config ?? null });
      deleteMetrics.run(run.runId);
      for (const m of metrics) insertMetric.run(m);
    })();
  }

  /** The last `limit` runs, oldest first. */
  runs(limit: number): RunRow[] {
    const rows = this.db
      .prepare(
        `SELECT run_id AS runId, started_at AS startedAt, ended_at AS endedAt, status, exit_code AS exitCode,
                service, baseline_version AS baselineVersion, canary_version AS canaryVersion, scenario, config
         FROM runs ORDER BY started_at DESC, run_id DESC LIMIT ?`,
      )
      .all(limit) as RunRow[];
    return rows.reverse();
  }

  metrics(runIds: readonly string[]): MetricRow[] {
    if (runIds.length === 0) return [];
    const placeholders = runIds.map(() => '?').join(',');
    return this.db
      .prepare(
        `SELECT run_id AS runId, stage, stage_index AS stageIndex, metric, kind, classification, baseline_value AS baselineValue,
                canary_value AS canaryValue, estimate, ci_low AS ciLow, ci_high AS ciHigh, e_value AS eValue,
                p_value AS pValue, n_baseline AS nBaseline, n_canary AS nCanary
         FROM metrics WHERE run_id IN (${placeholders})`,
      )
      .all(...runIds) as MetricRow[];
  }

  close(): void {
    this.db.close();
  }
}
