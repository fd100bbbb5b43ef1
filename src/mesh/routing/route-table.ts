/**
 * The routing engine of the local data plane, pure: VirtualServices and DestinationRules compiled into
 * a route table, and one function that resolves a request to a routing decision.
 *
 * Istio semantics (https://istio.io/latest/docs/reference/config/networking/virtual-service/):
 * - `http` routes are evaluated in order, the first whose `match` matches wins;
 * - the blocks of `match` are ORed, the conditions inside one block are ANDed, no `match` matches all;
 * - `uri`, `method`, `authority`, `headers`, `queryParams` are StringMatches (regex is a full match);
 *   `uri` is matched against the path without the query string, as Envoy does;
 * - a route's destinations are chosen with probability weight / sum of weights;
 * - a destination's `subset` names a DestinationRule subset, which selects replicas by labels;
 * - `fault.delay` / `fault.abort` apply to `percentage.value` % of requests, and to none when it is unset
 *   (istio/istio#36303: Envoy's behaviour, and Istio's documentation since);
 * - `timeout` bounds the whole request including retries; `retries.attempts` counts *re*-tries.
 * A VirtualService with no `gateways` applies to the mesh (sidecars); one bound to gateways applies at
 * the ingress gateway, and to sidecars only when it also lists `mesh`.
 */
import { ConfigError } from '../../core/errors.ts';
import type { MeshEndpoint, ProxyConfig } from '../config.ts';
import { parseDurationMs } from './duration.ts';
import { Cluster, loadBalancerPolicy, type LoadBalancerPolicy, type RandomSource } from './load-balancer.ts';
import {
  compileStringMatch,
  InvalidMatchError,
  type RegexCache,
  type StringMatchSpec,
  type StringPredicate,
} from './string-match.ts';

/** Where the request is being routed: at the ingress gateway, or in a sidecar of the mesh. */
export type RouteContext = 'gateway' | 'mesh';

export interface RouteRequest {
  context: RouteContext;
  /** Authority: the `Host` header at the gateway, the called service's name in the mesh. */
  host: string;
  method: string;
  /** Path with its query string, as received. */
  uri: string;
  /** Lower-case header names, as Node's `IncomingMessage.headers` gives them. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  sourceLabels?: Readonly<Record<string, string>>;
  sourceNamespace?: string;
}

export interface RetryConditions {
  status5xx: boolean;
  gatewayError: boolean;
  connectFailure: boolean;
  reset: boolean;
  retriable4xx: boolean;
  statusCodes: ReadonlySet<number>;
}

export interface RetryPolicy {
  /** Retries after the first try (Istio's `attempts`). */
  attempts: number;
  /** 0 = no per-try limit. */
  perTryTimeoutMs: number;
  retryOn: RetryConditions;
}

export interface RouteDecision {
  /** `VirtualService name / route name or index`, or `default` when no VirtualService applies. */
  routeName: string;
  service: string;
  subset?: string;
  cluster: Cluster;
  /** Fault injection, already sampled against its percentage: 0 = none. */
  delayMs: number;
  abortStatus: number;
  /** 0 = no route timeout. */
  timeoutMs: number;
  retries: RetryPolicy;
}

export interface RouteTableOptions {
  /** Uniform [0, 1): weights, fault percentages, RANDOM and LEAST_REQUEST picks. Inject for tests. */
  random?: RandomSource;
  /** The file an object came from, so errors can name it. */
  originOf?: (kind: string, name: string) => string | undefined;
}

// Istio's default retry policy is 2 retries on "connect-failure,refused-stream,unavailable,cancelled,
// retriable-status-codes(503)". Retrying 503s would hide a failing canary from source-side metrics
// while inflating its destination-side request count, so the local data plane keeps only the
// connection-level conditions.
const DEFAULT_RETRIES: RetryPolicy = {
  attempts: 2,
  perTryTimeoutMs: 0,
  retryOn: {
    status5xx: false,
    gatewayError: false,
    connectFailure: true,
    reset: false,
    retriable4xx: false,
    statusCodes: new Set(),
  },
};

// Istio's default load balancer (and Envoy's): LEAST_REQUEST, power of two random choices.
const DEFAULT_POLICY: LoadBalancerPolicy = 'LEAST_REQUEST';

interface WeightedCluster {
  cluster: Cluster;
  subset?: string;
  service: string;
  weight: number;
}

interface CompiledRoute {
  name: string;
  /** Empty: matches every request. */
  matches: ((req: PreparedRequest) => boolean)[];
  destinations: WeightedCluster[];
  totalWeight: number;
  delay?: { ms: number; percent: number };
  abort?: { status: number; percent: number };
  timeoutMs: number;
  retries: RetryPolicy;
}

interface GatewayBinding {
  hosts: ((host: string) => boolean)[];
  routes: CompiledRoute[];
}

interface PreparedRequest extends RouteRequest {
  path: string;
  query: URLSearchParams | undefined;
}

export class RouteTable {
  constructor(
    private readonly meshRoutes: ReadonlyMap<string, CompiledRoute[]>,
    private readonly gatewayBindings: readonly GatewayBinding[],
    private readonly serviceClusters: ReadonlyMap<string, Cluster>,
    private readonly random: RandomSource,
  ) {}

  /** Routes a request; `undefined` means no route (Envoy answers 404 with response flag NR). */
  resolve(req: RouteRequest): RouteDecision | undefined {
    const q = req.uri.indexOf('?');
    const prepared: PreparedRequest = {
      ...req,
      path: q < 0 ? req.uri : req.uri.slice(0, q),
      query: undefined,
    };
    if (q >= 0) prepared.query = new URLSearchParams(req.uri.slice(q + 1));
    let routes: CompiledRoute[] | undefined;
    if (req.context === 'gateway') {
      const host = stripPort(req.host).toLowerCase();
      routes = this.gatewayBindings.find((b) => b.hosts.some((h) => h(host)))?.routes;
      if (!routes) return undefined;
    } else {
      const service = serviceOfHost(req.host);
      routes = this.meshRoutes.get(service);
      if (!routes) {
        const cluster = this.serviceClusters.get(service);
        if (!cluster) return undefined;
        return {
          routeName: 'default',
          service,
          cluster,
          delayMs: 0,
          abortStatus: 0,
          timeoutMs: 0,
          retries: DEFAULT_RETRIES,
        };
      }
    }
    for (const route of routes) {
      if (route.matches.length > 0 && !route.matches.some((m) => m(prepared))) continue;
      return this.decide(route);
    }
    return undefined;
  }

  /** Every cluster (service and subset) the table routes to, for proxies that pool connections. */
  clusters(): Cluster[] {
    return [...this.serviceClusters.values()];
  }

  private decide(route: CompiledRoute): RouteDecision {
    let chosen = route.destinations[0];
    if (route.destinations.length > 1) {
      let x = this.random() * route.totalWeight;
      for (const d of route.destinations) {
        x -= d.weight;
        if (x < 0) {
          chosen = d;
          break;
        }
      }
    }
    const delayMs = route.delay && this.sample(route.delay.percent) ? route.delay.ms : 0;
    const abortStatus = route.abort && this.sample(route.abort.percent) ? route.abort.status : 0;
    return {
      routeName: route.name,
      service: chosen.service,
      subset: chosen.subset,
      cluster: chosen.cluster,
      delayMs,
      abortStatus,
      timeoutMs: route.timeoutMs,
      retries: route.retries,
    };
  }

  private sample(percent: number): boolean {
    return percent >= 100 || (percent > 0 && this.random() * 100 < percent);
  }
}

// ---- compilation -------------------------------------------------------------------------------

/** A loose, read-only view of the parts of a VirtualService the engine uses. */
interface HttpMatchView {
  uri?: StringMatchSpec;
  method?: StringMatchSpec;
  authority?: StringMatchSpec;
  headers?: Record<string, StringMatchSpec>;
  withoutHeaders?: Record<string, StringMatchSpec>;
  queryParams?: Record<string, StringMatchSpec>;
  sourceLabels?: Record<string, string>;
  sourceNamespace?: string;
  gateways?: string[];
  ignoreUriCase?: boolean;
}
interface PercentView {
  percentage?: { value?: number };
  percent?: number;
}
interface HttpRouteView {
  name?: string;
  match?: HttpMatchView[];
  route?: { destination?: { host?: string; subset?: string }; weight?: number }[];
  fault?: { delay?: PercentView & { fixedDelay?: string }; abort?: PercentView & { httpStatus?: number } };
  timeout?: string;
  retries?: { attempts?: number; perTryTimeout?: string; retryOn?: string };
}
interface VirtualServiceView {
  metadata?: { name?: string; namespace?: string };
  spec?: { hosts?: string[]; gateways?: string[]; http?: HttpRouteView[] };
}
interface DestinationRuleView {
  metadata?: { name?: string; namespace?: string };
  spec?: {
    host?: string;
    trafficPolicy?: { loadBalancer?: { simple?: string } };
    subsets?: {
      name?: string;
      labels?: Record<string, string>;
      trafficPolicy?: { loadBalancer?: { simple?: string } };
    }[];
  };
}

export function compileRouteTable(config: ProxyConfig, options: RouteTableOptions = {}): RouteTable {
  const random = options.random ?? Math.random;
  const originOf = options.originOf ?? (() => undefined);
  const fail = (
    kind: string,
    meta: { name?: string; namespace?: string } | undefined,
    path: string,
    problem: string,
  ): never => {
    const name = meta?.name ?? '(unnamed)';
    const file = originOf(kind, name) ?? `${kind} ${name}`;
    throw new ConfigError(file, `${kind}/${meta?.namespace ?? 'default'}/${name} ${path}`, problem);
  };

  const endpointsByService = new Map<string, MeshEndpoint[]>();
  for (const s of config.services) endpointsByService.set(serviceOfHost(s), []);
  for (const e of config.endpoints) {
    const list = endpointsByService.get(e.service) ?? [];
    list.push(e);
    endpointsByService.set(e.service, list);
  }

  // DestinationRules: the load balancer of each service and the label selector of each subset.
  const rules = new Map<
    string,
    { policy: LoadBalancerPolicy; subsets: Map<string, { labels: Record<string, string>; policy: LoadBalancerPolicy }> }
  >();
  for (const raw of config.destinationRules as DestinationRuleView[]) {
    const spec = raw.spec ?? {};
    if (!spec.host) fail('DestinationRule', raw.metadata, 'spec.host', 'is required');
    const service = serviceOfHost(spec.host!);
    const policyOf = (simple: string | undefined, path: string): LoadBalancerPolicy | undefined => {
      try {
        return loadBalancerPolicy(simple);
      } catch (err) {
        return fail('DestinationRule', raw.metadata, path, (err as Error).message);
      }
    };
    const policy =
      policyOf(spec.trafficPolicy?.loadBalancer?.simple, 'spec.trafficPolicy.loadBalancer.simple') ?? DEFAULT_POLICY;
    const subsets = new Map<string, { labels: Record<string, string>; policy: LoadBalancerPolicy }>();
    (spec.subsets ?? []).forEach((s, i) => {
      if (!s.name) fail('DestinationRule', raw.metadata, `spec.subsets[${i}].name`, 'is required');
      subsets.set(s.name!, {
        labels: s.labels ?? {},
        policy:
          policyOf(s.trafficPolicy?.loadBalancer?.simple, `spec.subsets[${i}].trafficPolicy.loadBalancer.simple`) ??
          policy,
      });
    });
    rules.set(service, { policy, subsets });
  }

  const clusters = new Map<string, Cluster>();
  const serviceClusters = new Map<string, Cluster>();
  for (const [service, endpoints] of endpointsByService) {
    const cluster = new Cluster(service, undefined, endpoints, rules.get(service)?.policy ?? DEFAULT_POLICY, random);
    clusters.set(service, cluster);
    serviceClusters.set(service, cluster);
  }
  const clusterFor = (service: string, subset: string | undefined): Cluster | undefined => {
    const key = subset === undefined ? service : `${service}|${subset}`;
    let cluster = clusters.get(key);
    if (cluster) return cluster;
    const endpoints = endpointsByService.get(service);
    const def = subset === undefined ? undefined : rules.get(service)?.subsets.get(subset);
    if (!endpoints || !def) return undefined;
    const selected = endpoints.filter((e) => Object.entries(def.labels).every(([k, v]) => e.labels[k] === v));
    cluster = new Cluster(service, subset, selected, def.policy, random);
    clusters.set(key, cluster);
    return cluster;
  };

  const gatewayNames = new Set(config.gatewayNames.map(shortGatewayName));
  // Every RE2 pattern of the table compiles once, however many routes and contexts use it.
  const regexes: RegexCache = new Map();
  const meshRoutes = new Map<string, CompiledRoute[]>();
  const gatewayBindings: GatewayBinding[] = [];

  for (const raw of config.virtualServices as VirtualServiceView[]) {
    const meta = raw.metadata;
    const spec = raw.spec ?? {};
    const vsName = meta?.name ?? '(unnamed)';
    const hosts = spec.hosts ?? [];
    if (hosts.length === 0) fail('VirtualService', meta, 'spec.hosts', 'is required (at least one host)');
    const bound = (spec.gateways ?? []).map(shortGatewayName);
    const atMesh = bound.length === 0 || bound.includes('mesh');
    const atGateway = bound.some((g) => gatewayNames.has(g));
    const unknownGateway = bound.find((g) => g !== 'mesh' && !gatewayNames.has(g));
    if (unknownGateway)
      fail(
        'VirtualService',
        meta,
        'spec.gateways',
        `names gateway ${JSON.stringify(unknownGateway)}, which no Gateway object defines`,
      );

    const compileRoutes = (context: RouteContext): CompiledRoute[] =>
      (spec.http ?? []).map((r, i) => compileRoute(r, i, context));
    const compileRoute = (r: HttpRouteView, i: number, context: RouteContext): CompiledRoute => {
      const at = `spec.http[${i}]`;
      const matches = (r.match ?? []).map((m, j) => {
        try {
          return compileMatch(m, context, gatewayNames, regexes);
        } catch (err) {
          const field = err instanceof InvalidMatchError && err.field ? `.${err.field}` : '';
          return fail('VirtualService', meta, `${at}.match[${j}]${field}`, (err as Error).message);
        }
      });
      const dests = r.route ?? [];
      if (dests.length === 0)
        fail(
          'VirtualService',
          meta,
          `${at}.route`,
          'needs at least one destination (redirects and direct responses are not supported locally)',
        );
      const destinations = dests.map((d, j): WeightedCluster => {
        const host = d.destination?.host;
        if (!host) return fail('VirtualService', meta, `${at}.route[${j}].destination.host`, 'is required');
        const service = serviceOfHost(host);
        if (!endpointsByService.has(service)) {
          return fail(
            'VirtualService',
            meta,
            `${at}.route[${j}].destination.host`,
            `${JSON.stringify(host)} is not a service of the mesh`,
          );
        }
        const subset = d.destination?.subset;
        const cluster = clusterFor(service, subset);
        if (!cluster) {
          return fail(
            'VirtualService',
            meta,
            `${at}.route[${j}].destination.subset`,
            `subset ${JSON.stringify(subset)} is not defined by any DestinationRule for host ${JSON.stringify(host)}`,
          );
        }
        const weight = d.weight ?? (dests.length === 1 ? 100 : 0);
        if (!Number.isFinite(weight) || weight < 0)
          fail('VirtualService', meta, `${at}.route[${j}].weight`, `must be a non-negative number, got ${weight}`);
        return { cluster, service, subset, weight };
      });
      const totalWeight = destinations.reduce((s, d) => s + d.weight, 0);
      if (totalWeight <= 0) fail('VirtualService', meta, `${at}.route`, 'the weights sum to 0');
      const duration = (text: string | undefined, path: string): number => {
        if (text === undefined) return 0;
        try {
          return parseDurationMs(text);
        } catch (err) {
          return fail('VirtualService', meta, path, (err as Error).message);
        }
      };
      const retryOnOf = (text: string | undefined, path: string): RetryConditions => {
        try {
          return parseRetryOn(text);
        } catch (err) {
          return fail('VirtualService', meta, path, (err as Error).message);
        }
      };
      const percentOf = (p: PercentView, path: string): number => {
        const v = p.percentage?.value ?? p.percent ?? 0;
        if (!(v >= 0 && v <= 100)) fail('VirtualService', meta, path, `percentage must be within 0..100, got ${v}`);
        return v;
      };
      const delay = r.fault?.delay;
      const abort = r.fault?.abort;
      if (abort && !(Number.isInteger(abort.httpStatus) && abort.httpStatus! >= 200 && abort.httpStatus! <= 599)) {
        fail(
          'VirtualService',
          meta,
          `${at}.fault.abort.httpStatus`,
          `must be an HTTP status 200..599, got ${abort.httpStatus}`,
        );
      }
      return {
        name: `${vsName}/${r.name ?? i}`,
        matches,
        destinations,
        totalWeight,
        delay: delay
          ? {
              ms: duration(delay.fixedDelay ?? '0s', `${at}.fault.delay.fixedDelay`),
              percent: percentOf(delay, `${at}.fault.delay.percentage`),
            }
          : undefined,
        abort: abort
          ? { status: abort.httpStatus!, percent: percentOf(abort, `${at}.fault.abort.percentage`) }
          : undefined,
        timeoutMs: duration(r.timeout, `${at}.timeout`),
        retries: r.retries
          ? {
              attempts: r.retries.attempts ?? 0,
              perTryTimeoutMs: duration(r.retries.perTryTimeout, `${at}.retries.perTryTimeout`),
              retryOn: retryOnOf(r.retries.retryOn, `${at}.retries.retryOn`),
            }
          : DEFAULT_RETRIES,
      };
    };

    if (atMesh) {
      const routes = compileRoutes('mesh');
      for (const host of hosts) {
        const service = serviceOfHost(host);
        meshRoutes.set(service, [...(meshRoutes.get(service) ?? []), ...routes]);
      }
    }
    if (atGateway) gatewayBindings.push({ hosts: hosts.map(hostPredicate), routes: compileRoutes('gateway') });
  }
  return new RouteTable(meshRoutes, gatewayBindings, serviceClusters, random);
}

function compileMatch(
  m: HttpMatchView,
  context: RouteContext,
  gatewayNames: ReadonlySet<string>,
  regexes: RegexCache,
): (req: PreparedRequest) => boolean {
  const checks: ((req: PreparedRequest) => boolean)[] = [];
  if (m.gateways && m.gateways.length > 0) {
    const names = m.gateways.map(shortGatewayName);
    const applies = context === 'mesh' ? names.includes('mesh') : names.some((g) => gatewayNames.has(g));
    if (!applies) return () => false;
  }
  // A pattern RE2 refuses names its field: `headers.end-user.regex`.
  const compile = (spec: StringMatchSpec, field: string, ignoreCase = false): StringPredicate => {
    try {
      return compileStringMatch(spec, ignoreCase, regexes);
    } catch (err) {
      if (err instanceof InvalidMatchError)
        throw new InvalidMatchError(err.message, spec.regex === undefined ? field : `${field}.regex`);
      throw err;
    }
  };
  if (m.uri) {
    const p = compile(m.uri, 'uri', m.ignoreUriCase ?? false);
    checks.push((r) => p(r.path));
  }
  if (m.method) {
    const p = compile(m.method, 'method');
    checks.push((r) => p(r.method));
  }
  if (m.authority) {
    const p = compile(m.authority, 'authority');
    checks.push((r) => p(r.host));
  }
  for (const [name, spec] of Object.entries(m.headers ?? {})) {
    const key = name.toLowerCase();
    const p = compile(spec, `headers.${name}`);
    checks.push((r) => p(headerValue(r.headers, key)));
  }
  // Istio sets Envoy's `invert_match` for these; Envoy's inverted matcher on an absent header is true,
  // whatever the StringMatch (exact, prefix or regex): a request without the header is "without" it.
  for (const [name, spec] of Object.entries(m.withoutHeaders ?? {})) {
    const key = name.toLowerCase();
    const p = compile(spec, `withoutHeaders.${name}`);
    checks.push((r) => {
      const v = headerValue(r.headers, key);
      return v === undefined || !p(v);
    });
  }
  for (const [name, spec] of Object.entries(m.queryParams ?? {})) {
    const p = compile(spec, `queryParams.${name}`);
    checks.push((r) => p(r.query?.get(name) ?? undefined));
  }
  if (m.sourceLabels) {
    const want = Object.entries(m.sourceLabels);
    checks.push((r) => want.every(([k, v]) => r.sourceLabels?.[k] === v));
  }
  if (m.sourceNamespace) {
    const ns = m.sourceNamespace;
    checks.push((r) => r.sourceNamespace === ns);
  }
  return (req) => {
    for (const c of checks) if (!c(req)) return false;
    return true;
  };
}

/**
 * Conditions that can never hold locally, accepted so Istio's default list parses: the gRPC statuses
 * (no gRPC here) and `retriable-status-codes`, whose codes Istio passes as plain numbers.
 */
const NO_OP_RETRY_ON = new Set([
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
  'retriable-status-codes',
]);

function parseRetryOn(text: string | undefined): RetryConditions {
  const c = {
    status5xx: false,
    gatewayError: false,
    connectFailure: false,
    reset: false,
    retriable4xx: false,
    statusCodes: new Set<number>(),
  };
  // Istio's default retryOn when `retries` is given without it.
  for (const raw of (text ?? 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes').split(
    ',',
  )) {
    const t = raw.trim();
    if (t === '5xx') c.status5xx = true;
    else if (t === 'gateway-error') c.gatewayError = true;
    else if (t === 'connect-failure' || t === 'refused-stream') c.connectFailure = true;
    else if (t === 'reset') c.reset = true;
    else if (t === 'retriable-4xx') c.retriable4xx = true;
    else if (/^\d{3}$/.test(t)) c.statusCodes.add(Number(t));
    else if (!NO_OP_RETRY_ON.has(t))
      throw new Error(
        `retry condition ${JSON.stringify(t)} is not supported by the local data plane (5xx, gateway-error, connect-failure, refused-stream, reset, retriable-4xx, status codes; gRPC conditions are accepted and never match)`,
      );
  }
  return c;
}

function headerValue(headers: RouteRequest['headers'], key: string): string | undefined {
  const v = headers[key];
  return Array.isArray(v) ? v.join(',') : v;
}

function stripPort(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const i = host.lastIndexOf(':');
  return i < 0 ? host : host.slice(0, i);
}

function hostPredicate(pattern: string): (host: string) => boolean {
  const p = pattern.toLowerCase();
  if (p === '*') return () => true;
  if (p.startsWith('*.')) {
    const suffix = p.slice(1);
    return (h) => h.endsWith(suffix);
  }
  return (h) => h === p;
}

/**
 * `account`, `account.sprincube`, `account.sprincube.svc` and `account.sprincube.svc.cluster.local`
 * all name the mesh service `account` (Kubernetes short names); any other host is kept whole.
 */
export function serviceOfHost(host: string): string {
  const h = host.toLowerCase();
  const labels = h.split('.');
  if (labels.length <= 2 || (labels.length === 3 && labels[2] === 'svc') || h.endsWith('.svc.cluster.local'))
    return labels[0];
  return h;
}

/** `istio-system/sprincube-gateway` and `sprincube-gateway` name the same Gateway. */
function shortGatewayName(name: string): string {
  const slash = name.indexOf('/');
  return slash < 0 ? name : name.slice(slash + 1);
}
