/**
 * DestinationRule `trafficPolicy.loadBalancer.simple` over the replicas of one cluster (a service, or
 * one subset of it). LEAST_REQUEST follows Envoy's default: power of two random choices, the one with
 * fewer requests in flight wins (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/load_balancers).
 */
import type { MeshEndpoint } from '../config.ts';

export type LoadBalancerPolicy = 'ROUND_ROBIN' | 'RANDOM' | 'LEAST_REQUEST';
export type RandomSource = () => number;

/** Replicas of one destination, with the state the load balancer needs. */
export class Cluster {
  private next = 0;
  private readonly inFlight: number[];

  constructor(
    readonly service: string,
    readonly subset: string | undefined,
    readonly endpoints: readonly MeshEndpoint[],
    readonly policy: LoadBalancerPolicy,
    private readonly random: RandomSource,
  ) {
    this.inFlight = endpoints.map(() => 0);
  }

  /** Index of the replica the next request goes to, or -1 when the cluster has none. */
  pick(): number {
    const n = this.endpoints.length;
    if (n === 0) return -1;
    if (n === 1) return 0;
    switch (this.policy) {
      case 'ROUND_ROBIN': {
        const i = this.next;
        this.next = (i + 1) % n;
        return i;
      }
      case 'RANDOM':
        return Math.floor(this.random() * n);
      case 'LEAST_REQUEST': {
        const a = Math.floor(this.random() * n);
        let b = Math.floor(this.random() * (n - 1));
        if (b >= a) b += 1;
        return this.inFlight[b] < this.inFlight[a] ? b : a;
      }
    }
  }

  started(index: number): void {
    this.inFlight[index] += 1;
  }

  finished(index: number): void {
    this.inFlight[index] -= 1;
  }

  requestsInFlight(index: number): number {
    return this.inFlight[index];
  }
}

/** Maps `simple`; LEAST_CONN is Istio's deprecated alias of LEAST_REQUEST. Unset stays unset: the
 * route table then uses Istio's default, LEAST_REQUEST. */
export function loadBalancerPolicy(simple: string | undefined): LoadBalancerPolicy | undefined {
  switch (simple) {
    case undefined:
      return undefined;
    case 'ROUND_ROBIN':
    case 'RANDOM':
    case 'LEAST_REQUEST':
      return simple;
    case 'LEAST_CONN':
    case 'UNSPECIFIED':
      return 'LEAST_REQUEST';
    default:
      throw new Error(
        `loadBalancer.simple ${JSON.stringify(simple)} is not supported (ROUND_ROBIN, RANDOM, LEAST_REQUEST)`,
      );
  }
}
