import { describe, expect, it } from 'vitest';
import { sampleRatioEValue } from './sample-ratio-mismatch.ts';

// Vectors C1-C4 of STATS.md §1 (Lindon & Malek, NeurIPS 2022; recomputed with SciPy 1.17).
// Tolerance: 5e-4 relative on E (4 significant digits given), 1e-4 absolute on ln E.
const rel = (actual: number, expected: number) => expect(Math.abs(actual / expected - 1)).toBeLessThan(5e-4);

describe('sampleRatioEValue', () => {
  it('C1: [5120, 4880], 50/50, k = 100', () => {
    const r = sampleRatioEValue([5120, 4880], [0.5, 0.5], 100);
    expect(r.lnEValue).toBeCloseTo(0.542, 4);
    rel(r.eValue, 1.719);
  });
  it('C2: same counts, k = 10000', () => {
    rel(sampleRatioEValue([5120, 4880], [0.5, 0.5], 10000).eValue, 2.985);
  });
  it('C3: [5200, 4800], k = 100 and k = 10000', () => {
    rel(sampleRatioEValue([5200, 4800], [0.5, 0.5], 100).eValue, 274.1);
    rel(sampleRatioEValue([5200, 4800], [0.5, 0.5], 10000).eValue, 38.62);
  });
  it('C4: three arms [3400, 3350, 3250], k = 100', () => {
    expect(sampleRatioEValue([3400, 3350, 3250], [1 / 3, 1 / 3, 1 / 3], 100).lnEValue).toBeCloseTo(-2.8846, 4);
  });
  it('flags a real mismatch at alpha 0.001 and not a balanced split', () => {
    expect(sampleRatioEValue([5600, 4400], [0.5, 0.5], 100).pValue).toBeLessThan(0.001);
    expect(sampleRatioEValue([5000, 5000], [0.5, 0.5], 100).pValue).toBe(1);
  });
  it('rejects shares that do not sum to 1 and mismatched lengths', () => {
    expect(() => sampleRatioEValue([1, 2], [0.5, 0.6], 100)).toThrow(/sum to 1/);
    expect(() => sampleRatioEValue([1, 2, 3], [0.5, 0.5], 100)).toThrow(/3 counts but 2/);
  });
});
