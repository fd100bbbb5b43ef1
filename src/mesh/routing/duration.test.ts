import { describe, expect, it } from 'vitest';
import { parseDurationMs } from './duration.ts';

describe('Istio durations', () => {
  it('reads Go-style durations in milliseconds', () => {
    expect(parseDurationMs('10s')).toBe(10_000);
    expect(parseDurationMs('0.5s')).toBe(500);
    expect(parseDurationMs('250ms')).toBe(250);
    expect(parseDurationMs('1m30s')).toBe(90_000);
    expect(parseDurationMs('1h')).toBe(3_600_000);
    expect(parseDurationMs('1500us')).toBe(1.5);
    expect(parseDurationMs('0')).toBe(0);
  });

  it('rejects what is not a duration, saying what was expected', () => {
    for (const bad of ['', '10', 's', '5 s', '1x', '-1s', '1s2']) {
      expect(() => parseDurationMs(bad), bad).toThrow(/is not a duration \(expected e\.g\. "2s"/);
    }
  });
});
