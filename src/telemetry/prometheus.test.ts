import { describe, expect, it } from 'vitest';
import { UsageError } from '../core/errors.ts';
import { PrometheusSource, pointGrid } from './prometheus.ts';
import { createSource } from './factory.ts';

describe('pointGrid', () => {
  it('puts interval edges on points and ends exactly at the window end', () => {
    const g = pointGrid(10_000, 13_100, 1_000, 500);
    expect(g.resolutionMs).toBe(500);
    expect(g.times).toEqual([10_000, 10_500, 11_000, 11_500, 12_000, 12_500, 13_000, 13_100]);
    expect(g.uniform).toBe(7);
    expect(g.intervals).toEqual([
      [0, 2],
      [2, 4],
      [4, 6],
      [6, 7],
    ]);
    expect(g.intervalOfPoint.slice(1)).toEqual([0, 0, 1, 1, 2, 2, 3]);
  });

  it('shrinks the resolution to divide the step', () => {
    const g = pointGrid(0, 60_000, 60_000, 15_000);
    expect(g.resolutionMs).toBe(15_000);
    expect(g.intervals).toEqual([[0, 4]]);
    const h = pointGrid(0, 10_000, 10_000, 3_000);
    expect(h.resolutionMs).toBe(2_500);
    expect(h.times.at(-1)).toBe(10_000);
  });

  it('never has fewer than two points, even for a window shorter than the resolution', () => {
    const g = pointGrid(0, 700, 700, 15_000);
    expect(g.times).toEqual([0, 700]);
    expect(g.intervals).toEqual([[0, 1]]);
  });

  it('coarsens a window far past the points limit', () => {
    const day = 86_400_000;
    const g = pointGrid(0, 30 * day, day, 1_000);
    expect(g.times.length).toBeLessThanOrEqual(500_001);
    expect(g.intervals).toHaveLength(30);
  });
});

describe('PrometheusSource options', () => {
  const base = { url: 'http://127.0.0.1:9', service: 'account', workloads: ['account-canary'] };
  it('rejects bad options, naming them', () => {
    expect(() => new PrometheusSource({ ...base, url: 'nope' })).toThrow(/--prometheus: expected an http\(s\) URL/);
    expect(() => new PrometheusSource({ ...base, resolutionMs: 0 })).toThrow(/resolutionMs: expected at least 1 ms/);
    expect(() => new PrometheusSource({ ...base, scalars: { x: '' } })).toThrow(/scalars\.x: expected a PromQL query/);
    expect(() => new PrometheusSource({ ...base, scalars: { x: 'up{a="{{pod}}"}' } })).toThrow(
      /scalars x: unknown placeholder \{\{pod\}\}/,
    );
    expect(() => new PrometheusSource({ ...base, templatesFile: '/nonexistent.yaml' })).toThrow(
      /\/nonexistent\.yaml: cannot read PromQL templates/,
    );
  });

  it('rejects an empty or reversed window', async () => {
    const s = new PrometheusSource(base);
    await expect(s.measureWindow(2_000, 1_000, 1_000)).rejects.toThrow(UsageError);
    await expect(s.measureWindow(1_000, 2_000, 0)).rejects.toThrow(/step: expected an interval of at least 1 ms/);
  });
});

describe('createSource', () => {
  it('builds each kind and refuses an unknown kind', () => {
    expect(
      createSource('scrape', { service: 'a', workloads: ['w'], targets: ['http://127.0.0.1:1/metrics'] }).kind,
    ).toBe('scrape');
    expect(createSource('prometheus', { url: 'http://127.0.0.1:1', service: 'a', workloads: ['w'] }).kind).toBe(
      'prometheus',
    );
    expect(() => createSource('graphite', { url: 'http://x', service: 'a', workloads: ['w'] })).toThrow(UsageError);
    expect(() => createSource('graphite', { url: 'http://x', service: 'a', workloads: ['w'] })).toThrow(
      /source: unknown telemetry source kind "graphite"; expected one of scrape, prometheus/,
    );
  });
});
