/**
 * `report.html`: one self-contained page for the manual go/no-go: a verdict banner, a table per stage
 * with values, thresholds, intervals and reasons, latency distributions of baseline and canary, time
 * series per interval, and the traffic split over time. Charts are drawn by uPlot, inlined.
 */
import type { IntervalRecord, RunResult } from '../canary/result.ts';
import type { LatencyHistogram } from '../telemetry/measurement.ts';
import { formatCount, formatEValue, formatMs, formatRate } from '../core/format.ts';
import { decisionRule, decidingStage, effectText, headlineMetrics, intervalNote, STATISTICS_DOC } from './effect.ts';
import { assessLoadHealth } from './load-health.ts';
import {
  STATUS_WORDS,
  formatMetricValue,
  decidingAssessment,
  formatDuration,
  formatEffect,
  formatInterval,
  formatNumber,
  formatRoute,
  formatTolerance,
  headline,
} from './format.ts';
import { histogramCdf, histogramQuantile, mergeHistograms } from '../telemetry/histogram.ts';
import { chartSlot, escapeHtml as e, htmlPage, type ChartSpec } from './html-page.ts';

const BASELINE = '#0969da';
const CANARY = '#cf222e';
const PRIMARY = '#57606a';

function classCell(c: string): string {
  const cls =
    c === 'pass' || c === 'promote' ? 'cls-pass' : c === 'fail' || c === 'rollback' ? 'cls-fail' : 'cls-other';
  return `<td class="${cls}">${e(c)}</td>`;
}

function allIntervals(result: RunResult): { stage: string; record: IntervalRecord }[] {
  return result.stages.flatMap((s) => s.intervals.map((record) => ({ stage: s.name, record })));
}

function charts(result: RunResult): ChartSpec[] {
  const intervals = allIntervals(result);
  const x = intervals.map((i) => Math.round(i.record.measurement.end / 1000));
  const out: ChartSpec[] = [];

  const base = mergeHistograms(
    intervals.map((i) => i.record.baseline?.latency).filter((h): h is LatencyHistogram => !!h),
  );
  const can = mergeHistograms(intervals.map((i) => i.record.canary?.latency).filter((h): h is LatencyHistogram => !!h));
  if (base && can) {
    const b = histogramCdf(base);
    const c = histogramCdf(can);
    // Only the bounds where something happens, so the chart is not mostly flat lines at 0 and 1.
    const first = b.findIndex((p, i) => p.cdf > 0 || c[i].cdf > 0);
    const last = b.findIndex((p, i) => p.cdf >= 1 && c[i].cdf >= 1);
    const from = Math.max(0, first - 1);
    const to = last === -1 ? b.length : Math.min(b.length, last + 2);
    out.push({
      id: 'chart-distribution',
      title: 'Latency distribution (cumulative), whole run',
      xLabel: 'latency (ms)',
      yLabel: 'share of requests',
      xKind: 'linear',
      yMin: 0,
      yMaxAtLeast: 1,
      logX: true,
      x: b.slice(from, to).map((p) => p.bound),
      series: [
        {
          label: `baseline (${result.plan.comparison.control.workload})`,
          values: b.slice(from, to).map((p) => p.cdf),
          color: BASELINE,
          step: true,
        },
        {
          label: `canary (${result.plan.comparison.treatment.workload})`,
          values: c.slice(from, to).map((p) => p.cdf),
          color: CANARY,
          step: true,
        },
      ],
    });
  }
  if (intervals.length > 0) {
    const q = (h: LatencyHistogram | undefined, p: number) => {
      const v = h ? histogramQuantile(h, p) : Number.NaN;
      return Number.isFinite(v) ? v : null;
    };
    out.push({
      id: 'chart-latency',
      title: 'Latency per interval (p50 dashed, p99 solid)',
      xLabel: 'time',
      yLabel: 'ms',
      xKind: 'time',
      x,
      series: [
        { label: 'baseline p99', values: intervals.map((i) => q(i.record.baseline?.latency, 0.99)), color: BASELINE },
        { label: 'canary p99', values: intervals.map((i) => q(i.record.canary?.latency, 0.99)), color: CANARY },
        {
          label: 'baseline p50',
          values: intervals.map((i) => q(i.record.baseline?.latency, 0.5)),
          color: BASELINE,
          dash: true,
        },
        {
          label: 'canary p50',
          values: intervals.map((i) => q(i.record.canary?.latency, 0.5)),
          color: CANARY,
          dash: true,
        },
      ],
    });
    const ratio = (w: IntervalRecord['baseline']) => (w && w.requests > 0 ? w.errors / w.requests : null);
    out.push({
      id: 'chart-errors',
      title: 'Error ratio per interval',
      xLabel: 'time',
      yLabel: 'errors / requests',
      xKind: 'time',
      yMin: 0,
      yMaxAtLeast: 0.01,
      x,
      series: [
        { label: 'baseline', values: intervals.map((i) => ratio(i.record.baseline)), color: BASELINE },
        { label: 'canary', values: intervals.map((i) => ratio(i.record.canary)), color: CANARY },
      ],
    });
    out.push({
      id: 'chart-split',
      title: 'Traffic split per interval (% of the service’s requests)',
      xLabel: 'time',
      yLabel: '%',
      xKind: 'time',
      yMin: 0,
      yMaxAtLeast: 100,
      x,
      series: [
        { label: 'primary', values: intervals.map((i) => i.record.split.percent.primary), color: PRIMARY, step: true },
        {
          label: 'baseline',
          values: intervals.map((i) => i.record.split.percent.baseline),
          color: BASELINE,
          step: true,
        },
        { label: 'canary', values: intervals.map((i) => i.record.split.percent.canary), color: CANARY, step: true },
      ],
    });
  }
  return out;
}

export function renderHtml(result: RunResult): string {
  const words = STATUS_WORDS[result.status];
  const specs = charts(result);
  const parts: string[] = [];
  const decided = decidingStage(result);
  const health = assessLoadHealth(result);
  parts.push(
    `<div class="banner ${words.tone}" id="verdict"><div class="verdict">${e(words.title)}</div>` +
      (decided
        ? headlineMetrics(decided.assessment)
            .map((m) => `<div class="effect" data-metric="${e(m.name)}">${e(effectText(m))}</div>`)
            .join('') + `<div class="stage-note">stage ${e(decided.stage.name)}</div>`
        : '') +
      `<div class="reason">${e(result.reason)}</div>` +
      (decided ? `<div class="rule" id="rule">${e(decisionRule(decided.assessment))}</div>` : '') +
      (health && !health.reliable
        ? `<div class="unreliable" id="load-health"><strong>Unreliable load:</strong> ${e(
            health.checks
              .filter((c) => !c.ok)
              .map((c) => c.detail)
              .join('; '),
          )}. The verdict may rest on distorted traffic, so by policy the run is inconclusive.</div>`
        : '') +
      `</div>`,
  );
  parts.push(`<h1>${e(headline(result))}</h1>`);
  parts.push(
    `<p class="muted">Run <code>${e(result.runId)}</code>, started ${e(result.startedAt)}, took ${e(formatDuration(result.durationMs))}; ` +
      `scenario <code>${e(result.scenario)}</code>, engine ${e(result.engine)}; compared ` +
      `<code>${e(result.plan.comparison.control.workload)}</code> (baseline) with <code>${e(result.plan.comparison.treatment.workload)}</code> (canary); exit code ${result.exitCode}.</p>`,
  );
  if (result.abort) {
    parts.push(
      `<p><strong>Aborted (${e(result.abort.cause)}):</strong> ${e(result.abort.detail)}. ` +
        (result.abort.safeRouteAt
          ? `All traffic back on the primary at ${e(result.abort.safeRouteAt)}.`
          : 'The safe route could not be confirmed.') +
        `</p>`,
    );
  }
  if (result.plan.notes.length) parts.push(`<ul>${result.plan.notes.map((n) => `<li>${e(n)}</li>`).join('')}</ul>`);

  parts.push('<h2>Stages</h2>');
  parts.push(
    '<table id="stages"><thead><tr><th>stage</th><th>route</th><th>outcome</th><th>time to decision</th><th>requests (baseline / canary)</th><th>reason</th></tr></thead><tbody>' +
      result.stages
        .map((s) => {
          const a = decidingAssessment(s);
          return (
            `<tr><td>${e(s.name)}</td><td>${e(result.retrospective ?? formatRoute(s.route))}</td>${classCell(s.outcome)}<td class="num">${e(formatDuration(s.timeToDecisionMs))}</td>` +
            `<td class="num">${a ? `${a.samples.baseline} / ${a.samples.canary}` : '–'}</td><td>${e(s.reason)}</td></tr>`
          );
        })
        .join('') +
      '</tbody></table>',
  );

  for (const s of result.stages) {
    const a = decidingAssessment(s);
    if (!a) continue;
    parts.push(`<h3>Stage ${e(s.name)}: ${e(s.outcome)}</h3>`);
    parts.push(
      '<table class="metrics"><thead><tr><th>metric</th><th>result</th><th>canary</th><th>baseline</th><th>change</th><th>allowed</th><th>n (c / b)</th></tr></thead><tbody>' +
        a.metrics
          .map(
            (m) =>
              `<tr data-metric="${e(m.name)}"><td>${e(m.name)}${m.critical ? ' <em>(critical)</em>' : ''}</td>${classCell(m.classification)}` +
              `<td class="num">${e(formatMetricValue(m, 'canary'))}</td><td class="num">${e(formatMetricValue(m, 'baseline'))}</td>` +
              `<td class="num">${e(formatEffect(m))}</td><td>${e(formatTolerance(m))}</td>` +
              `<td class="num">${formatCount(m.n.canary)} / ${formatCount(m.n.baseline)}</td></tr>`,
          )
          .join('') +
        '</tbody></table>',
    );
    const notes = a.metrics.map((m) => intervalNote(m, a)).filter((n): n is string => n !== null);
    parts.push(
      '<details class="statistics"><summary>Statistical detail</summary>' +
        '<table class="detail"><thead><tr><th>metric</th><th>test</th><th>interval of the change</th><th>e-value</th><th>own threshold</th><th>reason</th></tr></thead><tbody>' +
        a.metrics
          .map(
            (m) =>
              `<tr><td>${e(m.name)}</td><td>${e(m.test)}</td><td>${e(`${formatNumber(m.confidence * 100)} % ${formatInterval(m.ci, m)}`)}</td>` +
              `<td class="num">${e(m.eValue !== undefined ? formatEValue(m.eValue) : m.pValue !== undefined ? `p ${formatNumber(m.pValue)}` : '–')}</td>` +
              `<td class="num">${e(m.eValue !== undefined ? formatEValue(1 / m.alpha) : '–')}</td><td>${e(m.reason)}</td></tr>`,
          )
          .join('') +
        '</tbody></table>' +
        notes.map((n) => `<p>Note: ${e(n)}.</p>`).join('') +
        `<p class="muted">Combined evidence for rollback: e-value ${e(formatEValue(a.combined.eValue))} against ${e(formatEValue(a.combined.threshold))} (alpha ${e(String(a.combined.alpha))}); each metric's own threshold is 1 / its share of alpha by weight, and the decision uses the combined one` +
        (a.srm
          ? `; sample ratio ${a.srm.counts.baseline} / ${a.srm.counts.canary}, SRM e-value ${e(formatNumber(a.srm.eValue))}${a.srm.mismatch ? ' (mismatch)' : ''}`
          : '') +
        `. How these are computed: <a href="${STATISTICS_DOC}">${STATISTICS_DOC}</a>.</p></details>`,
    );
  }

  parts.push('<h2>Charts</h2>');
  if (specs.length === 0) parts.push('<p>No measurements were taken, so there is nothing to plot.</p>');
  for (const spec of specs) parts.push(chartSlot(spec));

  if (result.load) {
    const l = result.load;
    parts.push('<h2>Load (client side)</h2>');
    parts.push(
      `<table><tbody><tr><th>driver</th><td>${e(l.driver)}</td><th>target rate</th><td class="num">${e(formatRate(l.targetRate))}</td><th>achieved</th><td class="num">${e(formatRate(l.achievedRate))}</td></tr>` +
        `<tr><th>requests</th><td class="num">${formatCount(l.requests)}</td><th>errors</th><td class="num">${formatCount(l.errors)}</td><th>p50 / p90 / p99 / max</th><td class="num">${[l.latencyMs.p50, l.latencyMs.p90, l.latencyMs.p99, l.latencyMs.max].map((v) => e(formatMs(v))).join(' / ')}</td></tr></tbody></table>`,
    );
    if (health)
      parts.push(
        `<ul id="load-checks">${health.checks.map((c) => `<li class="${c.ok ? 'cls-pass' : 'cls-fail'}">${e(c.name)}: ${e(c.detail)}</li>`).join('')}</ul>`,
      );
  }
  return htmlPage(headline(result), parts.join('\n'), specs);
}
