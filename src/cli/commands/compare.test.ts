import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../main.ts';

const dir = mkdtempSync(join(tmpdir(), 'compare-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  });
  const code = await main(args);
  vi.restoreAllMocks();
  return { code, out, err };
}

const lognormal = (n: number, scale: number) =>
  Array.from({ length: n }, (_, i) => scale * Math.exp(Math.sin(i * 12.9898) * 0.5));

describe('canary compare', () => {
  const base = file('base.json', JSON.stringify(lognormal(1500, 50)));
  const slow = file(
    'slow.ndjson',
    lognormal(1500, 75)
      .map((x) => JSON.stringify({ value: x }))
      .join('\n'),
  );
  const big = file('big.json', JSON.stringify(lognormal(2000, 50)));
  const same = file('same.csv', `latency_ms\n${lognormal(2000, 50).join('\n')}\n`);

  it('exits 1 on a regression and prints the documented JSON', async () => {
    const r = await cli(['compare', '--baseline-file', base, '--canary-file', slow, '--json']);
    expect(r.code).toBe(1);
    const json = JSON.parse(r.out);
    expect(json.verdict).toBe('fail');
    expect(json.metrics[0]).toMatchObject({
      name: 'latency-p50',
      classification: 'fail',
      n: { baseline: 1500, canary: 1500 },
    });
    expect(json.metrics[0].ci).toHaveLength(2);
    expect(typeof json.metrics[0].eValue).toBe('number');
    expect(typeof json.metrics[0].reason).toBe('string');
  });

  it('exits 0 on identical samples and prints a readable verdict', async () => {
    const r = await cli(['compare', '--baseline-file', big, '--canary-file', same, '--tolerance', '0.15']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^verdict: pass \(sequential judge\)/);
  });

  it('exits 2 when the samples are too small to decide', async () => {
    const small = file('small.json', JSON.stringify(lognormal(50, 50)));
    expect((await cli(['compare', '--baseline-file', small, '--canary-file', small])).code).toBe(2);
  });

  it('judges error counts with --metric errors', async () => {
    const r = await cli([
      'compare',
      '--metric',
      'errors',
      '--baseline-counts',
      '5/5000',
      '--canary-counts',
      '60/5000',
      '--json',
    ]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).metrics[0].name).toBe('errors');
  });

  it('runs the fixed judge with a two-sided Mann-Whitney p-value', async () => {
    const r = await cli(['compare', '--baseline-file', base, '--canary-file', slow, '--judge', 'fixed', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).metrics[0].pValue).toBeLessThan(0.05);
  });

  it('exits 3 naming the file and line of a bad entry', async () => {
    const bad = file('bad.csv', 'ms\n1\n2\nabc\n');
    const r = await cli(['compare', '--baseline-file', base, '--canary-file', bad]);
    expect(r.code).toBe(3);
    expect(r.err).toContain(`${bad} line 4: expected a number, got "abc"`);
  });

  it('exits 3 on bad counts and on a missing file', async () => {
    const counts = await cli([
      'compare',
      '--metric',
      'errors',
      '--baseline-counts',
      '5of10',
      '--canary-counts',
      '1/10',
    ]);
    expect(counts.code).toBe(3);
    expect(counts.err).toMatch(/--baseline-counts: expected ERRORS\/TOTAL/);
    const missing = await cli(['compare', '--baseline-file', join(dir, 'nope.json'), '--canary-file', base]);
    expect(missing.code).toBe(3);
    expect(missing.err).toMatch(/nope\.json: cannot read the file: ENOENT/);
  });
});
