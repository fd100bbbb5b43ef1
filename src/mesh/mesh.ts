/**
 * The supervisor of the local mesh (istiod's role, locally): reads `manifests/`, checks the routing
 * and policies before starting anything, forks the ingress gateway and one child per workload
 * replica, pushes the configuration to every proxy and waits for their acknowledgements, reports
 * children that exit unasked, and stops them all. Children also exit by themselves when the IPC
 * channel closes, so a supervisor that dies leaves no orphans.
 */
import { ConfigError, InfraError } from '../core/errors.ts';
import { loadValidManifests } from '../manifests/load.ts';
import { problemError } from '../manifests/validate.ts';
import { lineAt } from '../manifests/source-lines.ts';
import { meshTopology } from '../manifests/topology.ts';
import type { IVirtualService, ManifestSet } from '../manifests/types.ts';
import { compileAuthorizer } from './authz/authorization.ts';
import { peerAuthenticationMode } from './authz/peer-authentication.ts';
import { MeshChildren, type UnexpectedExit } from './children.ts';
import type { MeshEndpoint, ProxyConfig, WorkloadIdentity } from './config.ts';
import type { ChildApp } from './ipc.ts';
import { ChildStartError, type ProxyChild } from './proxy-child.ts';
import { compileRouteTable } from './routing/route-table.ts';
import { unsupportedFields } from './supported-fields.ts';

export type { IVirtualService, UnexpectedExit };

export interface MeshOptions {
  manifestsDir?: string;
  /** The objects to run, already loaded (e.g. from a cluster, cluster-source.ts); default: read `manifestsDir`. */
  set?: ManifestSet;
  /** Gateway port; 0 = any free port. */
  port?: number;
  /** Per-workload overrides on top of the Deployment's env (e.g. knobs for a bad canary, VERSION). */
  overrides?: Record<string, { env?: Record<string, string>; replicas?: number }>;
  log?: (line: string) => void;
  /** What runs behind each workload's sidecar: the reference app (default) or the data plane's echo. */
  app?: ChildApp;
  /** How long a child may take to start listening (default 30 s). */
  startTimeoutMs?: number;
}

export interface MeshWorkload {
  name: string;
  service: string;
  version: string;
  track?: string;
  replicas: { pid: number; url: string; metricsUrl: string }[];
}

export interface Mesh {
  gatewayUrl: string;
  workloads: MeshWorkload[];
  /** Every /metrics endpoint (gateway and each replica). */
  metricsUrls: string[];
  /** Replace a VirtualService (matched by metadata.name, added if new) in every proxy; resolves once all have applied it. */
  applyVirtualService(vs: IVirtualService): Promise<void>;
  virtualService(name: string): IVirtualService | undefined;
  /** Called when a child process exits without being asked to. */
  onUnexpectedExit(listener: (e: UnexpectedExit) => void): void;
  /** Stops every child; idempotent; no orphans. */
  stop(): Promise<void>;
}

/** One Deployment as the mesh runs it. */
interface WorkloadPlan {
  identity: WorkloadIdentity & { service: string; version: string; track?: string };
  replicas: number;
  env: Record<string, string>;
}

/** What `checkMesh` found usable: the manifests, the workloads to start and the routing inputs. */
export interface CheckedMesh {
  set: ManifestSet;
  plans: WorkloadPlan[];
  virtualServices: IVirtualService[];
  base: Omit<ProxyConfig, 'virtualServices' | 'endpoints'>;
  originOf: (kind: string, name: string) => string | undefined;
}

/**
 * Everything the mesh checks before it starts a single process: manifests valid, overrides naming
 * known Deployments, every route and policy compiling, and every VirtualService in `routes` (those a
 * run will apply) compiling against them. Throws ConfigError naming the file and object. Callers
 * (canary run) use it to refuse bad manifests before anything is started or written.
 */
export async function checkMesh(
  opts: Pick<MeshOptions, 'manifestsDir' | 'set' | 'overrides'> & { routes?: IVirtualService[] } = {},
): Promise<CheckedMesh> {
  const set = opts.set ?? (await loadValidManifests(opts.manifestsDir ?? 'manifests'));
  refuseUnsupportedFields(set);
  const plans = planWorkloads(set, opts.overrides ?? {});
  const originOf = (kind: string, name: string): string | undefined =>
    set.all.find((o) => o.value.kind === kind && o.value.metadata?.name === name)?.origin.file;
  const virtualServices = set.virtualServices.map((v) => structuredClone(v.value));
  const base = {
    destinationRules: set.destinationRules.map((d) => d.value),
    authorizationPolicies: set.authorizationPolicies.map((a) => a.value),
    peerAuthentications: set.all.filter((o) => o.value.kind === 'PeerAuthentication').map((o) => o.value),
    gatewayNames: set.gateways.map((g) => g.value.metadata?.name ?? ''),
    services: [...new Set(plans.map((p) => p.identity.service))],
  };
  compileRouteTable({ ...base, virtualServices, endpoints: [] }, { originOf });
  for (const p of plans) {
    compileAuthorizer(base.authorizationPolicies, p.identity, originOf);
    peerAuthenticationMode(base.peerAuthentications, p.identity, originOf);
  }
  for (const vs of opts.routes ?? []) {
    const name = vs.metadata?.name;
    refuseUnsupportedObject(vs, `route ${name}`);
    const next = [...virtualServices.filter((v) => v.metadata?.name !== name), vs];
    compileRouteTable({ ...base, virtualServices: next, endpoints: [] }, { originOf: () => `route ${name}` });
  }
  return { set, plans, virtualServices, base, originOf };
}

export async function startMesh(opts: MeshOptions = {}): Promise<Mesh> {
  const dir = opts.set?.dir ?? opts.manifestsDir ?? 'manifests';
  const log = opts.log ?? (() => {});
  const port = opts.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError('mesh options', 'port', `expected an integer port 0..65535, got ${port}`);
  // Check every route and policy before a single process starts: a bad manifest leaves nothing running.
  const checked = await checkMesh(opts);
  const { plans, base } = checked;
  let virtualServices = checked.virtualServices;

  const children = new MeshChildren(log, opts.startTimeoutMs ?? 30_000);
  const listeners: ((e: UnexpectedExit) => void)[] = [];
  children.onUnexpectedExit((e) => {
    for (const l of listeners) l(e);
  });
  const stop = (): Promise<void> => children.stop();

  let gateway: ProxyChild;
  const replicas = new Map<WorkloadPlan, ProxyChild[]>();
  try {
    // The gateway first: a port in use fails fast, before the workloads start.
    gateway = await children.startGateway(port);
    const app = opts.app ?? 'reference';
    for (const plan of plans) {
      const list: ProxyChild[] = [];
      for (let i = 0; i < plan.replicas; i++) {
        const name = plan.replicas > 1 ? `${plan.identity.workload}#${i}` : plan.identity.workload;
        list.push(children.spawn(name, { role: 'workload', identity: plan.identity, app, port: 0 }, plan.env));
      }
      replicas.set(plan, list);
    }
    await Promise.all([...replicas.values()].flat().map((c) => children.start(c)));
  } catch (err) {
    await stop();
    if (err instanceof ChildStartError && err.reason === 'config') {
      throw new ConfigError(dir, '', err.message);
    }
    throw err;
  }

  const endpoints: MeshEndpoint[] = [];
  for (const [plan, list] of replicas) {
    for (const c of list) endpoints.push({ ...plan.identity, url: c.url });
  }
  const push = (config: ProxyConfig): Promise<void> => children.push(config);
  try {
    await push({ ...base, virtualServices, endpoints });
  } catch (err) {
    await stop();
    throw err;
  }

  let updates: Promise<void> = Promise.resolve();
  const applyVirtualService = (vs: IVirtualService): Promise<void> => {
    const run = async (): Promise<void> => {
      if (children.stopped) throw new InfraError('the mesh is stopped');
      const name = vs.metadata?.name;
      if (!name)
        throw new ConfigError(
          'applyVirtualService',
          'metadata.name',
          'is required to know which VirtualService to replace',
        );
      refuseUnsupportedObject(vs, 'applyVirtualService');
      const copy = structuredClone(vs);
      const next = virtualServices.some((v) => v.metadata?.name === name)
        ? virtualServices.map((v) => (v.metadata?.name === name ? copy : v))
        : [...virtualServices, copy];
      const config = { ...base, virtualServices: next, endpoints };
      compileRouteTable(config, { originOf: () => 'applyVirtualService' });
      await push(config);
      virtualServices = next;
    };
    const result = updates.then(run);
    updates = result.catch(() => {});
    return result;
  };

  const workloads: MeshWorkload[] = [...replicas].map(([plan, list]) => ({
    name: plan.identity.workload,
    service: plan.identity.service,
    version: plan.identity.version,
    track: plan.identity.track,
    replicas: list.map((c) => ({ pid: c.pid, url: c.url, metricsUrl: c.metricsUrl })),
  }));
  return {
    gatewayUrl: gateway.url,
    workloads,
    metricsUrls: [gateway.metricsUrl, ...workloads.flatMap((w) => w.replicas.map((r) => r.metricsUrl))],
    applyVirtualService,
    virtualService: (name) => {
      const vs = virtualServices.find((v) => v.metadata?.name === name);
      return vs && structuredClone(vs);
    },
    onUnexpectedExit: (l) => void listeners.push(l),
    stop,
  };
}

/** A field the local data plane does not implement stops the mesh before it starts (supported-fields.ts). */
function refuseUnsupportedFields(set: ManifestSet): void {
  const problems = set.all.flatMap(({ origin, value }) =>
    unsupportedFields(value).map((p) => ({ origin, path: p.path, expected: p.expected, line: lineAt(value, p.path) })),
  );
  if (problems.length > 0) throw problemError(problems[0], problems.length - 1);
}

function refuseUnsupportedObject(vs: IVirtualService, file: string): void {
  const problems = unsupportedFields(vs);
  if (problems.length === 0) return;
  const origin = {
    file,
    object: `VirtualService/${vs.metadata?.namespace ?? 'default'}/${vs.metadata?.name}`,
    document: 0,
  };
  throw problemError({ origin, path: problems[0].path, expected: problems[0].expected }, problems.length - 1);
}

function planWorkloads(set: ManifestSet, overrides: NonNullable<MeshOptions['overrides']>): WorkloadPlan[] {
  const workloads = meshTopology(set);
  for (const name of Object.keys(overrides)) {
    if (!workloads.some((w) => w.name === name)) {
      throw new ConfigError(
        'mesh options',
        `overrides.${name}`,
        `no Deployment named ${name} (known: ${workloads.map((w) => w.name).join(', ')})`,
      );
    }
  }
  return workloads.map((w) => {
    const o = overrides[w.name] ?? {};
    const replicas = o.replicas ?? w.replicas;
    if (!Number.isInteger(replicas) || replicas < 0)
      throw new ConfigError(
        'mesh options',
        `overrides.${w.name}.replicas`,
        `expected a non-negative integer, got ${replicas}`,
      );
    const env = { ...w.env, ...(o.env ?? {}) };
    return {
      identity: {
        workload: w.name,
        service: w.service,
        version: env.VERSION ?? w.version,
        track: w.track,
        namespace: w.namespace,
        serviceAccount: w.serviceAccount,
        labels: w.labels,
      },
      replicas,
      env,
    };
  });
}
