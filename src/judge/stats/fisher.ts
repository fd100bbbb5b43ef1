/**
 * Fisher's exact test for a 2x2 table [[a, b], [c, d]] (rows: arms, columns: event / no event).
 *
 * Definition: with the margins fixed, a ~ Hypergeometric(N = a+b+c+d, K = a+c, n = a+b).
 *   'greater' (odds ratio > 1): P(A >= a); 'less': P(A <= a);
 *   'two-sided': sum of P(A = k) over all k with P(A = k) <= P(A = a) (1 + 1e-7), as R's fisher.test
 *   (the relative slack keeps tables with equal probabilities from being split by rounding).
 * Reference: Fisher, Statistical Methods for Research Workers (1934) section 21.02; Agresti,
 *   Categorical Data Analysis, 3rd ed., section 3.5; STATS.md F8, F9.
 * Computation: probabilities by the ratio recurrence
 *   P(k+1)/P(k) = (n-k)(K-k) / ((k+1)(N-K-n+k+1)), scaled to 1 at the mode, then normalized, so no
 *   factorials overflow and tail probabilities keep their relative accuracy down to ~1e-300.
 * Complexity: O(min(n, K)) time and memory.
 * Throws: RangeError when a cell is not a non-negative integer.
 * Example: fisherExact([[3, 1], [1, 3]]) -> { pValue: 0.48571428571428565, oddsRatio: 9, ... }
 */

export type FisherAlternative = 'two-sided' | 'greater' | 'less';

export interface FisherResult {
  pValue: number;
  alternative: FisherAlternative;
  /** Sample odds ratio ad / bc (Infinity when bc = 0 < ad; NaN when both are 0). */
  oddsRatio: number;
}

export type TwoByTwo = readonly [readonly [number, number], readonly [number, number]];

export function fisherExact(table: TwoByTwo, alternative: FisherAlternative = 'two-sided'): FisherResult {
  const [[a, b], [c, d]] = table;
  for (const [name, v] of [
    ['a (row 1, column 1)', a],
    ['b (row 1, column 2)', b],
    ['c (row 2, column 1)', c],
    ['d (row 2, column 2)', d],
  ] as const) {
    if (!(Number.isInteger(v) && v >= 0))
      throw new RangeError(`fisherExact: cell ${name} must be a non-negative integer, got ${v}`);
  }
  const rowOne = a + b;
  const colOne = a + c;
  const total = a + b + c + d;
  const low = Math.max(0, colOne - (total - rowOne));
  const high = Math.min(rowOne, colOne);
  const pmf = hypergeometricPmf(total, colOne, rowOne, low, high);
  const at = (k: number) => pmf[k - low];

  let pValue: number;
  if (alternative === 'greater') {
    pValue = sumWhere(pmf, (i) => i + low >= a);
  } else if (alternative === 'less') {
    pValue = sumWhere(pmf, (i) => i + low <= a);
  } else {
    const cutoff = at(a) * (1 + 1e-7);
    pValue = sumWhere(pmf, (i) => pmf[i] <= cutoff);
  }
  const oddsRatio = b * c === 0 ? (a * d === 0 ? NaN : Infinity) : (a * d) / (b * c);
  return { pValue: Math.min(1, pValue), alternative, oddsRatio };
}

/** P(A = k) for k = low..high, A ~ Hypergeometric(total, successes in population, draws). */
function hypergeometricPmf(total: number, successes: number, draws: number, low: number, high: number): Float64Array {
  const size = high - low + 1;
  const pmf = new Float64Array(size);
  // Mode of the hypergeometric distribution.
  const mode = Math.min(high, Math.max(low, Math.floor(((draws + 1) * (successes + 1)) / (total + 2))));
  const ratioUp = (k: number) => ((draws - k) * (successes - k)) / ((k + 1) * (total - successes - draws + k + 1));
  pmf[mode - low] = 1;
  for (let k = mode; k < high; k++) pmf[k + 1 - low] = pmf[k - low] * ratioUp(k);
  for (let k = mode; k > low; k--) pmf[k - 1 - low] = pmf[k - low] / ratioUp(k - 1);
  let sum = 0;
  for (let i = 0; i < size; i++) sum += pmf[i];
  for (let i = 0; i < size; i++) pmf[i] /= sum;
  return pmf;
}

function sumWhere(pmf: Float64Array, keep: (index: number) => boolean): number {
  // Add small terms first so a tail sum keeps its relative accuracy.
  const terms: number[] = [];
  for (let i = 0; i < pmf.length; i++) if (keep(i)) terms.push(pmf[i]);
  terms.sort((x, y) => x - y);
  let s = 0;
  for (const t of terms) s += t;
  return s;
}
