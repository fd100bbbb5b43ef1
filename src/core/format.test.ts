import { describe, expect, it } from 'vitest';
import {
  formatCount,
  formatDifference,
  formatElapsed,
  formatEValue,
  formatMs,
  formatNumber,
  formatProportion,
  formatRate,
  formatRelativeChange,
} from './format.ts';

describe('number formatting', () => {
  it('writes three significant digits and a dash for missing numbers', () => {
    expect([25.71, 0.0512, 1234.4, 0, 2e7, 1e-5].map(formatNumber)).toEqual([
      '25.7',
      '0.0512',
      '1234',
      '0',
      '2.00e+7',
      '1.00e-5',
    ]);
    expect([null, undefined, Number.NaN].map(formatNumber)).toEqual(['–', '–', '–']);
  });

  it('puts the unit on every value', () => {
    expect(formatMs(21.43)).toBe('21.4 ms');
    expect(formatMs(2300)).toBe('2.30 s');
    expect(formatProportion(0.005)).toBe('0.5 %');
    expect(formatRate(400)).toBe('400 req/s');
    expect(formatCount(12345)).toBe('12,345');
    expect(formatElapsed(65_000)).toBe('65.0 s');
    expect(formatElapsed(185_000)).toBe('3 min 5 s');
  });

  it('signs changes with a real minus and no trailing zeros', () => {
    expect(formatRelativeChange(0.2009)).toBe('+20 %');
    expect(formatRelativeChange(-0.047)).toBe('−4.7 %');
    expect(formatRelativeChange(0.08)).toBe('+8 %');
    expect(formatRelativeChange(0.0001)).toBe('±0 %');
    expect(formatDifference(4.3, 'ms')).toBe('+4.3 ms');
    expect(formatDifference(0.02, 'ratio')).toBe('+2 points');
    expect(formatDifference(-0.5, 'scalar')).toBe('−0.5');
  });

  it('shows an unbounded e-value as ∞', () => {
    expect(formatEValue(Number.POSITIVE_INFINITY)).toBe('∞');
    expect(formatEValue(301.2)).toBe('301');
  });
});
