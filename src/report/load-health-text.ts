/** The load-health check as report lines (Markdown; the HTML report escapes the same text). */
import type { RunResult } from '../canary/result.ts';
import { assessLoadHealth } from './load-health.ts';

/** One warning line when the load was unreliable, one plain line when it was checked and fine, none without load. */
export function loadHealthLines(result: RunResult): string[] {
  const health = assessLoadHealth(result);
  if (!health) return [];
  if (!health.reliable)
    return [
      `**⚠ Unreliable load: the verdict may rest on distorted traffic, so by policy the run is inconclusive.** ${health.checks
        .filter((c) => !c.ok)
        .map((c) => c.detail)
        .join('; ')}.`,
    ];
  return [`Load healthy: ${health.checks.map((c) => c.detail).join('; ')}.`];
}
