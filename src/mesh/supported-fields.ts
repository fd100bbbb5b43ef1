/**
 * Which fields of the Istio objects the local data plane implements, and which it refuses. A field
 * that changed nothing locally while Istio would act on it (a `match.port` that made a route a
 * catch-all, a DENY rule on `ports` that denied everything) is worse than an error, so every field of
 * the six kinds the data plane reads is listed here, as implemented or refused, and an object that
 * sets a refused field (or one this list does not know) stops the mesh before it starts, naming the
 * file, the object and the field. `supported-fields.test.ts` walks the schemas of
 * `@kubernetes-models/istio` and fails on any field missing from this list, and checks that
 * docs/istio-fields.md is this list.
 *
 * Paths are written without indices, `*` standing for the key of a map
 * (`spec.http.match.headers.*.regex`). A refused field covers everything under it.
 */
import type { PathSegment } from '../manifests/path.ts';

export type FieldSupport =
  | { support: 'implemented'; note?: string; check?: (value: unknown) => string | undefined }
  | { support: 'refused'; note?: string };

type FieldTable = Record<string, FieldSupport>;

const I = (note?: string, check?: (value: unknown) => string | undefined): FieldSupport => ({
  support: 'implemented',
  ...(note ? { note } : {}),
  ...(check ? { check } : {}),
});
const R = (note?: string): FieldSupport => ({ support: 'refused', ...(note ? { note } : {}) });

function stringMatch(prefix: string, note?: string): FieldTable {
  return {
    [prefix]: I(note),
    [`${prefix}.exact`]: I(),
    [`${prefix}.prefix`]: I(),
    [`${prefix}.regex`]: I('RE2, whole value'),
  };
}

const VIRTUAL_SERVICE: FieldTable = {
  'spec.hosts': I(),
  'spec.gateways': I('`mesh` and the names of Gateway objects'),
  'spec.exportTo': R('one namespace locally'),
  'spec.http': I(),
  'spec.http.name': I(),
  'spec.http.match': I(),
  'spec.http.match.name': I(),
  ...stringMatch('spec.http.match.uri', 'path without the query string'),
  ...stringMatch('spec.http.match.method'),
  ...stringMatch('spec.http.match.authority'),
  'spec.http.match.headers': I(),
  ...stringMatch('spec.http.match.headers.*'),
  'spec.http.match.withoutHeaders': I(),
  ...stringMatch('spec.http.match.withoutHeaders.*', 'an absent header matches'),
  'spec.http.match.queryParams': I(),
  ...stringMatch('spec.http.match.queryParams.*'),
  'spec.http.match.ignoreUriCase': I('exact and prefix only, as Istio'),
  'spec.http.match.sourceLabels': I(),
  'spec.http.match.sourceNamespace': I(),
  'spec.http.match.gateways': I(),
  'spec.http.match.scheme': R(),
  'spec.http.match.port': R('local listeners have ports of their own'),
  'spec.http.match.statPrefix': R(),
  'spec.http.route': I(),
  'spec.http.route.destination': I(),
  'spec.http.route.destination.host': I('a Service of the mesh'),
  'spec.http.route.destination.subset': I(),
  'spec.http.route.destination.port': I('must be a port of the Service; each service listens on one port locally'),
  'spec.http.route.destination.port.number': I(
    'must be a port of the Service; each service listens on one port locally',
  ),
  'spec.http.route.weight': I('normalised when the weights do not sum to 100'),
  'spec.http.route.headers': R('header manipulation'),
  'spec.http.headers': R('header manipulation'),
  'spec.http.fault': I(),
  'spec.http.fault.delay': I(),
  'spec.http.fault.delay.fixedDelay': I(),
  'spec.http.fault.delay.percentage': I('unset: no request is delayed'),
  'spec.http.fault.delay.percentage.value': I(),
  'spec.http.fault.delay.percent': I('deprecated integer form'),
  'spec.http.fault.delay.exponentialDelay': R(),
  'spec.http.fault.abort': I(),
  'spec.http.fault.abort.httpStatus': I(),
  'spec.http.fault.abort.percentage': I('unset: no request is aborted'),
  'spec.http.fault.abort.percentage.value': I(),
  'spec.http.fault.abort.grpcStatus': R('no gRPC locally'),
  'spec.http.fault.abort.http2Error': R(),
  'spec.http.timeout': I('504 UT'),
  'spec.http.retries': I(),
  'spec.http.retries.attempts': I(),
  'spec.http.retries.perTryTimeout': I(),
  'spec.http.retries.retryOn': I(
    '5xx, gateway-error, connect-failure, refused-stream, reset, retriable-4xx, status codes',
  ),
  'spec.http.retries.retryRemoteLocalities': R('one locality locally'),
  'spec.http.rewrite': R(),
  'spec.http.redirect': R(),
  'spec.http.directResponse': R(),
  'spec.http.delegate': R(),
  'spec.http.corsPolicy': R(),
  'spec.http.mirror': R('traffic mirroring'),
  'spec.http.mirrorPercent': R('traffic mirroring'),
  'spec.http.mirror_percent': R('traffic mirroring'),
  'spec.http.mirrorPercentage': R('traffic mirroring'),
  'spec.tcp': R('HTTP routes only'),
  'spec.tls': R('HTTP routes only'),
};

function trafficPolicy(prefix: string): FieldTable {
  return {
    [prefix]: I(),
    [`${prefix}.loadBalancer`]: I(),
    [`${prefix}.loadBalancer.simple`]: I('ROUND_ROBIN, RANDOM, LEAST_REQUEST (default, power of two choices)'),
    [`${prefix}.loadBalancer.consistentHash`]: R(),
    [`${prefix}.loadBalancer.localityLbSetting`]: R('one locality locally'),
    [`${prefix}.loadBalancer.warmupDurationSecs`]: R(),
    [`${prefix}.connectionPool`]: R(),
    [`${prefix}.outlierDetection`]: R(),
    [`${prefix}.portLevelSettings`]: R(),
    [`${prefix}.tls`]: R('proxies authenticate each other on their own (see PeerAuthentication)'),
    [`${prefix}.tunnel`]: R(),
  };
}

const DESTINATION_RULE: FieldTable = {
  'spec.host': I(),
  'spec.subsets': I(),
  'spec.subsets.name': I(),
  'spec.subsets.labels': I(),
  ...trafficPolicy('spec.trafficPolicy'),
  ...trafficPolicy('spec.subsets.trafficPolicy'),
  'spec.exportTo': R('one namespace locally'),
  'spec.workloadSelector': R(),
};

/** The labels of the one ingress gateway the local data plane runs (GATEWAY_IDENTITY). */
const GATEWAY_LABELS: Readonly<Record<string, string>> = { app: 'istio-ingressgateway', istio: 'ingressgateway' };

const GATEWAY: FieldTable = {
  'spec.selector': I('must select the ingress gateway (istio: ingressgateway)', (v) => {
    const wrong = Object.entries((v ?? {}) as Record<string, string>).find(([k, x]) => GATEWAY_LABELS[k] !== x);
    return wrong
      ? `selects ${wrong[0]}=${wrong[1]}, but the local data plane runs only the ingress gateway (${Object.entries(
          GATEWAY_LABELS,
        )
          .map(([k, x]) => `${k}=${x}`)
          .join(', ')})`
      : undefined;
  }),
  'spec.servers': I(),
  'spec.servers.name': I(),
  'spec.servers.hosts': I('`*` only: the VirtualServices choose hosts', (v) => {
    const other = ((v ?? []) as string[]).find((h) => h !== '*' && !/^[^/]+\/\*$/.test(h));
    return other === undefined
      ? undefined
      : `host ${JSON.stringify(other)}: the local gateway serves every host (write "*"), and lets the VirtualServices' hosts choose`;
  }),
  'spec.servers.port': I(),
  'spec.servers.port.number': I('the local gateway listens on the port given with --port'),
  'spec.servers.port.name': I(),
  'spec.servers.port.protocol': I('HTTP only', (v) =>
    v === 'HTTP' ? undefined : `protocol ${JSON.stringify(v)}: the local gateway speaks plain HTTP only`,
  ),
  'spec.servers.port.targetPort': R(),
  'spec.servers.bind': R(),
  'spec.servers.defaultEndpoint': R(),
  'spec.servers.tls': R('no TLS at the local gateway'),
};

const SERVICE_ENTRY: FieldTable = {
  'spec.hosts': I('names the external host; routes through the local data plane to it are refused'),
  'spec.location': I('MESH_EXTERNAL only: the workload reaches the host directly', (v) =>
    v === undefined || v === 'MESH_EXTERNAL'
      ? undefined
      : `location ${JSON.stringify(v)}: the local data plane has no workloads outside its own processes`,
  ),
  'spec.ports': I('as for MESH_EXTERNAL'),
  'spec.ports.number': I(),
  'spec.ports.name': I(),
  'spec.ports.protocol': I(),
  'spec.ports.targetPort': R(),
  'spec.resolution': I('the workload resolves the host itself'),
  'spec.addresses': R(),
  'spec.endpoints': R(),
  'spec.exportTo': R('one namespace locally'),
  'spec.subjectAltNames': R(),
  'spec.workloadSelector': R(),
};

const AUTHORIZATION_POLICY: FieldTable = {
  'spec.selector': I(),
  'spec.selector.matchLabels': I(),
  'spec.action': I('ALLOW, DENY, AUDIT', (v) =>
    v === undefined || v === 'ALLOW' || v === 'DENY' || v === 'AUDIT'
      ? undefined
      : `action ${JSON.stringify(v)}: no external authorizer locally (ALLOW, DENY, AUDIT)`,
  ),
  'spec.provider': R('no external authorizer locally'),
  'spec.rules': I(),
  'spec.rules.from': I(),
  'spec.rules.from.source': I(),
  'spec.rules.from.source.principals': I('peer identity signed by the data plane'),
  'spec.rules.from.source.notPrincipals': I(),
  'spec.rules.from.source.namespaces': I(),
  'spec.rules.from.source.notNamespaces': I(),
  'spec.rules.from.source.requestPrincipals': R('no JWT authentication locally'),
  'spec.rules.from.source.notRequestPrincipals': R('no JWT authentication locally'),
  'spec.rules.from.source.ipBlocks': R('every peer is 127.0.0.1 locally'),
  'spec.rules.from.source.notIpBlocks': R('every peer is 127.0.0.1 locally'),
  'spec.rules.from.source.remoteIpBlocks': R('every peer is 127.0.0.1 locally'),
  'spec.rules.from.source.notRemoteIpBlocks': R('every peer is 127.0.0.1 locally'),
  'spec.rules.to': I(),
  'spec.rules.to.operation': I(),
  'spec.rules.to.operation.methods': I(),
  'spec.rules.to.operation.notMethods': I(),
  'spec.rules.to.operation.paths': I(),
  'spec.rules.to.operation.notPaths': I(),
  'spec.rules.to.operation.hosts': R(),
  'spec.rules.to.operation.notHosts': R(),
  'spec.rules.to.operation.ports': R('local listeners have ports of their own'),
  'spec.rules.to.operation.notPorts': R('local listeners have ports of their own'),
  'spec.rules.when': R('conditions'),
};

const PEER_AUTHENTICATION: FieldTable = {
  'spec.selector': I(),
  'spec.selector.matchLabels': I(),
  'spec.mtls': I(),
  'spec.mtls.mode': I('STRICT refuses callers without a data-plane identity; PERMISSIVE, DISABLE, UNSET'),
  'spec.portLevelMtls': R('local listeners have ports of their own'),
};

/** The kinds whose every field is listed, by kind (the same list for each of their apiVersions). */
export const FIELD_TABLES: Readonly<Record<string, FieldTable>> = {
  VirtualService: VIRTUAL_SERVICE,
  DestinationRule: DESTINATION_RULE,
  Gateway: GATEWAY,
  ServiceEntry: SERVICE_ENTRY,
  AuthorizationPolicy: AUTHORIZATION_POLICY,
  PeerAuthentication: PEER_AUTHENTICATION,
};

/** Istio kinds the local data plane does not implement at all: an object of one of them is refused. */
export const REFUSED_KINDS: Readonly<Record<string, string>> = {
  Sidecar: 'each local proxy already sees every service of the mesh',
  RequestAuthentication: 'no JWT authentication locally',
};

export interface UnsupportedField {
  path: PathSegment[];
  expected: string;
}

interface TableShape {
  /** Paths whose value is a map of objects (their keys are `*`). */
  maps: Set<string>;
  /** Paths with listed fields below them; any other implemented field is a leaf (a scalar, a list or map of them). */
  parents: Set<string>;
}
const shapes = new Map<FieldTable, TableShape>();
function shapeOf(table: FieldTable): TableShape {
  let shape = shapes.get(table);
  if (!shape) {
    const paths = Object.keys(table);
    shape = {
      maps: new Set(paths.filter((p) => p.includes('.*')).map((p) => p.slice(0, p.indexOf('.*')))),
      parents: new Set(paths.flatMap((p) => p.split('.').map((_, i, parts) => parts.slice(0, i).join('.')))),
    };
    shapes.set(table, shape);
  }
  return shape;
}

/**
 * The fields of `object` the local data plane refuses, with their paths. Kinds it neither lists nor
 * refuses (Kubernetes kinds, WorkloadEntry, WorkloadGroup) give none.
 */
export function unsupportedFields(object: { kind: string; spec?: unknown }): UnsupportedField[] {
  const refusedKind = REFUSED_KINDS[object.kind];
  if (refusedKind)
    return [{ path: ['kind'], expected: `the local data plane does not support ${object.kind} (${refusedKind})` }];
  const table = FIELD_TABLES[object.kind];
  if (!table || object.spec === undefined) return [];
  const { maps, parents } = shapeOf(table);
  const problems: UnsupportedField[] = [];
  const visit = (value: unknown, key: string, path: PathSegment[]): void => {
    if (Array.isArray(value)) {
      value.forEach((item, i) => visit(item, key, [...path, i]));
      return;
    }
    if (value === null || typeof value !== 'object') return;
    const isMap = maps.has(key);
    for (const [name, child] of Object.entries(value)) {
      const childKey = `${key}.${isMap ? '*' : name}`;
      const childPath = [...path, name];
      if (isMap) {
        visit(child, childKey, childPath);
        continue;
      }
      const entry = table[childKey];
      if (!entry) {
        problems.push({
          path: childPath,
          expected: `the local data plane does not support this field of ${object.kind} (it knows no such field)`,
        });
      } else if (entry.support === 'refused') {
        problems.push({
          path: childPath,
          expected: `the local data plane does not support ${name}${entry.note ? ` (${entry.note})` : ''}; remove it or run against a cluster with Istio`,
        });
      } else {
        const wrong = entry.check?.(child);
        if (wrong) problems.push({ path: childPath, expected: `the local data plane does not support ${wrong}` });
        else if (parents.has(childKey)) visit(child, childKey, childPath);
      }
    }
  };
  visit(object.spec, 'spec', ['spec']);
  return problems;
}

/** docs/istio-fields.md: every listed field and whether the local data plane implements it. */
export function fieldTableMarkdown(): string {
  const lines = [
    '# Istio fields in the local data plane',
    '',
    'Generated from `src/mesh/supported-fields.ts` (its test fails when this file differs: regenerate',
    'with `npx tsx scripts/istio-fields-doc.ts`). Every field of these kinds, in every apiVersion the',
    'harness reads (`networking.istio.io/v1`, `v1beta1`, `v1alpha3`; `security.istio.io/v1`, `v1beta1`),',
    'is either implemented with Istio semantics or refused when the mesh starts, with an error naming',
    'the file, the object and the field. A refused field covers every field under it. On a cluster',
    'with Istio every field works as Istio documents it.',
    '',
  ];
  for (const [kind, table] of Object.entries(FIELD_TABLES)) {
    lines.push(`## ${kind}`, '', '| field | local data plane | note |', '| --- | --- | --- |');
    for (const [path, entry] of Object.entries(table).sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`| \`${path}\` | ${entry.support} | ${entry.note ?? ''} |`);
    }
    lines.push('');
  }
  lines.push('## Kinds refused as a whole', '', '| kind | why |', '| --- | --- |');
  for (const [kind, why] of Object.entries(REFUSED_KINDS)) lines.push(`| ${kind} | ${why} |`);
  lines.push(
    '',
    'WorkloadEntry and WorkloadGroup describe VMs outside the local processes: they are accepted, and a',
    'Service backed only by them has no local replica (requests to it answer 503, flag `UH`).',
    '',
  );
  return lines.join('\n');
}
