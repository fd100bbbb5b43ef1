import { describe, expect, it } from 'vitest';
import { DurationSyntaxError, durationText, isDuration, parseDuration } from './duration.ts';

describe('parseDuration', () => {
  it('reads the one syntax: bare seconds, ms, s, m, h and sums of them', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('0.5s')).toBe(500);
    expect(parseDuration('90')).toBe(90_000);
    expect(parseDuration(2)).toBe(2000);
    expect(parseDuration(' 10s ')).toBe(10_000);
  });

  it('refuses what is not a duration, saying what it expected', () => {
    for (const bad of ['', 'soon', '10 s', '5x', '-3s', '1d', 's', '1m30', 'NaN']) {
      expect(() => parseDuration(bad), bad).toThrow(DurationSyntaxError);
      expect(() => parseDuration(bad), bad).toThrow(/expected a (positive )?duration like 500ms, 30s, 5m/);
    }
    expect(() => parseDuration(-1)).toThrow(/expected a positive duration/);
    expect(() => parseDuration(Number.POSITIVE_INFINITY)).toThrow(/expected a positive duration/);
    expect(() => parseDuration('0s')).toThrow(/positive/);
    expect(parseDuration('0', { allowZero: true })).toBe(0);
  });

  it("reads Istio's durations in Istio mode: us and ns, a unit required except for 0", () => {
    const istio = { bareNumber: 'refuse', subMillisecond: true, allowZero: true } as const;
    expect(parseDuration('1500us', istio)).toBe(1.5);
    expect(parseDuration('250ms', istio)).toBe(250);
    expect(parseDuration('0', istio)).toBe(0);
    expect(() => parseDuration('10', istio)).toThrow(/with a unit/);
    expect(() => parseDuration('1500us')).toThrow(DurationSyntaxError);
  });

  it('isDuration agrees with parseDuration, and durationText writes what it reads', () => {
    expect(isDuration('5m')).toBe(true);
    expect(isDuration('5 minutes')).toBe(false);
    for (const ms of [250, 1000, 30_000, 90_000, 3_600_000, 5_400_000, 1500])
      expect(parseDuration(durationText(ms))).toBe(ms);
    expect(durationText(90_000)).toBe('1m30s');
  });
});
