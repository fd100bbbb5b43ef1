import { describe, expect, it } from 'vitest';
import { SIMULATION_BOUNDS, bucketIndex, simulateWorkload } from './simulation.ts';
import { seededGenerator } from '../core/random.ts';

describe('simulateWorkload', () => {
  it('puts each latency in the bucket (bounds[i-1], bounds[i]] the bisection finds', () => {
    const random = seededGenerator(11);
    const w = simulateWorkload(random, 'w', { requests: 1, medianMs: 50, sigma: 0, errorRate: 0 });
    expect(w.latency.counts[bucketIndex(SIMULATION_BOUNDS, 50)]).toBe(1);
    for (const x of [0.2, 0.5, 0.51, 7.3, 100, 1e6]) {
      const i = bucketIndex(SIMULATION_BOUNDS, x);
      expect(x <= SIMULATION_BOUNDS[i] && (i === 0 || x > SIMULATION_BOUNDS[i - 1])).toBe(true);
      const one = simulateWorkload(seededGenerator(1), 'w', { requests: 1, medianMs: x, sigma: 0, errorRate: 0 });
      expect(one.latency.counts.indexOf(1)).toBe(i);
    }
  });
  it('draws the configured median and error rate', () => {
    const w = simulateWorkload(seededGenerator(5), 'w', { requests: 20000, medianMs: 40, sigma: 0.5, errorRate: 0.05 });
    let cumulative = 0;
    const median = SIMULATION_BOUNDS.find((_, i) => (cumulative += w.latency.counts[i]) >= 10000)!;
    expect(median / 40).toBeGreaterThan(0.97);
    expect(median / 40).toBeLessThan(1.08);
    expect(Math.abs(w.errors - 1000)).toBeLessThan(5 * Math.sqrt(1000));
  });
});
