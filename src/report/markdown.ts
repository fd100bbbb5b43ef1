/**
 * `report.md`: what a person reads in a CI job summary in a minute: the verdict and why, a row per
 * stage, the evidence per metric, and the client-side view of the load. GitHub-flavoured Markdown.
 */
import type { RunResult } from '../canary/result.ts';
import {
  decidingAssessment,
  formatDuration,
  formatEffect,
  formatInterval,
  formatNumber,
  formatRoute,
  formatTolerance,
  headline,
} from './format.ts';
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
  out.push(`> ${result.reason.replace(/\r?\n/g, ' ')}`, '');
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
          formatRoute(s.route),
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
        [
          'metric',
          'result',
          'baseline',
          'canary',
          'change',
          'interval',
          'e-value',
          'p-value',
          'tolerance',
          'n (b / c)',
          'reason',
        ],
        a.metrics.map((m) => [
          `${m.name}${m.critical ? ' (critical)' : ''}`,
          m.classification,
          formatNumber(m.baseline),
          formatNumber(m.canary),
          formatEffect(m),
          formatInterval(m.ci),
          formatNumber(m.eValue),
          formatNumber(m.pValue),
          formatTolerance(m),
          `${m.n.baseline} / ${m.n.canary}`,
          m.reason,
        ]),
        ['left', 'left', 'right', 'right', 'right', 'left', 'right', 'right', 'left', 'right', 'left'],
      ),
      '',
    );
    if (a.srm) {
      out.push(
        `Sample ratio: ${a.srm.counts.baseline} / ${a.srm.counts.canary} requests, expected canary share ${formatNumber(a.srm.expectedCanaryShare)}, ` +
          `e-value ${formatNumber(a.srm.eValue)}${a.srm.mismatch ? ' — **mismatch: the comparison is not trustworthy**' : ''}.`,
        '',
      );
    }
    out.push(
      `Combined evidence for rollback: e-value ${formatNumber(a.combined.eValue)} against threshold ${formatNumber(a.combined.threshold)} (alpha ${a.combined.alpha}).`,
      '',
    );
  }

  if (result.load) {
    const l = result.load;
    out.push('## Load (client side)', '');
    out.push(
      markdownTable(
        ['driver', 'target rate', 'achieved rate', 'requests', 'errors', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
        [
          [
            l.driver,
            formatNumber(l.targetRate),
            formatNumber(l.achievedRate),
            String(l.requests),
            String(l.errors),
            formatNumber(l.latencyMs.p50),
            formatNumber(l.latencyMs.p90),
            formatNumber(l.latencyMs.p99),
            formatNumber(l.latencyMs.max),
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
