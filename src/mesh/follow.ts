/**
 * The local data plane that follows one namespace of a cluster (istiod's role, against an API
 * server whose pods run nowhere, e.g. KWOK's): it watches the namespace's Deployments, ReplicaSets,
 * Pods, Services, Gateways, VirtualServices, DestinationRules, AuthorizationPolicies and
 * PeerAuthentications, and
 * - for each pod the cluster reports Running and Ready whose owner chain (ReplicaSet, Deployment)
 *   leads to a Deployment of the reference app (image `sprincube/app:TAG`), runs that workload as a
 *   local process behind its sidecar, with the pod's container environment (VERSION, latency and
 *   error knobs) and the identity a cluster gives it (workload: the Deployment; version: the pod's
 *   `version` label; labels and service account: the pod's); a pod that is deleted or stops being
 *   Running and Ready leaves the routes at once, and its process is stopped after `drainMs`
 *   (still scraped meanwhile, as a deleted pod's sidecar drains on a cluster). A pod with another
 *   image is not started, is logged once, and is marked for KWOK's ImagePullBackOff stage, so that
 *   the cluster reports it as a kubelet would; a process that dies is reported and not started
 *   again.
 * - reads the Istio objects with the code that reads them from files (cluster-source.ts, then
 *   checkMesh) and pushes the result with every endpoint to every proxy after each change, bursts
 *   coalesced for `debounceMs`, as istiod's push does. A change that does not compile is logged
 *   naming `cluster: ns/Kind/name` and the field, and the previous configuration stays in force.
 * - with `targetsFile`, publishes the gateway's and every running pod's /metrics as a Prometheus
 *   file SD file (telemetry/scrape-targets.ts), replaced whenever a process starts or stops, so a
 *   Prometheus scraping through it labels each series with its `namespace` and `pod` as on a cluster.
 *
 * Nothing dials an address the cluster reports: each pod is a process on a loopback port.
 */
import { ConfigError, InfraError } from '../core/errors.ts';
import {
  CLUSTER_MANIFEST_KINDS,
  type ClusterManifestKind,
  clusterManifestSet,
  withKind,
} from '../manifests/cluster-source.ts';
import { MeshChildren, type UnexpectedExit } from './children.ts';
import { GATEWAY_IDENTITY, type MeshEndpoint, type ProxyConfig } from './config.ts';
import {
  type ClusterObject,
  decidePod,
  IMAGE_PULL_BACK_OFF,
  KWOK_FAIL_ANNOTATION,
  type PodWorkload,
} from './followed-pod.ts';
import type { ChildApp } from './ipc.ts';
import { type CheckedMesh, checkMesh } from './mesh.ts';
import { ChildStartError, type ProxyChild } from './proxy-child.ts';
import { compileRouteTable } from './routing/route-table.ts';
import { type TargetGroup, targetGroups, writeTargetsFile } from './telemetry/scrape-targets.ts';

/** Every kind the data plane watches. */
export const FOLLOWED_KINDS = [...CLUSTER_MANIFEST_KINDS, 'ReplicaSet', 'Pod'] as const;
export type FollowedKind = (typeof FOLLOWED_KINDS)[number];

/**
 * What the data plane needs of a Kubernetes client: list-then-watch of one kind, calling `decide`
 * with every current object after each change (`KubeClient.follow` fits it).
 */
export interface FollowClient {
  follow(
    kind: FollowedKind,
    namespace: string,
    selector: Record<string, never>,
    decide: (objects: ClusterObject[]) => undefined,
    signal: AbortSignal,
  ): Promise<unknown>;
  /**
   * Sets annotations on a pod (`KubeClient.annotate`): how a pod whose image cannot run is marked
   * for KWOK's failure stage. Without it such a pod is only logged.
   */
  annotate?(kind: 'Pod', namespace: string, name: string, annotations: Record<string, string>): Promise<boolean>;
}

export interface FollowOptions {
  client: FollowClient;
  namespace: string;
  /** Gateway port; 0 = any free port. */
  port?: number;
  log?: (line: string) => void;
  /** What runs behind each workload's sidecar: the reference app (default) or the data plane's echo. */
  app?: ChildApp;
  /** How long a child may take to start listening (default 30 s). */
  startTimeoutMs?: number;
  /** How long a burst of changes is collected before one push (default 50 ms). */
  debounceMs?: number;
  /**
   * How long the process of a pod that went away keeps running, out of the routes at once but
   * still scraped, before it is stopped (default 5 000 ms: Istio's terminationDrainDuration, the
   * time a deleted pod's sidecar drains while Prometheus still discovers and scrapes the pod). What
   * it counted after its last scrape is then read, as on a cluster; 0 stops it at once.
   */
  drainMs?: number;
  /**
   * A Prometheus file SD file to keep up to date with the scrape targets (the gateway and every
   * running pod's /metrics), rewritten whenever a process starts or stops; `[]` once stopped.
   */
  targetsFile?: string;
}

/** One pod as the data plane runs it. */
export interface FollowedWorkload {
  pod: string;
  workload: string;
  service: string;
  version: string;
  url: string;
  metricsUrl: string;
  pid: number;
}

export interface FollowingMesh {
  gatewayUrl: string;
  /** The gateway's /metrics, then every running pod's. */
  metricsUrls(): string[];
  /** The pods running now. */
  workloads(): FollowedWorkload[];
  /** Resolves once every change seen so far has been handled (pods started or stopped, configuration pushed). */
  settled(): Promise<void>;
  /** Called when a child process exits without being asked to. */
  onUnexpectedExit(listener: (e: UnexpectedExit) => void): void;
  /** Called when following the cluster fails for good (a watch the client gave up on). */
  onFailure(listener: (err: Error) => void): void;
  /** Stops the watches and every child; idempotent. */
  stop(): Promise<void>;
}

interface Running {
  pod: string;
  child: ProxyChild;
  endpoint: MeshEndpoint;
}

export async function startFollowing(opts: FollowOptions): Promise<FollowingMesh> {
  const { client, namespace } = opts;
  const log = opts.log ?? (() => {});
  const port = opts.port ?? 0;
  const debounceMs = opts.debounceMs ?? 50;
  const drainMs = opts.drainMs ?? 5_000;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError('mesh options', 'port', `expected an integer port 0..65535, got ${port}`);

  const children = new MeshChildren(log, opts.startTimeoutMs ?? 30_000);
  const app = opts.app ?? 'reference';
  const exitListeners: ((e: UnexpectedExit) => void)[] = [];
  const failureListeners: ((err: Error) => void)[] = [];
  const abort = new AbortController();
  const snapshot = new Map<FollowedKind, ClusterObject[]>();
  const running = new Map<string, Running>();
  /** Processes of pods that went away: out of the routes, still scraped until their drain ends. */
  const draining = new Map<string, Running>();
  const drainTimers = new Set<NodeJS.Timeout>();
  /** Pods not to try again (another image, no version label, failed to start), each logged once. */
  const passedOver = new Set<string>();
  /** Pods with another image that were marked (or tried) for KWOK's ImagePullBackOff stage. */
  const marked = new Set<string>();
  let checked: CheckedMesh | undefined;
  let refusal: string | undefined;
  let lastPushed: string | undefined;
  let lastTargets: string | undefined;
  let chain: Promise<void> = Promise.resolve();
  /** True once the first configuration is in force: from then on every change schedules a push. */
  let live = false;
  let queued = false;
  let failed: Error | undefined;

  const fail = (err: Error): void => {
    if (children.stopped || failed) return;
    failed = err;
    log(`kubernetes: following ${namespace} failed: ${err.message}`);
    for (const l of failureListeners) l(err);
  };

  const passOver = (key: string, why: string): void => {
    if (passedOver.has(key)) return;
    passedOver.add(key);
    log(why);
  };

  // A pod's process that dies is not started again (no crash loop): its endpoint goes, and the
  // listeners (`canary mesh up` exits 4) are told.
  children.onUnexpectedExit((e, child) => {
    // A pod that already went away may end on its own while it drains: nothing is lost.
    const drained = [...draining].find(([, r]) => r.child === child);
    if (drained) {
      draining.delete(drained[0]);
      return void publishTargets();
    }
    for (const [key, r] of running) {
      if (r.child !== child) continue;
      running.delete(key);
      passOver(key, `pod ${r.pod}: ${r.endpoint.workload} exited unexpectedly; not started again`);
    }
    schedule();
    for (const l of exitListeners) l(e);
  });

  /** The pods that should run now, from the snapshot; pods to mark as unable to pull their image. */
  const wanted = (): { run: Map<string, PodWorkload>; unpullable: { key: string; pod: string }[] } => {
    const byName = (kind: FollowedKind) => new Map((snapshot.get(kind) ?? []).map((o) => [o.metadata.name, o]));
    const owners = { replicaSets: byName('ReplicaSet'), deployments: byName('Deployment') };
    const run = new Map<string, PodWorkload>();
    const unpullable: { key: string; pod: string }[] = [];
    for (const pod of snapshot.get('Pod') ?? []) {
      const d = decidePod(pod, owners, namespace);
      if (d.kind === 'pass-over') passOver(d.key, d.why);
      else if (d.kind === 'unknown-image') {
        passOver(d.key, d.why);
        if (!d.marked && !marked.has(d.key)) unpullable.push(d);
      } else if (d.kind === 'run') run.set(d.workload.key, d.workload);
    }
    return { run, unpullable };
  };

  /**
   * Marks pods whose image is not the reference app's, as a kubelet reports an image it cannot
   * pull: KWOK's stage (cluster/config/kwok/) then puts them in ImagePullBackOff, which is what the
   * harness reads on a real cluster. Tried once per pod; a refusal (an identity without `patch` on
   * pods) is logged and the pod stays as KWOK left it.
   */
  const markUnpullable = async (pods: { key: string; pod: string }[]): Promise<void> => {
    const annotate = client.annotate?.bind(client);
    if (!annotate) return;
    await Promise.all(
      pods.map(async ({ key, pod }) => {
        marked.add(key);
        try {
          await annotate('Pod', namespace, pod, { [KWOK_FAIL_ANNOTATION]: IMAGE_PULL_BACK_OFF });
        } catch (err) {
          log(`pod ${pod}: could not mark it ${IMAGE_PULL_BACK_OFF}: ${err instanceof Error ? err.message : err}`);
        }
      }),
    );
  };

  /** Compiles the Istio objects of the snapshot; a refusal keeps the previous configuration. */
  const recompile = async (): Promise<void> => {
    const objects = CLUSTER_MANIFEST_KINDS.flatMap((kind: ClusterManifestKind) =>
      (snapshot.get(kind) ?? []).map((o) => withKind(o, kind)),
    );
    try {
      checked = await checkMesh({ set: clusterManifestSet(namespace, objects) });
      if (refusal !== undefined) log(`kubernetes: ${namespace}: configuration accepted again`);
      refusal = undefined;
    } catch (err) {
      if (!(err instanceof ConfigError) || checked === undefined) throw err;
      if (refusal !== err.message)
        log(`kubernetes: ${namespace}: change refused, the previous configuration stays in force: ${err.message}`);
      refusal = err.message;
    }
  };

  const reconcile = async (): Promise<void> => {
    if (children.stopped) return;
    await recompile();
    const { run: want, unpullable } = wanted();
    await markUnpullable(unpullable);
    const gone = [...running].filter(([key]) => !want.has(key));
    for (const [key, r] of gone) {
      running.delete(key);
      draining.set(key, r);
      log(`pod ${r.pod}: gone; ${r.endpoint.workload} out of the routes, stopping in ${drainMs} ms`);
      const timer = setTimeout(() => {
        drainTimers.delete(timer);
        enqueue(async () => {
          if (children.stopped || !draining.delete(key)) return;
          await children.stopChild(r.child);
          log(`pod ${r.pod}: stopped ${r.endpoint.workload}`);
          await publishTargets();
        });
      }, drainMs);
      drainTimers.add(timer);
    }
    const added = [...want.values()].filter((w) => !running.has(w.key) && !passedOver.has(w.key));
    await Promise.all(
      added.map(async (w) => {
        const child = children.spawn(w.name, { role: 'workload', identity: w.endpoint, app, port: 0 }, w.env);
        try {
          await children.start(child);
        } catch (err) {
          await children.stopChild(child);
          if (!(err instanceof ChildStartError)) throw err;
          passOver(w.key, `pod ${w.pod}: ${w.endpoint.workload} did not start: ${err.message}`);
          return;
        }
        if (children.stopped) return;
        running.set(w.key, { pod: w.pod, child, endpoint: { ...w.endpoint, url: child.url } });
        log(
          `pod ${w.pod}: started ${w.endpoint.workload} (${w.endpoint.version}) at ${child.url}, metrics ${child.metricsUrl}`,
        );
      }),
    );
    await publishTargets();
    const base = checked!;
    const config: ProxyConfig = {
      ...base.base,
      virtualServices: base.virtualServices,
      endpoints: [...running.values()].map((r) => r.endpoint),
    };
    const text = JSON.stringify(config);
    if (text === lastPushed && added.length === 0) return;
    compileRouteTable(config, { originOf: base.originOf });
    await children.push(config);
    lastPushed = text;
  };

  const scrapeTargets = (): TargetGroup[] =>
    targetGroups([
      {
        metricsUrl: gateway.metricsUrl,
        namespace: GATEWAY_IDENTITY.namespace,
        // The gateway is no pod of the followed cluster: its target is named by its workload.
        pod: GATEWAY_IDENTITY.workload,
        podLabels: GATEWAY_IDENTITY.labels,
      },
      ...[...running.values(), ...draining.values()].map((r) => ({
        metricsUrl: r.child.metricsUrl,
        namespace,
        pod: r.pod,
        podLabels: r.endpoint.labels,
      })),
    ]);

  const publishTargets = async (): Promise<void> => {
    if (opts.targetsFile === undefined || children.stopped) return;
    const groups = scrapeTargets();
    const text = JSON.stringify(groups);
    if (text === lastTargets) return;
    await writeTargetsFile(opts.targetsFile, groups);
    lastTargets = text;
  };

  /** Runs `task` after whatever the data plane is doing (a reconcile, another task). */
  const enqueue = (task: () => Promise<void>): void => {
    chain = chain.then(task).catch((err: unknown) => fail(err instanceof Error ? err : new InfraError(String(err))));
  };

  /** Queues one reconcile after `debounceMs`; changes arriving until it starts join it. */
  const schedule = (): void => {
    if (!live || queued || children.stopped) return;
    queued = true;
    chain = chain
      .then(() => new Promise<void>((resolve) => setTimeout(resolve, debounceMs)))
      .then(() => {
        queued = false;
        return reconcile();
      })
      .catch((err: unknown) => fail(err instanceof Error ? err : new InfraError(String(err))));
  };

  const stop = async (): Promise<void> => {
    abort.abort(new InfraError('the data plane is stopping'));
    for (const t of drainTimers) clearTimeout(t);
    drainTimers.clear();
    await children.stop();
    // Waits for a reconcile under way, so its write of the file cannot come after this one.
    await chain.catch(() => {});
    if (opts.targetsFile !== undefined && lastTargets !== '[]') {
      await writeTargetsFile(opts.targetsFile, []);
      lastTargets = '[]';
    }
  };

  let synced: () => void = () => {};
  const firstSync = new Promise<void>((resolve) => {
    synced = resolve;
  });
  let gateway: ProxyChild;
  try {
    // The gateway first: a port in use fails fast, before anything is read.
    gateway = await children.startGateway(port);
    const watchFailed = new Promise<never>((_, reject) => {
      for (const kind of FOLLOWED_KINDS) {
        client
          .follow(
            kind,
            namespace,
            {},
            (objects) => {
              snapshot.set(kind, objects);
              if (snapshot.size === FOLLOWED_KINDS.length) synced();
              schedule();
              return undefined;
            },
            abort.signal,
          )
          .catch((err: unknown) => {
            if (abort.signal.aborted) return;
            const e = err instanceof Error ? err : new InfraError(String(err));
            reject(e);
            fail(e);
          });
      }
    });
    watchFailed.catch(() => {});
    await Promise.race([firstSync, watchFailed]);
    // The first configuration must compile: a bad object leaves nothing running, as a bad file does.
    chain = reconcile();
    await Promise.race([chain, watchFailed]);
    live = true;
    schedule();
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    gatewayUrl: gateway.url,
    metricsUrls: () => [gateway.metricsUrl, ...[...running.values()].map((r) => r.child.metricsUrl)],
    workloads: () =>
      [...running.values()].map((r) => ({
        pod: r.pod,
        workload: r.endpoint.workload,
        service: r.endpoint.service,
        version: r.endpoint.version,
        url: r.endpoint.url,
        metricsUrl: r.child.metricsUrl,
        pid: r.child.pid,
      })),
    settled: async () => {
      for (let before = chain; ; before = chain) {
        await before;
        if (before === chain) return;
      }
    },
    onUnexpectedExit: (l) => void exitListeners.push(l),
    onFailure: (l) => void failureListeners.push(l),
    stop,
  };
}
