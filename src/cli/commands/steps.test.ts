import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { FakeKubeApi, type Json } from '../../platform/testing/fake-kube-api.ts';
import { main } from '../main.ts';
import { parseRouteArg } from './steps.ts';

async function capture(argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const spy = vi
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return { code: await main(argv), out };
  } finally {
    spy.mockRestore();
    err.mockRestore();
  }
}

describe('canary rollback --kubeconfig: a run that was killed, put right on the cluster', () => {
  let api: FakeKubeApi;
  let kubeconfig: string;
  const NS = 'sprincube';
  const DEPLOYMENTS = `/apis/apps/v1/namespaces/${NS}/deployments`;
  const VS = `/apis/networking.istio.io/v1beta1/namespaces/${NS}/virtualservices`;

  beforeEach(async () => {
    api = new FakeKubeApi();
    kubeconfig = api.kubeconfig(await api.start());
    // What a killed run left: the weighted route and both tracks serving.
    const split = parse((await capture(['route', 'weighted:10'])).out);
    api.put(VS, split);
    for (const name of ['account-primary', 'account-baseline', 'account-canary'])
      api.put(DEPLOYMENTS, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, namespace: NS, labels: { app: 'account', version: 'v1' } },
        spec: { replicas: name === 'account-primary' ? 2 : 1 },
      });
  });
  afterEach(() => api.stop());

  it('puts all traffic on the primary, reads it back, then scales baseline and canary to 0', async () => {
    const { code, out } = await capture(['rollback', '--kubeconfig', kubeconfig, '--context', 'fake']);
    expect(code, out).toBe(0);
    expect(api.get(VS, 'account')!.spec.http.map((r: Json) => r.route.map((d: Json) => d.destination.subset))).toEqual([
      ['primary'],
    ]);
    expect(api.get(DEPLOYMENTS, 'account-baseline')!.spec.replicas).toBe(0);
    expect(api.get(DEPLOYMENTS, 'account-canary')!.spec.replicas).toBe(0);
    expect(api.get(DEPLOYMENTS, 'account-primary')!.spec.replicas).toBe(2);
    // The route first, then the tracks, by the apply a run's own cleanup sends (so that the next
    // run's apply still owns every field), with the version the track has on the cluster.
    const sent = api.requests.filter((r) => r.method === 'PATCH');
    expect(sent.map((r) => `${r.query.fieldManager} ${r.path}`)).toEqual([
      `sprincube-canary ${VS}/account`,
      `sprincube-canary ${DEPLOYMENTS}/account-baseline`,
      `sprincube-canary ${DEPLOYMENTS}/account-canary`,
    ]);
    expect((sent[2]!.body as Json).spec.template.metadata.labels).toMatchObject({ track: 'canary', version: 'v1' });
    expect(out).toContain('VirtualService sprincube/account: all traffic on account-primary (read back)');
    expect(out).toContain('Deployment sprincube/account-canary: scaled from 1 to 0');
    // Again: nothing left to do, and it says so.
    const again = await capture(['rollback', '--kubeconfig', kubeconfig, '--context', 'fake']);
    expect(again.out).toContain('Deployment sprincube/account-canary: already at 0 replicas');
  });

  it('scales nothing when the route cannot be put back: a track that still gets traffic keeps serving', async () => {
    api.onApply = (collection, obj, a) => {
      // Another controller rewrites the route at once.
      if (collection === VS) a.put(VS, { ...obj, spec: { ...obj.spec, http: [] } });
    };
    const { code } = await capture(['rollback', '--kubeconfig', kubeconfig, '--context', 'fake']);
    expect(code).toBe(4);
    expect(api.get(DEPLOYMENTS, 'account-canary')!.spec.replicas).toBe(1);
    expect(api.requests.some((r) => r.method === 'PATCH' && r.path.startsWith(DEPLOYMENTS))).toBe(false);
  });
});

describe('canary route / promote / rollback / deploy', () => {
  it('parses route names', () => {
    expect(parseRouteArg('weighted:25')).toMatchObject({ kind: 'weighted', canary: 25, baseline: 25 });
    expect(parseRouteArg('safe')).toEqual({ kind: 'safe' });
    expect(() => parseRouteArg('weighted:0')).toThrow(/weighted:N/);
    expect(() => parseRouteArg('half')).toThrow(/route/);
  });

  it("route prints the VirtualService YAML of the committed manifests' service", async () => {
    const { code, out } = await capture(['route', 'weighted:10']);
    expect(code).toBe(0);
    const vs = parse(out);
    expect(vs.metadata).toMatchObject({ name: 'account', namespace: 'sprincube' });
    expect(vs.spec.http.at(-1).route.map((d: { weight: number }) => d.weight)).toEqual([80, 10, 10]);
  });

  it('rollback prints the all-primary route, promote the all-canary one', async () => {
    expect(parse((await capture(['rollback'])).out).spec.http[0].route[0].destination.subset).toBe('primary');
    expect(JSON.parse((await capture(['promote', '--json'])).out).spec.http[0].route[0].destination.subset).toBe(
      'canary',
    );
  });

  it('route and promote with --context are usage errors (exit 3): only canary run applies routes to a cluster', async () => {
    expect((await capture(['route', 'weighted:10', '--context', 'prod'])).code).toBe(3);
    expect((await capture(['promote', '--context', 'prod'])).code).toBe(3);
    expect((await capture(['rollback', '--namespace', 'staging'])).code).toBe(3);
  });

  it('deploy --dry-run prints every object as YAML documents or as a JSON List, with no cluster', async () => {
    const yaml = await capture(['deploy', '--dry-run', '--namespace', 'staging']);
    expect(yaml.code).toBe(0);
    const docs = yaml.out.split(/^---$/m).map((d) => parse(d));
    expect(docs[0]).toMatchObject({ kind: 'Namespace', metadata: { name: 'staging' } });
    const json = await capture(['deploy', '--dry-run', '-o', 'json', '--namespace', 'staging']);
    const list = JSON.parse(json.out);
    expect(list).toMatchObject({ apiVersion: 'v1', kind: 'List' });
    expect(list.items).toEqual(docs);
  });

  it.each([
    [['deploy', '--dry-run', '-o', 'xml']],
    [['deploy', '--dry-run', '--context', 'prod']],
    [['deploy', '--dry-run', '--image', 'friend=x:1']],
  ])('%o is a usage error', async (argv) => {
    expect((await capture(argv)).code).toBe(3);
  });
});
