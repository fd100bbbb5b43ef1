/**
 * RoutePlan → the Istio VirtualService of the service under canary. The local data plane applies this
 * object as is, and the Kubernetes engine will server-side apply the same object, so both engines route
 * alike. Subsets `primary`, `baseline`, `canary` are those of the service's DestinationRule (selected by
 * the `track` label); route names and the timeout follow the committed
 * `manifests/istio/account-routes.yaml`. Istio matches `http` routes in order, first match wins
 * (https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPRoute).
 */
import type { IVirtualService } from '@kubernetes-models/istio/networking.istio.io/v1beta1/VirtualService';
import type { CanaryPlan, TrackName } from './plan-types.ts';
import type { CohortMatch, RoutePlan } from './route-plan.ts';

type HttpRoute = NonNullable<NonNullable<IVirtualService['spec']>['http']>[number];

/** Annotation that records which stage a VirtualService belongs to, for people reading the cluster. */
export const ROUTE_ANNOTATION = 'canary.sprincube.io/route';

export function virtualServiceFor(target: CanaryPlan['target'], route: RoutePlan): IVirtualService {
  return {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'VirtualService',
    metadata: {
      name: target.virtualService,
      namespace: target.namespace,
      labels: { app: target.service, 'app.kubernetes.io/managed-by': 'sprincube-canary' },
      annotations: { [ROUTE_ANNOTATION]: describeRoute(route) },
    },
    spec: {
      hosts: [target.host],
      http: httpRoutes(target.host, route).map((r) =>
        target.routeTimeout ? { ...r, timeout: target.routeTimeout } : r,
      ),
    },
  };
}

function httpRoutes(host: string, route: RoutePlan): HttpRoute[] {
  switch (route.kind) {
    case 'safe':
      return [to(host, 'default', [['primary', 100]])];
    case 'promoted':
      return [to(host, 'default', [['canary', 100]])];
    case 'header':
      return [...testerRoutes(host, route.canary, route.baseline), to(host, 'default', [['primary', 100]])];
    case 'weighted': {
      const primary = 100 - route.canary - route.baseline;
      const split: [TrackName, number][] = [
        ['primary', primary],
        ['baseline', route.baseline],
        ['canary', route.canary],
      ];
      return [
        ...testerRoutes(host, route.header.canary, route.header.baseline),
        // Zero weights are left out: Istio accepts them, but they only add noise to the object.
        to(
          host,
          'default',
          split.filter(([, w]) => w > 0),
        ),
      ];
    }
  }
}

function testerRoutes(host: string, canary: CohortMatch, baseline: CohortMatch | null): HttpRoute[] {
  const routes = [withHeader(to(host, `${canary.cohort}-cohort`, [['canary', 100]]), canary)];
  if (baseline) routes.push(withHeader(to(host, `${baseline.cohort}-cohort`, [['baseline', 100]]), baseline));
  return routes;
}

function withHeader(route: HttpRoute, cohort: CohortMatch): HttpRoute {
  return { name: route.name, match: [{ headers: { 'end-user': { regex: cohort.pattern } } }], route: route.route };
}

function to(host: string, name: string, split: [TrackName, number][]): HttpRoute {
  return {
    name,
    route: split.map(([subset, weight]) => ({ destination: { host, subset }, weight })),
  };
}

/** `safe`, `header`, `weighted canary=5 baseline=5 primary=90`, `promoted`. */
export function describeRoute(route: RoutePlan): string {
  if (route.kind !== 'weighted') return route.kind;
  return `weighted canary=${route.canary} baseline=${route.baseline} primary=${100 - route.canary - route.baseline}`;
}
