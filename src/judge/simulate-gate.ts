/**
 * Seeded simulation of the canary gate: a stage that looks at baseline and canary every interval,
 * judged by the default sequential judge (`assessStage`) and, on the same data, by fixed-horizon
 * tests repeated at every look (Mann-Whitney on the latency histograms and Fisher's exact test on
 * errors, each at alpha/2). Used to show that the sequential judge keeps its false-rollback rate at
 * alpha in A/A runs while repeated fixed-horizon tests inflate it, and to measure power.
 */
import type { AnalysisConfig } from '../config/analysis.ts';
import type { LatencyHistogram } from '../telemetry/measurement.ts';
import { assessStage } from './assess.ts';
import type { ArmAccumulation, ComparisonData, IntervalObservation } from './comparison-data.ts';
import { type ArmTraffic, SIMULATION_BOUNDS, simulateWorkload } from './simulation.ts';
import { fisherExact } from './stats/fisher.ts';
import { mannWhitneyBinned } from './stats/mann-whitney.ts';
import { seededGenerator } from '../core/random.ts';
import type { StageDecision } from './verdict.ts';

export interface GateSimulation {
  config: AnalysisConfig;
  seed: number;
  runs: number;
  looks: number;
  lookMs: number;
  /** Traffic per arm per look. */
  baseline: ArmTraffic;
  canary: ArmTraffic;
  /** Latency as the data plane reports it (histograms, default) or as the client saw it (raw samples). */
  latencyData?: 'histogram' | 'samples';
  /** Also run the fixed-horizon tests (costs time): at every look (`true`), or once on all the data
   * at the last look (`'end'`, the fixed-horizon ceiling of a power comparison). */
  fixedHorizon?: boolean | 'end';
  /** Stop a run at the sequential judge's first decision (promote, rollback, inconclusive); default
   * false: a run only stops at a rollback, which counts every false rollback a longer stage could make. */
  stopAtDecision?: boolean;
}

export interface GateSimulationResult {
  runs: number;
  /** Runs the sequential judge rolled back. */
  rollbacks: number;
  /** For each rolled-back run, the time of the rollback in ms. */
  rollbackTimesMs: number[];
  /** Runs in which a fixed-horizon test rejected at some look. */
  fixedRejections: number;
  /** Final decisions by kind (the decision at the stopping look). */
  decisions: Record<StageDecision, number>;
}

function arm(requests: number, errors: number, counts: number[], intervals: IntervalObservation[]): ArmAccumulation {
  const histogram: LatencyHistogram = { bounds: SIMULATION_BOUNDS as number[], counts: [...counts] };
  return { requests, errors, latency: requests > 0 ? { histogram } : null, intervals: intervals.slice() };
}

export function simulateGate(sim: GateSimulation): GateSimulationResult {
  const random = seededGenerator(sim.seed);
  const result: GateSimulationResult = {
    runs: sim.runs,
    rollbacks: 0,
    rollbackTimesMs: [],
    fixedRejections: 0,
    decisions: { promote: 0, rollback: 0, continue: 0, inconclusive: 0 },
  };
  const expectedSamplesPerArm = sim.baseline.requests * sim.looks;
  const maxDurationMs = sim.looks * sim.lookMs;
  for (let run = 0; run < sim.runs; run++) {
    const totals = {
      baseline: {
        requests: 0,
        errors: 0,
        counts: new Array<number>(SIMULATION_BOUNDS.length).fill(0),
        samples: [] as number[],
        intervals: [] as IntervalObservation[],
      },
      canary: {
        requests: 0,
        errors: 0,
        counts: new Array<number>(SIMULATION_BOUNDS.length).fill(0),
        samples: [] as number[],
        intervals: [] as IntervalObservation[],
      },
    };
    const raw = sim.latencyData === 'samples';
    let fixedRejected = false;
    let decision: StageDecision = 'continue';
    for (let look = 1; look <= sim.looks; look++) {
      for (const side of ['baseline', 'canary'] as const) {
        const t = totals[side];
        const w = simulateWorkload(random, side, sim[side], raw ? t.samples : undefined);
        t.intervals.push({
          start: (look - 1) * sim.lookMs,
          end: look * sim.lookMs,
          requests: w.requests,
          errors: w.errors,
          latency: w.requests > 0 ? w.latency : null,
        });
        t.requests += w.requests;
        t.errors += w.errors;
        for (let i = 0; i < t.counts.length; i++) t.counts[i] += w.latency.counts[i];
      }
      const armData = (t: (typeof totals)['baseline']): ArmAccumulation =>
        raw
          ? {
              requests: t.requests,
              errors: t.errors,
              latency: { samples: t.samples.slice() },
              intervals: t.intervals.slice(),
            }
          : arm(t.requests, t.errors, t.counts, t.intervals);
      const data: ComparisonData = {
        baseline: armData(totals.baseline),
        canary: armData(totals.canary),
        scalars: {},
        problems: [],
      };
      const elapsedMs = look * sim.lookMs;
      const assessment = assessStage({ config: sim.config, data, elapsedMs, expectedSamplesPerArm, maxDurationMs });
      decision = assessment.decision;
      if (sim.fixedHorizon && !fixedRejected && (sim.fixedHorizon === true || look === sim.looks))
        fixedRejected = fixedHorizonRejects(totals, sim.config.alpha);
      if (decision === 'rollback') {
        result.rollbacks++;
        result.rollbackTimesMs.push(elapsedMs);
        if (!sim.fixedHorizon) break;
      }
      if (decision === 'rollback' || (sim.stopAtDecision && decision !== 'continue')) {
        if (sim.fixedHorizon && decision === 'rollback') {
          // Keep looking with the fixed-horizon tests only, so both judges see the same looks.
          for (let rest = look + 1; rest <= sim.looks && !fixedRejected; rest++) {
            for (const side of ['baseline', 'canary'] as const) {
              const w = simulateWorkload(random, side, sim[side]);
              const t = totals[side];
              t.requests += w.requests;
              t.errors += w.errors;
              for (let i = 0; i < t.counts.length; i++) t.counts[i] += w.latency.counts[i];
            }
            if (sim.fixedHorizon === true || rest === sim.looks)
              fixedRejected = fixedHorizonRejects(totals, sim.config.alpha);
          }
        }
        break;
      }
    }
    result.decisions[decision]++;
    if (fixedRejected) result.fixedRejections++;
  }
  return result;
}

/** Two fixed-horizon tests at alpha/2 each (Bonferroni), so that one look alone is at level alpha. */
function fixedHorizonRejects(
  totals: Record<'baseline' | 'canary', { requests: number; errors: number; counts: number[] }>,
  alpha: number,
): boolean {
  const mw = mannWhitneyBinned(totals.canary.counts, totals.baseline.counts);
  if (mw.pValue < alpha / 2) return true;
  const b = totals.baseline;
  const c = totals.canary;
  const fisher = fisherExact([
    [c.errors, c.requests - c.errors],
    [b.errors, b.requests - b.errors],
  ]);
  return fisher.pValue < alpha / 2;
}
