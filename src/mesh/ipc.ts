/**
 * Messages between the mesh supervisor and its child proxies over the IPC channel of `fork()`.
 * The supervisor plays istiod: it starts each proxy, then pushes the whole ProxyConfig and waits for
 * every proxy's acknowledgement (a nack carries the reason the proxy could not apply it).
 */
import type { ProxyConfig, WorkloadIdentity } from './config.ts';

/** What a child runs behind its proxy: the reference app, or a fixed-answer echo for the data plane's own tests and benchmark. */
export type ChildApp = 'reference' | 'echo';

export interface ChildSpec {
  role: 'gateway' | 'workload';
  identity: WorkloadIdentity & { service: string; version: string; track?: string };
  app: ChildApp;
  /** Port to listen on (0 = any free port). */
  port: number;
  /** The run's secret key that signs peer identities (base64). Crosses only this channel; never logged. */
  peerKey: string;
}

export type SupervisorMessage =
  | { type: 'start'; spec: ChildSpec }
  | { type: 'config'; id: number; config: ProxyConfig }
  | { type: 'stop' };

export type ChildMessage =
  | { type: 'ready'; url: string; metricsUrl: string }
  | { type: 'failed'; reason: 'port-in-use' | 'config' | 'error'; message: string }
  | { type: 'ack'; id: number }
  | { type: 'nack'; id: number; message: string };
