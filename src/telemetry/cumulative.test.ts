import { describe, expect, it } from 'vitest';
import { CounterDeltas } from './cumulative.ts';

describe('CounterDeltas', () => {
  it('reports nothing for the baseline reading and the growth afterwards', () => {
    const d = new CounterDeltas();
    expect(d.observe('a', 100, true)).toBe(0);
    expect(d.observe('a', 130, false)).toBe(30);
    expect(d.observe('a', 130, false)).toBe(0);
  });

  it('counts a series first seen after the baseline from zero (born since the last reading)', () => {
    const d = new CounterDeltas();
    expect(d.observe('a', 5, true)).toBe(0);
    expect(d.observe('b', 7, false)).toBe(7);
  });

  it('treats a lower value as a counter reset (a restarted process) and counts the new value in full', () => {
    const d = new CounterDeltas();
    d.observe('a', 500, true);
    expect(d.observe('a', 520, false)).toBe(20);
    expect(d.observe('a', 12, false)).toBe(12);
    expect(d.observe('a', 15, false)).toBe(3);
  });

  it('remembers the last value across readings where the series is absent', () => {
    const d = new CounterDeltas();
    d.observe('a', 50, true);
    // the series vanished for some readings (target down) and came back higher: only the growth counts
    expect(d.observe('a', 58, false)).toBe(8);
  });

  it('ignores NaN and infinite readings without losing the last good value', () => {
    const d = new CounterDeltas();
    d.observe('a', 10, true);
    expect(d.observe('a', Number.NaN, false)).toBe(0);
    expect(d.observe('a', 14, false)).toBe(4);
  });
});
