/**
 * Where the tracks of the service under canary run and how their traffic is routed (DESIGN.md, "One
 * pipeline, two engines"). The canary runner talks only to this interface; `local.ts` implements it
 * over the local mesh (`startMesh`), and `kubernetes.ts` implements it over
 * @kubernetes/client-node (server-side apply of Deployments and of the VirtualService that
 * `canary/routes.ts` builds) without the runner changing.
 */
import type { Engine, TrackPlan } from '../canary/plan-types.ts';
import type { RoutePlan } from '../canary/route-plan.ts';

/** What a deployed platform tells the runner: where to send load and where telemetry lives. */
export interface Deployment {
  /** Base URL of the ingress gateway (loopback on the local engine). */
  gatewayUrl: string;
  /** Every `/metrics` endpoint of the data plane, for the `scrape` telemetry source. */
  metricsUrls: string[];
}

/** A workload process or pod that exited without being asked to. */
export interface UnexpectedExit {
  workload: string;
  /** e.g. `exit code 1` or `signal SIGKILL`. */
  detail: string;
}

export interface DeployOptions {
  /** Called (at most once per exit) when a workload dies on its own during the run. */
  onUnexpectedExit?: (exit: UnexpectedExit) => void;
}

export interface Platform {
  readonly engine: Engine;
  /**
   * Runs the primary, baseline and canary tracks with their versions and environment overrides, and
   * everything else of the app, with the safe route (all traffic on the primary). Throws ConfigError
   * for bad manifests, InfraError when the platform cannot start.
   */
  deploy(tracks: TrackPlan[], options?: DeployOptions): Promise<Deployment>;
  /** Applies a route; resolves once every proxy routes by it. */
  setRoute(route: RoutePlan): Promise<void>;
  /**
   * Makes a verdict permanent beyond routing: `promote` moves the canary's version onto the primary
   * (Kubernetes) or keeps the canary serving (local); `rollback` removes the canary and baseline.
   */
  conclude(verdict: 'promote' | 'rollback'): Promise<void>;
  /** Stops everything `deploy` started; idempotent, safe to call after a failed or partial deploy. */
  teardown(): Promise<void>;
}

/** A platform that can also check, before anything starts, what deploy and each route would refuse. */
export interface CheckedPlatform extends Platform {
  check(tracks: TrackPlan[], routes: RoutePlan[]): Promise<void>;
  /** Connects to what it runs on (the cluster), after `--dry-run` and before the run starts; throws ConfigError/InfraError. */
  prepare?(): Promise<void>;
  /**
   * After `prepare`: the image, version and environment the primary runs with now, where that may
   * differ from the manifests (a cluster, after a promotion); null when it does not run yet.
   */
  runningPrimary?(workload: string): Promise<RunningPrimary | null>;
}

/** The primary's facts as it runs, in the terms of the plan's target facts. */
export interface RunningPrimary {
  primaryImage?: string;
  primaryVersion: string;
  primaryEnv: Record<string, string>;
}

/** What a platform factory gets besides the plan. */
export interface PlatformContext {
  manifestsDir: string;
  log: (line: string) => void;
}
