import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.ts';
import { escapePromQLString, escapeRegex, loadTemplates, promqlDuration, render } from './promql.ts';

/**
 * Reads one double-quoted PromQL string literal starting at `text[open]`, with Go's escape rules
 * (as Prometheus' lexer does), and returns its value and the index after the closing quote.
 * Throws on a raw line break, as Prometheus does ("unterminated quoted string").
 */
function readLiteral(text: string, open: number): { value: string; after: number } {
  expect(text[open]).toBe('"');
  let value = '';
  for (let i = open + 1; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n') throw new Error('raw line break in string literal');
    if (c === '"') return { value, after: i + 1 };
    if (c !== '\\') {
      value += c;
      continue;
    }
    const e = text[++i]!;
    const simple: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\', '"': '"' };
    if (e in simple) value += simple[e];
    else if (e === 'x') {
      value += String.fromCharCode(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else throw new Error(`unknown escape \\${e}`);
  }
  throw new Error('unterminated literal');
}

const hostile = [
  'account"} or vector(1) or up{x="',
  'a\\"}',
  'line1\nline2',
  'tab\tcr\rnul\u0000bell\u0007del\u007f',
  '\\',
  '"',
  'ünïcødé ✓',
  '',
];

describe('escapePromQLString', () => {
  it.each(hostile)('keeps %j inside its literal and round-trips it exactly', (value) => {
    const query = `m{destination_service_name="${escapePromQLString(value)}", x="y"}`;
    const open = query.indexOf('"');
    const { value: decoded, after } = readLiteral(query, open);
    expect(decoded).toBe(value);
    // the template continues right after the literal: nothing was injected
    expect(query.slice(after)).toBe(', x="y"}');
    expect(query).not.toMatch(/\n/);
  });
});

describe('escapeRegex', () => {
  it('makes every RE2 metacharacter literal', () => {
    const value = 'a.b+c*d?e(f)g|h[i]j{k}l^m$n\\o';
    const re = new RegExp(`^(?:${escapeRegex(value)})$`);
    expect(re.test(value)).toBe(true);
    expect(re.test('aXb+c*d?e(f)g|h[i]j{k}l^m$n\\o')).toBe(false);
    expect(new RegExp(`^(?:${escapeRegex('.*')})$`).test('anything')).toBe(false);
  });
});

describe('render', () => {
  const where = { file: 'f.yaml', path: 'requests' };

  it('substitutes escaped values and an anchored alternation of workloads', () => {
    const q = render(
      'm{s="{{service}}", w=~"{{ workloads }}"}[{{interval}}]',
      { service: 'acc"ount', workloads: ['a.b', 'c|d'], intervalMs: 60_000 },
      where,
    );
    expect(q).toBe('m{s="acc\\"ount", w=~"a\\\\.b|c\\\\|d"}[60000ms]');
    const w = readLiteral(q, q.indexOf('"', q.indexOf('w=~')));
    expect(w.value).toBe('a\\.b|c\\|d');
    const re = new RegExp(`^(?:${w.value})$`);
    expect(['a.b', 'c|d'].every((x) => re.test(x))).toBe(true);
    expect(re.test('aXb')).toBe(false);
  });

  it('rejects an unknown placeholder, naming file, path and placeholder', () => {
    expect(() => render('m{x="{{namespace}}"}', { service: 's', workloads: ['w'] }, where)).toThrow(ConfigError);
    expect(() => render('m{x="{{namespace}}"}', { service: 's', workloads: ['w'] }, where)).toThrow(
      /f\.yaml requests: unknown placeholder \{\{namespace\}\}/,
    );
  });

  it('writes durations in ms', () => {
    expect(promqlDuration(90_000)).toBe('90000ms');
    expect(promqlDuration(0.2)).toBe('1ms');
  });
});

describe('loadTemplates', () => {
  it('loads the default templates, each keeping the labels the source needs', () => {
    const t = loadTemplates();
    expect(t.requests).toMatch(/by \(.*destination_workload.*response_code.*\)/);
    expect(t.latencyBuckets).toMatch(/by \(.*destination_workload.*le\)/);
    expect(t.latencySum).toMatch(/istio_request_duration_milliseconds_sum/);
    for (const q of Object.values(t)) expect(q).not.toMatch(/increase\(|rate\(/);
  });

  it('names the file and the path of a bad template file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'promql-'));
    const missingKey = join(dir, 'missing.yaml');
    writeFileSync(missingKey, 'requests: up\nlatencyBuckets: up\n');
    expect(() => loadTemplates(missingKey)).toThrow(new RegExp(`${missingKey} latencySum: `));
    const extra = join(dir, 'extra.yaml');
    writeFileSync(extra, 'requests: up\nlatencyBuckets: up\nlatencySum: up\nlatency: up\n');
    expect(() => loadTemplates(extra)).toThrow(ConfigError);
    const badPlaceholder = join(dir, 'placeholder.yaml');
    writeFileSync(badPlaceholder, 'requests: up{x="{{pod}}"}\nlatencyBuckets: up\nlatencySum: up\n');
    expect(() => loadTemplates(badPlaceholder)).toThrow(/placeholder\.yaml requests: unknown placeholder \{\{pod\}\}/);
    expect(() => loadTemplates(join(dir, 'nope.yaml'))).toThrow(/nope\.yaml: cannot read PromQL templates/);
  });
});
