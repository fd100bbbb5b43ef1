import { micromark } from 'micromark';
import { gfm, gfmHtml } from 'micromark-extension-gfm';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../core/random.ts';
import { HistoryStore, type MetricRow } from '../history/store.ts';
import { buildTrend, renderTrendHtml, renderTrendMarkdown } from './trend.ts';

/** Twelve nightly runs; the canary's p99 steps up by 20 % from the eighth night on. */
function history(): HistoryStore {
  const store = new HistoryStore(':memory:');
  const r = seededRandom(5);
  for (let night = 0; night < 12; night++) {
    const runId = `night-${String(night + 1).padStart(2, '0')}`;
    const startedAt = Date.UTC(2026, 10, 1 + night, 2);
    store.record(
      {
        runId,
        startedAt,
        endedAt: startedAt + 60_000,
        status: 'promoted',
        exitCode: 0,
        service: 'account',
        baselineVersion: 'v1',
        canaryVersion: 'v2',
        scenario: 'healthy',
      },
      ['latency-p99', 'errors'].map((metric): MetricRow => {
        const level = metric === 'errors' ? 0.005 : night >= 7 ? 48 : 40;
        const value = level * (1 + 0.02 * (r() - 0.5));
        return {
          runId,
          stage: 'weighted-50',
          stageIndex: 4,
          metric,
          kind: metric === 'errors' ? 'errors' : 'latency',
          classification: 'pass',
          baselineValue: metric === 'errors' ? 0.005 : 40,
          canaryValue: value,
          estimate: null,
          ciLow: null,
          ciHigh: null,
          eValue: 1,
          pValue: 1,
          nBaseline: 5000,
          nCanary: 5000,
        };
      }),
    );
  }
  return store;
}

describe('trend report', () => {
  it('names the run where the latency shifted, and only that metric', () => {
    const trend = buildTrend(history(), { last: 30, random: seededRandom(2), now: Date.UTC(2026, 10, 13) });
    const p99 = trend.metrics.find((m) => m.metric === 'latency-p99')!;
    expect(p99.shifts.map((s) => [s.runId, s.direction])).toEqual([['night-08', 'slower']]);
    expect(p99.shifts[0].relativeChange).toBeGreaterThan(0.15);
    expect(trend.metrics.find((m) => m.metric === 'errors')!.shifts).toEqual([]);
    const md = renderTrendMarkdown(trend);
    expect(md).toContain('latency-p99 got slower since night-08 (2026-11-08 02:00 UTC)');
    expect(micromark(md, { extensions: [gfm()], htmlExtensions: [gfmHtml()] })).toContain('<table>');
  });

  it('limits the window to the last N runs', () => {
    const trend = buildTrend(history(), { last: 4, random: seededRandom(2) });
    expect(trend.runs.map((r) => r.runId)).toEqual(['night-09', 'night-10', 'night-11', 'night-12']);
    expect(trend.metrics.every((m) => m.shifts.length === 0)).toBe(true);
  });

  it('renders a self-contained page with one chart per metric', () => {
    const html = renderTrendHtml(buildTrend(history(), { last: 30, random: seededRandom(2) }));
    expect(html).toContain('Regression found');
    expect(html.match(/class="chart"/g)?.length).toBe(2);
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
  });
});
