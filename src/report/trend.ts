/**
 * The performance regression report: tonight's run against earlier nights, per metric, with plots, and
 * the run where a metric shifted (change-point detection over the series, not a comparison with the
 * mean of all earlier runs, which a single old outlier or a slow drift would fool).
 */
import { detectChangePoints, type ChangePoint } from '../history/change-point.ts';
import type { HistoryStore, MetricRow, RunRow } from '../history/store.ts';
import { chartSlot, escapeHtml, htmlPage, type ChartSpec } from './html-page.ts';
import { markdownTable } from './markdown-table.ts';
import { formatMs, formatNumber, formatProportion, formatRelativeChange } from '../core/format.ts';

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

/** One series: the runs of one scenario judged with one configuration, which are comparable. */
export interface TrendGroup {
  /** `healthy · analysis/local.yaml`. */
  key: string;
  scenario: string;
  config: string;
  runs: RunRow[];
  metrics: MetricTrend[];
  /** From this series alone: a metric got worse, or the latest run did not promote, or neither. */
  verdict: 'regression' | 'attention' | 'ok';
  /** One line, for people: what the verdict rests on. */
  summary: string;
}

export interface TrendReport {
  generatedAt: number;
  /** The runs in the series shown (aborted and errored runs left out), oldest first. */
  runs: RunRow[];
  groups: TrendGroup[];
  /** Every metric of every group (group key in `metric` as `key: metric`), for callers that list shifts. */
  metrics: MetricTrend[];
  /** Runs left out of every series: aborted or errored, they measured nothing comparable. */
  excluded: RunRow[];
}

export interface TrendOptions {
  /** Runs per series. */
  last: number;
  random: () => number;
  now?: number;
}

const EXCLUDED_STATUSES = new Set(['aborted', 'error']);

/** Builds the trend from the history: one series per scenario and configuration, the last `last` runs of each. */
export function buildTrend(store: HistoryStore, options: TrendOptions): TrendReport {
  const all = store.runs(Number.MAX_SAFE_INTEGER);
  const excluded = all.filter((r) => EXCLUDED_STATUSES.has(r.status));
  const byKey = new Map<string, RunRow[]>();
  for (const run of all) {
    if (EXCLUDED_STATUSES.has(run.status)) continue;
    const key = `${run.scenario ?? 'unknown scenario'} · ${run.config ?? 'unknown configuration'}`;
    byKey.set(key, [...(byKey.get(key) ?? []), run]);
  }
  const groups: TrendGroup[] = [];
  for (const [key, runs] of [...byKey.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const shown = runs.slice(-options.last);
    const metrics = metricTrends(store, shown, options.random);
    groups.push(groupVerdict(key, shown, metrics));
  }
  const shownExcluded = excluded.slice(-options.last);
  return {
    generatedAt: options.now ?? Date.now(),
    runs: groups.flatMap((g) => g.runs).sort((a, b) => a.startedAt - b.startedAt),
    groups,
    metrics: groups.flatMap((g) =>
      g.metrics.map((m) => (groups.length > 1 ? { ...m, metric: `${g.key}: ${m.metric}` } : m)),
    ),
    excluded: shownExcluded,
  };
}

function isWorse(s: TrendShift): boolean {
  return s.direction === 'slower' || s.direction === 'higher';
}

function groupVerdict(key: string, runs: RunRow[], metrics: MetricTrend[]): TrendGroup {
  const [scenario = '', config = ''] = key.split(' · ');
  const worse = metrics.flatMap((m) =>
    m.shifts.filter(isWorse).map((s) => `${m.metric} ${s.direction} since ${s.runId}`),
  );
  const notPromoted = runs.filter((r) => r.status !== 'promoted').length;
  const latest = runs[runs.length - 1];
  let verdict: TrendGroup['verdict'] = 'ok';
  let summary = `${runs.length} run(s), no regression`;
  if (worse.length) {
    verdict = 'regression';
    summary = `${runs.length} run(s), ${worse.join(', ')}`;
  } else if (latest && latest.status !== 'promoted') {
    verdict = 'attention';
    summary = `${runs.length} run(s), no shift, but the latest ${latest.status} (${notPromoted} of ${runs.length} did not promote)`;
  } else if (notPromoted > 0) summary += ` (${notPromoted} of ${runs.length} did not promote)`;
  return { key, scenario, config, runs, metrics, verdict, summary };
}

function metricTrends(store: HistoryStore, runs: RunRow[], random: () => number): MetricTrend[] {
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
      { random },
    );
    const kind = metricRows[0]?.kind ?? 'unknown';
    const shifts = changes.map((c): TrendShift => {
      const at = valued[c.index]!;
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
  return metrics;
}

/** The one line the terminal prints: every series' verdict, what was left out, and where the files are. */
export function trendSummaryLine(trend: TrendReport, files: string[]): string {
  const series = trend.groups.map((g) => `${g.key}: ${g.summary}`).join('; ');
  const left = trend.excluded.length ? `; ${trend.excluded.length} aborted/errored run(s) left out` : '';
  return `trend: ${trend.groups.length === 0 ? 'no comparable runs' : series}${left}; wrote ${files.join(', ')}`;
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

function shiftSentence(m: MetricTrend, s: TrendShift): string {
  return `${m.metric} got ${s.direction} since ${s.runId} (${date(s.startedAt)}): ${unitOfKind(m.kind, s.before)} → ${unitOfKind(m.kind, s.after)} (${formatRelativeChange(s.relativeChange)}, permutation p = ${s.pValue.toFixed(3)})`;
}

const VERDICT_WORDS: Record<TrendGroup['verdict'], { title: string; tone: 'fail' | 'warn' | 'pass' }> = {
  regression: { title: 'Regression found', tone: 'fail' },
  attention: { title: 'No shift, but the latest run did not promote', tone: 'warn' },
  ok: { title: 'No regression found', tone: 'pass' },
};

/** The banner of the whole report: the worst verdict among the series it shows. */
export function trendVerdict(trend: TrendReport): TrendGroup['verdict'] | 'empty' {
  if (trend.groups.length === 0) return 'empty';
  for (const v of ['regression', 'attention'] as const) if (trend.groups.some((g) => g.verdict === v)) return v;
  return 'ok';
}

function unitOfKind(kind: string, v: number | null): string {
  return kind === 'latency' ? formatMs(v) : kind === 'errors' ? formatProportion(v) : formatNumber(v);
}

export function renderTrendMarkdown(trend: TrendReport): string {
  const lines: string[] = ['# Performance trend', ''];
  const verdict = trendVerdict(trend);
  if (verdict === 'empty') {
    lines.push('No comparable runs in the history yet.', '');
  } else {
    lines.push(
      `**${VERDICT_WORDS[verdict].title}** across ${trend.groups.length} series (scenario · configuration).`,
      '',
    );
  }
  if (trend.excluded.length)
    lines.push(
      `Left out: ${trend.excluded.length} aborted or errored run(s) (${trend.excluded.map((r) => `${r.runId} ${r.status}`).join(', ')}); they measured nothing comparable.`,
      '',
    );
  for (const g of trend.groups) {
    const first = g.runs[0]!;
    const last = g.runs[g.runs.length - 1]!;
    lines.push(`## ${g.key}: ${VERDICT_WORDS[g.verdict].title}`, '');
    lines.push(
      `${g.summary}; from ${first.runId} (${date(first.startedAt)}) to ${last.runId} (${date(last.startedAt)}).`,
      '',
    );
    const shifts = g.metrics.flatMap((m) => m.shifts.map((s) => shiftSentence(m, s)));
    if (shifts.length === 0) lines.push('No metric shifted in this series.', '');
    else lines.push(...shifts.map((s) => `- ${s}`), '');
    lines.push(
      markdownTable(
        ['metric', 'latest (canary)', 'median of earlier runs', 'change', 'shift'],
        g.metrics.map((m) => {
          const latest = m.latest?.canary ?? null;
          const change =
            latest !== null && m.earlierMedian ? (latest - m.earlierMedian) / Math.abs(m.earlierMedian) : null;
          const lastShift = m.shifts[m.shifts.length - 1];
          return [
            m.metric,
            unitOfKind(m.kind, latest),
            unitOfKind(m.kind, m.earlierMedian),
            change === null ? '–' : formatRelativeChange(change),
            lastShift ? `${lastShift.direction} since ${lastShift.runId}` : 'none',
          ];
        }),
        ['left', 'right', 'right', 'right', 'left'],
      ),
      '',
    );
    lines.push(
      markdownTable(
        ['run', 'started', 'status'],
        g.runs.map((r) => [r.runId, date(r.startedAt), r.status]),
      ),
      '',
    );
  }
  return `${lines.join('\n')}\n`;
}

export function renderTrendHtml(trend: TrendReport): string {
  const charts: ChartSpec[] = [];
  const sections: string[] = [];
  trend.groups.forEach((g, gi) => {
    sections.push(`<h2 class="series">${escapeHtml(g.key)}: ${escapeHtml(VERDICT_WORDS[g.verdict].title)}</h2>`);
    sections.push(`<p>${escapeHtml(g.summary)}</p>`);
    const shifts = g.metrics.flatMap((m) => m.shifts.map((s) => shiftSentence(m, s)));
    sections.push(
      shifts.length
        ? `<ul>${shifts.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ul>`
        : '<p>No metric shifted in this series.</p>',
    );
    g.metrics.forEach((m, i) => {
      const spec: ChartSpec = {
        id: `trend-${gi}-${i}`,
        title: `${m.metric} (${g.key})`,
        xLabel: 'run start',
        yLabel: m.kind === 'latency' ? 'ms' : m.kind === 'errors' ? 'errors / requests' : m.metric,
        xKind: 'time',
        x: m.points.map((p) => Math.round(p.startedAt / 1000)),
        series: [
          { label: 'canary', values: m.points.map((p) => p.canary), color: '#cf222e' },
          { label: 'baseline', values: m.points.map((p) => p.baseline), color: '#0969da', dash: true },
        ],
      };
      charts.push(spec);
      sections.push(chartSlot(spec));
    });
  });
  const verdict = trendVerdict(trend);
  const banner =
    verdict === 'empty'
      ? '<div class="banner neutral" id="verdict"><div class="verdict">No comparable runs</div></div>'
      : `<div class="banner ${VERDICT_WORDS[verdict].tone}" id="verdict"><div class="verdict">${escapeHtml(VERDICT_WORDS[verdict].title)}</div>` +
        `<div>${trend.groups.map((g) => `${escapeHtml(g.key)}: ${escapeHtml(g.summary)}`).join('<br>')}</div>` +
        `<div>generated ${escapeHtml(date(trend.generatedAt))}</div></div>`;
  const body = [
    banner,
    '<h1>Performance trend</h1>',
    trend.excluded.length
      ? `<p class="muted" id="excluded">Left out: ${trend.excluded.length} aborted or errored run(s): ${escapeHtml(trend.excluded.map((r) => `${r.runId} ${r.status}`).join(', '))}.</p>`
      : '',
    ...sections,
  ].join('\n');
  return htmlPage('Performance trend', body, charts);
}
