/**
 * Weighted average of e-values: sum_k w_k E_k / sum_k w_k is an e-value under any dependence between
 * the E_k (linearity of expectation), so the judge may roll back when it reaches 1/alpha. Average the
 * current values, never running maxima (a maximum is not an e-value).
 *
 * Reference: V. Vovk, R. Wang, "E-values: calibration, combination and applications", Ann. Statist.
 * 49(3), 2021, §4 (averaging is the only admissible symmetric merging function).
 * Complexity: O(K).
 * Throws: RangeError when there is no e-value, a weight is negative or not finite, all weights are
 * zero, or an e-value is negative or NaN.
 *
 * Example: averageEValues([{ eValue: 30, weight: 1 }, { eValue: 2, weight: 1 }]) → 16
 */

export interface WeightedEValue {
  eValue: number;
  weight: number;
}

export function averageEValues(values: readonly WeightedEValue[]): number {
  if (values.length === 0) throw new RangeError('averageEValues: expected at least one e-value');
  let weightSum = 0;
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    const { eValue, weight } = values[i];
    if (!(weight >= 0) || !Number.isFinite(weight))
      throw new RangeError(`averageEValues: weight[${i}] must be a finite number >= 0, got ${weight}`);
    if (!(eValue >= 0)) throw new RangeError(`averageEValues: eValue[${i}] must be >= 0, got ${eValue}`);
    weightSum += weight;
    total += weight * eValue;
  }
  if (weightSum === 0) throw new RangeError('averageEValues: all weights are zero');
  return total / weightSum;
}

/**
 * The metrics that alone carry the average over the threshold: E_k >= (sum of weights / w_k) / alpha,
 * i.e. E_k >= K / alpha for equal weights (STATS.md §4). Returns their indices.
 */
export function responsibleEValues(values: readonly WeightedEValue[], alpha: number): number[] {
  const weightSum = values.reduce((s, v) => s + v.weight, 0);
  const out: number[] = [];
  values.forEach((v, i) => {
    if (v.weight > 0 && v.eValue >= weightSum / v.weight / alpha) out.push(i);
  });
  return out;
}
