/**
 * The performance regression report: tonight's run against earlier nights, per metric, with plots, and
 * the run where a metric shifted (change-point detection over the series, not a comparison with the
 * mean of all earlier runs, which a single old outlier or a slow drift would fool).
 */
import { detectChangePoints, type ChangePoint } from '../history/change-point.ts';
import type { HistoryStore, MetricRow, RunRow } from '../history/store.ts';
import { chartSlot, escapeHtml, htmlPage, type ChartSpec } from './html-page.ts';
import { markdownTable } from './markdown-table.ts';

export interface TrendPoint {
  runId: string;
  startedAt: number;
  status: string;
  canary: number | null;
  baseline: number | null;
}

export interface TrendShift {
  runId: string;
  startedAt: number;
  before: number;
  after: number;
  relativeChange: number;
  pValue: number;
  /** Worse for a metric where higher is worse (latency, errors). */
  direction: 'slower' | 'faster' | 'higher' | 'lower';
}

export interface MetricTrend {
  metric: string;
  kind: string;
  points: TrendPoint[];
  shifts: TrendShift[];
  latest: TrendPoint | undefined;
  /** Median of the earlier runs' canary values. */
  earlierMedian: number | null;
}

export interface TrendReport {
  generatedAt: number;
  runs: RunRow[];
  metrics: MetricTrend[];
}

export interface TrendOptions {
  last: number;
  random: () => number;
  now?: number;
}

/** Builds the trend from the last `last` runs in the history. */
export function buildTrend(store: HistoryStore, options: TrendOptions): TrendReport {
  const runs = store.runs(options.last);
  const rows = store.metrics(runs.map((r) => r.runId));
  const byMetric = new Map<string, MetricRow[]>();
  for (const row of rows) {
    const list = byMetric.get(row.metric) ?? [];
    list.push(row);
    byMetric.set(row.metric, list);
  }
  const metrics: MetricTrend[] = [];
  for (const [metric, metricRows] of [...byMetric.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const points = runs.map((run) => pointFor(run, metricRows));
    const valued = points.filter((p): p is TrendPoint & { canary: number } => p.canary !== null);
    const changes: ChangePoint[] = detectChangePoints(
      valued.map((p) => p.canary),
      { random: options.random },
    );
    const kind = metricRows[0]?.kind ?? 'unknown';
    const shifts = changes.map((c): TrendShift => {
      const at = valued[c.index];
      const up = c.after > c.before;
      return {
        runId: at.runId,
        startedAt: at.startedAt,
        before: c.before,
        after: c.after,
        relativeChange: c.relativeChange,
        pValue: c.pValue,
        direction: kind === 'latency' ? (up ? 'slower' : 'faster') : up ? 'higher' : 'lower',
      };
    });
    const earlier = valued.slice(0, -1).map((p) => p.canary);
    metrics.push({
      metric,
      kind,
      points,
      shifts,
      latest: points[points.length - 1],
      earlierMedian: earlier.length ? median(earlier) : null,
    });
  }
  return { generatedAt: options.now ?? Date.now(), runs, metrics };
}

/** A run's value for a metric: the stage that saw the most canary traffic, where the estimate is firmest
 * (on a tie, the later stage, which ran with more of the canary's real share). */
function pointFor(run: RunRow, rows: readonly MetricRow[]): TrendPoint {
  let best: MetricRow | undefined;
  for (const row of rows) {
    if (row.runId !== run.runId || row.canaryValue === null) continue;
    if (!best || row.nCanary > best.nCanary || (row.nCanary === best.nCanary && row.stageIndex > best.stageIndex))
      best = row;
  }
  return {
    runId: run.runId,
    startedAt: run.startedAt,
    status: run.status,
    canary: best?.canaryValue ?? null,
    baseline: best?.baselineValue ?? null,
  };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function date(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}

function num(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return Math.abs(v) >= 100 ? v.toFixed(1) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3);
}

function pct(v: number): string {
  return `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)} %`;
}

function shiftSentence(m: MetricTrend, s: TrendShift): string {
  return `${m.metric} got ${s.direction} since ${s.runId} (${date(s.startedAt)}): ${num(s.before)} → ${num(s.after)} (${pct(s.relativeChange)}, permutation p = ${s.pValue.toFixed(3)})`;
}

export function renderTrendMarkdown(trend: TrendReport): string {
  const lines: string[] = ['# Performance trend', ''];
  if (trend.runs.length === 0) {
    lines.push('No runs in the history yet.', '');
    return lines.join('\n');
  }
  const first = trend.runs[0];
  const last = trend.runs[trend.runs.length - 1];
  lines.push(
    `${trend.runs.length} runs from ${first.runId} (${date(first.startedAt)}) to ${last.runId} (${date(last.startedAt)}).`,
    '',
  );
  const shifts = trend.metrics.flatMap((m) => m.shifts.map((s) => shiftSentence(m, s)));
  lines.push('## Shifts', '');
  if (shifts.length === 0) lines.push('No metric shifted in this window.');
  else for (const s of shifts) lines.push(`- ${s}`);
  lines.push('', '## Latest run against earlier runs', '');
  lines.push(
    markdownTable(
      ['metric', 'latest (canary)', 'median of earlier runs', 'change', 'shift'],
      trend.metrics.map((m) => {
        const latest = m.latest?.canary ?? null;
        const change =
          latest !== null && m.earlierMedian ? (latest - m.earlierMedian) / Math.abs(m.earlierMedian) : null;
        const lastShift = m.shifts[m.shifts.length - 1];
        return [
          m.metric,
          num(latest),
          num(m.earlierMedian),
          change === null ? '–' : pct(change),
          lastShift ? `${lastShift.direction} since ${lastShift.runId}` : 'none',
        ];
      }),
      ['left', 'right', 'right', 'right', 'left'],
    ),
  );
  lines.push('', '## Runs', '');
  lines.push(
    markdownTable(
      ['run', 'started', 'status'],
      trend.runs.map((r) => [r.runId, date(r.startedAt), r.status]),
    ),
  );
  return lines.join('\n') + '\n';
}

export function renderTrendHtml(trend: TrendReport): string {
  const charts: ChartSpec[] = trend.metrics.map((m, i) => ({
    id: `trend-${i}`,
    title: m.metric,
    xLabel: 'run start',
    yLabel: m.kind === 'latency' ? 'ms' : m.metric,
    xKind: 'time',
    x: m.points.map((p) => Math.round(p.startedAt / 1000)),
    series: [
      { label: 'canary', values: m.points.map((p) => p.canary), color: '#cf222e' },
      { label: 'baseline', values: m.points.map((p) => p.baseline), color: '#0969da', dash: true },
    ],
  }));
  const shifts = trend.metrics.flatMap((m) => m.shifts.map((s) => shiftSentence(m, s)));
  const worse = trend.metrics.some((m) => m.shifts.some((s) => s.direction === 'slower' || s.direction === 'higher'));
  const body = [
    `<div class="banner ${worse ? 'fail' : 'pass'}"><div class="verdict">${worse ? 'Regression found' : 'No regression found'}</div>`,
    `<div>${trend.runs.length} runs; generated ${escapeHtml(date(trend.generatedAt))}</div></div>`,
    '<h1>Performance trend</h1>',
    '<h2>Shifts</h2>',
    shifts.length
      ? `<ul>${shifts.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ul>`
      : '<p>No metric shifted in this window.</p>',
    '<h2>Metrics</h2>',
    ...trend.metrics.map((_m, i) => chartSlot(charts[i])),
  ].join('\n');
  return htmlPage('Performance trend', body, charts);
}
