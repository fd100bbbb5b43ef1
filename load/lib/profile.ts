/**
 * Stage profiles: the arrival rate over time (open model). `constant` keeps one rate; `ramping` moves
 * linearly from one target to the next, like k6's `ramping-arrival-rate` executor. The builtin driver
 * schedules request k at `arrivalTime(profile, k)`, the exact inverse of the cumulative arrival count,
 * so both runners send the same number of requests over the same curve. Pure module.
 */

import { DurationSyntaxError, parseDuration } from '../../src/core/duration.ts';

export interface RampStage {
  /** Rate (requests/s) reached at the end of this stage. */
  target: number;
  durationS: number;
}

export type StageProfile =
  | { kind: 'constant'; rate: number; durationS: number }
  | { kind: 'ramping'; startRate: number; stages: RampStage[] };

export class ProfileSpecError extends Error {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field}: ${problem}`);
    this.name = 'ProfileSpecError';
  }
}

/**
 * Parses a duration: a positive number of seconds, or a k6-style `1m30s`, `20s`, `500ms`, `1h`.
 * Throws `ProfileSpecError` naming `field` for zero, negative or malformed input.
 */
export function parseDurationS(text: string | number, field = 'duration'): number {
  try {
    return parseDuration(text) / 1000;
  } catch (err) {
    if (err instanceof DurationSyntaxError) throw new ProfileSpecError(field, err.message);
    throw err;
  }
}

/** Parses a rate (requests/s): a positive finite number. */
export function parseRate(text: string | number, field = 'rate'): number {
  const v = typeof text === 'number' ? text : text.trim() === '' ? NaN : Number(text);
  if (!Number.isFinite(v) || v <= 0)
    throw new ProfileSpecError(field, `expected a positive number of requests per second, got "${text}"`);
  return v;
}

/** Parses ramp stages `duration:target,…` (e.g. `10s:100,20s:200`). */
export function parseRampStages(text: string, field = 'stages'): RampStage[] {
  const parts = text.split(',').filter((p) => p.trim() !== '');
  if (parts.length === 0) throw new ProfileSpecError(field, 'expected at least one stage like 10s:100');
  return parts.map((part) => {
    const [d, t, extra] = part.split(':');
    if (t === undefined || extra !== undefined) throw new ProfileSpecError(field, `"${part}" is not duration:target`);
    const target = Number(t);
    if (!Number.isFinite(target) || target < 0)
      throw new ProfileSpecError(field, `target of "${part}" must be a non-negative rate`);
    return { durationS: parseDurationS(d, field), target };
  });
}

export function profileDurationS(p: StageProfile): number {
  return p.kind === 'constant' ? p.durationS : p.stages.reduce((s, st) => s + st.durationS, 0);
}

/** Expected cumulative arrivals in [0, t] (the integral of the rate), t in seconds. */
export function arrivalsBy(p: StageProfile, t: number): number {
  if (t <= 0) return 0;
  if (p.kind === 'constant') return p.rate * Math.min(t, p.durationS);
  let acc = 0;
  let from = p.startRate;
  let t0 = 0;
  for (const st of p.stages) {
    const dt = Math.min(st.durationS, t - t0);
    const rateAt = from + ((st.target - from) * dt) / st.durationS;
    acc += ((from + rateAt) / 2) * dt;
    if (t - t0 <= st.durationS) return acc;
    t0 += st.durationS;
    from = st.target;
  }
  return acc;
}

/** Total number of arrivals of the whole profile (k6 rounds the same way: whole iterations only). */
export function totalArrivals(p: StageProfile): number {
  return Math.floor(arrivalsBy(p, profileDurationS(p)) + 1e-9);
}

/**
 * The intended start time (seconds from the start) of arrival number `k` (0-based): the first t with
 * arrivalsBy(t) = k. Within a linear ramp r(t) = a + b t the cumulative count is a t + b t²/2, so t is
 * the root of a quadratic. Returns `undefined` past the end of the profile.
 */
export function arrivalTime(p: StageProfile, k: number): number | undefined {
  if (k < 0) return undefined;
  if (p.kind === 'constant') {
    const t = k / p.rate;
    return t < p.durationS ? t : undefined;
  }
  let before = 0;
  let from = p.startRate;
  let t0 = 0;
  for (const st of p.stages) {
    const a = from;
    const b = (st.target - from) / st.durationS;
    const inStage = ((a + st.target) / 2) * st.durationS;
    const need = k - before;
    if (need < inStage) {
      let dt: number;
      if (need <= 0) dt = 0;
      else if (Math.abs(b) < 1e-12) dt = need / a;
      // Solve a dt + b dt²/2 = need; this form avoids cancellation when b is small.
      else dt = (2 * need) / (a + Math.sqrt(Math.max(0, a * a + 2 * b * need)));
      return t0 + Math.min(dt, st.durationS);
    }
    before += inStage;
    t0 += st.durationS;
    from = st.target;
  }
  return undefined;
}

/** The k6 scenario of a profile (executor options of `constant-arrival-rate`/`ramping-arrival-rate`). */
export function k6Scenario(p: StageProfile, exec: string, maxVUs: number): Record<string, unknown> {
  const peak = p.kind === 'constant' ? p.rate : Math.max(p.startRate, ...p.stages.map((s) => s.target));
  // Little's law with a 100 ms budget per iteration, at least 10 VUs, capped by maxVUs.
  const preAllocatedVUs = Math.min(maxVUs, Math.max(10, Math.ceil(peak * 0.1)));
  if (p.kind === 'constant') {
    return {
      executor: 'constant-arrival-rate',
      exec,
      rate: Math.round(p.rate * 1000),
      timeUnit: '1000s',
      duration: `${p.durationS}s`,
      preAllocatedVUs,
      maxVUs,
    };
  }
  return {
    executor: 'ramping-arrival-rate',
    exec,
    startRate: Math.round(p.startRate * 1000),
    timeUnit: '1000s',
    stages: p.stages.map((s) => ({ target: Math.round(s.target * 1000), duration: `${s.durationS}s` })),
    preAllocatedVUs,
    maxVUs,
  };
}

/** The rate of a profile at time t (requests/s). */
export function rateAt(p: StageProfile, t: number): number {
  if (p.kind === 'constant') return p.rate;
  let from = p.startRate;
  let t0 = 0;
  for (const st of p.stages) {
    if (t <= t0 + st.durationS) return from + ((st.target - from) * (t - t0)) / st.durationS;
    t0 += st.durationS;
    from = st.target;
  }
  return from;
}

/** Mean planned rate: total arrivals over the duration. */
export function meanRate(p: StageProfile): number {
  return p.kind === 'constant' ? p.rate : totalArrivals(p) / profileDurationS(p);
}
