/**
 * Where the traffic of the service under canary goes, as data. The state machine emits these; the
 * platform applies them (`routes.ts` turns one into the Istio VirtualService that both the local data
 * plane and, later, a cluster apply). Percentages are integers 0..100 of *untagged* traffic.
 */

/** A group of users selected by their `end-user` header; `pattern` must match the whole value (Istio regex). */
export interface CohortMatch {
  /** e.g. `canary-testers` */
  cohort: string;
  /** RE2/ECMAScript-compatible, anchored by Istio semantics, e.g. `canary-tester-[0-9]+`. */
  pattern: string;
}

export type RoutePlan =
  /** Everything on the primary: the state before any stage and after any rollback or abort. */
  | { kind: 'safe' }
  /** Tagged canary testers to the canary, matched baseline testers to the baseline, everyone else to the primary. */
  | { kind: 'header'; canary: CohortMatch; baseline: CohortMatch | null }
  /**
   * Untagged traffic: `canary` % to the canary, `baseline` % to the baseline, the rest to the primary.
   * The tester cohorts keep their header routes so each track keeps its testers across stages.
   */
  | {
      kind: 'weighted';
      canary: number;
      baseline: number;
      header: { canary: CohortMatch; baseline: CohortMatch | null };
    }
  /** Everything on the canary: the end state of a promoted run (until the primary is updated). */
  | { kind: 'promoted' };

/** Share (0..100) of untagged traffic each track gets under a route plan. */
export function untaggedShares(route: RoutePlan): { primary: number; baseline: number; canary: number } {
  switch (route.kind) {
    case 'safe':
    case 'header':
      return { primary: 100, baseline: 0, canary: 0 };
    case 'weighted':
      return { primary: 100 - route.canary - route.baseline, baseline: route.baseline, canary: route.canary };
    case 'promoted':
      return { primary: 0, baseline: 0, canary: 100 };
  }
}
