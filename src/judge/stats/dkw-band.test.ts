import { describe, expect, it } from 'vitest';
import { dkwEpsilon } from './dkw-band.ts';

// STATS.md §3: eps_1000(alpha 0.05, m 100) = 0.0820477 (Howard & Ramdas 2022, Theorem 2); 1e-7 absolute.
describe('dkwEpsilon', () => {
  it('reproduces the STATS.md check value', () => {
    expect(dkwEpsilon(1000, { m: 100 })).toBeCloseTo(0.0820477, 7);
  });
  it('shrinks with t', () => {
    expect(dkwEpsilon(100000, { m: 100 })).toBeLessThan(dkwEpsilon(1000, { m: 100 }));
  });
  it('refuses t < m and an alpha without a constant', () => {
    expect(() => dkwEpsilon(10, { m: 100 })).toThrow(/t >= m/);
    expect(() => dkwEpsilon(1000, { m: 100, alpha: 0.01 })).toThrow(/pass options.constant/);
  });
});
