/**
 * `junit.xml`: one test case per metric per stage, plus the run's verdict and its load-health check,
 * in the JUnit XML that CI systems read (Jenkins, GitLab, GitHub test reporters). A regression is a
 * `<failure>` that leads with the effect and the limit; anything that is not a verdict (inconclusive,
 * no data, aborted, unreliable load) is an `<error>` with the reason, so CI never shows it green;
 * `<skipped>` is kept for stages that never ran.
 */
import type { RunResult, StageResult } from '../canary/result.ts';
import { formatEValue } from '../core/format.ts';
import type { MetricVerdict } from '../judge/verdict.ts';
import { effectText } from './effect.ts';
import { decidingAssessment, formatInterval, formatNumber } from './format.ts';
import { assessLoadHealth } from './load-health.ts';

function xml(text: string): string {
  // Characters XML 1.0 forbids are dropped; the rest escaped.
  return text
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

interface Case {
  name: string;
  seconds: number;
  /** `failure` a regression, `error` no verdict (inconclusive, no data, aborted), `skipped` never meant to run. */
  outcome: 'pass' | 'failure' | 'error' | 'skipped';
  type?: string;
  message?: string;
  detail?: string;
}

function caseXml(className: string, c: Case): string {
  const body =
    c.outcome === 'failure'
      ? `<failure message="${xml(c.message ?? '')}" type="${xml(c.type ?? 'regression')}">${xml(c.detail ?? '')}</failure>`
      : c.outcome === 'error'
        ? `<error message="${xml(c.message ?? '')}" type="${xml(c.type ?? 'inconclusive')}">${xml(c.detail ?? '')}</error>`
        : c.outcome === 'skipped'
          ? `<skipped message="${xml(c.message ?? '')}"/>`
          : '';
  const out = c.detail ? `<system-out>${xml(c.detail)}</system-out>` : '';
  return `    <testcase classname="${xml(className)}" name="${xml(c.name)}" time="${c.seconds.toFixed(3)}">${body}${out}</testcase>`;
}

function metricDetail(m: MetricVerdict): string {
  return (
    `${effectText(m)}; ${m.classification}; interval of the change ${formatNumber(m.confidence * 100)} % ${formatInterval(m.ci, m)}, ` +
    `${m.eValue !== undefined ? `e-value ${formatEValue(m.eValue)}` : m.pValue !== undefined ? `p-value ${formatNumber(m.pValue)}` : 'no test yet'}, n ${m.n.canary}/${m.n.baseline} (canary/baseline)`
  );
}

function stageCases(stage: StageResult): Case[] {
  const a = decidingAssessment(stage);
  const seconds =
    stage.startedAt && stage.endedAt ? (Date.parse(stage.endedAt) - Date.parse(stage.startedAt)) / 1000 : 0;
  if (stage.outcome === 'skipped')
    return [{ name: 'stage', seconds: 0, outcome: 'skipped', message: `not run: ${stage.reason}` }];
  if (!a)
    // Started but never judged (aborted, or no data at all): an error, never green.
    return [
      { name: 'stage', seconds, outcome: 'error', type: stage.outcome, message: `${stage.outcome}: ${stage.reason}` },
    ];
  const cases: Case[] = a.metrics.map((m) => {
    const detail = metricDetail(m);
    if (m.classification === 'fail')
      return {
        name: m.name,
        seconds,
        outcome: 'failure',
        type: 'regression',
        message: `${effectText(m)}: ${m.reason}`,
        detail,
      };
    if (m.classification === 'nodata')
      return { name: m.name, seconds, outcome: 'error', type: 'nodata', message: m.reason, detail };
    if (m.classification === 'inconclusive' || (stage.outcome === 'inconclusive' && m.classification !== 'pass'))
      return {
        name: m.name,
        seconds,
        outcome: 'error',
        type: 'inconclusive',
        message: `inconclusive: ${m.reason}`,
        detail,
      };
    if (m.classification === 'continue' && stage.outcome === 'aborted')
      return {
        name: m.name,
        seconds,
        outcome: 'error',
        type: 'aborted',
        message: `aborted before a verdict: ${stage.reason}`,
        detail,
      };
    // Passed, or still undecided when another metric rolled the stage back (its failure carries the stage).
    return { name: m.name, seconds, outcome: 'pass', detail };
  });
  // A stage inconclusive for a reason no metric carries (sample ratio mismatch, maximum duration) still errs.
  if (stage.outcome === 'inconclusive' && !cases.some((c) => c.outcome === 'error'))
    cases.push({
      name: 'stage',
      seconds,
      outcome: 'error',
      type: 'inconclusive',
      message: `inconclusive: ${stage.reason}`,
    });
  return cases;
}

/** The run itself as one case: its verdict, and the load-health check it rests on. */
function runCases(result: RunResult): Case[] {
  const seconds = result.durationMs / 1000;
  const verdict: Case =
    result.status === 'promoted'
      ? { name: 'verdict', seconds, outcome: 'pass', detail: result.reason }
      : result.status === 'rolled-back'
        ? {
            name: 'verdict',
            seconds,
            outcome: 'failure',
            type: 'rolled-back',
            message: result.reason,
            detail: result.reason,
          }
        : {
            name: 'verdict',
            seconds,
            outcome: 'error',
            type: result.status,
            message: `${result.status}: ${result.reason}`,
            detail: result.reason,
          };
  const cases = [verdict];
  const health = assessLoadHealth(result);
  if (health)
    cases.push(
      health.reliable
        ? { name: 'load-health', seconds, outcome: 'pass', detail: health.checks.map((c) => c.detail).join('; ') }
        : {
            name: 'load-health',
            seconds,
            outcome: 'error',
            type: 'unreliable-load',
            message: health.reason,
            detail: health.reason,
          },
    );
  return cases;
}

export function renderJunit(result: RunResult): string {
  const suites: string[] = [];
  const totals = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  const groups: { name: string; seconds: number; timestamp: string | null; cases: Case[] }[] = [
    {
      name: `canary.${result.plan.target.service}.run`,
      seconds: result.durationMs / 1000,
      timestamp: result.startedAt,
      cases: runCases(result),
    },
    ...result.stages.map((stage) => ({
      name: `canary.${result.plan.target.service}.${stage.name}`,
      seconds: stage.startedAt && stage.endedAt ? (Date.parse(stage.endedAt) - Date.parse(stage.startedAt)) / 1000 : 0,
      timestamp: stage.startedAt,
      cases: stageCases(stage),
    })),
  ];
  for (const g of groups) {
    const count = (o: Case['outcome']) => g.cases.filter((c) => c.outcome === o).length;
    const f = count('failure');
    const er = count('error');
    const sk = count('skipped');
    totals.tests += g.cases.length;
    totals.failures += f;
    totals.errors += er;
    totals.skipped += sk;
    suites.push(
      `  <testsuite name="${xml(g.name)}" tests="${g.cases.length}" failures="${f}" errors="${er}" skipped="${sk}" time="${g.seconds.toFixed(3)}"` +
        `${g.timestamp ? ` timestamp="${xml(g.timestamp)}"` : ''}>\n${g.cases.map((c) => caseXml(g.name, c)).join('\n')}\n  </testsuite>`,
    );
  }
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<testsuites name="canary ${xml(result.runId)}" tests="${totals.tests}" failures="${totals.failures}" errors="${totals.errors}" skipped="${totals.skipped}" time="${(result.durationMs / 1000).toFixed(3)}">\n` +
    `${suites.join('\n')}\n</testsuites>\n`
  );
}
