/**
 * User cohorts: who sends a request, carried in the `end-user` header (DESIGN.md, "Canary topology").
 * `user-N` are regular users (routed to the primary in the header stage), `canary-tester-N` are routed
 * to the canary and `baseline-tester-N` to the baseline. Each cohort has a size (how many distinct
 * users) and a share of the request rate. Pure module shared by the k6 scripts and the builtin driver.
 */

export type CohortName = 'user' | 'canary-tester' | 'baseline-tester';
export const COHORT_NAMES: readonly CohortName[] = ['user', 'canary-tester', 'baseline-tester'];

export interface Cohort {
  name: CohortName;
  /** Number of distinct users: ids run from `${name}-1` to `${name}-${size}`. */
  size: number;
  /** Share of all requests, in [0, 1]; the shares of a cohort list sum to 1. */
  share: number;
}

/** The default: 90 % regular users, 5 % canary testers and 5 % baseline testers (matched cohorts). */
export const DEFAULT_COHORTS: readonly Cohort[] = [
  { name: 'user', size: 1000, share: 0.9 },
  { name: 'canary-tester', size: 50, share: 0.05 },
  { name: 'baseline-tester', size: 50, share: 0.05 },
];

/** A cohort list that is not usable, with the text that was given and what was expected. */
export class CohortSpecError extends Error {
  constructor(
    readonly spec: string,
    problem: string,
  ) {
    super(`cohorts "${spec}": ${problem}`);
    this.name = 'CohortSpecError';
  }
}

/**
 * Parses `name=size:share,…` (e.g. `user=1000:0.9,canary-tester=50:0.05,baseline-tester=50:0.05`).
 * Shares must be non-negative and sum to 1 (±0.001); sizes are positive integers; names are the three
 * cohorts, each at most once. An empty string gives the defaults.
 */
export function parseCohorts(spec: string): Cohort[] {
  const text = spec.trim();
  if (text === '') return DEFAULT_COHORTS.map((c) => ({ ...c }));
  const seen = new Set<string>();
  const cohorts: Cohort[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*([a-z-]+)\s*=\s*([^:\s]+)\s*:\s*([^\s]+)\s*$/.exec(part);
    if (!m) throw new CohortSpecError(spec, `"${part}" is not name=size:share`);
    const [, name, sizeText, shareText] = m;
    if (!(COHORT_NAMES as readonly string[]).includes(name)) {
      throw new CohortSpecError(spec, `unknown cohort "${name}" (expected one of ${COHORT_NAMES.join(', ')})`);
    }
    if (seen.has(name)) throw new CohortSpecError(spec, `cohort "${name}" is given twice`);
    seen.add(name);
    const size = Number(sizeText);
    if (!Number.isInteger(size) || size < 1) {
      throw new CohortSpecError(spec, `size of "${name}" must be a positive integer, got "${sizeText}"`);
    }
    const share = Number(shareText);
    if (!Number.isFinite(share) || share < 0 || share > 1) {
      throw new CohortSpecError(spec, `share of "${name}" must be a number in [0, 1], got "${shareText}"`);
    }
    cohorts.push({ name: name as CohortName, size, share });
  }
  const total = cohorts.reduce((s, c) => s + c.share, 0);
  if (Math.abs(total - 1) > 1e-3) throw new CohortSpecError(spec, `shares must sum to 1, they sum to ${round(total)}`);
  return cohorts;
}

/** The inverse of `parseCohorts`, for passing cohorts to k6 through `__ENV.COHORTS`. */
export function formatCohorts(cohorts: readonly Cohort[]): string {
  return cohorts.map((c) => `${c.name}=${c.size}:${c.share}`).join(',');
}

/** Picks the cohort for a uniform draw `u` in [0, 1): cumulative shares, in list order. */
export function cohortFor(cohorts: readonly Cohort[], u: number): Cohort {
  let cumulative = 0;
  for (const c of cohorts) {
    cumulative += c.share;
    if (u < cumulative) return c;
  }
  // Rounding can leave the cumulative sum a hair under 1: the last cohort with a share takes the rest.
  for (let i = cohorts.length - 1; i >= 0; i--) if (cohorts[i].share > 0) return cohorts[i];
  throw new Error('cohortFor: no cohort has a positive share');
}

/** The `end-user` id of user number `index` (0-based) in a cohort: `${name}-${index + 1}`. */
export function userId(cohort: Cohort, u: number): string {
  return `${cohort.name}-${Math.min(cohort.size, Math.floor(u * cohort.size) + 1)}`;
}

/** The cohort an `end-user` id belongs to, or `undefined` for an id outside the three cohorts. */
export function cohortOfUser(id: string): CohortName | undefined {
  const m = /^(user|canary-tester|baseline-tester)-[0-9]+$/.exec(id);
  return m ? (m[1] as CohortName) : undefined;
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
