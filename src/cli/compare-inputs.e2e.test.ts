/** `canary compare` on the files people have: its own load.json, k6's JSON output, arrays of objects. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSamples } from '../judge/sample-file.ts';
import { canaryBin } from './testing/canary-bin.ts';

const dir = mkdtempSync(join(tmpdir(), 'compare-inputs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const latencies = (n: number, scale: number) =>
  Array.from({ length: n }, (_, i) => scale * Math.exp(Math.sin(i * 12.9898) * 0.3));

/** A load.json as `canary load` writes it: pretty-printed, latencies in HDR histograms (µs). */
function loadJson(name: string, values: number[]): string {
  const h = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  for (const v of values) h.recordValue(Math.round(v * 1000));
  const report = {
    runId: name,
    summary: { runId: name, requests: values.length },
    result: {
      series: [{ route: '/api/profile/:id', requests: values.length, histogram: hdr.encodeIntoCompressedBase64(h) }],
    },
  };
  const file = join(dir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}

function k6Json(name: string, values: number[]): string {
  const lines = [
    JSON.stringify({ type: 'Metric', data: { name: 'http_req_duration', type: 'trend' }, metric: 'http_req_duration' }),
    ...values.flatMap((v, i) => [
      JSON.stringify({ type: 'Point', metric: 'http_reqs', data: { time: `2026-11-25T20:00:${i % 60}Z`, value: 1 } }),
      JSON.stringify({
        type: 'Point',
        metric: 'http_req_duration',
        data: { time: '2026-11-25T20:00:00Z', value: v, tags: {} },
      }),
    ]),
  ];
  const file = join(dir, `${name}.k6.json`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

describe('canary compare inputs', { timeout: 180_000 }, () => {
  it("reads the tool's own pretty-printed load.json and k6's --out json, and judges them", () => {
    const base = loadJson('base', latencies(3000, 20));
    const slow = k6Json('slow', latencies(3000, 26));
    const r = canaryBin(['compare', '--baseline-file', base, '--canary-file', slow, '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(1);
    const result = JSON.parse(r.out) as { verdict: string; metrics: { n: { baseline: number; canary: number } }[] };
    expect(result.verdict).toBe('fail');
    expect(result.metrics[0]!.n).toEqual({ baseline: 3000, canary: 3000 });
  });

  it('reads a JSON array of objects, as its own message says it does', () => {
    const values = latencies(2000, 20);
    const file = join(dir, 'objects.json');
    writeFileSync(
      file,
      JSON.stringify(
        values.map((v) => ({ latencyMs: v })),
        null,
        2,
      ),
    );
    const r = canaryBin(['compare', '--baseline-file', file, '--canary-file', file]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  });

  it('rejects a negative latency naming the file and the element', () => {
    const file = join(dir, 'negative.json');
    writeFileSync(file, '[\n  12.5,\n  -3,\n  14\n]\n');
    const r = canaryBin(['compare', '--baseline-file', file, '--canary-file', file]);
    expect(r.code).toBe(3);
    expect(r.err).toBe(`canary: ${file} line 3, element 1: expected a latency: a finite number >= 0 (ms), got -3\n`);
  });
});

describe('parseSamples', () => {
  it('rejects non-finite values in CSV and NDJSON, naming the line', () => {
    expect(() => parseSamples('ms\n12\nInfinity\n', 'f.csv')).toThrow(
      'f.csv line 3: expected a latency: a finite number >= 0 (ms), got Infinity',
    );
    expect(() => parseSamples('{"value": 1}\n{"value": -0.5}\n', 'f.ndjson')).toThrow(
      'f.ndjson line 2: expected a latency',
    );
    expect(() => parseSamples('NaN\n', 'f.csv')).toThrow('f.csv line 1: expected a number, got "NaN"');
  });

  it('keeps the raw samples of a load.json when it has them', () => {
    const text = JSON.stringify({ result: { samples: [{ latencyMs: 3 }, { latencyMs: 4.5 }], series: [] } }, null, 2);
    expect(parseSamples(text, 'load.json')).toEqual([3, 4.5]);
  });

  it('says when a k6 file has no http_req_duration point', () => {
    const text = `${JSON.stringify({ type: 'Point', metric: 'vus', data: { value: 3 } })}\n`;
    expect(() => parseSamples(text, 'k6.json')).toThrow('k6 JSON output without any http_req_duration point');
  });
});
