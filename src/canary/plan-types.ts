/**
 * The plan of one canary run, as plain data: what `plan.ts` derives from the analysis configuration
 * and the flags, what the state machine follows, what `--dry-run` prints and what `result.json`
 * records. Durations are milliseconds, rates requests per second, shares percentages 0..100.
 */
import type { Cohort } from '../../load/lib/cohorts.ts';
import type { CohortMatch, RoutePlan } from './route-plan.ts';

export type TrackName = 'primary' | 'baseline' | 'canary';
export type Scenario = 'healthy' | 'slow' | 'errors' | 'flaky';
export type Engine = 'local' | 'kubernetes';
/** The load drivers a run can use; `k6-operator` runs k6 inside the cluster (Kubernetes engine only). */
export type DriverChoice = 'builtin' | 'k6' | 'k6-operator';
export const DRIVER_CHOICES: readonly DriverChoice[] = ['builtin', 'k6', 'k6-operator'];

/** Where the run happens: every engine-dependent decision, made by the planner so `--dry-run` shows it. */
export interface PlatformPlan {
  engine: Engine;
  /** Kubernetes: the kubeconfig context (`null`: the current context, or in-cluster credentials). */
  context: string | null;
  /** Kubernetes: the kubeconfig file (`null`: `KUBECONFIG`, else `~/.kube/config`, else in-cluster). */
  kubeconfig: string | null;
  /** Namespace every object of the run lives in. */
  namespace: string;
}

/** Where the judge's telemetry comes from. */
export interface TelemetryPlan {
  /** `scrape`: the local data plane's `/metrics`; `prometheus`: a Prometheus-compatible API. */
  source: 'scrape' | 'prometheus';
  /** Base URL of the Prometheus API (`prometheus` only). */
  url: string | null;
}

/** One deployment of the service under canary. */
export interface TrackPlan {
  track: TrackName;
  /** Workload (Deployment) name, e.g. `account-canary`. */
  workload: string;
  version: string;
  /** Environment overrides on top of the manifest's, e.g. the knobs of a misbehaving canary. */
  env: Record<string, string>;
  /** Container image (Kubernetes engine): the manifest's, or `--image SERVICE=REF` for the canary. */
  image?: string;
}

export interface StagePlan {
  /** `header`, `weighted-5`, `weighted-10`, ... */
  name: string;
  kind: 'header' | 'weighted';
  route: RoutePlan;
  minDurationMs: number;
  maxDurationMs: number;
  /** Requests per compared arm before the stage may promote. */
  minSamples: number;
  /**
   * Requests per compared arm the load should bring by the stage's maximum duration (rate × cohort
   * and route shares × weight × duration); the sequential tests are tuned to be sharpest there.
   */
  expectedSamplesPerArm: number;
}

export interface ComparisonPlan {
  /** The workloads the judge compares; `control` is the baseline track or, with `--baseline primary`, the primary. */
  control: { track: 'baseline' | 'primary'; workload: string };
  treatment: { track: 'canary'; workload: string };
  /** True with `--baseline primary`: the primary is warm and carries most traffic, so the comparison is biased. */
  biased: boolean;
  /** Why, in one line, when `biased`. */
  note: string | null;
}

export interface InconclusivePolicy {
  /** What happens when the last look is inconclusive: the safe default rolls back. */
  action: 'rollback' | 'promote';
  /** Exit code of an inconclusive run (DESIGN.md: 2). */
  exitCode: number;
  /**
   * A verdict reached on unreliable load (report/load-health.ts): `inconclusive` (exit 2, the default)
   * or `warn` (the verdict stands; the reports say the load was unreliable).
   */
  onUnreliableLoad?: 'inconclusive' | 'warn';
}

export interface CanaryPlan {
  engine: Engine;
  /** Service under canary (`account`), its routing host, VirtualService name, namespace and per-route timeout (`10s`) from the manifests. */
  target: { service: string; host: string; virtualService: string; namespace: string; routeTimeout: string | null };
  scenario: Scenario;
  tracks: TrackPlan[];
  comparison: ComparisonPlan;
  /** Who the load sends as (`end-user` header), from the traffic model of `load/lib/cohorts.ts`. */
  cohorts: Cohort[];
  header: { canary: CohortMatch; baseline: CohortMatch | null };
  stages: StagePlan[];
  /** Where the run happens (engine, context, namespace). */
  platform: PlatformPlan;
  /**
   * The load: driver, total rate, and where it enters (`gateway`: the ingress URL; `null` on the
   * local engine, whose gateway is known only once it has started).
   */
  load: {
    driver: DriverChoice;
    ratePerSecond: number;
    gateway: string | null;
    /** k6-operator: runner Jobs of the TestRun, each sending its share of the rate. */
    parallelism?: number;
  };
  telemetry: TelemetryPlan;
  /**
   * What each look judges: `run` = everything since the first stage began (one anytime-valid test
   * across the run; each stage still runs its own minimum duration at its weight), `stage` = only the
   * current stage's intervals (Flagger's and Kayenta's per-step windows; needs the minimum evidence
   * again at every stage, so it takes several times longer at the same rate).
   */
  evidence: 'run' | 'stage';
  /** How often telemetry is read and the judge looks. */
  intervalMs: number;
  inconclusive: InconclusivePolicy;
  /** Ask a person on the TTY before promotion. */
  confirm: boolean;
  /** Analysis configuration file the plan came from. */
  analysisFile: string;
  /** Lines `--dry-run` and the reports show as caveats (e.g. the biased comparison). */
  notes: string[];
}
