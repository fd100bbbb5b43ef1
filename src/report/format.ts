/** Number, time and verdict wording shared by the Markdown, HTML and JUnit reports. */
import type { MetricVerdict } from '../judge/verdict.ts';
import type { RunResult, RunStatus } from '../canary/result.ts';
import type { RoutePlan } from '../canary/route-plan.ts';

export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e6 || a < 1e-3) return v.toExponential(2);
  if (a >= 100) return v.toFixed(1);
  if (a >= 1) return v.toFixed(3);
  return v.toPrecision(3);
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

export function formatInterval(ci: MetricVerdict['ci']): string {
  if (!ci) return '–';
  const [lo, hi] = ci;
  return `[${lo === null ? '−∞' : formatNumber(lo)}, ${hi === null ? '+∞' : formatNumber(hi)}]`;
}

/** Estimate with its scale: "×1.12" for a ratio, "+3.4" for a difference. */
export function formatEffect(v: MetricVerdict): string {
  if (v.estimate === null) return '–';
  if (v.scale === 'ratio') return `×${formatNumber(v.estimate)}`;
  return `${v.estimate >= 0 ? '+' : ''}${formatNumber(v.estimate)}`;
}

export function formatTolerance(v: MetricVerdict): string {
  const parts: string[] = [];
  if (v.tolerance.relative !== undefined) parts.push(`${(v.tolerance.relative * 100).toFixed(1)} %`);
  if (v.tolerance.absolute !== undefined) parts.push(`${formatNumber(v.tolerance.absolute)} abs`);
  return parts.length ? parts.join(' and ') : '–';
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
