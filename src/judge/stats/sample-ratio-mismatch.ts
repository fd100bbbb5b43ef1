/**
 * Multinomial sample-ratio-mismatch e-value (STATS.md §1): are the request counts per arm consistent
 * with the planned split?
 *
 * Definition: counts n_i, planned shares theta0_i, Dirichlet prior alpha_i = k theta0_i,
 * A = sum alpha_i, N = sum n_i:
 *   ln E = lnΓ(A) - lnΓ(A + N) + sum_i [lnΓ(alpha_i + n_i) - lnΓ(alpha_i)] - sum_i n_i ln theta0_i
 * E is an e-process under the planned split; p = min(1, 1/E) is an always-valid p-value.
 *
 * Reference: M. Lindon, A. Malek, "Anytime-valid inference for multinomial count data", NeurIPS 2022.
 * Complexity: O(number of arms).
 * Throws: RangeError for mismatched lengths, fewer than 2 arms, negative or non-integer counts,
 * shares that are not positive or do not sum to 1, or k <= 0.
 *
 * Example: sampleRatioEValue([5120, 4880], [0.5, 0.5], 100) → { lnEValue: 0.5420…, eValue: 1.719… }
 */
import { lnGamma } from './special.ts';

export interface SampleRatioEvidence {
  eValue: number;
  lnEValue: number;
  pValue: number;
}

export function sampleRatioEValue(
  counts: readonly number[],
  shares: readonly number[],
  concentration: number,
): SampleRatioEvidence {
  if (counts.length !== shares.length) {
    throw new RangeError(`sample ratio: ${counts.length} counts but ${shares.length} planned shares`);
  }
  if (counts.length < 2) throw new RangeError('sample ratio: expected at least 2 arms');
  if (!(concentration > 0) || !Number.isFinite(concentration)) {
    throw new RangeError(`sample ratio: expected a finite concentration k > 0, got ${concentration}`);
  }
  let shareSum = 0;
  for (let i = 0; i < counts.length; i++) {
    if (!Number.isInteger(counts[i]) || counts[i] < 0) {
      throw new RangeError(`sample ratio: counts[${i}] must be a non-negative integer, got ${counts[i]}`);
    }
    if (!(shares[i] > 0)) throw new RangeError(`sample ratio: shares[${i}] must be > 0, got ${shares[i]}`);
    shareSum += shares[i];
  }
  if (Math.abs(shareSum - 1) > 1e-9)
    throw new RangeError(`sample ratio: planned shares must sum to 1, got ${shareSum}`);

  const priorTotal = concentration;
  let total = 0;
  let lnE = 0;
  for (let i = 0; i < counts.length; i++) {
    const prior = concentration * shares[i];
    lnE += lnGamma(prior + counts[i]) - lnGamma(prior) - counts[i] * Math.log(shares[i]);
    total += counts[i];
  }
  lnE += lnGamma(priorTotal) - lnGamma(priorTotal + total);
  return { eValue: Math.exp(lnE), lnEValue: lnE, pValue: Math.min(1, Math.exp(-lnE)) };
}
