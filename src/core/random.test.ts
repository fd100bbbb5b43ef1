import { describe, expect, it } from 'vitest';
import { seededGenerator as seededRandom } from './random.ts';

describe('seededRandom', () => {
  it('is reproducible per seed and differs across seeds', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const c = seededRandom(8);
    const xs = Array.from({ length: 5 }, () => a.uniform());
    expect(Array.from({ length: 5 }, () => b.uniform())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.uniform())).not.toEqual(xs);
  });
  it('draws uniforms in [0, 1) and normals with mean 0, variance 1 (100k draws, 4 sigma margins)', () => {
    const r = seededRandom(1);
    let sum = 0;
    let sumSq = 0;
    const n = 100_000;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const u = r.uniform();
      if (!(u >= 0 && u < 1)) outside++;
      const z = r.normal();
      sum += z;
      sumSq += z * z;
    }
    expect(outside).toBe(0);
    expect(Math.abs(sum / n)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(sumSq / n - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
  });
  it('draws binomials with the right mean in both regimes', () => {
    const r = seededRandom(3);
    let small = 0;
    let large = 0;
    for (let i = 0; i < 2000; i++) {
      small += r.binomial(1000, 0.005);
      large += r.binomial(10000, 0.3);
    }
    expect(small / 2000).toBeCloseTo(5, 0);
    expect(Math.abs(large / 2000 - 3000)).toBeLessThan(5);
  });
});
