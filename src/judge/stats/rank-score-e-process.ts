/**
 * One-sided anytime-valid test that the canary's latency distribution is slower than the baseline's,
 * from binned counts (histogram buckets; raw samples binned the same way), judged batch by batch
 * (one batch per measurement interval) and robust to latency that comes in bursts.
 *
 * Definition. In batch k, pool both arms' counts per bin (m_j = a_j + c_j, N = n_A + n_B) and give
 * bin j the mid-rank u_j = (M_{j-1} + (m_j + 1)/2) / (N + 1), M the pooled cumulative count. A score
 * family turns it into a score s_j = phi(u_j), non-decreasing in latency:
 *   `location`   phi(u) = Phi^-1(u)            (van der Waerden normal scores: a shift of log-latency)
 *   `upper-tail` phi(u) = max(0, Phi^-1(u))^2  (the slower half spreads out: a heavier tail)
 * The batch statistic is the canary's score sum minus its expectation under "both arms are drawn
 * from one distribution within the batch" (the permutation null, conditional on the pooled counts):
 *   D_k = sum_j c_j s_j - n_B sbar,   sbar = sum_j m_j s_j / N
 *   V_k = n_A n_B / (N (N - 1)) sum_j m_j (s_j - sbar)^2   (exact permutation variance of D_k)
 * Over batches S = sum_k D_k, V = sum_k V_k, and the e-value is the one-sided normal mixture of
 * msprt.ts on (S, V * phi): Lambda+ with tau^2 tuned to the planned end (V at the planned sample size).
 * Faster canaries (D < 0) give Lambda+ < 1. The family's e-values are averaged (an e-value).
 *
 * Bursts: requests are not independent when a process is descheduled; a burst moves a whole batch,
 * so the batch z-scores r_k = (D_k - V_k S/V) / sqrt(V_k) spread more than N(0, 1). The dispersion
 * phi = max(1, max_L sum_b r_b^2 / (B_L - 1)) is estimated on blocks of L = 1, 2, 4, ... consecutive
 * batches (batch means: a burst longer than one interval shows up at a longer block), using only
 * block lengths with at least `minBlocks` blocks; V is multiplied by phi, which is judging an
 * effective sample size n / phi. Residuals are taken around the common shift S/V, so a real,
 * steady regression does not inflate phi.
 *
 * Validity: under the null the permutation mean and variance are exact whatever the distribution
 * and whatever it does from one interval to the next (the null is conditional on each batch); the
 * normal mixture is asymptotically valid (central limit theorem for linear rank statistics, as for
 * the plug-in mSPRT: act only with enough observations), and the dispersion is a plug-in estimate.
 * The seeded A/A simulations (simulate-gate.test.ts, bench/judge-power.bench.ts) check the level.
 *
 * References: M. Lindon, C. Sanden, V. Shirikian, "Rapid regression detection in software
 * deployments through sequential testing", KDD 2022 (sequential tests on binned latency counts);
 * S. Shekhar, A. Ramdas, "Nonparametric two-sample testing by betting", IEEE Trans. Inf. Theory 70(2),
 * 2024 (one-sided two-sample e-processes that bet on a witness function; here a fixed monotone
 * witness, the score); B. L. van der Waerden, "Order tests for the two-sample problem", 1952
 * (normal scores); J. Hájek, Z. Šidák, "Theory of rank tests", 1967 (permutation moments).
 * Complexity: O(K B) for K batches of B bins, plus O(K log K) for the block dispersion.
 * Throws: RangeError when a batch's arms have different bin counts, a count is negative or not an
 * integer, tuning samples <= 0 or alpha outside (0, 1).
 *
 * Example: rankScoreStatistic([10, 20, 30], [5, 20, 40], 'location') → { d: 6.81480…, v: 17.96358… }
 * (checked against SciPy in rank-score-e-process.test.ts).
 */
import type { Direction } from '../verdict.ts';
import { mixingVariance, msprt } from './msprt.ts';
import { normalQuantile } from './normal.ts';

export type ScoreFamily = 'location' | 'upper-tail';

export const SCORE_FAMILIES: readonly ScoreFamily[] = ['location', 'upper-tail'];

/** One batch (interval): counts per bin for each arm, on the same bins. */
export interface BinnedBatch {
  baseline: ArrayLike<number>;
  canary: ArrayLike<number>;
}

export interface RankScoreOptions {
  /** Observations per arm at which the mixture is tightest (the planned end of the stage). */
  tuningSamples: number;
  /** alpha the mixture is tuned for (the metric's share of the stage's level). */
  tuningAlpha: number;
  /** `increase` (default): canary slower is a regression; `decrease` mirrors; `either` is two-sided. */
  direction?: Direction;
  /** Blocks a block length needs before its dispersion counts; default 6. */
  minBlocks?: number;
  /** Batches are consecutive intervals (default true): no e-value before `minBlocks` of them, and the
   * variance is inflated by their dispersion. False for one batch of complete samples (two files). */
  dispersion?: boolean;
}

export interface BatchStatistic {
  /** Canary score sum minus its permutation mean. */
  d: number;
  /** Its permutation variance. */
  v: number;
}

export interface ScoreFamilyEvidence {
  family: ScoreFamily;
  /** S = sum of D_k. */
  statistic: number;
  /** V = sum of V_k, before the dispersion. */
  variance: number;
  /** Variance inflation from the batches' spread (>= 1). */
  dispersion: number;
  /** S / sqrt(V * dispersion): positive when the canary is slower. */
  z: number;
  eValue: number;
}

export interface DistributionEvidence {
  /** Average of the families' e-values. */
  eValue: number;
  pValue: number;
  families: ScoreFamilyEvidence[];
  /** Largest dispersion of the families: n / dispersion is the effective sample size. */
  dispersion: number;
  /** Batches with observations in both arms. */
  batches: number;
  n: { baseline: number; canary: number };
}

function score(family: ScoreFamily, u: number): number {
  const z = normalQuantile(u);
  return family === 'location' ? z : z > 0 ? z * z : 0;
}

function checkCounts(xs: ArrayLike<number>, label: string): number {
  let total = 0;
  for (let i = 0; i < xs.length; i++) {
    const c = xs[i];
    if (!Number.isInteger(c) || c < 0)
      throw new RangeError(`${label}[${i}]: expected a non-negative integer, got ${c}`);
    total += c;
  }
  return total;
}

/** D and V of one batch for one score family (v = 0 when an arm is empty or all observations tie). */
export function rankScoreStatistic(
  baseline: ArrayLike<number>,
  canary: ArrayLike<number>,
  family: ScoreFamily,
): BatchStatistic {
  if (baseline.length !== canary.length) {
    throw new RangeError(`batch: baseline has ${baseline.length} bins but canary ${canary.length}`);
  }
  const nA = checkCounts(baseline, 'baseline counts');
  const nB = checkCounts(canary, 'canary counts');
  return statistic(baseline, canary, nA, nB, [family])[0];
}

function statistic(
  baseline: ArrayLike<number>,
  canary: ArrayLike<number>,
  nA: number,
  nB: number,
  families: readonly ScoreFamily[],
): BatchStatistic[] {
  const n = nA + nB;
  if (nA === 0 || nB === 0) return families.map(() => ({ d: 0, v: 0 }));
  return families.map((family) => {
    let below = 0;
    let sum = 0;
    let sumSq = 0;
    let canarySum = 0;
    for (let j = 0; j < baseline.length; j++) {
      const m = baseline[j] + canary[j];
      if (m === 0) continue;
      const s = score(family, (below + (m + 1) / 2) / (n + 1));
      below += m;
      sum += m * s;
      sumSq += m * s * s;
      canarySum += canary[j] * s;
    }
    const mean = sum / n;
    const spread = Math.max(0, sumSq - n * mean * mean);
    return { d: canarySum - nB * mean, v: n > 1 ? ((nA * nB) / (n * (n - 1))) * spread : 0 };
  });
}

/**
 * Variance inflation of per-batch statistics: for blocks of L = 1, 2, 4, ... consecutive batches
 * with at least `minBlocks` blocks, sum_b (D_b - V_b S/V)^2 / V_b / (B - 1); the largest, at least 1.
 */
export function blockDispersion(stats: readonly BatchStatistic[], minBlocks = 6): number {
  const totalD = stats.reduce((s, b) => s + b.d, 0);
  const totalV = stats.reduce((s, b) => s + b.v, 0);
  if (!(totalV > 0)) return 1;
  const shift = totalD / totalV;
  let worst = 1;
  for (let length = 1; Math.floor(stats.length / length) >= minBlocks; length *= 2) {
    let chi = 0;
    let blocks = 0;
    for (let start = 0; start + length <= stats.length; start += length) {
      let d = 0;
      let v = 0;
      for (let i = start; i < start + length; i++) {
        d += stats[i].d;
        v += stats[i].v;
      }
      if (!(v > 0)) continue;
      const r = d - v * shift;
      chi += (r * r) / v;
      blocks++;
    }
    // chi / df estimates the inflation; dividing by df - sqrt(2 df) instead (one standard deviation of
    // chi-square below its mean) keeps a chance low estimate from a few blocks from passing a burst.
    const df = blocks - 1;
    if (blocks >= minBlocks) worst = Math.max(worst, chi / Math.max(1, df - Math.sqrt(2 * df)));
  }
  return worst;
}

export function rankScoreEProcess(batches: readonly BinnedBatch[], options: RankScoreOptions): DistributionEvidence {
  const { tuningSamples, tuningAlpha } = options;
  const direction = options.direction ?? 'increase';
  if (!(tuningSamples > 0)) throw new RangeError(`tuningSamples: expected a value > 0, got ${tuningSamples}`);
  if (!(tuningAlpha > 0 && tuningAlpha < 1))
    throw new RangeError(`tuningAlpha: expected a value in (0, 1), got ${tuningAlpha}`);
  const perFamily: BatchStatistic[][] = SCORE_FAMILIES.map(() => []);
  const n = { baseline: 0, canary: 0 };
  batches.forEach((batch, k) => {
    if (batch.baseline.length !== batch.canary.length) {
      throw new RangeError(
        `batches[${k}]: baseline has ${batch.baseline.length} bins but canary ${batch.canary.length}`,
      );
    }
    const nA = checkCounts(batch.baseline, `batches[${k}].baseline`);
    const nB = checkCounts(batch.canary, `batches[${k}].canary`);
    n.baseline += nA;
    n.canary += nB;
    if (nA === 0 || nB === 0) return;
    statistic(batch.baseline, batch.canary, nA, nB, SCORE_FAMILIES).forEach((s, f) => perFamily[f].push(s));
  });
  const used = perFamily[0].length;
  const checkBursts = options.dispersion !== false;
  const minBlocks = options.minBlocks ?? 6;
  const families = SCORE_FAMILIES.map((family, f): ScoreFamilyEvidence => {
    const stats = perFamily[f];
    const statisticSum = stats.reduce((s, b) => s + b.d, 0);
    const variance = stats.reduce((s, b) => s + b.v, 0);
    const dispersion = checkBursts ? blockDispersion(stats, minBlocks) : 1;
    if (!(variance > 0)) return { family, statistic: statisticSum, variance, dispersion, z: 0, eValue: 1 };
    // Until there are enough batches to see bursts, several batches are not yet evidence.
    if (checkBursts && stats.length < minBlocks) {
      return {
        family,
        statistic: statisticSum,
        variance,
        dispersion,
        z: statisticSum / Math.sqrt(variance),
        eValue: 1,
      };
    }
    const v = variance * dispersion;
    // V grows in proportion to the observations: at the planned end it is about V * planned / now.
    const perArm = Math.min(n.baseline, n.canary);
    const planned = v * Math.max(1, tuningSamples / perArm);
    const tau2 = mixingVariance(planned, tuningAlpha, direction !== 'either');
    const r = msprt({ difference: statisticSum, variance: v, mixingVariance: tau2 }, tuningAlpha);
    const eValue = direction === 'increase' ? r.lambdaIncrease : direction === 'decrease' ? r.lambdaDecrease : r.lambda;
    return { family, statistic: statisticSum, variance, dispersion, z: statisticSum / Math.sqrt(v), eValue };
  });
  const eValue = families.reduce((s, f) => s + f.eValue, 0) / families.length;
  return {
    eValue,
    pValue: Math.min(1, 1 / eValue),
    families,
    dispersion: Math.max(...families.map((f) => f.dispersion)),
    batches: used,
    n,
  };
}
