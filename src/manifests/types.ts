/**
 * The Kubernetes and Istio objects the harness reads from `manifests/`, as plain data. The loader
 * validates each object against the real schemas (kubernetes-models, @kubernetes-models/istio) and the
 * cross-references between them before anything uses them; the local data plane and the Kubernetes
 * platform both consume this set.
 */
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IVirtualService } from '@kubernetes-models/istio/networking.istio.io/v1beta1/VirtualService';
import type { IDestinationRule } from '@kubernetes-models/istio/networking.istio.io/v1beta1/DestinationRule';
import type { IGateway } from '@kubernetes-models/istio/networking.istio.io/v1beta1/Gateway';
import type { IAuthorizationPolicy } from '@kubernetes-models/istio/security.istio.io/v1beta1/AuthorizationPolicy';

export type { IDeployment, IService, IVirtualService, IDestinationRule, IGateway, IAuthorizationPolicy };

/** Where an object came from, so errors can name the file and the object. */
export interface Origin {
  file: string;
  /** `Kind/namespace/name` */
  object: string;
  /** Index of the YAML document in the file, from 0. */
  document: number;
}

export interface Located<T> {
  origin: Origin;
  value: T;
}

export interface ManifestSet {
  dir: string;
  deployments: Located<IDeployment>[];
  services: Located<IService>[];
  gateways: Located<IGateway>[];
  virtualServices: Located<IVirtualService>[];
  destinationRules: Located<IDestinationRule>[];
  authorizationPolicies: Located<IAuthorizationPolicy>[];
  /** Every object of every file, validated, including kinds the local engine does not use. */
  all: Located<{ apiVersion: string; kind: string; metadata?: { name?: string; namespace?: string } }>[];
}
