/**
 * The pure planner: analysis configuration + flags + what the manifests say about the service under
 * canary → a `CanaryPlan`. No I/O; every bad flag is a UsageError naming the flag, so a run fails with
 * exit 3 before anything starts.
 */
import type { Cohort } from '../../load/lib/cohorts.ts';
import { DEFAULT_MIX, type RequestMix, type RouteName } from '../../load/lib/mix.ts';
import { formatLatency, parseLatency, type LatencyDistribution } from '../app/knobs.ts';
import { ExitCode, UsageError } from '../core/errors.ts';
import {
  type CanaryPlan,
  DRIVER_CHOICES,
  type DriverChoice,
  type Engine,
  type PlatformPlan,
  type Scenario,
  type StagePlan,
  type TelemetryPlan,
  type TrackPlan,
} from './plan-types.ts';
import type { CohortMatch } from './route-plan.ts';

export const SCENARIOS: readonly Scenario[] = ['healthy', 'slow', 'errors', 'flaky'];
/** Flagger's and Argo Rollouts' usual progression; each step goes to the canary and to the baseline alike. */
export const DEFAULT_STEPS_PERCENT: readonly number[] = [5, 10, 25, 50];

/** Time and evidence bounds of one stage. */
export interface StageBudget {
  minDurationMs: number;
  maxDurationMs: number;
  /** Requests per compared arm before a stage may promote. */
  minSamples: number;
}

/** What the planner needs from the analysis configuration (see `analysisDefaults` in `analysis-adapter.ts`). */
export interface PlanDefaults {
  intervalMs: number;
  header: StageBudget;
  weighted: StageBudget;
  inconclusive: 'rollback' | 'promote';
  /** A verdict on unreliable load: inconclusive (the default) or kept with a warning. */
  onUnreliableLoad?: 'inconclusive' | 'warn';
}

/** The service under canary as the manifests declare it. */
export interface TargetFacts {
  service: string;
  host: string;
  virtualService: string;
  namespace: string;
  /** Timeout of the committed VirtualService's routes (`10s`), kept on every route the run applies. */
  routeTimeout: string | null;
  /** Workload names per track, e.g. `account-primary`. */
  workloads: { primary: string; baseline: string; canary: string };
  /** Version and environment of the primary's Deployment (the baseline is a fresh copy of it). */
  primaryVersion: string;
  primaryEnv: Record<string, string>;
  /** Image of the primary's first container, as the manifests give it. */
  primaryImage?: string;
}

export interface PlanFlags {
  engine: Engine;
  configFile: string;
  scenario: Scenario;
  /** Total request rate through the gateway, requests per second. */
  rate?: number;
  intervalSeconds?: number;
  /** Weighted steps in percent of untagged traffic, each given to the canary and to the baseline. */
  stagesPercent?: number[];
  baseline: 'baseline' | 'primary';
  confirm: boolean;
  /** Version the canary runs; default: the primary's version with the major part increased (v1 → v2). */
  canaryVersion?: string;
  onInconclusive?: 'rollback' | 'promote';
  /** What each look judges (see `CanaryPlan.evidence`); default `run`. */
  evidence?: 'run' | 'stage';
  /** Cohorts of the traffic model; default `RUN_COHORTS`. */
  cohorts?: Cohort[];
  /** Kubernetes: kubeconfig context (default: the current one), file and namespace (default: the manifests'). */
  context?: string;
  kubeconfig?: string;
  namespace?: string;
  /** Load driver; default `builtin`. */
  driver?: string;
  /** Where load enters the cluster (Kubernetes engine with the `builtin` or `k6` driver). */
  gateway?: string;
  /** Base URL of a Prometheus-compatible API the judge reads. */
  prometheus?: string;
  /** k6-operator runners (default 1). */
  parallelism?: number;
  /** `--image SERVICE=REF`: the canary's image (Kubernetes engine). */
  image?: { service: string; ref: string };
}

/**
 * Share of requests that reach the service under canary under the default request mix
 * (load/lib/mix.ts: account-list 1, account-by-id 4 and profile 3 of 10 call `account`).
 */
export const ACCOUNT_ROUTE_SHARE = routeShare(DEFAULT_MIX, ['account-list', 'account-by-id', 'profile']);

function routeShare(mix: RequestMix, routes: RouteName[]): number {
  const weights = Object.entries(mix.weights) as [RouteName, number][];
  const total = weights.reduce((s, [, w]) => s + w, 0);
  return weights.filter(([r]) => routes.includes(r)).reduce((s, [, w]) => s + w, 0) / total;
}

/** Default total rate: enough that the 5 % step reaches its minimum samples within a stage on a laptop. */
export const DEFAULT_RATE = 400;

/**
 * Larger tester cohorts than the load's default (5 % each): the header stage only sees testers, so
 * their share sets how fast it gathers evidence (the default judge needs about 3,000 requests per
 * arm to show non-inferiority of p99 and of a zero error ratio). Matched sizes and shares keep the
 * arms comparable.
 */
export const RUN_COHORTS: readonly Cohort[] = [
  { name: 'user', size: 1000, share: 0.4 },
  { name: 'canary-tester', size: 300, share: 0.3 },
  { name: 'baseline-tester', size: 300, share: 0.3 },
];

export function planRun(flags: PlanFlags, defaults: PlanDefaults, target: TargetFacts): CanaryPlan {
  const rate = flags.rate ?? DEFAULT_RATE;
  if (!Number.isFinite(rate) || rate <= 0)
    throw new UsageError('--rate', `expected requests per second > 0, got ${flags.rate}`);
  const intervalMs = flags.intervalSeconds === undefined ? defaults.intervalMs : flags.intervalSeconds * 1000;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0 || (flags.intervalSeconds !== undefined && intervalMs < 100)) {
    throw new UsageError('--interval', `expected seconds ≥ 0.1, got ${flags.intervalSeconds}`);
  }
  if (!SCENARIOS.includes(flags.scenario)) {
    throw new UsageError('--scenario', `expected one of ${SCENARIOS.join(', ')}, got '${flags.scenario}'`);
  }
  const againstPrimary = flags.baseline === 'primary';
  const steps = validateSteps(flags.stagesPercent ?? [...DEFAULT_STEPS_PERCENT], againstPrimary);
  const canaryVersion = flags.canaryVersion ?? nextVersion(target.primaryVersion);
  if (!/^v\d+(\.\d+)*$/.test(canaryVersion)) {
    throw new UsageError('--canary-version', `expected v<digits>[.<digits>…], got '${canaryVersion}'`);
  }

  const platform = planPlatform(flags, target);
  const driver = planDriver(flags);
  const telemetry = planTelemetry(flags);
  const images = planImages(flags, target);

  const cohorts = (flags.cohorts ?? RUN_COHORTS).map((c) => ({ ...c }));
  const canaryTesters = cohorts.find((c) => c.name === 'canary-tester');
  if (!canaryTesters || canaryTesters.share <= 0) {
    throw new UsageError('--cohorts', 'the header stage needs a canary-tester cohort with a share > 0');
  }
  const canaryMatch: CohortMatch = { cohort: 'canary-tester', pattern: 'canary-tester-[0-9]+' };
  const baselineMatch: CohortMatch | null = againstPrimary
    ? null
    : { cohort: 'baseline-tester', pattern: 'baseline-tester-[0-9]+' };
  if (!againstPrimary && !cohorts.some((c) => c.name === 'baseline-tester' && c.share > 0)) {
    throw new UsageError('--cohorts', 'comparing with a baseline needs a baseline-tester cohort with a share > 0');
  }
  const header = { canary: canaryMatch, baseline: baselineMatch };

  const knobs = scenarioEnv(flags.scenario, target.primaryEnv);
  const tracks: TrackPlan[] = [
    {
      track: 'primary',
      workload: target.workloads.primary,
      version: target.primaryVersion,
      env: { ...knobs.all },
      ...images.primary,
    },
    ...(againstPrimary
      ? []
      : [
          {
            track: 'baseline' as const,
            workload: target.workloads.baseline,
            version: target.primaryVersion,
            env: { ...knobs.all },
            ...images.primary,
          },
        ]),
    {
      track: 'canary',
      workload: target.workloads.canary,
      version: canaryVersion,
      env: { ...knobs.all, VERSION: canaryVersion, ...knobs.canary },
      ...images.canary,
    },
  ];

  const testerShare = canaryTesters.share;
  const userShare = cohorts.find((c) => c.name === 'user')?.share ?? 0;
  const evidence = flags.evidence ?? 'run';
  if (evidence !== 'run' && evidence !== 'stage')
    throw new UsageError('--evidence', `expected run or stage, got '${evidence}'`);
  const armRate = (weightPercent: number) =>
    rate * ACCOUNT_ROUTE_SHARE * (testerShare + (userShare * weightPercent) / 100);
  // With run-wide evidence, a stage's looks see the earlier stages too (assumed to end at their
  // minimum duration); the tests are tuned for the count at this stage's maximum duration.
  let before = 0;
  const perArm = (weightPercent: number, budget: StageBudget) => {
    const expected = before + armRate(weightPercent) * (budget.maxDurationMs / 1000);
    if (evidence === 'run') before += armRate(weightPercent) * (budget.minDurationMs / 1000);
    return Math.max(1, Math.round(expected));
  };
  const stages: StagePlan[] = [
    {
      name: 'header',
      kind: 'header',
      route: { kind: 'header', ...header },
      ...defaults.header,
      expectedSamplesPerArm: perArm(0, defaults.header),
    },
    ...steps.map(
      (w): StagePlan => ({
        name: `weighted-${w}`,
        kind: 'weighted',
        route: { kind: 'weighted', canary: w, baseline: againstPrimary ? 0 : w, header },
        ...defaults.weighted,
        expectedSamplesPerArm: perArm(w, defaults.weighted),
      }),
    ),
  ];
  for (const s of stages) checkBudget(s);

  const notes: string[] = [];
  const biasNote = againstPrimary
    ? 'baseline is the primary: it is warm, long-running and carries most traffic, so the comparison is biased ' +
      '(a fresh canary looks worse than it is); prefer --compare-with baseline'
    : null;
  if (biasNote) notes.push(biasNote);
  if (knobs.all.LATENCY)
    notes.push(`the manifests give ${target.service} no latency: every track runs LATENCY=${knobs.all.LATENCY}`);
  if (flags.scenario !== 'healthy')
    notes.push(`scenario ${flags.scenario}: canary knobs ${formatEnv(tracks[tracks.length - 1].env)}`);

  return {
    engine: flags.engine,
    target: {
      service: target.service,
      host: target.host,
      virtualService: target.virtualService,
      namespace: platform.namespace,
      routeTimeout: target.routeTimeout,
    },
    scenario: flags.scenario,
    tracks,
    comparison: {
      control: againstPrimary
        ? { track: 'primary', workload: target.workloads.primary }
        : { track: 'baseline', workload: target.workloads.baseline },
      treatment: { track: 'canary', workload: target.workloads.canary },
      biased: againstPrimary,
      note: biasNote,
    },
    cohorts,
    header,
    stages,
    platform,
    load: {
      driver,
      ratePerSecond: rate,
      gateway: flags.gateway ?? (driver === 'k6-operator' ? IN_CLUSTER_GATEWAY : null),
      ...(driver === 'k6-operator' ? { parallelism: flags.parallelism ?? 1 } : {}),
    },
    telemetry,
    evidence,
    intervalMs,
    inconclusive: {
      action: flags.onInconclusive ?? defaults.inconclusive,
      exitCode: ExitCode.inconclusive,
      onUnreliableLoad: defaults.onUnreliableLoad ?? 'inconclusive',
    },
    confirm: flags.confirm,
    analysisFile: flags.configFile,
    notes,
  };
}

function planPlatform(flags: PlanFlags, target: TargetFacts): PlatformPlan {
  if (flags.engine === 'local') {
    for (const [flag, v] of [
      ['--context', flags.context],
      ['--kubeconfig', flags.kubeconfig],
      ['--namespace', flags.namespace],
    ] as const)
      if (v !== undefined)
        throw new UsageError(flag, 'is a Kubernetes engine flag; the local engine runs everything as local processes');
    return { engine: 'local', context: null, kubeconfig: null, namespace: target.namespace };
  }
  const namespace = flags.namespace ?? target.namespace;
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace))
    throw new UsageError('--namespace', `expected a DNS label (lower case letters, digits, '-'), got '${namespace}'`);
  if (flags.context !== undefined && flags.context.trim() === '')
    throw new UsageError('--context', 'expected a context name of the kubeconfig, got an empty string');
  return {
    engine: 'kubernetes',
    context: flags.context ?? null,
    kubeconfig: flags.kubeconfig ?? null,
    namespace,
  };
}

/**
 * Where the k6-operator's runners send load from inside the cluster without `--gateway`: Istio's
 * default ingress gateway Service (a cluster DNS name for the runner pods, never dialled from here).
 */
export const IN_CLUSTER_GATEWAY = 'http://istio-ingressgateway.istio-system.svc.cluster.local';

function planDriver(flags: PlanFlags): DriverChoice {
  const driver = flags.driver ?? 'builtin';
  if (!(DRIVER_CHOICES as readonly string[]).includes(driver))
    throw new UsageError('--driver', `expected one of ${DRIVER_CHOICES.join(', ')}, got '${driver}'`);
  if (flags.gateway !== undefined) {
    let url: URL | null = null;
    try {
      url = new URL(flags.gateway);
    } catch {}
    if (!url || !/^https?:$/.test(url.protocol))
      throw new UsageError('--gateway', `expected an http(s) URL like http://127.0.0.1:8080, got '${flags.gateway}'`);
  }
  if (flags.parallelism !== undefined) {
    if (driver !== 'k6-operator')
      throw new UsageError('--parallelism', `is the k6-operator's number of runners; the ${driver} driver has none`);
    if (!(Number.isInteger(flags.parallelism) && flags.parallelism >= 1 && flags.parallelism <= 100))
      throw new UsageError('--parallelism', `expected a whole number of runners in 1..100, got ${flags.parallelism}`);
  }
  if (flags.engine === 'local') {
    if (driver === 'k6-operator')
      throw new UsageError(
        '--driver',
        'k6-operator runs k6 inside a cluster: it needs --context (the Kubernetes engine)',
      );
    if (flags.gateway !== undefined)
      throw new UsageError(
        '--gateway',
        'the local engine starts its own gateway; --gateway is for a cluster (--context)',
      );
    return driver as DriverChoice;
  }
  if (driver !== 'k6-operator' && flags.gateway === undefined) {
    throw new UsageError(
      '--gateway',
      `the ${driver} driver sends load from this machine: give the URL where it enters the cluster (e.g. a port-forward of the ingress gateway), or use --driver k6-operator`,
    );
  }
  return driver as DriverChoice;
}

function planTelemetry(flags: PlanFlags): TelemetryPlan {
  if (flags.prometheus !== undefined) {
    let url: URL | null = null;
    try {
      url = new URL(flags.prometheus);
    } catch {}
    if (!url || !/^https?:$/.test(url.protocol))
      throw new UsageError(
        '--prometheus',
        `expected an http(s) URL like http://127.0.0.1:9090, got '${flags.prometheus}'`,
      );
    return { source: 'prometheus', url: flags.prometheus };
  }
  if (flags.engine === 'kubernetes')
    throw new UsageError(
      '--prometheus',
      "the Kubernetes engine judges from the cluster's Prometheus: give its URL (e.g. a port-forward, http://127.0.0.1:9090)",
    );
  return { source: 'scrape', url: null };
}

function planImages(
  flags: PlanFlags,
  target: TargetFacts,
): { primary: { image?: string }; canary: { image?: string } } {
  if (flags.engine === 'local') {
    if (flags.image !== undefined)
      throw new UsageError(
        '--image',
        'the local engine runs the app as local processes, not images; --image needs --context',
      );
    return { primary: {}, canary: {} };
  }
  if (flags.image !== undefined && flags.image.service !== target.service)
    throw new UsageError(
      '--image',
      `names service '${flags.image.service}', but the service under canary is '${target.service}' (choose it with --service)`,
    );
  const primary = target.primaryImage;
  if (primary === undefined)
    throw new UsageError('--service', `the manifests give ${target.workloads.primary} no container image`);
  return { primary: { image: primary }, canary: { image: flags.image?.ref ?? primary } };
}

/** `SERVICE=REF` of `--image`. */
export function parseImageFlag(text: string): { service: string; ref: string } {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)=(\S+)$/.exec(text);
  if (!m)
    throw new UsageError('--image', `expected SERVICE=IMAGE, e.g. account=registry.example/account:v2, got '${text}'`);
  return { service: m[1]!, ref: m[3]! };
}

/** Parses `5,10,25,50`; steps must rise strictly and leave room for the primary (2w ≤ 100 with a baseline). */
export function parseSteps(text: string): number[] {
  const parts = text.split(',').map((p) => p.trim());
  const steps = parts.map(Number);
  const bad = parts.find((p, i) => p === '' || !Number.isFinite(steps[i]));
  if (bad !== undefined)
    throw new UsageError('--stages', `expected comma-separated percentages like 5,10,25,50, got '${text}'`);
  return steps;
}

function validateSteps(steps: number[], againstPrimary: boolean): number[] {
  const max = againstPrimary ? 100 : 50;
  if (steps.length === 0) throw new UsageError('--stages', 'expected at least one weighted step');
  steps.forEach((w, i) => {
    if (!Number.isInteger(w) || w <= 0 || w > max) {
      throw new UsageError(
        '--stages',
        `each step must be a whole percentage in 1..${max} (${againstPrimary ? 'canary' : 'canary and baseline each'}), got ${w}`,
      );
    }
    if (i > 0 && w <= steps[i - 1])
      throw new UsageError('--stages', `steps must rise strictly, got ${steps.join(',')}`);
  });
  return steps;
}

function checkBudget(s: StagePlan): void {
  if (!(s.minDurationMs >= 0 && s.maxDurationMs >= s.minDurationMs && s.maxDurationMs > 0)) {
    throw new UsageError(
      'stage durations',
      `${s.name}: expected 0 ≤ min ≤ max, max > 0, got ${s.minDurationMs}..${s.maxDurationMs} ms`,
    );
  }
  if (!(Number.isInteger(s.minSamples) && s.minSamples >= 0)) {
    throw new UsageError('minimum samples', `${s.name}: expected a whole number ≥ 0, got ${s.minSamples}`);
  }
}

/** v1 → v2, v1.4 → v2. */
export function nextVersion(version: string): string {
  const m = /^v(\d+)/.exec(version);
  return m ? `v${Number(m[1]) + 1}` : 'v2';
}

/**
 * When the manifests give the service under canary no latency (`LATENCY=none`), every track gets
 * this one for the run: "15 % slower" needs a latency to scale, and a few milliseconds of process
 * noise would swamp it. A lognormal with a modest spread, like a small backend call.
 */
export const REFERENCE_LATENCY = 'lognormal:median=20,sigma=0.3';

/**
 * The knobs per scenario (src/app/knobs.ts): `all` for every track of the service under canary (only
 * the reference latency above, when needed), `canary` for the canary on top, relative to the primary:
 * - `slow`: every latency parameter ×1.15 (the whole distribution about 15 % slower);
 * - `errors`: error rate +2 percentage points;
 * - `flaky`: +1 percentage point of errors and a longer latency tail (σ ×1.5): sporadic failures
 *   and stalls (the knobs have no time-varying error rate).
 */
export function scenarioEnv(
  scenario: Scenario,
  primaryEnv: Record<string, string>,
): { all: Record<string, string>; canary: Record<string, string> } {
  const declared = parseLatency(primaryEnv.LATENCY ?? 'none');
  const all: Record<string, string> = declared.kind === 'none' ? { LATENCY: REFERENCE_LATENCY } : {};
  const latency = declared.kind === 'none' ? parseLatency(REFERENCE_LATENCY) : declared;
  const errorRate = Number(primaryEnv.ERROR_RATE ?? '0') || 0;
  switch (scenario) {
    case 'healthy':
      return { all, canary: {} };
    case 'slow':
      return { all, canary: { LATENCY: formatLatency(scaleLatency(latency, 1.15, 1)) } };
    case 'errors':
      return { all, canary: { ERROR_RATE: String(round(errorRate + 0.02)) } };
    case 'flaky':
      return {
        all,
        canary: { ERROR_RATE: String(round(errorRate + 0.01)), LATENCY: formatLatency(scaleLatency(latency, 1, 1.5)) },
      };
  }
}

function scaleLatency(l: LatencyDistribution, scale: number, spread: number): LatencyDistribution {
  switch (l.kind) {
    case 'none':
      return l;
    case 'constant':
      return { kind: 'constant', ms: round(l.ms * scale) };
    case 'normal':
      return { kind: 'normal', mean: round(l.mean * scale), sd: round(l.sd * scale * spread) };
    case 'lognormal':
      return { kind: 'lognormal', median: round(l.median * scale), sigma: round(l.sigma * spread) };
  }
}

function round(x: number): number {
  return Number(x.toPrecision(6));
}

function formatEnv(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}
