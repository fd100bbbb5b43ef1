/**
 * `report.md`: what a person reads in a CI job summary in a minute: the verdict and why, a row per
 * stage, the evidence per metric, and the client-side view of the load. GitHub-flavoured Markdown.
 */
import type { RunResult } from '../canary/result.ts';
import { formatCount, formatEValue, formatMs, formatRate } from '../core/format.ts';
import {
  CONFIGURATION_DOC,
  decisionRule,
  decidingStage,
  effectText,
  headlineMetrics,
  intervalNote,
  STATISTICS_DOC,
} from './effect.ts';
import {
  decidingAssessment,
  formatDuration,
  formatEffect,
  formatInterval,
  formatMetricValue,
  formatNumber,
  formatRoute,
  formatTolerance,
  headline,
} from './format.ts';
import { loadHealthLines } from './load-health-text.ts';
import { markdownTable } from './markdown-table.ts';

const ICON: Record<string, string> = {
  promoted: '✅',
  'rolled-back': '❌',
  inconclusive: '⚠️',
  aborted: '⏹️',
  error: '💥',
};

export function renderMarkdown(result: RunResult): string {
  const out: string[] = [];
  out.push(`# ${ICON[result.status]} ${headline(result)}`, '');
  const decided = decidingStage(result);
  if (decided) {
    for (const m of headlineMetrics(decided.assessment))
      out.push(`**${effectText(m)}** (stage ${decided.stage.name})`, '');
  }
  out.push(`> ${result.reason.replace(/\r?\n/g, ' ')}`, '');
  if (decided)
    out.push(
      `Rule: ${decisionRule(decided.assessment)} See [${STATISTICS_DOC}](${STATISTICS_DOC}) and [${CONFIGURATION_DOC}](${CONFIGURATION_DOC}).`,
      '',
    );
  for (const line of loadHealthLines(result)) out.push(line, '');
  if (result.responsible.length) out.push(`Responsible: ${result.responsible.map((m) => `\`${m}\``).join(', ')}`, '');
  out.push(
    markdownTable(
      ['run', 'started', 'duration', 'scenario', 'compared', 'exit code'],
      [
        [
          result.runId,
          result.startedAt,
          formatDuration(result.durationMs),
          result.scenario,
          `${result.plan.comparison.control.workload} vs ${result.plan.comparison.treatment.workload}`,
          String(result.exitCode),
        ],
      ],
    ),
    '',
  );
  if (result.abort) {
    out.push(
      `**Aborted** (${result.abort.cause}): ${result.abort.detail}. ` +
        (result.abort.safeRouteAt
          ? `All traffic back on the primary at ${result.abort.safeRouteAt}.`
          : 'The safe route could not be confirmed.'),
      '',
    );
  }
  for (const note of result.plan.notes) out.push(`- Note: ${note}`);
  if (result.plan.notes.length) out.push('');

  out.push('## Stages', '');
  out.push(
    markdownTable(
      ['stage', 'route', 'outcome', 'time to decision', 'requests (baseline / canary)', 'reason'],
      result.stages.map((s) => {
        const a = decidingAssessment(s);
        return [
          s.name,
          result.retrospective ?? formatRoute(s.route),
          s.outcome,
          formatDuration(s.timeToDecisionMs),
          a ? `${a.samples.baseline} / ${a.samples.canary}` : '–',
          s.reason,
        ];
      }),
      ['left', 'left', 'left', 'right', 'right', 'left'],
    ),
    '',
  );

  out.push('## Evidence per metric', '');
  for (const s of result.stages) {
    const a = decidingAssessment(s);
    if (!a) continue;
    out.push(`### ${s.name} (${s.outcome})`, '');
    out.push(
      markdownTable(
        ['metric', 'result', 'canary', 'baseline', 'change', 'allowed', 'n (c / b)'],
        a.metrics.map((m) => [
          `${m.name}${m.critical ? ' (critical)' : ''}`,
          m.classification,
          formatMetricValue(m, 'canary'),
          formatMetricValue(m, 'baseline'),
          formatEffect(m),
          formatTolerance(m),
          `${formatCount(m.n.canary)} / ${formatCount(m.n.baseline)}`,
        ]),
        ['left', 'left', 'right', 'right', 'right', 'left', 'right'],
      ),
      '',
    );
    out.push('<details><summary>Statistical detail</summary>', '');
    out.push(
      markdownTable(
        ['metric', 'test', 'interval of the change', 'e-value', 'own threshold', 'reason'],
        a.metrics.map((m) => [
          m.name,
          m.test,
          `${formatNumber(m.confidence * 100)} % ${formatInterval(m.ci, m)}`,
          m.eValue !== undefined
            ? formatEValue(m.eValue)
            : m.pValue !== undefined
              ? `p ${formatNumber(m.pValue)}`
              : '–',
          m.eValue !== undefined ? formatEValue(1 / m.alpha) : '–',
          m.reason,
        ]),
        ['left', 'left', 'left', 'right', 'right', 'left'],
      ),
      '',
    );
    for (const m of a.metrics) {
      const note = intervalNote(m, a);
      if (note) out.push(`Note: ${note}.`, '');
    }
    out.push(
      "Each metric's own threshold is 1 / (its share of alpha by weight); the decision uses the combined e-value below.",
      '',
    );
    out.push('</details>', '');
    if (a.srm) {
      out.push(
        `Sample ratio: ${a.srm.counts.baseline} / ${a.srm.counts.canary} requests, expected canary share ${formatNumber(a.srm.expectedCanaryShare)}` +
          (a.srm.coveredMs
            ? ` (planned ${formatNumber(a.srm.plannedCanaryShare ?? 0.5)}, over ${formatNumber(a.srm.coveredMs.baseline / 1000)} s / ${formatNumber(a.srm.coveredMs.canary / 1000)} s of scrapes)`
            : '') +
          ', ' +
          `e-value ${formatNumber(a.srm.eValue)}${a.srm.mismatch ? ' — **mismatch: the comparison is not trustworthy**' : ''}.`,
        '',
      );
    }
    out.push(
      `Combined evidence for rollback: e-value ${formatEValue(a.combined.eValue)} against threshold ${formatEValue(a.combined.threshold)} (alpha ${a.combined.alpha}).`,
      '',
    );
  }

  if (result.load) {
    const l = result.load;
    out.push('## Load (client side)', '');
    out.push(
      markdownTable(
        ['driver', 'target rate', 'achieved rate', 'requests', 'errors', 'p50', 'p90', 'p99', 'max'],
        [
          [
            l.driver,
            formatRate(l.targetRate),
            formatRate(l.achievedRate),
            formatCount(l.requests),
            formatCount(l.errors),
            formatMs(l.latencyMs.p50),
            formatMs(l.latencyMs.p90),
            formatMs(l.latencyMs.p99),
            formatMs(l.latencyMs.max),
          ],
        ],
        ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
      ),
      '',
    );
    const workloads = Object.entries(l.byWorkload);
    if (workloads.length) {
      out.push(
        markdownTable(
          ['serving workload', 'requests'],
          workloads.map(([w, n]) => [w, String(n)]),
          ['left', 'right'],
        ),
        '',
      );
    }
  }
  return out.join('\n');
}
