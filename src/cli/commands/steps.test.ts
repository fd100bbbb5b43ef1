import { describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
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

  it('a routing step with --context is a usage error (exit 3): only canary run applies routes to a cluster', async () => {
    expect((await capture(['rollback', '--context', 'prod'])).code).toBe(3);
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
