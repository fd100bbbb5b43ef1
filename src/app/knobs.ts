/**
 * Behaviour knobs: environment variables that make a workload misbehave in controlled,
 * reproducible ways, so that good and bad canaries can be staged (DESIGN.md, "The reference mesh
 * app"). Read once at start by `knobsFromEnv`; a bad value is a ConfigError naming the variable.
 *
 * | variable              | syntax / range                                   | default |
 * |-----------------------|--------------------------------------------------|---------|
 * | `LATENCY`             | `none`                                           | `none`  |
 * |                       | `constant:ms=M`           (M ≥ 0)                |         |
 * |                       | `normal:mean=M,sd=S`      (M ≥ 0, S ≥ 0; draws below 0 count as 0) | |
 * |                       | `lognormal:median=M,sigma=S` (M > 0, S ≥ 0; M·e^(S·Z), Z ~ N(0,1)) | |
 * | `ERROR_RATE`          | probability in [0, 1] that a request fails       | `0`     |
 * | `ERROR_STATUS`        | HTTP status of a failed request, 400..599        | `503`   |
 * | `SLOW_START_SECONDS`  | ≥ 0; extra latency after start, decaying linearly to 0 over this time | `0` |
 * | `SLOW_START_EXTRA_MS` | ≥ 0; the extra latency at start (t = 0)          | `200`   |
 * | `VERSION`             | `v<digits>` optionally followed by `.<digits>`…  | `v1`    |
 *
 * Example of a slow canary: `LATENCY=lognormal:median=26,sigma=0.4` against a primary with
 * `LATENCY=lognormal:median=20,sigma=0.4` (a 30 % slower median, same spread).
 */
import { ConfigError } from '../core/errors.ts';
import { standardNormal, type RandomSource } from '../core/random.ts';

export type LatencyDistribution =
  | { kind: 'none' }
  | { kind: 'constant'; ms: number }
  | { kind: 'normal'; mean: number; sd: number }
  | { kind: 'lognormal'; median: number; sigma: number };

export interface Knobs {
  latency: LatencyDistribution;
  errorRate: number;
  errorStatus: number;
  slowStartSeconds: number;
  slowStartExtraMs: number;
  version: string;
}

export const DEFAULT_KNOBS: Readonly<Knobs> = Object.freeze<Knobs>({
  latency: { kind: 'none' },
  errorRate: 0,
  errorStatus: 503,
  slowStartSeconds: 0,
  slowStartExtraMs: 200,
  version: 'v1',
});

const SOURCE = 'environment';

export function knobsFromEnv(env: NodeJS.ProcessEnv): Knobs {
  return {
    latency: env.LATENCY === undefined ? DEFAULT_KNOBS.latency : parseLatency(env.LATENCY),
    errorRate: numberVar(
      env,
      'ERROR_RATE',
      DEFAULT_KNOBS.errorRate,
      { min: 0, max: 1 },
      'a probability between 0 and 1',
    ),
    errorStatus: statusVar(env),
    slowStartSeconds: numberVar(
      env,
      'SLOW_START_SECONDS',
      DEFAULT_KNOBS.slowStartSeconds,
      { min: 0 },
      'a number of seconds ≥ 0',
    ),
    slowStartExtraMs: numberVar(
      env,
      'SLOW_START_EXTRA_MS',
      DEFAULT_KNOBS.slowStartExtraMs,
      { min: 0 },
      'milliseconds ≥ 0',
    ),
    version: versionVar(env),
  };
}

const LATENCY_SYNTAX =
  "expected 'none', 'constant:ms=M', 'normal:mean=M,sd=S' or 'lognormal:median=M,sigma=S' (milliseconds)";

const LATENCY_PARAMETERS = {
  constant: ['ms'],
  normal: ['mean', 'sd'],
  lognormal: ['median', 'sigma'],
} as const;

/** Parses the `LATENCY` syntax above; `variable` names the source in errors. */
export function parseLatency(text: string, variable = 'LATENCY'): LatencyDistribution {
  const trimmed = text.trim();
  if (trimmed === 'none' || trimmed === '') return { kind: 'none' };
  const colon = trimmed.indexOf(':');
  const kind = colon < 0 ? trimmed : trimmed.slice(0, colon);
  if (!(kind in LATENCY_PARAMETERS)) {
    throw new ConfigError(SOURCE, variable, `${LATENCY_SYNTAX}, got '${text}'`);
  }
  const wanted: readonly string[] = LATENCY_PARAMETERS[kind as keyof typeof LATENCY_PARAMETERS];
  const values = new Map<string, number>();
  const body = colon < 0 ? '' : trimmed.slice(colon + 1);
  for (const pair of body.split(',').filter((p) => p.trim() !== '')) {
    const eq = pair.indexOf('=');
    const name = (eq < 0 ? pair : pair.slice(0, eq)).trim();
    const raw = eq < 0 ? '' : pair.slice(eq + 1).trim();
    if (!wanted.includes(name)) {
      throw new ConfigError(
        SOURCE,
        variable,
        `${kind} takes ${wanted.join(', ')}; unknown parameter '${name}' in '${text}'`,
      );
    }
    if (values.has(name)) throw new ConfigError(SOURCE, variable, `parameter '${name}' given twice in '${text}'`);
    const value = raw === '' ? Number.NaN : Number(raw);
    if (!Number.isFinite(value) || value < 0) {
      throw new ConfigError(SOURCE, variable, `${name} must be a number ≥ 0, got '${raw}' in '${text}'`);
    }
    values.set(name, value);
  }
  const missing = wanted.filter((name) => !values.has(name));
  if (missing.length > 0) {
    throw new ConfigError(SOURCE, variable, `${kind} needs ${missing.join(' and ')}: ${LATENCY_SYNTAX}, got '${text}'`);
  }
  const v = (name: string) => values.get(name) as number;
  switch (kind) {
    case 'constant':
      return { kind, ms: v('ms') };
    case 'normal':
      return { kind, mean: v('mean'), sd: v('sd') };
    default:
      if (v('median') === 0) throw new ConfigError(SOURCE, variable, `lognormal median must be > 0, got '${text}'`);
      return { kind: 'lognormal', median: v('median'), sigma: v('sigma') };
  }
}

/** The inverse of `parseLatency`, for logs and reports. */
export function formatLatency(latency: LatencyDistribution): string {
  switch (latency.kind) {
    case 'none':
      return 'none';
    case 'constant':
      return `constant:ms=${latency.ms}`;
    case 'normal':
      return `normal:mean=${latency.mean},sd=${latency.sd}`;
    case 'lognormal':
      return `lognormal:median=${latency.median},sigma=${latency.sigma}`;
  }
}

/** One latency draw in milliseconds (never negative). */
export function sampleLatencyMs(latency: LatencyDistribution, random: RandomSource): number {
  switch (latency.kind) {
    case 'none':
      return 0;
    case 'constant':
      return latency.ms;
    case 'normal':
      return Math.max(0, latency.mean + latency.sd * standardNormal(random));
    case 'lognormal':
      return latency.median * Math.exp(latency.sigma * standardNormal(random));
  }
}

/** Slow start: `extraMs` at start, falling linearly to 0 at `seconds` after start. */
export function slowStartExtraMs(
  knobs: Pick<Knobs, 'slowStartSeconds' | 'slowStartExtraMs'>,
  elapsedMs: number,
): number {
  const spanMs = knobs.slowStartSeconds * 1000;
  if (spanMs <= 0 || elapsedMs >= spanMs) return 0;
  return knobs.slowStartExtraMs * (1 - Math.max(0, elapsedMs) / spanMs);
}

/** What the knobs decide for one request. */
export interface RequestFate {
  /** Wait this long before answering. */
  delayMs: number;
  /** Answer with `errorStatus` instead of doing the work. */
  fail: boolean;
}

export interface KnobsClock {
  random: RandomSource;
  /** Milliseconds, monotonic (default `performance.now`). */
  now: () => number;
  /** `now()` at the workload's start. */
  startedAt: number;
}

/**
 * Draws each request's fate. The error draw comes first and the latency draw second, always both,
 * so that a seeded run gives the same sequence whatever the error rate.
 */
export function requestFates(knobs: Knobs, clock: KnobsClock): () => RequestFate {
  const { random, now, startedAt } = clock;
  const noLatency = knobs.latency.kind === 'none' && knobs.slowStartSeconds === 0;
  const errorRate = knobs.errorRate;
  return () => {
    const fail = errorRate > 0 && random() < errorRate;
    if (noLatency) return { delayMs: 0, fail };
    return {
      delayMs: sampleLatencyMs(knobs.latency, random) + slowStartExtraMs(knobs, now() - startedAt),
      fail,
    };
  };
}

function numberVar(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  range: { min?: number; max?: number },
  expected: string,
): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw.trim());
  if (
    !Number.isFinite(value) ||
    (range.min !== undefined && value < range.min) ||
    (range.max !== undefined && value > range.max)
  ) {
    throw new ConfigError(SOURCE, name, `expected ${expected}, got '${raw}'`);
  }
  return value;
}

function statusVar(env: NodeJS.ProcessEnv): number {
  const raw = env.ERROR_STATUS;
  if (raw === undefined || raw.trim() === '') return DEFAULT_KNOBS.errorStatus;
  const value = Number(raw.trim());
  if (!Number.isInteger(value) || value < 400 || value > 599) {
    throw new ConfigError(SOURCE, 'ERROR_STATUS', `expected an HTTP error status 400..599, got '${raw}'`);
  }
  return value;
}

function versionVar(env: NodeJS.ProcessEnv): string {
  const raw = env.VERSION;
  if (raw === undefined || raw.trim() === '') return DEFAULT_KNOBS.version;
  const value = raw.trim();
  if (!/^v\d+(\.\d+)*$/.test(value)) {
    throw new ConfigError(SOURCE, 'VERSION', `expected a version like 'v1' or 'v2.1', got '${raw}'`);
  }
  return value;
}
