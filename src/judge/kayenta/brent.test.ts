import { describe, expect, it } from 'vitest';
import { brentRoot } from './brent.ts';

describe('brentRoot', () => {
  it('finds sqrt(2) within the tolerance and converges in few evaluations on a smooth function', () => {
    let evaluations = 0;
    const f = (x: number) => {
      evaluations++;
      return x * x - 2;
    };
    const root = brentRoot(f, 0, 2, -2, 2, { tolerance: 1e-10 });
    expect(Math.abs(root - Math.SQRT2)).toBeLessThan(1e-10);
    expect(evaluations).toBeLessThan(15);
  });
  it('returns an end whose value is 0, and locates the jump of a step function to the tolerance', () => {
    expect(brentRoot(() => 1, 3, 5, 0, 1)).toBe(3);
    const step = (x: number) => (x < 1.234567 ? 1 : -1);
    expect(Math.abs(brentRoot(step, 0, 10, 1, -1, { tolerance: 1e-6 }) - 1.234567)).toBeLessThan(1e-6);
  });
});
