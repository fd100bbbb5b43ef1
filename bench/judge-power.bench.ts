/**
 * Power and level of the default sequential judge (`npx tsx bench/judge-power.bench.ts`; issue 14), seeded:
 *  - detection within 2 minutes (12 looks of 10 s) at 50, 200 and 1,000 requests/s per arm, for
 *    +5, +10, +20 % at every quantile, +10 and +25 % at p99 only (a wider lognormal with the same
 *    median), +0.5 and +2 points of errors over 0.5 %, from raw client samples and from 5 % buckets,
 *    each beside the fixed-horizon ceiling: Mann-Whitney on the buckets and Fisher's exact test at
 *    alpha/2 each, once, on all 2 minutes of the same data;
 *  - A/A false rollbacks over 1,000 runs x 20 looks (a look every interval), with independent
 *    latency and with bursts (a process descheduled: 20 % of intervals per arm have 10 % of their
 *    requests twice as slow).
 * BENCH_RUNS (default 100 per power cell), BENCH_AA_RUNS (default 1000), BENCH_RATES (default
 * 50,200,1000), BENCH_PARTS (default power,aa,bursty) shorten it. Prints Markdown tables.
 */
import { loadAnalysisConfig } from '../src/config/load.ts';
import { simulateGate } from '../src/judge/simulate-gate.ts';
import type { ArmTraffic } from '../src/judge/simulation.ts';

const config = await loadAnalysisConfig('analysis/default.yaml');
const runs = Number(process.env.BENCH_RUNS ?? 100);
const aaRuns = Number(process.env.BENCH_AA_RUNS ?? 1000);
const rates = (process.env.BENCH_RATES ?? '50,200,1000').split(',').map(Number);
const parts = new Set((process.env.BENCH_PARTS ?? 'power,aa,bursty').split(','));
const SIGMA = 0.5;
const Z99 = 2.3263478740408408;

const effects: { name: string; canary: (base: ArmTraffic) => ArmTraffic }[] = [
  { name: '+5 % every quantile', canary: (b) => ({ ...b, slowdown: 1.05 }) },
  { name: '+10 % every quantile', canary: (b) => ({ ...b, slowdown: 1.1 }) },
  { name: '+20 % every quantile', canary: (b) => ({ ...b, slowdown: 1.2 }) },
  { name: '+10 % p99 only', canary: (b) => ({ ...b, sigma: SIGMA + Math.log(1.1) / Z99 }) },
  { name: '+25 % p99 only', canary: (b) => ({ ...b, sigma: SIGMA + Math.log(1.25) / Z99 }) },
  { name: '+0.5 points of errors', canary: (b) => ({ ...b, errorRate: b.errorRate + 0.005 }) },
  { name: '+2 points of errors', canary: (b) => ({ ...b, errorRate: b.errorRate + 0.02 }) },
];

if (parts.has('power')) {
  console.log(`Detection within 2 minutes, ${runs} runs per cell: sequential (fixed-horizon ceiling)\n`);
  const header = ['change', ...rates.flatMap((r) => [`${r}/s raw`, `${r}/s buckets`])];
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  effects.forEach((effect, e) => {
    const cells: string[] = [];
    for (const rate of rates) {
      const base: ArmTraffic = { requests: rate * 10, medianMs: 50, sigma: SIGMA, errorRate: 0.005 };
      for (const latencyData of ['samples', 'histogram'] as const) {
        const r = simulateGate({
          config,
          seed: 1400 + 10 * e + rate,
          runs,
          looks: 12,
          lookMs: 10_000,
          baseline: base,
          canary: effect.canary(base),
          latencyData,
          fixedHorizon: 'end',
        });
        const within = r.rollbackTimesMs.filter((t) => t <= 120_000).length;
        cells.push(`${within} (${r.fixedRejections})`);
      }
    }
    console.log(`| ${effect.name} | ${cells.join(' | ')} |`);
  });
}

const aaTraffic: ArmTraffic = { requests: 500, medianMs: 50, sigma: SIGMA, errorRate: 0.005 };
if (parts.has('aa')) {
  const r = simulateGate({
    config,
    seed: 20261125,
    runs: aaRuns,
    looks: 20,
    lookMs: 10_000,
    baseline: aaTraffic,
    canary: aaTraffic,
    fixedHorizon: true,
  });
  console.log(
    `\nA/A, ${aaRuns} runs x 20 looks, 50 req/s per arm: ${r.rollbacks} false rollbacks (${((100 * r.rollbacks) / aaRuns).toFixed(1)} %); Mann-Whitney + Fisher repeated at every look: ${r.fixedRejections} (${((100 * r.fixedRejections) / aaRuns).toFixed(1)} %)`,
  );
}
if (parts.has('bursty')) {
  const bursty: ArmTraffic = { ...aaTraffic, requests: 400, burst: { probability: 0.2, share: 0.1, factor: 2 } };
  const r = simulateGate({
    config,
    seed: 1,
    runs: aaRuns,
    looks: 30,
    lookMs: 2000,
    baseline: bursty,
    canary: bursty,
    fixedHorizon: true,
  });
  console.log(
    `Bursty A/A, ${aaRuns} runs x 30 looks of 2 s, 200 req/s per arm: ${r.rollbacks} false rollbacks (${((100 * r.rollbacks) / aaRuns).toFixed(1)} %); Mann-Whitney + Fisher repeated at every look: ${r.fixedRejections} (${((100 * r.fixedRejections) / aaRuns).toFixed(1)} %)`,
  );
}
