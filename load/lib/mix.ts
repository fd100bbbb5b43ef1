/**
 * The request mix over the bff API (DESIGN.md, "The reference mesh app"): which routes a user calls
 * and how often. Each route is a template (`/api/account/:id`); the id is drawn uniformly from
 * 1..`idRange`. Pure module shared by the k6 scripts and the builtin driver.
 */

export type RouteName = 'account-list' | 'account-by-id' | 'friend-list' | 'friend-by-id' | 'profile';

export interface RouteSpec {
  name: RouteName;
  method: 'GET';
  /** Path template; `:id` is replaced by the drawn id. Also the `route` label of the results. */
  template: string;
}

export const BFF_ROUTES: Readonly<Record<RouteName, RouteSpec>> = {
  'account-list': { name: 'account-list', method: 'GET', template: '/api/account' },
  'account-by-id': { name: 'account-by-id', method: 'GET', template: '/api/account/:id' },
  'friend-list': { name: 'friend-list', method: 'GET', template: '/api/friend' },
  'friend-by-id': { name: 'friend-by-id', method: 'GET', template: '/api/friend/:id' },
  profile: { name: 'profile', method: 'GET', template: '/api/profile/:id' },
};

export interface RequestMix {
  /** Relative weights; routes left out or weighted 0 are never called. */
  weights: Partial<Record<RouteName, number>>;
  /** Ids are drawn from 1..idRange. */
  idRange: number;
}

/**
 * The default mix leans on the routes that reach `account` (the service under canary) so that
 * most requests carry evidence about it, and keeps some friend-only traffic as a control.
 */
export const DEFAULT_MIX: RequestMix = {
  weights: { 'account-list': 1, 'account-by-id': 4, 'friend-list': 1, 'friend-by-id': 1, profile: 3 },
  idRange: 5,
};

export class MixSpecError extends Error {
  constructor(
    readonly spec: string,
    problem: string,
  ) {
    super(`mix "${spec}": ${problem}`);
    this.name = 'MixSpecError';
  }
}

/** Parses `route=weight,…` (e.g. `account-by-id=4,profile=3`); empty gives the default mix. */
export function parseMix(spec: string, idRange = DEFAULT_MIX.idRange): RequestMix {
  const text = spec.trim();
  if (!Number.isInteger(idRange) || idRange < 1)
    throw new MixSpecError(spec, `id range must be a positive integer, got ${idRange}`);
  if (text === '') return { weights: { ...DEFAULT_MIX.weights }, idRange };
  const weights: Partial<Record<RouteName, number>> = {};
  for (const part of text.split(',')) {
    const m = /^\s*([a-z-]+)\s*=\s*([^\s]+)\s*$/.exec(part);
    if (!m) throw new MixSpecError(spec, `"${part}" is not route=weight`);
    const [, name, weightText] = m;
    if (!(name in BFF_ROUTES))
      throw new MixSpecError(spec, `unknown route "${name}" (expected one of ${Object.keys(BFF_ROUTES).join(', ')})`);
    const weight = Number(weightText);
    if (!Number.isFinite(weight) || weight < 0)
      throw new MixSpecError(spec, `weight of "${name}" must be a non-negative number, got "${weightText}"`);
    weights[name as RouteName] = weight;
  }
  if (totalWeight({ weights, idRange }) <= 0)
    throw new MixSpecError(spec, 'at least one route needs a positive weight');
  return { weights, idRange };
}

export function formatMix(mix: RequestMix): string {
  return Object.entries(mix.weights)
    .map(([name, w]) => `${name}=${w}`)
    .join(',');
}

function totalWeight(mix: RequestMix): number {
  return Object.values(mix.weights).reduce<number>((s, w) => s + (w ?? 0), 0);
}

/** Picks a route for a uniform draw `u` in [0, 1), by cumulative weight in `BFF_ROUTES` order. */
export function routeFor(mix: RequestMix, u: number): RouteSpec {
  const total = totalWeight(mix);
  let cumulative = 0;
  let last: RouteSpec | undefined;
  for (const route of Object.values(BFF_ROUTES)) {
    const w = mix.weights[route.name] ?? 0;
    if (w <= 0) continue;
    last = route;
    cumulative += w / total;
    if (u < cumulative) return route;
  }
  if (!last) throw new Error('routeFor: the mix has no route with a positive weight');
  return last;
}

/** The concrete path of a route for a uniform id draw `u`. */
export function pathFor(route: RouteSpec, mix: RequestMix, u: number): string {
  const id = Math.min(mix.idRange, Math.floor(u * mix.idRange) + 1);
  return route.template.replace(':id', String(id));
}
