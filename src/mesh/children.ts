/**
 * The child processes of one local data plane and istiod's push to them, shared by the supervisor
 * that reads files (mesh.ts) and the one that follows a cluster (follow.ts): spawning a child with
 * the run's peer key, starting the ingress gateway (a port in use fails fast), pushing a
 * `ProxyConfig` to every started proxy and waiting for their acknowledgements, stopping one child
 * on purpose, reporting a child that exits unasked, and stopping them all (no orphans: they are
 * killed if this process exits first).
 */
import { InfraError } from '../core/errors.ts';
import { GATEWAY_IDENTITY, type ProxyConfig } from './config.ts';
import type { ChildSpec } from './ipc.ts';
import { newPeerKey } from './proxy/peer-identity.ts';
import { ChildStartError, ProxyChild } from './proxy-child.ts';

export interface UnexpectedExit {
  workload: string;
  code: number | null;
  signal: string | null;
}

const CONFIG_ACK_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 3_000;

export class MeshChildren {
  /** Made fresh for every data plane: only the proxies started here can sign a peer identity. */
  private readonly peerKey = newPeerKey();
  private readonly children = new Set<ProxyChild>();
  /** Children that have started listening: only they take configurations. */
  private readonly started = new Set<ProxyChild>();
  /** Children stopped on purpose: their exit is not reported. */
  private readonly dismissed = new WeakSet<ProxyChild>();
  private readonly listeners: ((e: UnexpectedExit, child: ProxyChild) => void)[] = [];
  private stopping = false;
  private stopPromise: Promise<void> = Promise.resolve();
  private configId = 0;
  private readonly killAll = (): void => {
    for (const c of this.children) c.kill();
  };

  constructor(
    private readonly log: (line: string) => void,
    private readonly startTimeoutMs: number,
  ) {
    process.once('exit', this.killAll);
  }

  get stopped(): boolean {
    return this.stopping;
  }

  /** Forks a child (it does not listen until `start`). */
  spawn(name: string, spec: Omit<ChildSpec, 'peerKey'>, env: Record<string, string>): ProxyChild {
    const child = new ProxyChild(name, { ...spec, peerKey: this.peerKey }, { ...process.env, ...env }, this.log);
    this.children.add(child);
    void child.exited.then((e) => {
      this.started.delete(child);
      this.children.delete(child);
      if (this.stopping || this.dismissed.has(child)) return;
      this.log(`${name} exited unexpectedly (${e.signal ? `signal ${e.signal}` : `exit code ${e.code}`})`);
      for (const l of this.listeners) l({ workload: spec.identity.workload, code: e.code, signal: e.signal }, child);
    });
    return child;
  }

  /** Resolves once the child listens; from then on it takes every configuration pushed. */
  async start(child: ProxyChild): Promise<void> {
    await child.start(this.startTimeoutMs);
    if (child.alive) this.started.add(child);
  }

  /** Forks and starts the ingress gateway on 127.0.0.1:`port` (0: a free one). */
  async startGateway(port: number): Promise<ProxyChild> {
    const gateway = this.spawn(
      'gateway',
      {
        role: 'gateway',
        identity: { ...GATEWAY_IDENTITY, service: 'istio-ingressgateway', version: 'unknown' },
        app: 'echo',
        port,
      },
      {},
    );
    await this.start(gateway).catch((err: unknown) => {
      if (err instanceof ChildStartError && err.reason === 'port-in-use') {
        throw new InfraError(
          `port ${port} on 127.0.0.1 is already in use: choose another with --port (0 picks a free one) or stop what listens there`,
        );
      }
      throw err;
    });
    return gateway;
  }

  /**
   * Every started proxy applies `config`; resolves once all have acknowledged it. One that has died
   * routes nothing, so it does not keep the others (the safe route after a crash) from taking effect.
   */
  async push(config: ProxyConfig): Promise<void> {
    const id = ++this.configId;
    await Promise.all(
      [...this.started]
        .filter((c) => c.alive)
        .map((c) =>
          c.configure(id, config, CONFIG_ACK_TIMEOUT_MS).catch((err: unknown) => {
            if (c.alive) throw err;
            this.log(`${c.name} exited before applying configuration ${id}; it routes nothing`);
          }),
        ),
    );
  }

  /** Stops one child on purpose (its exit is not reported as unexpected). */
  async stopChild(child: ProxyChild): Promise<void> {
    this.dismissed.add(child);
    this.started.delete(child);
    await child.stop(STOP_GRACE_MS);
  }

  /** Called when a child exits without being asked to. */
  onUnexpectedExit(listener: (e: UnexpectedExit, child: ProxyChild) => void): void {
    this.listeners.push(listener);
  }

  /** Stops every child; idempotent. */
  stop(): Promise<void> {
    if (this.stopping) return this.stopPromise;
    this.stopping = true;
    this.stopPromise = Promise.all([...this.children].map((c) => c.stop(STOP_GRACE_MS))).then(() => {
      process.off('exit', this.killAll);
    });
    return this.stopPromise;
  }
}
