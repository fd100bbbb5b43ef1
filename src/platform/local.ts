/**
 * The local engine: the reference app as processes behind the local data plane (`startMesh`), which
 * reads the same manifests a cluster would. Deploy starts the whole mesh with the tracks' overrides;
 * routes are the VirtualService of `canary/routes.ts`, applied to every proxy; teardown stops every
 * child. Promotion and rollback have nothing to make permanent locally: the mesh lives only as long
 * as the run.
 */
import type { CanaryPlan, TrackPlan } from '../canary/plan-types.ts';
import type { RoutePlan } from '../canary/route-plan.ts';
import { virtualServiceFor } from '../canary/routes.ts';
import { InfraError } from '../core/errors.ts';
import { checkMesh, startMesh, type Mesh, type MeshOptions } from '../mesh/mesh.ts';
import type { DeployOptions, Deployment, Platform } from './platform.ts';

export interface LocalPlatformOptions {
  manifestsDir: string;
  target: CanaryPlan['target'];
  /** Workload names of the three tracks; a track not deployed by the plan runs with 0 replicas. */
  workloads: { primary: string; baseline: string; canary: string };
  /** Gateway port; 0 (default) picks a free one. */
  port?: number;
  log?: (line: string) => void;
  /** Injectable for tests; default `startMesh`. */
  start?: (opts: MeshOptions) => Promise<Mesh>;
}

export class LocalPlatform implements Platform {
  readonly engine = 'local' as const;
  private mesh: Mesh | null = null;
  private starting: Promise<Mesh> | null = null;
  private stopping = false;

  constructor(private readonly opts: LocalPlatformOptions) {}

  /**
   * Checks, before anything starts, what deploy and every route of the run would refuse: the
   * manifests, the tracks' overrides, and each route's VirtualService. Throws ConfigError (exit 3).
   */
  async check(tracks: TrackPlan[], routes: RoutePlan[]): Promise<void> {
    await checkMesh({
      manifestsDir: this.opts.manifestsDir,
      overrides: this.overridesFor(tracks),
      routes: routes.map((r) => virtualServiceFor(this.opts.target, r)),
    });
  }

  private overridesFor(tracks: TrackPlan[]): NonNullable<MeshOptions['overrides']> {
    const overrides: NonNullable<MeshOptions['overrides']> = {};
    for (const [track, workload] of Object.entries(this.opts.workloads)) {
      const planned = tracks.find((t) => t.track === track);
      overrides[workload] = planned ? { env: { VERSION: planned.version, ...planned.env } } : { replicas: 0 };
    }
    return overrides;
  }

  async deploy(tracks: TrackPlan[], options: DeployOptions = {}): Promise<Deployment> {
    const overrides = this.overridesFor(tracks);
    this.starting = (this.opts.start ?? startMesh)({
      manifestsDir: this.opts.manifestsDir,
      port: this.opts.port ?? 0,
      overrides,
      log: this.opts.log,
    });
    const mesh = await this.starting;
    this.mesh = mesh;
    mesh.onUnexpectedExit((e) => {
      if (this.stopping) return;
      options.onUnexpectedExit?.({
        workload: e.workload,
        detail: e.signal ? `signal ${e.signal}` : `exit code ${e.code}`,
      });
    });
    // The committed VirtualService sends tagged testers to the canary; nothing may reach the
    // canary before the first stage says so.
    await this.setRoute({ kind: 'safe' });
    return { gatewayUrl: mesh.gatewayUrl, metricsUrls: mesh.metricsUrls };
  }

  async setRoute(route: RoutePlan): Promise<void> {
    if (!this.mesh) throw new InfraError('cannot set a route: the local mesh is not running');
    await this.mesh.applyVirtualService(virtualServiceFor(this.opts.target, route));
  }

  async conclude(_verdict: 'promote' | 'rollback'): Promise<void> {
    // Nothing outlives the run locally: the route already says who serves, and teardown follows.
  }

  async teardown(): Promise<void> {
    this.stopping = true;
    // A deploy still in flight (a signal during start-up) is awaited so its children are stopped too.
    const mesh = this.mesh ?? (this.starting ? await this.starting.catch(() => null) : null);
    this.mesh = null;
    await mesh?.stop();
  }
}
