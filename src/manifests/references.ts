/**
 * Checks between objects that no single schema can make, each of which Istio or the API server
 * would otherwise accept and then misroute, reject late, or ignore:
 * - route weights are not negative, and do not all add up to 0 (weights that do not sum to 100
 *   are normalised, as Istio does since 1.15, istio/istio#39544);
 * - every route's host is a Service or ServiceEntry of the set, its port (if given) one of the
 *   Service's ports, and its subset is defined by a
 *   DestinationRule for that host (else Envoy answers 503 "no healthy upstream", flag NR);
 * - regexes in matches compile with RE2, as Envoy's safe_regex does (look-ahead is refused);
 * - gateways named by a VirtualService exist (`mesh` is Istio's name for all sidecars);
 * - selectors (Service, AuthorizationPolicy, PeerAuthentication, DestinationRule subsets) match
 *   at least one workload, unless the set is a live namespace (`live`), where workloads come and go
 *   as Istio expects them to (the Kubernetes engine removes a run's baseline and canary Deployments
 *   at its end, while the DestinationRule's subsets for them stay); a Deployment's selector matches
 *   its own pod labels;
 * - no two objects share kind, namespace and name.
 * The ingress Gateway's `selector` is not checked: it selects Istio's own gateway, installed with
 * Istio and not part of these manifests.
 */
import { RE2JS } from 're2js';
import { namespaceOf } from './origin.ts';
import type { PathSegment } from './path.ts';
import type { Located, ManifestSet, Origin } from './types.ts';

export interface ReferenceProblem {
  origin: Origin;
  value: object;
  path: PathSegment[];
  expected: string;
}

type Labels = Record<string, string>;
interface Workload {
  namespace: string;
  labels: Labels;
}
interface Destination {
  host?: string;
  subset?: string;
  port?: { number?: number };
}
interface RouteDestination {
  destination?: Destination;
  weight?: number;
}
interface StringMatch {
  exact?: string;
  prefix?: string;
  regex?: string;
}
interface HttpMatch {
  uri?: StringMatch;
  method?: StringMatch;
  authority?: StringMatch;
  headers?: Record<string, StringMatch>;
  withoutHeaders?: Record<string, StringMatch>;
  queryParams?: Record<string, StringMatch>;
  gateways?: string[];
}

const routeKinds = ['http', 'tcp', 'tls'] as const;

export interface ReferenceOptions {
  /**
   * The set is what a namespace holds now, not files to deploy: a selector that matches no workload
   * at this moment is not a mistake (Istio accepts it, and routes to its subset answer 503 until
   * the pods come), so it is not reported.
   */
  live?: boolean;
}

export function referenceProblems(set: ManifestSet, opts: ReferenceOptions = {}): ReferenceProblem[] {
  const problems: ReferenceProblem[] = [];
  const report = (located: Located<object>, path: PathSegment[], expected: string): void => {
    problems.push({ origin: located.origin, value: located.value, path, expected });
  };

  const workloads = collectWorkloads(set);
  /** Whether `labels` must select a workload of `namespace` and select none. */
  const selectsNothing = (namespace: string, labels: Labels): boolean =>
    !opts.live && !workloads.some((w) => w.namespace === namespace && selects(labels, w.labels));
  const knownHosts = collectHosts(set);
  const subsetsByHost = new Map<string, { origin: Origin; names: string[] }[]>();
  for (const rule of set.destinationRules) {
    const host = fullHost(rule.value.spec?.host ?? '', namespaceOf(rule.value));
    const names = (rule.value.spec?.subsets ?? []).map((s) => s.name ?? '');
    subsetsByHost.set(host, [...(subsetsByHost.get(host) ?? []), { origin: rule.origin, names }]);
  }
  const gateways = new Set(set.gateways.map((g) => `${namespaceOf(g.value)}/${g.value.metadata?.name}`));

  for (const vs of set.virtualServices) {
    const namespace = namespaceOf(vs.value);
    const spec = (vs.value.spec ?? {}) as Record<string, unknown>;
    const checkGateway = (name: string, path: PathSegment[]): void => {
      if (name === 'mesh') return;
      const key = name.includes('/') ? name : `${namespace}/${name}`;
      if (!gateways.has(key))
        report(vs, path, `expected the name of a Gateway in the manifests (or "mesh"), got "${name}"`);
    };
    ((spec.gateways ?? []) as string[]).forEach((g, i) => checkGateway(g, ['spec', 'gateways', i]));

    for (const routeKind of routeKinds) {
      const routes = (spec[routeKind] ?? []) as { route?: RouteDestination[]; match?: HttpMatch[] }[];
      routes.forEach((route, r) => {
        const at = ['spec', routeKind, r];
        const destinations = route.route ?? [];
        destinations.forEach((d, i) => {
          if (typeof d.weight === 'number' && d.weight < 0) {
            report(vs, [...at, 'route', i, 'weight'], `expected a weight >= 0, got ${d.weight}`);
          }
          const host = d.destination?.host;
          if (!host) return; // the schema reports a missing host
          const full = fullHost(host, namespace);
          if (!hostKnown(full, knownHosts)) {
            report(
              vs,
              [...at, 'route', i, 'destination', 'host'],
              `expected the host of a Service or ServiceEntry in the manifests, got "${host}"`,
            );
          }
          const port = d.destination?.port?.number;
          const service = set.services.find(
            (s) => fullHost(s.value.metadata?.name ?? '', namespaceOf(s.value)) === full,
          );
          const ports = (service?.value.spec?.ports ?? []).map((p) => p.port);
          if (port !== undefined && service && !ports.includes(port)) {
            report(
              vs,
              [...at, 'route', i, 'destination', 'port', 'number'],
              `expected a port of Service ${service.origin.object} (${ports.join(', ')}), got ${port}`,
            );
          }
          const subset = d.destination?.subset;
          if (subset === undefined) return;
          const rules = subsetsByHost.get(full) ?? [];
          if (rules.length === 0) {
            report(
              vs,
              [...at, 'route', i, 'destination', 'subset'],
              `expected a DestinationRule for host "${host}" that defines subset "${subset}"; no DestinationRule has that host`,
            );
          } else if (!rules.some((rule) => rule.names.includes(subset))) {
            const defined = rules
              .map((rule) => `${rule.origin.object} defines ${rule.names.join(', ') || 'no subsets'}`)
              .join('; ');
            report(
              vs,
              [...at, 'route', i, 'destination', 'subset'],
              `expected a subset defined for host "${host}", got "${subset}" (${defined})`,
            );
          }
        });
        if (destinations.length > 1) {
          const total = destinations.reduce((sum, d) => sum + (d.weight ?? 0), 0);
          if (total <= 0) {
            report(
              vs,
              [...at, 'route'],
              `expected the weights of ${destinations.length} destinations to add up to more than 0, got ${total}`,
            );
          }
        }
        (route.match ?? []).forEach((match, m) => {
          const matchAt = [...at, 'match', m];
          for (const field of ['uri', 'method', 'authority'] as const)
            checkRegex(vs, match[field], [...matchAt, field], report);
          for (const field of ['headers', 'withoutHeaders', 'queryParams'] as const) {
            for (const [name, value] of Object.entries(match[field] ?? {}))
              checkRegex(vs, value, [...matchAt, field, name], report);
          }
          (match.gateways ?? []).forEach((g, i) => checkGateway(g, [...matchAt, 'gateways', i]));
        });
      });
    }
  }

  for (const rule of set.destinationRules) {
    const namespace = namespaceOf(rule.value);
    const host = rule.value.spec?.host ?? '';
    const service = set.services.find(
      (s) => fullHost(s.value.metadata?.name ?? '', namespaceOf(s.value)) === fullHost(host, namespace),
    );
    if (!service) continue; // ServiceEntry hosts select by their own workloadSelector, if any
    const serviceLabels = (service.value.spec?.selector ?? {}) as Labels;
    (rule.value.spec?.subsets ?? []).forEach((subset, i) => {
      const wanted = { ...serviceLabels, ...(subset.labels ?? {}) };
      if (selectsNothing(namespaceOf(service.value), wanted)) {
        report(
          rule,
          ['spec', 'subsets', i, 'labels'],
          `expected labels that select at least one workload of Service ${service.origin.object}, got ${JSON.stringify(subset.labels ?? {})}`,
        );
      }
    });
  }

  for (const located of set.all) {
    const { kind } = located.value;
    const spec = (located.value as { spec?: Record<string, unknown> }).spec ?? {};
    const namespace = namespaceOf(located.value);
    if (kind === 'AuthorizationPolicy' || kind === 'PeerAuthentication' || kind === 'RequestAuthentication') {
      const labels = (spec.selector as { matchLabels?: Labels } | undefined)?.matchLabels;
      if (labels && selectsNothing(namespace, labels)) {
        report(
          located,
          ['spec', 'selector', 'matchLabels'],
          `expected labels that select at least one workload in namespace ${namespace}, got ${JSON.stringify(labels)}`,
        );
      }
    }
    if (kind === 'Service' && located.value.apiVersion === 'v1') {
      const labels = spec.selector as Labels | undefined;
      if (labels && Object.keys(labels).length > 0 && selectsNothing(namespace, labels)) {
        report(
          located,
          ['spec', 'selector'],
          `expected a selector that matches at least one workload in namespace ${namespace}, got ${JSON.stringify(labels)}`,
        );
      }
    }
    if ((kind === 'Deployment' || kind === 'StatefulSet') && located.value.apiVersion === 'apps/v1') {
      const selector = (spec.selector as { matchLabels?: Labels } | undefined)?.matchLabels ?? {};
      const podLabels = ((spec.template as { metadata?: { labels?: Labels } } | undefined)?.metadata?.labels ??
        {}) as Labels;
      if (!selects(selector, podLabels)) {
        report(
          located,
          ['spec', 'selector', 'matchLabels'],
          `expected a selector that matches the pod template's labels ${JSON.stringify(podLabels)}, got ${JSON.stringify(selector)}`,
        );
      }
    }
  }

  const seen = new Map<string, Origin>();
  for (const located of set.all) {
    const { apiVersion, kind, metadata } = located.value;
    const key = `${apiVersion.split('/')[0]}/${kind}/${namespaceOf(located.value)}/${metadata?.name}`;
    const first = seen.get(key);
    if (first)
      report(
        located,
        ['metadata', 'name'],
        `expected a name not used by another ${kind}; ${first.file} defines ${first.object} too`,
      );
    else seen.set(key, located.origin);
  }
  return problems;
}

function checkRegex(
  located: Located<object>,
  match: StringMatch | undefined,
  path: PathSegment[],
  report: (located: Located<object>, path: PathSegment[], expected: string) => void,
): void {
  if (typeof match?.regex !== 'string') return;
  try {
    RE2JS.compile(match.regex);
  } catch (error) {
    report(
      located,
      [...path, 'regex'],
      `expected a valid RE2 regular expression (Istio compiles regexes with RE2), got "${match.regex}" (${(error as Error).message})`,
    );
  }
}

/** Pods of Deployments and StatefulSets, and VMs (WorkloadEntry / WorkloadGroup), with their labels. */
function collectWorkloads(set: ManifestSet): Workload[] {
  const out: Workload[] = [];
  for (const { value } of set.all) {
    const spec = (value as { spec?: Record<string, unknown> }).spec ?? {};
    const namespace = namespaceOf(value);
    if ((value.kind === 'Deployment' || value.kind === 'StatefulSet') && value.apiVersion === 'apps/v1') {
      out.push({
        namespace,
        labels: ((spec.template as { metadata?: { labels?: Labels } })?.metadata?.labels ?? {}) as Labels,
      });
    } else if (value.kind === 'WorkloadEntry') {
      out.push({ namespace, labels: (spec.labels ?? {}) as Labels });
    } else if (value.kind === 'WorkloadGroup') {
      out.push({ namespace, labels: ((spec.metadata as { labels?: Labels } | undefined)?.labels ?? {}) as Labels });
    }
  }
  return out;
}

/** Fully qualified hosts of Services, and the hosts (possibly wildcards) of ServiceEntries. */
function collectHosts(set: ManifestSet): string[] {
  const hosts = set.services.map((s) => fullHost(s.value.metadata?.name ?? '', namespaceOf(s.value)));
  for (const { value } of set.all) {
    if (value.kind !== 'ServiceEntry') continue;
    const entryHosts = ((value as { spec?: { hosts?: string[] } }).spec?.hosts ?? []).map((h) =>
      fullHost(h, namespaceOf(value)),
    );
    hosts.push(...entryHosts);
  }
  return hosts;
}

/** Istio reads a host without a dot as a Service of the object's own namespace. */
export function fullHost(host: string, namespace: string): string {
  return host.includes('.') || host.includes('*') ? host : `${host}.${namespace}.svc.cluster.local`;
}

function hostKnown(host: string, known: string[]): boolean {
  return known.some((k) => k === host || (k.startsWith('*.') && host.endsWith(k.slice(1))));
}

function selects(selector: Labels, labels: Labels): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}
