/**
 * What every proxy of the local data plane needs to know, as plain data that crosses the IPC channel:
 * the Istio objects that shape traffic and the endpoints (one per running replica). The supervisor
 * builds it from the manifests and the replicas' listening addresses and pushes it to every proxy,
 * the way istiod pushes xDS to every Envoy.
 */
import type { IAuthorizationPolicy, IDestinationRule, IVirtualService } from '../manifests/types.ts';

/** One running replica of a workload, as a proxy sees it. */
export interface MeshEndpoint {
  workload: string;
  service: string;
  version: string;
  track?: string;
  namespace: string;
  serviceAccount: string;
  labels: Record<string, string>;
  /** `http://127.0.0.1:PORT` of the replica's inbound sidecar. */
  url: string;
}

export interface ProxyConfig {
  virtualServices: IVirtualService[];
  destinationRules: IDestinationRule[];
  authorizationPolicies: IAuthorizationPolicy[];
  /** PeerAuthentication objects (STRICT, PERMISSIVE, DISABLE per workload); none means PERMISSIVE. */
  peerAuthentications?: unknown[];
  /** Names of the Gateway objects the ingress gateway serves (VirtualServices bind to these). */
  gatewayNames: string[];
  /** Every service of the mesh, including those with no replica running (routes to them answer 503 UH). */
  services: string[];
  endpoints: MeshEndpoint[];
}

/** The identity a proxy presents to its peers: Istio derives it from the pod's service account. */
export interface WorkloadIdentity {
  workload: string;
  namespace: string;
  serviceAccount: string;
  labels: Record<string, string>;
}

/** SPIFFE-style principal as AuthorizationPolicy `source.principals` spells it (no `spiffe://`). */
export function principalOf(id: { namespace: string; serviceAccount: string }): string {
  return `cluster.local/ns/${id.namespace}/sa/${id.serviceAccount}`;
}

/** The ingress gateway's identity, as Istio's default installation names it. */
export const GATEWAY_IDENTITY: WorkloadIdentity = {
  workload: 'istio-ingressgateway',
  namespace: 'istio-system',
  serviceAccount: 'istio-ingressgateway-service-account',
  labels: { app: 'istio-ingressgateway', istio: 'ingressgateway' },
};

/** Istio's root namespace: AuthorizationPolicies there apply to every workload of the mesh. */
export const ROOT_NAMESPACE = 'istio-system';
