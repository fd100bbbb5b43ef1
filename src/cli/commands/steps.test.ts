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

  it('deploy, and any step with --context, is a usage error (exit 3) until the Kubernetes engine exists', async () => {
    expect((await capture(['deploy'])).code).toBe(3);
    expect((await capture(['rollback', '--context', 'prod'])).code).toBe(3);
  });
});
