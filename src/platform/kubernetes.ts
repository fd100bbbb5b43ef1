/**
 * The Kubernetes engine: the Platform over a real API server (`kube-client.ts`). Deploy applies the
 * baseline and canary Deployments beside the primary and the safe route, then waits until both are
 * ready: from the Deployment's status (observedGeneration, updatedReplicas/availableReplicas, the
 * Progressing condition's ProgressDeadlineExceeded) and from its pods, where ErrImagePull,
 * ImagePullBackOff, CrashLoopBackOff or CreateContainerConfigError end the wait at once with an
 * InfraError (exit 4) naming the pod, the container and the reason. Routes are applied and read back.
 * The baseline copies the primary as the cluster runs it (`runningPrimary`), not as the manifests
 * wrote it: after a promotion, the promoted image, version and environment.
 * Promotion copies the canary's image and environment into the primary, waits for it, routes
 * everything to it and removes the run's tracks; rollback and teardown route to the primary first.
 */
import type { CanaryPlan, TrackPlan } from '../canary/plan-types.ts';
import type { RoutePlan } from '../canary/route-plan.ts';
import { ConfigError, InfraError } from '../core/errors.ts';
import { KubeClient, type KubeObject } from './kube-client.ts';
import { loadValidManifests } from '../manifests/load.ts';
import {
  checkRendered,
  type Deployment as DeploymentObject,
  readManifestObjects,
  routeObject,
  runObjects,
  trackDeployment,
} from './kube-objects.ts';
import type {
  CheckedPlatform,
  DeployOptions,
  Deployment,
  Platform,
  PlatformContext,
  RunningPrimary,
} from './platform.ts';
import { primaryFacts } from './target-facts.ts';

/** Pod waiting reasons that will not heal by waiting (Flagger and Argo wait for the deadline instead). */
export const FATAL_WAITING_REASONS = [
  'ErrImagePull',
  'ImagePullBackOff',
  'CrashLoopBackOff',
  'CreateContainerConfigError',
  'InvalidImageName',
] as const;

export interface KubernetesPlatformOptions {
  /** The API client, connected on first use: `check` and `--dry-run` need no cluster. */
  connect: () => Promise<KubeClient>;
  plan: CanaryPlan;
  manifestsDir: string;
  log?: (line: string) => void;
  /** Longest wait for a Deployment to become ready (default 10 min; its progressDeadlineSeconds usually ends it first). */
  readyTimeoutMs?: number;
}

export async function createKubernetesPlatform(plan: CanaryPlan, ctx: PlatformContext): Promise<CheckedPlatform> {
  const connect = () =>
    KubeClient.connect(
      { kubeconfig: plan.platform.kubeconfig, context: plan.platform.context },
      { caller: 'run', log: (l) => ctx.log(`kubernetes: ${l}`) },
    );
  return new KubernetesPlatform({ connect, plan, manifestsDir: ctx.manifestsDir, log: ctx.log });
}

/** Ready, still on its way, or failed for good. */
export type Readiness = { state: 'ready' } | { state: 'pending'; why: string } | { state: 'failed'; why: string };

/** A Deployment's readiness from its status alone. */
export function deploymentReadiness(d: DeploymentObject): Readiness {
  const name = d.metadata.name;
  const s = d.status ?? {};
  const want = d.spec.replicas ?? 1;
  const progressing = s.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded')
    return {
      state: 'failed',
      why: `Deployment ${name}: ProgressDeadlineExceeded (${progressing.message ?? 'no progress'})`,
    };
  if ((s.observedGeneration ?? 0) < (d.metadata.generation ?? 1))
    return {
      state: 'pending',
      why: `Deployment ${name}: the controller has not seen generation ${d.metadata.generation}`,
    };
  if ((s.updatedReplicas ?? 0) < want)
    return { state: 'pending', why: `Deployment ${name}: ${s.updatedReplicas ?? 0}/${want} replicas updated` };
  if ((s.availableReplicas ?? 0) < want)
    return { state: 'pending', why: `Deployment ${name}: ${s.availableReplicas ?? 0}/${want} replicas available` };
  if ((s.replicas ?? 0) > want)
    return { state: 'pending', why: `Deployment ${name}: ${(s.replicas ?? 0) - want} old replicas still terminating` };
  return { state: 'ready' };
}

interface PodObject extends KubeObject {
  status?: {
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
}

interface ContainerStatus {
  name: string;
  state?: { waiting?: { reason?: string; message?: string } };
}

/** The first pod container stuck for good, as `pod P container C: REASON (message)`; null if none. */
export function fatalPodProblem(pods: PodObject[]): string | null {
  for (const pod of pods) {
    for (const c of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
      const w = c.state?.waiting;
      if (w?.reason && (FATAL_WAITING_REASONS as readonly string[]).includes(w.reason))
        return `pod ${pod.metadata.name} container ${c.name}: ${w.reason}${w.message ? ` (${w.message})` : ''}`;
    }
  }
  return null;
}

export class KubernetesPlatform implements Platform, CheckedPlatform {
  readonly engine = 'kubernetes' as const;
  private connected: KubeClient | null = null;
  private readonly plan: CanaryPlan;
  private readonly log: (line: string) => void;
  private readonly namespace: string;
  /** Deployments this run created (absent before it), deleted when it ends. */
  private readonly created = new Set<string>();
  /** Track Deployments this run applied (scaled to 0 when it ends). */
  private readonly applied = new Set<string>();
  private routed = false;
  private readonly stop = new AbortController();

  constructor(private readonly opts: KubernetesPlatformOptions) {
    this.plan = opts.plan;
    this.namespace = opts.plan.platform.namespace;
    this.log = opts.log ?? (() => {});
  }

  /** Renders every object of the run and each route's VirtualService; needs no cluster. */
  async check(tracks: TrackPlan[], routes: RoutePlan[]): Promise<void> {
    await loadValidManifests(this.opts.manifestsDir);
    const found = readManifestObjects(this.opts.manifestsDir);
    checkRendered([
      ...tracks.map((t) => trackDeployment(found, this.plan, t)),
      ...routes.map((r) => routeObject(this.plan, r)),
    ]);
    const rule = found.find(
      (f) =>
        f.object.kind === 'DestinationRule' && (f.object.spec as { host?: string })?.host === this.plan.target.host,
    );
    const subsets = ((rule?.object.spec as { subsets?: { name: string }[] } | undefined)?.subsets ?? []).map(
      (s) => s.name,
    );
    const primary = tracks.find((t) => t.track === 'primary');
    const primaryObject = found.find(
      (f) => f.object.kind === 'Deployment' && f.object.metadata.name === primary?.workload,
    );
    const podLabels = (primaryObject?.object as DeploymentObject | undefined)?.spec.template.metadata?.labels ?? {};
    if (primaryObject && podLabels.track !== 'primary')
      throw new ConfigError(
        primaryObject.file,
        `Deployment/${primary?.workload} spec.template.metadata.labels`,
        'expected track: primary, so that the primary subset selects only its pods (the baseline and canary get track: baseline and track: canary)',
      );
    const missing = ['primary', 'baseline', 'canary'].filter((s) => !subsets.includes(s));
    if (missing.length)
      throw new ConfigError(
        rule?.file ?? this.opts.manifestsDir,
        `DestinationRule for ${this.plan.target.host}`,
        `the routes need subsets primary, baseline and canary (by the track label); missing: ${missing.join(', ')}`,
      );
  }

  private get client(): KubeClient {
    if (!this.connected) throw new InfraError('the Kubernetes client is not connected yet');
    return this.connected;
  }

  /** Reads the kubeconfig and connects; a bad kubeconfig or context fails here, before the run starts. */
  async prepare(): Promise<void> {
    this.connected ??= await this.opts.connect();
  }

  /** The primary as the cluster holds it: null when its Deployment is not there (deploy then says so). */
  async runningPrimary(workload: string): Promise<RunningPrimary | null> {
    const held = await this.client.get<DeploymentObject>('Deployment', this.namespace, workload);
    if (!held) return null;
    const facts = primaryFacts(held);
    if (facts.primaryVersion === undefined)
      throw new InfraError(
        `Deployment ${this.namespace}/${workload} on the cluster has neither a version label nor a VERSION variable: the baseline cannot copy its version`,
      );
    return { ...facts, primaryVersion: facts.primaryVersion };
  }

  async deploy(tracks: TrackPlan[], options: DeployOptions = {}): Promise<Deployment> {
    this.connected ??= await this.opts.connect();
    const found = readManifestObjects(this.opts.manifestsDir);
    const primary = tracks.find((t) => t.track === 'primary')!;
    if (!(await this.client.get('Deployment', this.namespace, primary.workload)))
      throw new InfraError(
        `Deployment ${this.namespace}/${primary.workload} is not on the cluster at ${this.client.server}: run \`canary deploy\` first`,
      );
    // The safe route first: nothing reaches a new track before a stage says so.
    await this.setRoute({ kind: 'safe' });
    const objects = runObjects(found, { ...this.plan, tracks }).filter((o) => o.kind === 'Deployment');
    for (const d of objects) {
      const before = await this.client.get('Deployment', this.namespace, d.metadata.name);
      if (!before) this.created.add(d.metadata.name);
      this.applied.add(d.metadata.name);
      await this.client.apply(d);
      this.log(`kubernetes: applied Deployment ${this.namespace}/${d.metadata.name}`);
    }
    await Promise.all(objects.map((d) => this.waitReady(d.metadata.name)));
    if (options.onUnexpectedExit) this.watchPods(options.onUnexpectedExit);
    return {
      // The plan says where load enters (--gateway, or the in-cluster gateway for k6-operator runners).
      gatewayUrl: this.plan.load.gateway ?? '',
      metricsUrls: [],
    };
  }

  async setRoute(route: RoutePlan): Promise<void> {
    this.routed = true;
    await applyRoute(this.client, this.plan, route);
  }

  async conclude(verdict: 'promote' | 'rollback'): Promise<void> {
    if (verdict === 'promote') {
      const canary = this.plan.tracks.find((t) => t.track === 'canary')!;
      const primary = this.plan.tracks.find((t) => t.track === 'primary')!;
      const found = readManifestObjects(this.opts.manifestsDir);
      // The primary takes the canary's image and environment (its own name, labels and selector).
      const promoted = trackDeployment(found, this.plan, {
        ...primary,
        image: canary.image,
        version: canary.version,
        env: canary.env,
      });
      await this.client.apply(promoted);
      await this.waitReady(primary.workload);
    }
    await this.setRoute({ kind: 'safe' });
    await this.cleanUp();
  }

  async teardown(): Promise<void> {
    this.stop.abort(new InfraError('the run is ending'));
    if (!this.connected) return;
    if (this.routed) {
      try {
        await this.setRoute({ kind: 'safe' });
      } catch (err) {
        // The tracks stay up: deleting a canary that still gets traffic would turn it into errors.
        throw new InfraError(
          `could not put all traffic back on the primary (${(err as Error).message}); the baseline and canary are left running: ` +
            `put VirtualService ${this.namespace}/${this.plan.target.virtualService} on the primary with \`canary rollback --context ...\` (or \`canary rollback | kubectl apply -f -\`)`,
          { cause: err },
        );
      }
    }
    await this.cleanUp();
  }

  /**
   * For the rest of the run, a pod of the service under canary that gets stuck for good
   * (CrashLoopBackOff, ...) is reported at once, as a crashed process is on the local engine: the
   * run aborts (safe route first) with exit 4 naming the pod, the container and the reason.
   */
  private watchPods(report: NonNullable<DeployOptions['onUnexpectedExit']>): void {
    const reported = new Set<string>();
    const workloadOf = (pod: PodObject) =>
      this.plan.tracks.find((t) => t.track === pod.metadata.labels?.track)?.workload ?? pod.metadata.name;
    void this.client
      .follow<PodObject, never>(
        'Pod',
        this.namespace,
        { labelSelector: `app=${this.plan.target.service}` },
        (pods) => {
          for (const pod of pods) {
            const problem = fatalPodProblem([pod]);
            if (problem && !reported.has(pod.metadata.name)) {
              reported.add(pod.metadata.name);
              report({ workload: workloadOf(pod), detail: problem });
            }
          }
          return undefined;
        },
        this.stop.signal,
      )
      .catch((err: unknown) => {
        if (!this.stop.signal.aborted) this.log(`kubernetes: the pod watch ended: ${(err as Error).message}`);
      });
  }

  /** Scales the run's tracks to 0 and deletes those it created; idempotent. */
  private async cleanUp(): Promise<void> {
    const found = readManifestObjects(this.opts.manifestsDir);
    for (const name of this.applied) {
      const track = this.plan.tracks.find((t) => t.workload === name);
      if (!track) continue;
      if (this.created.has(name)) {
        await this.client.delete('Deployment', this.namespace, name);
        this.log(`kubernetes: deleted Deployment ${this.namespace}/${name}`);
      } else {
        await this.client.apply(trackDeployment(found, this.plan, track, 0));
        this.log(`kubernetes: scaled Deployment ${this.namespace}/${name} to 0`);
      }
      this.applied.delete(name);
      this.created.delete(name);
    }
  }

  /** Waits until the Deployment is ready; a fatal pod state or the progress deadline ends it (InfraError). */
  private async waitReady(name: string): Promise<void> {
    const timeoutMs = this.opts.readyTimeoutMs ?? 600_000;
    const abort = new AbortController();
    const timer = setTimeout(
      () => abort.abort(new InfraError(`Deployment ${name}: not ready within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onStop = () => abort.abort(this.stop.signal.reason);
    this.stop.signal.addEventListener('abort', onStop, { once: true });
    try {
      const deployment = this.client.follow<DeploymentObject, true>(
        'Deployment',
        this.namespace,
        { fieldSelector: `metadata.name=${name}` },
        (items) => {
          const d = items.find((i) => i.metadata.name === name);
          if (!d) return undefined;
          const r = deploymentReadiness(d);
          if (r.state === 'failed') throw new InfraError(r.why);
          return r.state === 'ready' ? true : undefined;
        },
        abort.signal,
      );
      const track = this.plan.tracks.find((t) => t.workload === name)?.track;
      const podSelector = `app=${this.plan.target.service}${track ? `,track=${track}` : ''}`;
      const pods = this.client.follow<PodObject, never>(
        'Pod',
        this.namespace,
        { labelSelector: podSelector },
        (items) => {
          const problem = fatalPodProblem(items);
          if (problem) throw new InfraError(`Deployment ${name}: ${problem}`);
          return undefined;
        },
        abort.signal,
      );
      // The loser ends with the abort below; its rejection is expected and handled here.
      deployment.catch(() => {});
      pods.catch(() => {});
      await Promise.race([deployment, pods]);
      // Ready by its status; its pods are read once more, so a container that crashes after
      // becoming available (CrashLoopBackOff) is not taken for ready.
      const now = await this.client.list<PodObject>('Pod', this.namespace, podSelector);
      const problem = fatalPodProblem(now.items);
      if (problem) throw new InfraError(`Deployment ${name}: ${problem}`);
    } finally {
      clearTimeout(timer);
      this.stop.signal.removeEventListener('abort', onStop);
      abort.abort(new InfraError('done'));
    }
  }
}

/**
 * Where `held` (what the API server returns) does not hold `applied`, as a path like
 * `.http[1].route[0].weight`; null when it does. Key order does not matter (the server returns
 * its own), fields the server added (defaults) are allowed, arrays must match element for element.
 */
/**
 * Applies the route's VirtualService and reads it back: InfraError naming the first field where the
 * API server holds something else (another controller or manager changed it).
 */
export async function applyRoute(
  client: KubeClient,
  plan: Pick<CanaryPlan, 'target'>,
  route: RoutePlan,
): Promise<void> {
  const vs = routeObject(plan, route);
  const namespace = vs.metadata.namespace ?? plan.target.namespace;
  await client.apply(vs);
  const held = await client.get<KubeObject>('VirtualService', namespace, vs.metadata.name);
  const want = (vs as { spec?: unknown }).spec;
  const differs = firstDifference(want, held?.spec);
  if (differs !== null)
    throw new InfraError(
      `VirtualService ${namespace}/${vs.metadata.name}: the API server holds a different spec than was applied (another controller or manager changed it) at spec${differs}: applied ${JSON.stringify(want)}, read back ${JSON.stringify(held?.spec ?? null)}`,
    );
}

export function firstDifference(applied: unknown, held: unknown, path = ''): string | null {
  if (Array.isArray(applied)) {
    if (!Array.isArray(held) || held.length !== applied.length) return path || '.';
    for (let i = 0; i < applied.length; i++) {
      const d = firstDifference(applied[i], held[i], `${path}[${i}]`);
      if (d !== null) return d;
    }
    return null;
  }
  if (applied !== null && typeof applied === 'object') {
    if (held === null || typeof held !== 'object' || Array.isArray(held)) return path || '.';
    for (const [k, v] of Object.entries(applied)) {
      const d = firstDifference(v, (held as Record<string, unknown>)[k], `${path}.${k}`);
      if (d !== null) return d;
    }
    return null;
  }
  return applied === held ? null : path || '.';
}
