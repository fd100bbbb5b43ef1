/** Number, time and verdict wording shared by the Markdown, HTML and JUnit reports. */
import type { MetricVerdict } from '../judge/verdict.ts';
import { formatDifference, formatNumber, formatRelativeChange, formatValue } from '../core/format.ts';
import { allowedText, unitOf } from './effect.ts';
import type { RunResult, RunStatus } from '../canary/result.ts';
import type { RoutePlan } from '../canary/route-plan.ts';

export { formatElapsed as formatDuration, formatNumber } from '../core/format.ts';

/** A confidence interval or sequence on the verdict's scale: a ratio as a relative change (`[−4.7 %, +48 %]`), a difference in the unit. */
export function formatInterval(ci: MetricVerdict['ci'], v?: Pick<MetricVerdict, 'scale' | 'kind'>): string {
  if (!ci) return '–';
  const [lo, hi] = ci;
  const one = (x: number) =>
    v === undefined
      ? formatNumber(x)
      : v.scale === 'ratio'
        ? formatRelativeChange(x - 1)
        : formatDifference(x, unitOf(v));
  return `[${lo === null ? '−∞' : one(lo)}, ${hi === null ? '+∞' : one(hi)}]`;
}

/** The judge's estimate of the change: a ratio as a relative change (`+15 %`), a difference in the unit (`+3.4 ms`). */
export function formatEffect(v: MetricVerdict): string {
  if (v.estimate === null) return '–';
  if (v.scale === 'ratio') return formatRelativeChange(v.estimate - 1);
  return formatDifference(v.estimate, unitOf(v));
}

/** The allowed change, as the judge applies it (the larger margin when two are given). */
export function formatTolerance(v: MetricVerdict): string {
  return allowedText(v);
}

/** A metric's value in its unit (`23 ms`, `0.5 %`). */
export function formatMetricValue(v: MetricVerdict, which: 'baseline' | 'canary'): string {
  return formatValue(v[which], unitOf(v));
}

export function formatRoute(route: RoutePlan): string {
  switch (route.kind) {
    case 'safe':
      return 'all traffic to primary';
    case 'header':
      return `end-user ${route.canary.pattern} → canary${route.baseline ? `, ${route.baseline.pattern} → baseline` : ''}`;
    case 'weighted':
      return `canary ${route.canary} %, baseline ${route.baseline} %, primary ${100 - route.canary - route.baseline} %`;
    case 'promoted':
      return 'all traffic to canary';
  }
}

export const STATUS_WORDS: Record<RunStatus, { title: string; tone: 'pass' | 'fail' | 'warn' | 'neutral' }> = {
  promoted: { title: 'PROMOTED', tone: 'pass' },
  'rolled-back': { title: 'ROLLED BACK', tone: 'fail' },
  inconclusive: { title: 'INCONCLUSIVE', tone: 'warn' },
  aborted: { title: 'ABORTED', tone: 'neutral' },
  error: { title: 'ERROR', tone: 'fail' },
};

export function headline(result: RunResult): string {
  return `Canary ${result.plan.target.service}: ${STATUS_WORDS[result.status].title}`;
}

export { decidingAssessment } from '../canary/deciding-assessment.ts';
