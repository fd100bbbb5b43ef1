import { describe, expect, it } from 'vitest';
import { seededRandom, standardNormal } from '../core/random.ts';
import { detectChangePoints } from './change-point.ts';

function noisy(levels: number[], perLevel: number, sd: number, seed: number): number[] {
  const r = seededRandom(seed);
  return levels.flatMap((level) => Array.from({ length: perLevel }, () => level + sd * standardNormal(r)));
}

describe('detectChangePoints', () => {
  it('finds the run where the mean shifted, and the size of the shift', () => {
    const series = [10, 10.2, 9.9, 10.1, 10, 12, 12.1, 11.9, 12.2, 12];
    const [cp, ...rest] = detectChangePoints(series, { random: seededRandom(1) });
    expect(rest).toEqual([]);
    expect(cp.index).toBe(5);
    expect(cp.before).toBeCloseTo(10.04, 10);
    expect(cp.after).toBeCloseTo(12.04, 10);
    expect(cp.pValue).toBeLessThan(0.05);
  });

  it('reports nothing on a stable noisy series in at least 90 % of seeds', () => {
    let quiet = 0;
    for (let seed = 1; seed <= 40; seed++) {
      if (
        detectChangePoints(noisy([50], 20, 3, seed), { random: seededRandom(seed + 1000), permutations: 199 })
          .length === 0
      )
        quiet++;
    }
    expect(quiet).toBeGreaterThanOrEqual(36);
  });

  it('finds two shifts by binary segmentation', () => {
    const series = noisy([20, 26, 20], 10, 0.8, 3);
    const found = detectChangePoints(series, { random: seededRandom(9) }).map((c) => c.index);
    expect(found).toEqual([10, 20]);
  });

  it('ignores non-finite values and refuses a segment shorter than 2', () => {
    expect(detectChangePoints([1, Number.NaN, 1, 1], { random: seededRandom(1) })).toEqual([]);
    expect(() => detectChangePoints([1, 2, 3], { random: seededRandom(1), minSegment: 1 })).toThrow(RangeError);
  });
});
