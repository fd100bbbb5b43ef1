import { describe, expect, it } from 'vitest';
import type { CompletedRequest } from './recorder.ts';
import {
  LoadRecorder,
  decodeSeriesHistogram,
  requestsBy,
  requestsByWorkload,
  seriesLatencyHistogram,
} from './recorder.ts';
import { ProgressLine } from './progress.ts';

function req(over: Partial<CompletedRequest>): CompletedRequest {
  return {
    seq: 0,
    cohort: 'user',
    route: '/api/account/:id',
    workload: 'account-primary',
    servedBy: 'bff, account-primary',
    status: 200,
    latencyMs: 10,
    atMs: 0,
    ...over,
  };
}

describe('LoadRecorder', () => {
  it('partitions requests into intervals and folds them into whole-run totals', () => {
    const rec = new LoadRecorder(1000);
    for (let i = 0; i < 10; i++) rec.record(req({ seq: i, latencyMs: i + 1 }));
    rec.record(
      req({
        cohort: 'canary-tester',
        workload: 'account-canary',
        servedBy: 'bff, account-canary, friend',
        status: 503,
        latencyMs: 50,
      }),
    );
    const first = rec.snapshot(2000);
    expect(first).toMatchObject({ start: 1000, end: 2000, completed: 11 });
    expect(first.series).toHaveLength(2);
    rec.record(req({ latencyMs: 100 }));
    rec.record(req({ status: 0, workload: '-', servedBy: '', latencyMs: 3000 }));
    const second = rec.snapshot(3000);
    expect(second.start).toBe(2000);
    // A series without requests in the interval is left out of it.
    expect(second.series.map((s) => s.servedBy).sort()).toEqual(['', 'bff, account-primary']);
    const primary = second.series.find((s) => s.servedBy === 'bff, account-primary')!;
    expect(primary.requests).toBe(1);
    expect(decodeSeriesHistogram(primary).totalCount).toBe(1);
    expect(primary.latencyMs.max).toBeCloseTo(100, 0);

    const totals = rec.totalSeries();
    const all = totals.find((s) => s.servedBy === 'bff, account-primary')!;
    expect(all.requests).toBe(11);
    expect(decodeSeriesHistogram(all).totalCount).toBe(11);
    expect(all.latencyMs.max).toBeCloseTo(100, 0);
    const failed = totals.find((s) => s.servedBy === '')!;
    expect(failed).toMatchObject({
      requests: 1,
      errors: 1,
      transportErrors: 1,
      byStatus: { 0: 1 },
      latencyMs: { p50: null },
    });
    expect(rec.errors).toBe(2);
    // Transport errors have no latency: the whole-run quantiles cover the 12 responses.
    expect(rec.totalLatency().max).toBeCloseTo(100, 0);
    expect(requestsByWorkload(totals)).toEqual({ bff: 12, 'account-primary': 11, 'account-canary': 1, friend: 1 });
    expect(requestsBy(totals, 'workload')).toEqual({ 'account-primary': 11, 'account-canary': 1, '-': 1 });
  });

  it('totals include the interval that is still open, without closing it', () => {
    const rec = new LoadRecorder(0);
    rec.record(req({}));
    expect(rec.totalSeries()[0].requests).toBe(1);
    expect(rec.snapshot(1).series[0].requests).toBe(1);
  });

  it('converts to the judge bucket form with every response in a bucket', () => {
    const rec = new LoadRecorder(0);
    for (const ms of [0.4, 0.6, 1.2, 30, 30, 70_000]) rec.record(req({ latencyMs: ms }));
    const h = seriesLatencyHistogram(rec.totalSeries(), [0.5, 1, 10, 100]);
    expect(h.bounds).toEqual([0.5, 1, 10, 100, Infinity]);
    expect(h.counts).toEqual([1, 1, 1, 2, 1]);
    expect(h.sum).toBeCloseTo(0.4 + 0.6 + 1.2 + 60 + 70_000, -2);
  });

  it('keeps raw samples up to the cap', () => {
    const rec = new LoadRecorder(0, 3);
    for (let i = 0; i < 5; i++) rec.record(req({ seq: i }));
    expect(rec.samples.map((s) => s.seq)).toEqual([0, 1, 2]);
  });
});

describe('ProgressLine', () => {
  it('shows target and achieved rate, quantiles of the window, errors and in-flight', () => {
    let t = 0;
    let sent = 0;
    const out = { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream;
    const line = new ProgressLine(
      { elapsedS: () => t, targetRate: () => 200, sent: () => sent, errors: () => 3, inFlight: () => 7 },
      out,
    );
    t = 2;
    sent = 398;
    for (let i = 1; i <= 100; i++) line.observe(i);
    const text = line.line();
    expect(text).toContain('target 200/s');
    expect(text).toContain('achieved 199.0/s');
    expect(text).toMatch(/p50 50\.\dms p99 99\.\dms/);
    expect(text).toContain('errors 3 in-flight 7');
    // The window restarts: no responses since, no quantiles.
    expect(line.line()).toContain('p50 - p99 -');
  });
});
