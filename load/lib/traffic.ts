/**
 * The traffic model: request number `seq` → who sends it (cohort, `end-user`) and what it asks for
 * (route, path). Both runners call `plannedRequest` with the same sequence numbers (k6: the scenario's
 * `iterationInTest`; builtin: the arrival index), so they send the same traffic. Pure module.
 */
import { type Cohort, type CohortName, DEFAULT_COHORTS, cohortFor, parseCohorts, userId } from './cohorts.ts';
import { type RequestMix, type RouteName, DEFAULT_MIX, parseMix, pathFor, routeFor } from './mix.ts';
import { type StageProfile, parseDurationS, parseRampStages, parseRate } from './profile.ts';
import { Stream, uniformAt } from './random.ts';

export interface TrafficModel {
  cohorts: Cohort[];
  mix: RequestMix;
  /** Seed of the per-request draws; the same seed gives the same request sequence. */
  seed: number;
}

export interface PlannedRequest {
  seq: number;
  method: 'GET';
  /** Concrete path, e.g. `/api/account/3`. */
  path: string;
  /** Route template, e.g. `/api/account/:id`: the `route` label of the results. */
  route: string;
  routeName: RouteName;
  cohort: CohortName;
  /** Value of the `end-user` header. */
  user: string;
}

export const DEFAULT_SEED = 1;

export function defaultTrafficModel(): TrafficModel {
  return {
    cohorts: DEFAULT_COHORTS.map((c) => ({ ...c })),
    mix: { ...DEFAULT_MIX, weights: { ...DEFAULT_MIX.weights } },
    seed: DEFAULT_SEED,
  };
}

export function plannedRequest(model: TrafficModel, seq: number): PlannedRequest {
  return compiled(model)(seq);
}

/**
 * The same function as `plannedRequest`, with the cumulative tables and the id paths built once per
 * model (the builtin driver calls it tens of thousands of times a second). The tables are built by
 * `cohortFor`/`routeFor`/`pathFor` themselves, so the two cannot disagree.
 */
const compiledModels = new WeakMap<TrafficModel, (seq: number) => PlannedRequest>();

function compiled(model: TrafficModel): (seq: number) => PlannedRequest {
  let fn = compiledModels.get(model);
  if (fn) return fn;
  const { seed, mix, cohorts } = model;
  // Cohort and route by draw, in 1,024 cells (small: every k6 VU builds its own copy).
  const RESOLUTION = 1024;
  const cohortTable = Array.from({ length: RESOLUTION }, (_, i) => cohortFor(cohorts, i / RESOLUTION));
  const routeTable = Array.from({ length: RESOLUTION }, (_, i) => routeFor(mix, i / RESOLUTION));
  fn = (seq: number): PlannedRequest => {
    const uc = uniformAt(seed, seq, Stream.cohort);
    const ur = uniformAt(seed, seq, Stream.route);
    // The table lookup is exact only where no boundary falls inside the table cell: check it.
    let cohort = cohortTable[Math.floor(uc * RESOLUTION)];
    if (cohort !== cohortTable[Math.min(RESOLUTION - 1, Math.floor(uc * RESOLUTION) + 1)])
      cohort = cohortFor(cohorts, uc);
    let route = routeTable[Math.floor(ur * RESOLUTION)];
    if (route !== routeTable[Math.min(RESOLUTION - 1, Math.floor(ur * RESOLUTION) + 1)]) route = routeFor(mix, ur);
    return {
      seq,
      method: route.method,
      path: pathFor(route, mix, uniformAt(seed, seq, Stream.id)),
      route: route.template,
      routeName: route.name,
      cohort: cohort.name,
      user: userId(cohort, uniformAt(seed, seq, Stream.user)),
    };
  };
  compiledModels.set(model, fn);
  return fn;
}

/** The reference, uncompiled form of `plannedRequest` (tests check that both agree). */
export function plannedRequestReference(model: TrafficModel, seq: number): PlannedRequest {
  const cohort = cohortFor(model.cohorts, uniformAt(model.seed, seq, Stream.cohort));
  const route = routeFor(model.mix, uniformAt(model.seed, seq, Stream.route));
  return {
    seq,
    method: route.method,
    path: pathFor(route, model.mix, uniformAt(model.seed, seq, Stream.id)),
    route: route.template,
    routeName: route.name,
    cohort: cohort.name,
    user: userId(cohort, uniformAt(model.seed, seq, Stream.user)),
  };
}

/** Environment keys the k6 scripts read (`__ENV`) and the k6 driver sets (`--env`). */
export interface TrafficEnv {
  /** Gateway base URL, e.g. http://127.0.0.1:8080 */
  TARGET?: string;
  COHORTS?: string;
  MIX?: string;
  ID_RANGE?: string;
  SEED?: string;
  /** `constant` (default) or `ramping`. */
  PROFILE?: string;
  RATE?: string;
  DURATION?: string;
  START_RATE?: string;
  /** Ramp stages `duration:target,…`. */
  STAGES?: string;
  MAX_VUS?: string;
  /** Where `handleSummary` writes its JSON. */
  SUMMARY_FILE?: string;
  /** The service under canary; its track is read from `x-served-by` (default `account`). */
  CANARY_SERVICE?: string;
}

export function trafficFromEnv(env: Readonly<Record<string, string | undefined>>): TrafficModel {
  const seed = env.SEED === undefined || env.SEED === '' ? DEFAULT_SEED : Number(env.SEED);
  if (!Number.isInteger(seed)) throw new Error(`SEED: expected an integer, got "${env.SEED}"`);
  const idRange = env.ID_RANGE === undefined || env.ID_RANGE === '' ? DEFAULT_MIX.idRange : Number(env.ID_RANGE);
  return { cohorts: parseCohorts(env.COHORTS ?? ''), mix: parseMix(env.MIX ?? '', idRange), seed };
}

/** The stage profile from the environment; `defaults` fill in what is unset (e.g. smoke: 5 req/s, 10 s). */
export function profileFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  defaults: { rate: number; durationS: number },
): StageProfile {
  if ((env.PROFILE ?? 'constant') === 'ramping') {
    return {
      kind: 'ramping',
      startRate: env.START_RATE ? Number(env.START_RATE) : 0,
      stages: parseRampStages(env.STAGES ?? '', 'STAGES'),
    };
  }
  if (env.PROFILE !== undefined && env.PROFILE !== 'constant') {
    throw new Error(`PROFILE: expected constant or ramping, got "${env.PROFILE}"`);
  }
  return {
    kind: 'constant',
    rate: env.RATE ? parseRate(env.RATE, 'RATE') : defaults.rate,
    durationS: env.DURATION ? parseDurationS(env.DURATION, 'DURATION') : defaults.durationS,
  };
}

/**
 * The workload of `service` that served a request, from its `x-served-by` header
 * (`bff, account-canary, friend` → `account-canary` for service `account`); `-` when the request
 * did not reach the service (e.g. `/api/friend`) or the header is missing.
 */
export function trackOf(servedBy: string | undefined, service: string): string {
  if (!servedBy) return '-';
  for (const part of servedBy.split(',')) {
    const w = part.trim();
    if (w === service || w.startsWith(`${service}-`)) return w;
  }
  return '-';
}

/** The distinct workloads named in an `x-served-by` header, in order. */
export function workloadsOf(servedBy: string | undefined): string[] {
  if (!servedBy) return [];
  const out: string[] = [];
  for (const part of servedBy.split(',')) {
    const w = part.trim();
    if (w !== '' && !out.includes(w)) out.push(w);
  }
  return out;
}
