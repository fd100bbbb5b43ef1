import { describe, expect, it } from 'vitest';
import type { Measurement } from '../telemetry/measurement.ts';
import { accumulateMeasurements, latencyCount } from './comparison-data.ts';

const workload = (name: string, requests: number, errors: number, counts: number[], bounds = [10, 20, Infinity]) => ({
  workload: name,
  requests,
  errors,
  byClass: { '2xx': requests - errors, '5xx': errors },
  latency: { bounds, counts },
});

describe('accumulateMeasurements', () => {
  const arms = { baseline: 'b', canary: 'c' };
  it('sums requests, errors and histograms per arm and keeps per-interval series and scalars', () => {
    const ms: Measurement[] = [
      {
        start: 0,
        end: 10,
        status: 'ok',
        workloads: { b: workload('b', 3, 1, [1, 2, 0]), c: workload('c', 2, 0, [0, 1, 1]) },
        scalars: { 'cpu.baseline': 0.5, 'cpu.canary': null },
      },
      {
        start: 10,
        end: 20,
        status: 'ok',
        workloads: { b: workload('b', 1, 0, [1, 0, 0]), c: workload('c', 4, 2, [1, 1, 2]) },
        scalars: { 'cpu.baseline': 0.7, 'cpu.canary': 0.9 },
      },
    ];
    const d = accumulateMeasurements(ms, arms, { cpu: { baseline: 'cpu.baseline', canary: 'cpu.canary' } });
    expect(d.baseline).toMatchObject({ requests: 4, errors: 1 });
    expect(d.canary).toMatchObject({ requests: 6, errors: 2 });
    expect(d.canary.latency).toEqual({ histogram: { bounds: [10, 20, Infinity], counts: [1, 2, 3] } });
    expect(latencyCount(d.baseline.latency)).toBe(4);
    expect(d.canary.intervals.map((i) => i.errors)).toEqual([0, 2]);
    expect(d.scalars.cpu).toEqual({ baseline: [0.5, 0.7], canary: [0.9] });
    expect(d.problems).toEqual([]);
  });
  it('records failed measurements as problems without counting them', () => {
    const ms: Measurement[] = [
      {
        start: 0,
        end: 10,
        status: 'error',
        reason: 'query failed',
        workloads: { b: workload('b', 5, 0, [5, 0, 0]) },
        scalars: {},
      },
      { start: 10, end: 20, status: 'nodata', reason: 'no traffic', workloads: {}, scalars: {} },
    ];
    const d = accumulateMeasurements(ms, arms);
    expect(d.baseline.requests).toBe(0);
    expect(d.baseline.latency).toBeNull();
    expect(d.problems).toEqual([
      '1970-01-01T00:00:00.000Z: error (query failed)',
      '1970-01-01T00:00:00.010Z: nodata (no traffic)',
    ]);
  });
  it('refuses histograms whose bounds change between intervals', () => {
    const ms: Measurement[] = [
      { start: 0, end: 10, status: 'ok', workloads: { b: workload('b', 1, 0, [1, 0, 0]) }, scalars: {} },
      {
        start: 10,
        end: 20,
        status: 'ok',
        workloads: { b: workload('b', 1, 0, [1, 0, 0], [5, 20, Infinity]) },
        scalars: {},
      },
    ];
    expect(() => accumulateMeasurements(ms, arms)).toThrow(/bounds differ/);
  });
});
