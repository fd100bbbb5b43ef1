import { describe, expect, it } from 'vitest';
import { LATENCY_BUCKETS_MS } from './buckets.ts';
import { IntervalTally, responseClass } from './tally.ts';

describe('IntervalTally', () => {
  it('groups requests by response class and counts 5xx as errors by default', () => {
    const t = new IntervalTally(['canary']);
    t.addRequests('canary', '200', 90);
    t.addRequests('canary', '201', 2);
    t.addRequests('canary', '404', 3);
    t.addRequests('canary', '503', 4);
    t.addRequests('canary', '500', 1);
    const w = t.build().canary!;
    expect(w.requests).toBe(100);
    expect(w.byClass).toEqual({ '2xx': 92, '4xx': 3, '5xx': 5 });
    expect(w.errors).toBe(5);
  });

  it('counts what the caller experienced as a failure: code 0 and the flags DC, UT, URX, UF, UH', () => {
    const t = new IntervalTally(['canary']);
    t.addRequests('canary', '200', 90, '-');
    t.addRequests('canary', '0', 4, 'DC'); // the destination's record of a route timeout
    t.addRequests('canary', '504', 2, 'UT');
    t.addRequests('canary', '503', 1, 'URX');
    t.addRequests('canary', '200', 3, 'DI'); // delayed, then answered: not a failure
    t.addRequests('canary', '404', 1, 'NR');
    t.addRequests('canary', '0', 1); // a source that does not keep the flags
    const w = t.build().canary!;
    expect(w.requests).toBe(102);
    expect(w.errors).toBe(4 + 2 + 1 + 1);
    expect(new IntervalTally(['c'], ['4xx', '5xx']).build().c!.errors).toBe(0);
  });

  it('counts the configured classes as errors', () => {
    const t = new IntervalTally(['c'], ['4xx', '5xx']);
    t.addRequests('c', '429', 2);
    t.addRequests('c', '502', 1);
    expect(t.build().c!.errors).toBe(3);
  });

  it('de-cumulates bucket increases summed across replicas', () => {
    const t = new IntervalTally(['c']);
    // replica 1: 2 requests <= 1 ms, 1 more <= 5 ms; replica 2: 1 request <= 5 ms, 1 above 10 ms
    for (const [le, n] of [
      [1, 2],
      [5, 3],
      [10, 3],
      [Infinity, 3],
    ] as const)
      t.addBucket('c', le, n);
    for (const [le, n] of [
      [1, 0],
      [5, 1],
      [10, 1],
      [Infinity, 2],
    ] as const)
      t.addBucket('c', le, n);
    t.addLatencySum('c', 40);
    expect(t.build().c!.latency).toEqual({ bounds: [1, 5, 10, Infinity], counts: [2, 2, 0, 1], sum: 40 });
  });

  it('zero-fills a workload that served nothing, with the shared bucket bounds', () => {
    const w = new IntervalTally(['idle']).build().idle!;
    expect(w.requests).toBe(0);
    expect(w.errors).toBe(0);
    expect(w.latency.bounds).toEqual([...LATENCY_BUCKETS_MS, Infinity]);
    expect(w.latency.counts.every((c) => c === 0)).toBe(true);
  });

  it('maps codes to classes', () => {
    expect(responseClass('200')).toBe('2xx');
    expect(responseClass('599')).toBe('5xx');
    expect(responseClass('0')).toBeUndefined();
    expect(responseClass('abc')).toBeUndefined();
  });
});
