import { describe, expect, it } from 'vitest';
import { normalQuantile } from './normal.ts';
import { quantileEProcess } from './quantile-e-process.ts';
import type { LatencyHistogram } from '../../telemetry/measurement.ts';
import { LATENCY_BUCKETS_MS } from '../../telemetry/buckets.ts';

// Vectors of STATS.md §3 (Howard & Ramdas, Bernoulli 2022; Netflix "Sequential A/B testing" part 1;
// recomputed with SciPy 1.17): A_i = exp(Φ⁻¹((i - 1/2)/1000)), B = 1.25 A.
// Tolerance: 5e-4 relative on the p-values (4 significant digits given); the p90 value is given as
// 0.25, so 1e-3 absolute there.
const A = Array.from({ length: 1000 }, (_, i) => Math.exp(normalQuantile((i + 0.5) / 1000)));
const slower = A.map((x) => 1.25 * x);
const faster = A.map((x) => 0.8 * x);
const rel = (actual: number, expected: number) => expect(Math.abs(actual / expected - 1)).toBeLessThan(5e-4);

describe('quantileEProcess on raw samples', () => {
  it('median, t_opt = 1000: p = 0.009132 (one-sided 0.004586)', () => {
    rel(quantileEProcess({ samples: A }, { samples: slower }, { quantile: 0.5, tuningSamples: 1000 }).pValue, 0.009132);
    rel(
      quantileEProcess(
        { samples: A },
        { samples: slower },
        { quantile: 0.5, tuningSamples: 1000, direction: 'increase' },
      ).pValue,
      0.004586,
    );
  });
  it('median, t_opt = 10000: p = 0.0581', () => {
    rel(quantileEProcess({ samples: A }, { samples: slower }, { quantile: 0.5, tuningSamples: 10000 }).pValue, 0.0581);
  });
  it('p90: p = 0.25 (one-sided 0.1212)', () => {
    expect(
      quantileEProcess({ samples: A }, { samples: slower }, { quantile: 0.9, tuningSamples: 1000 }).pValue,
    ).toBeCloseTo(0.25, 3);
    rel(
      quantileEProcess(
        { samples: A },
        { samples: slower },
        { quantile: 0.9, tuningSamples: 1000, direction: 'increase' },
      ).pValue,
      0.1212,
    );
  });
  it('one-sided with a faster canary (B = 0.8 A): p = 1 at p50 and p90', () => {
    for (const quantile of [0.5, 0.9]) {
      expect(
        quantileEProcess({ samples: A }, { samples: faster }, { quantile, tuningSamples: 1000, direction: 'increase' })
          .pValue,
      ).toBe(1);
    }
  });
  it('gives intervals that hold the true quantiles and a ratio interval around 1.25', () => {
    const r = quantileEProcess({ samples: A }, { samples: slower }, { quantile: 0.5, tuningSamples: 1000 });
    expect(r.baseline.interval[0]!).toBeLessThan(1);
    expect(r.baseline.interval[1]!).toBeGreaterThan(1);
    expect(r.ratio).toBeCloseTo(1.25, 2);
    expect(r.ratioInterval[0]!).toBeLessThan(1.25);
    expect(r.ratioInterval[1]!).toBeGreaterThan(1.25);
  });
});

function histogram(values: number[]): LatencyHistogram {
  const bounds = [...LATENCY_BUCKETS_MS, Infinity];
  const counts = new Array<number>(bounds.length).fill(0);
  for (const v of values) {
    let i = 0;
    while (v > bounds[i]) i++;
    counts[i]++;
  }
  return { bounds, counts };
}

describe('quantileEProcess on histograms', () => {
  const msA = A.map((x) => 100 * x);
  const msB = slower.map((x) => 100 * x);
  it('is conservative against the raw-sample result (binning loses evidence, never adds it)', () => {
    const raw = quantileEProcess({ samples: msA }, { samples: msB }, { quantile: 0.5, tuningSamples: 1000 });
    const binned = quantileEProcess(
      { histogram: histogram(msA) },
      { histogram: histogram(msB) },
      { quantile: 0.5, tuningSamples: 1000 },
    );
    expect(binned.pValue).toBeGreaterThanOrEqual(raw.pValue);
    expect(binned.pValue).toBeLessThan(0.2);
    expect(binned.ratio!).toBeCloseTo(1.25, 1);
  });
  it('detects the 25 % shift from 5 % buckets with 4000 observations per arm', () => {
    const big = Array.from({ length: 4000 }, (_, i) => 100 * Math.exp(normalQuantile((i + 0.5) / 4000)));
    const binned = quantileEProcess(
      { histogram: histogram(big) },
      { histogram: histogram(big.map((x) => 1.25 * x)) },
      { quantile: 0.5, tuningSamples: 4000, direction: 'increase' },
    );
    expect(binned.pValue).toBeLessThan(0.001);
    expect(binned.ratioInterval[0]!).toBeGreaterThan(1);
  });
  it('finds no difference between identical histograms', () => {
    const h = histogram(msA);
    expect(quantileEProcess({ histogram: h }, { histogram: h }, { quantile: 0.99, tuningSamples: 1000 }).pValue).toBe(
      1,
    );
  });
  it('rejects histograms with different bounds and mixed raw / binned arms', () => {
    const h = histogram(msA);
    expect(() =>
      quantileEProcess(
        { histogram: h },
        { histogram: { bounds: [1, Infinity], counts: [1, 1] } },
        { quantile: 0.5, tuningSamples: 10 },
      ),
    ).toThrow(/same bucket bounds/);
    expect(() => quantileEProcess({ histogram: h }, { samples: msA }, { quantile: 0.5, tuningSamples: 10 })).toThrow(
      /both be raw samples or both be histograms/,
    );
  });
});
