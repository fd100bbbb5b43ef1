import { describe, expect, it } from 'vitest';
import { averageEValues, responsibleEValues } from './e-value-average.ts';

// Vovk & Wang (2021), §4: the weighted arithmetic mean of e-values is an e-value.
describe('averageEValues', () => {
  it('weights the current e-values', () => {
    expect(
      averageEValues([
        { eValue: 30, weight: 1 },
        { eValue: 2, weight: 1 },
      ]),
    ).toBe(16);
    expect(
      averageEValues([
        { eValue: 30, weight: 3 },
        { eValue: 2, weight: 1 },
      ]),
    ).toBe(23);
  });
  it('names the metric that alone carries the average past K/alpha', () => {
    const values = [
      { eValue: 45, weight: 1 },
      { eValue: 0.5, weight: 1 },
    ];
    expect(averageEValues(values)).toBeGreaterThanOrEqual(20);
    expect(responsibleEValues(values, 0.05)).toEqual([0]);
    expect(
      responsibleEValues(
        [
          { eValue: 39, weight: 1 },
          { eValue: 1, weight: 1 },
        ],
        0.05,
      ),
    ).toEqual([]);
  });
  it('rejects an empty list, negative weights and negative e-values', () => {
    expect(() => averageEValues([])).toThrow(/at least one/);
    expect(() => averageEValues([{ eValue: 1, weight: -1 }])).toThrow(/weight\[0\]/);
    expect(() => averageEValues([{ eValue: NaN, weight: 1 }])).toThrow(/eValue\[0\]/);
  });
});
