/**
 * The kinds a manifest may hold, each with the schema it is checked against. Anything else is an
 * error: a typo in `kind` or `apiVersion` would otherwise be skipped silently, and the object
 * would never reach the cluster or the local data plane.
 *
 * Two sources of schema, both generated from the upstream OpenAPI / CRD definitions:
 * - the models of `kubernetes-models` and `@kubernetes-models/istio`, whose `.validate()` checks
 *   types, enums, required fields and one-of forms, but not unknown fields (their schemas leave
 *   `additionalProperties` open);
 * - for unknown fields (what `kubectl apply --validate=strict` rejects), the field lists of
 *   `@kubernetes/client-node`'s generated models for Kubernetes kinds, and the Istio models' own
 *   JSON schema for Istio kinds (see strict-fields.ts).
 */
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import * as networkingV1beta1 from '@kubernetes-models/istio/networking.istio.io/v1beta1';
import * as networkingV1alpha3 from '@kubernetes-models/istio/networking.istio.io/v1alpha3';
import * as securityV1beta1 from '@kubernetes-models/istio/security.istio.io/v1beta1';
import * as securityV1 from '@kubernetes-models/istio/security.istio.io/v1';

/** What every model class offers: build from plain data, then `validate()` throws on a schema error. */
export interface ModelInstance {
  validate(): void;
}
export type ModelClass = new (data: Record<string, unknown>) => ModelInstance;

export type FieldSource =
  /** A model class name of @kubernetes/client-node (e.g. `V1Deployment`). */
  | { kind: 'typeMap'; typeName: string }
  /** The JSON schema the Istio model registers with its validator. */
  | { kind: 'jsonSchema' };

export interface KindDefinition {
  apiVersion: string;
  kind: string;
  model: ModelClass;
  fields: FieldSource;
  /** Cluster-scoped kinds have no namespace. */
  clusterScoped: boolean;
  /**
   * The apiVersion the model class is written for, when it differs from `apiVersion`: Istio's `v1`
   * APIs are its `v1beta1` ones promoted unchanged (Istio 1.22), and the model package has no `v1`
   * classes for them, so they are checked with the `v1beta1` schema.
   */
  modelApiVersion?: string;
}

function kubernetes(apiVersion: string, kind: string, model: unknown, clusterScoped = false): KindDefinition {
  return {
    apiVersion,
    kind,
    model: model as ModelClass,
    fields: { kind: 'typeMap', typeName: `V1${kind}` },
    clusterScoped,
  };
}

function istio(apiVersion: string, kind: string, model: unknown, modelApiVersion?: string): KindDefinition {
  return {
    apiVersion,
    kind,
    model: model as ModelClass,
    fields: { kind: 'jsonSchema' },
    clusterScoped: false,
    ...(modelApiVersion ? { modelApiVersion } : {}),
  };
}

const networkingKinds = [
  'VirtualService',
  'DestinationRule',
  'Gateway',
  'ServiceEntry',
  'Sidecar',
  'WorkloadEntry',
  'WorkloadGroup',
] as const;

const definitions: KindDefinition[] = [
  kubernetes('v1', 'Namespace', Namespace, true),
  kubernetes('v1', 'Service', Service),
  kubernetes('v1', 'ServiceAccount', ServiceAccount),
  kubernetes('v1', 'ConfigMap', ConfigMap),
  kubernetes('v1', 'Secret', Secret),
  kubernetes('v1', 'PersistentVolumeClaim', PersistentVolumeClaim),
  kubernetes('apps/v1', 'Deployment', Deployment),
  kubernetes('apps/v1', 'StatefulSet', StatefulSet),
  kubernetes('batch/v1', 'CronJob', CronJob),
  kubernetes('rbac.authorization.k8s.io/v1', 'Role', Role),
  kubernetes('rbac.authorization.k8s.io/v1', 'RoleBinding', RoleBinding),
  kubernetes('rbac.authorization.k8s.io/v1', 'ClusterRole', ClusterRole, true),
  kubernetes('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', ClusterRoleBinding, true),
  ...networkingKinds.map((kind) =>
    istio('networking.istio.io/v1', kind, networkingV1beta1[kind], 'networking.istio.io/v1beta1'),
  ),
  ...networkingKinds.map((kind) => istio('networking.istio.io/v1beta1', kind, networkingV1beta1[kind])),
  ...networkingKinds.map((kind) => istio('networking.istio.io/v1alpha3', kind, networkingV1alpha3[kind])),
  istio('security.istio.io/v1beta1', 'AuthorizationPolicy', securityV1beta1.AuthorizationPolicy),
  istio('security.istio.io/v1beta1', 'PeerAuthentication', securityV1beta1.PeerAuthentication),
  istio('security.istio.io/v1beta1', 'RequestAuthentication', securityV1beta1.RequestAuthentication),
  istio('security.istio.io/v1', 'AuthorizationPolicy', securityV1.AuthorizationPolicy),
  istio('security.istio.io/v1', 'RequestAuthentication', securityV1.RequestAuthentication),
  istio('security.istio.io/v1', 'PeerAuthentication', securityV1beta1.PeerAuthentication, 'security.istio.io/v1beta1'),
];

const byKey = new Map(definitions.map((d) => [`${d.apiVersion}/${d.kind}`, d]));

/** The definition for `apiVersion` + `kind`, or undefined when the harness does not know the kind. */
export function kindDefinition(apiVersion: string, kind: string): KindDefinition | undefined {
  return byKey.get(`${apiVersion}/${kind}`);
}

/** Every known kind, for the error message on an unknown one. */
export function knownKinds(): { apiVersion: string; kind: string }[] {
  return definitions.map(({ apiVersion, kind }) => ({ apiVersion, kind }));
}
