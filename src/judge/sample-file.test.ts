import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.ts';
import { parseSamples } from './sample-file.ts';

function problem(text: string): ConfigError {
  try {
    parseSamples(text, 'samples.txt');
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('parseSamples', () => {
  it('reads a JSON array, NDJSON (numbers or {value}) and a one-column CSV with a header', () => {
    expect(parseSamples('[1, 2.5, 3e1]', 'f')).toEqual([1, 2.5, 30]);
    expect(parseSamples('{"value": 1}\n{"latencyMs": 2}\n3\n', 'f')).toEqual([1, 2, 3]);
    expect(parseSamples('latency_ms\r\n12.5\r\n"13"\r\n\r\n', 'f')).toEqual([12.5, 13]);
    expect(parseSamples('  \n', 'f')).toEqual([]);
  });
  it('names the file and line of a bad entry', () => {
    const e = problem('[1,\n 2,\n "x"]');
    expect(e.file).toBe('samples.txt');
    expect(e.where).toBe('line 3, element 2');
    expect(problem('1\n2\nabc\n').where).toBe('line 3');
    expect(problem('{"value": 1}\n{"v": 2}\n').message).toMatch(/samples\.txt line 2: expected a number or an object/);
    expect(problem('a,b\n1,2\n').problem).toMatch(/one column/);
    expect(problem('[1, 2').problem).toMatch(/invalid JSON/);
  });
  it('accepts a header only on the first line', () => {
    expect(problem('1\nlatency\n').where).toBe('line 2');
  });
});
