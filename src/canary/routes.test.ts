import { VirtualService } from '@kubernetes-models/istio/networking.istio.io/v1beta1/VirtualService';
import { describe, expect, it } from 'vitest';
import { virtualServiceFor, describeRoute } from './routes.ts';
import { testPlan } from './testing/fixtures.ts';
import type { RoutePlan } from './route-plan.ts';

const plan = testPlan({ stagesPercent: [5, 10, 25, 50] });
const header = plan.header;

/** Destinations of the last (untagged) route as subset → weight. */
function untagged(route: RoutePlan): Record<string, number> {
  const http = virtualServiceFor(plan.target, route).spec!.http!;
  const last = http[http.length - 1];
  expect(last.match).toBeUndefined();
  return Object.fromEntries(last.route!.map((d) => [d.destination?.subset, d.weight]));
}

describe('virtualServiceFor', () => {
  const all: RoutePlan[] = [{ kind: 'safe' }, { kind: 'promoted' }, ...plan.stages.map((s) => s.route)];

  it.each(all.map((r) => [describeRoute(r), r] as const))(
    '%s validates against the Istio VirtualService schema',
    (_, route) => {
      const vs = virtualServiceFor(plan.target, route);
      expect(() => new VirtualService(vs).validate()).not.toThrow();
      expect(vs.metadata).toMatchObject({ name: 'account', namespace: 'sprincube' });
      expect(vs.spec?.hosts).toEqual(['account']);
      for (const r of vs.spec!.http!) expect(r.timeout).toBe('10s');
    },
  );

  it('the schema check itself rejects a malformed route (so the validations above can fail)', () => {
    const vs = virtualServiceFor(plan.target, { kind: 'safe' });
    const broken = {
      ...vs,
      spec: { ...vs.spec, http: [{ route: [{ destination: { host: 'account' }, weight: 'all' }] }] },
    };
    expect(() => new VirtualService(broken as never).validate()).toThrow();
  });

  it('safe: every request to the primary, no header routes', () => {
    const http = virtualServiceFor(plan.target, { kind: 'safe' }).spec!.http!;
    expect(http).toHaveLength(1);
    expect(untagged({ kind: 'safe' })).toEqual({ primary: 100 });
  });

  it('promoted: every request to the canary', () => {
    expect(untagged({ kind: 'promoted' })).toEqual({ canary: 100 });
  });

  it('header: canary testers to the canary, baseline testers to the baseline, the rest to the primary, in that order', () => {
    const http = virtualServiceFor(plan.target, { kind: 'header', ...header }).spec!.http!;
    expect(
      http.map((r) => [r.match?.[0]?.headers?.['end-user']?.regex, r.route!.map((d) => d.destination?.subset)]),
    ).toEqual([
      ['canary-tester-[0-9]+', ['canary']],
      ['baseline-tester-[0-9]+', ['baseline']],
      [undefined, ['primary']],
    ]);
  });

  it.each([5, 10, 25, 50])('weighted %i: canary w, baseline w, primary 100-2w; testers keep their tracks', (w) => {
    const route: RoutePlan = { kind: 'weighted', canary: w, baseline: w, header };
    const expected: Record<string, number> = { canary: w, baseline: w };
    if (w < 50) expected.primary = 100 - 2 * w;
    expect(untagged(route)).toEqual(expected);
    const http = virtualServiceFor(plan.target, route).spec!.http!;
    expect(http.slice(0, 2).map((r) => r.route![0].destination?.subset)).toEqual(['canary', 'baseline']);
  });

  it('--baseline primary: no baseline route, canary w and primary 100-w', () => {
    const p = testPlan({ baseline: 'primary', stagesPercent: [20] });
    const route = p.stages[1].route;
    const http = virtualServiceFor(p.target, route).spec!.http!;
    expect(http).toHaveLength(2);
    expect(Object.fromEntries(http[1].route!.map((d) => [d.destination?.subset, d.weight]))).toEqual({
      primary: 80,
      canary: 20,
    });
  });

  it('no timeout when the manifests give none', () => {
    const vs = virtualServiceFor({ ...plan.target, routeTimeout: null }, { kind: 'safe' });
    expect(vs.spec!.http![0].timeout).toBeUndefined();
  });
});
