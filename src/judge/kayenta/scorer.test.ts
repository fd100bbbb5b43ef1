import { describe, expect, it } from 'vitest';
import { kayentaScore } from './scorer.ts';

// STATS.md section 6 scorer cases (spinnaker/kayenta kayenta-judge/.../ScorerSuite.scala). Exact scores.
describe('kayentaScore', () => {
  it('{Pass, High} scores 50', () => {
    const r = kayentaScore([
      { name: 'a', classification: 'Pass' },
      { name: 'b', classification: 'High' },
    ]);
    expect(r.score).toBe(50);
    expect(r.classification).toBe('Fail');
  });
  it('weights 75/25, g1 {Pass, Pass}, g2 {High} scores 75', () => {
    const r = kayentaScore(
      [
        { name: 'a', classification: 'Pass', groups: ['g1'] },
        { name: 'b', classification: 'Pass', groups: ['g1'] },
        { name: 'c', classification: 'High', groups: ['g2'] },
      ],
      { groupWeights: { g1: 75, g2: 25 } },
    );
    expect(r.score).toBe(75);
    expect(r.classification).toBe('Marginal');
    expect(r.groups.find((g) => g.name === 'g2')?.score).toBe(0);
  });
  it('{Pass, High(critical)} scores 0', () => {
    const r = kayentaScore([
      { name: 'a', classification: 'Pass' },
      { name: 'b', classification: 'High', critical: true },
    ]);
    expect(r.score).toBe(0);
    expect(r.reason).toMatch(/critical metric\(s\) not Pass: b/);
  });
  it('unweighted groups share what is left of 100; a group without data does not count', () => {
    const r = kayentaScore(
      [
        { name: 'a', classification: 'Pass', groups: ['g1'] },
        { name: 'b', classification: 'Pass', groups: ['g2'] },
        { name: 'c', classification: 'Low', groups: ['g3'] },
        { name: 'd', classification: 'Pass', groups: ['g3'] },
      ],
      { groupWeights: { g1: 50 } },
    );
    // g1 100*0.5 + g2 100*0.25 + g3 50*0.25
    expect(r.score).toBeCloseTo(87.5, 12);
  });
  it('NodataFailMetric counts against its group; half or more metrics without data scores 0', () => {
    const partial = kayentaScore([
      { name: 'a', classification: 'Pass' },
      { name: 'b', classification: 'Pass' },
      { name: 'c', classification: 'NodataFailMetric' },
    ]);
    expect(partial.score).toBeCloseTo(200 / 3, 12);
    const half = kayentaScore([
      { name: 'a', classification: 'Pass' },
      { name: 'b', classification: 'Nodata' },
    ]);
    expect(half.score).toBe(0);
    expect(half.reason).toMatch(/1 of 2 metrics have no data/);
    expect(kayentaScore([]).classification).toBe('Fail');
  });
  it('thresholds: Pass at or above pass, Marginal at or above marginal', () => {
    const metrics = [
      { name: 'a', classification: 'Pass' as const },
      { name: 'b', classification: 'Pass' as const },
      { name: 'c', classification: 'Pass' as const },
      { name: 'd', classification: 'High' as const },
    ];
    expect(kayentaScore(metrics, { thresholds: { marginal: 50, pass: 75 } }).classification).toBe('Pass');
    expect(kayentaScore(metrics, { thresholds: { marginal: 75, pass: 90 } }).classification).toBe('Marginal');
    expect(() => kayentaScore(metrics, { thresholds: { marginal: 90, pass: 80 } })).toThrow(/marginal <= pass/);
  });
});
