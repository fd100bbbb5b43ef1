/**
 * `junit.xml`: one test case per metric per stage, in the JUnit XML that CI systems read (Jenkins,
 * GitLab, GitHub test reporters). A failed metric is a `<failure>` carrying the judge's reason; a metric
 * without data is an `<error>` (no data is never a pass); a metric a stage never decided is `<skipped>`.
 */
import type { RunResult } from '../canary/result.ts';
import { decidingAssessment, formatEffect, formatInterval, formatNumber } from './format.ts';

function xml(text: string): string {
  // Characters XML 1.0 forbids are dropped; the rest escaped.
  return text
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

export function renderJunit(result: RunResult): string {
  const suites: string[] = [];
  let total = 0;
  let failures = 0;
  let errors = 0;
  let skipped = 0;
  for (const stage of result.stages) {
    const assessment = decidingAssessment(stage);
    const cases: string[] = [];
    let sFail = 0;
    let sErr = 0;
    let sSkip = 0;
    const seconds =
      stage.startedAt && stage.endedAt ? (Date.parse(stage.endedAt) - Date.parse(stage.startedAt)) / 1000 : 0;
    const className = `canary.${result.plan.target.service}.${stage.name}`;
    if (!assessment) {
      // The stage never reached a look: one case says why, so the run is not silently green.
      sSkip++;
      cases.push(
        `    <testcase classname="${xml(className)}" name="stage" time="0"><skipped message="${xml(stage.reason)}"/></testcase>`,
      );
    } else {
      for (const m of assessment.metrics) {
        const detail =
          `${m.name}: ${m.classification}; baseline ${formatNumber(m.baseline)}, canary ${formatNumber(m.canary)}, ` +
          `change ${formatEffect(m)} ${formatInterval(m.ci)}, e-value ${formatNumber(m.eValue)}, p-value ${formatNumber(m.pValue)}, ` +
          `n ${m.n.baseline}/${m.n.canary}`;
        let body = '';
        if (m.classification === 'fail') {
          sFail++;
          body = `<failure message="${xml(m.reason)}" type="regression">${xml(detail)}</failure>`;
        } else if (m.classification === 'nodata') {
          sErr++;
          body = `<error message="${xml(m.reason)}" type="nodata">${xml(detail)}</error>`;
        } else if (m.classification !== 'pass') {
          sSkip++;
          body = `<skipped message="${xml(`${m.classification}: ${m.reason}`)}"/>`;
        }
        cases.push(
          `    <testcase classname="${xml(className)}" name="${xml(m.name)}" time="${seconds.toFixed(3)}">${body}<system-out>${xml(detail)}</system-out></testcase>`,
        );
      }
    }
    const count = cases.length;
    total += count;
    failures += sFail;
    errors += sErr;
    skipped += sSkip;
    suites.push(
      `  <testsuite name="${xml(className)}" tests="${count}" failures="${sFail}" errors="${sErr}" skipped="${sSkip}" time="${seconds.toFixed(3)}"` +
        `${stage.startedAt ? ` timestamp="${xml(stage.startedAt)}"` : ''}>\n${cases.join('\n')}\n  </testsuite>`,
    );
  }
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<testsuites name="canary ${xml(result.runId)}" tests="${total}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${(result.durationMs / 1000).toFixed(3)}">\n` +
    `${suites.join('\n')}\n</testsuites>\n`
  );
}
