/**
 * Reads a sample file for `canary compare`, in the formats people have at hand:
 * - the harness's own `load.json` (`canary load`): its raw samples, or else its latency histograms;
 * - k6's `--out json=FILE`: the `http_req_duration` points (other metrics are left out);
 * - a JSON array of numbers, or of objects with a numeric `value` / `latency` / `latencyMs` / `durationMs` / `ms`;
 * - NDJSON: one number or one such object per line;
 * - a one-column CSV (a header line is allowed).
 * A latency is a finite number >= 0 in ms; anything else is a `ConfigError` naming the file and the
 * element or line (exit 3).
 */
import { ConfigError } from '../core/errors.ts';
import * as hdr from 'hdr-histogram-js';

const VALUE_FIELDS = ['value', 'latency', 'latencyMs', 'durationMs', 'ms'];
const K6_DURATION = 'http_req_duration';

function checked(v: unknown, file: string, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
    throw new ConfigError(
      file,
      where,
      `expected a latency: a finite number >= 0 (ms), got ${typeof v === 'number' ? String(v) : JSON.stringify(v)}`,
    );
  return v;
}

/** A number, or the numeric field of an object; `undefined` when the object has none. */
function numericValue(entry: unknown): unknown {
  if (entry !== null && typeof entry === 'object' && !Array.isArray(entry)) {
    const record = entry as Record<string, unknown>;
    for (const field of VALUE_FIELDS) if (field in record) return record[field];
    return undefined;
  }
  return entry;
}

export function parseSamples(text: string, file: string): number[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let whole: unknown;
    let parsed = false;
    try {
      whole = JSON.parse(trimmed);
      parsed = true;
    } catch (err) {
      if (trimmed.startsWith('[')) throw invalidJson(err, text, file);
    }
    if (parsed) {
      if (Array.isArray(whole)) return fromArray(whole, text, file);
      if (isLoadReport(whole)) return fromLoadReport(whole, file);
      // One object alone: a one-line NDJSON file (or a k6 file of one point).
    }
  }
  return fromLines(text, file);
}

function invalidJson(err: unknown, text: string, file: string): ConfigError {
  const position = /position (\d+)/.exec((err as Error).message);
  const offset = position ? Number(position[1]) + text.indexOf(text.trim()[0]!) : 0;
  const line = text.slice(0, offset).split('\n').length;
  return new ConfigError(file, `line ${line}`, `invalid JSON: ${(err as Error).message}`);
}

function fromArray(array: unknown[], text: string, file: string): number[] {
  return array.map((entry, i) => {
    const v = numericValue(entry);
    const where = `line ${lineOfElement(text, i)}, element ${i}`;
    if (v === undefined)
      throw new ConfigError(
        file,
        where,
        `expected a number or an object with a numeric ${VALUE_FIELDS.join('/')} field`,
      );
    return checked(v, file, where);
  });
}

interface LoadReportShape {
  result: { samples?: { latencyMs: number }[]; series?: { histogram: string }[] };
}

function isLoadReport(v: unknown): v is LoadReportShape {
  if (v === null || typeof v !== 'object') return false;
  const r = (v as { result?: unknown }).result;
  return (
    r !== null &&
    typeof r === 'object' &&
    (Array.isArray((r as { samples?: unknown }).samples) || Array.isArray((r as { series?: unknown }).series))
  );
}

/** `canary load`'s load.json: the raw samples when it kept them, else every recorded latency of its histograms. */
function fromLoadReport(report: LoadReportShape, file: string): number[] {
  const samples = report.result.samples;
  if (samples && samples.length > 0)
    return samples.map((s, i) => checked(s.latencyMs, file, `result.samples[${i}].latencyMs`));
  const out: number[] = [];
  (report.result.series ?? []).forEach((series, i) => {
    let h: hdr.JsHistogram;
    try {
      h = hdr.decodeFromCompressedBase64(series.histogram) as hdr.JsHistogram;
    } catch (err) {
      throw new ConfigError(file, `result.series[${i}].histogram`, `not an HDR histogram: ${(err as Error).message}`);
    }
    const it = h.recordedValuesIterator;
    it.reset();
    while (it.hasNext()) {
      const v = it.next();
      // µs → ms, each HDR bucket at its representative (median-equivalent) value.
      const ms = h.medianEquivalentValue(v.valueIteratedTo) / 1000;
      for (let k = 0; k < v.countAtValueIteratedTo; k++) out.push(ms);
    }
  });
  return out;
}

function fromLines(text: string, file: string): number[] {
  const lines = text.split(/\r?\n/);
  const firstContent = lines.findIndex((l) => l.trim() !== '');
  const out: number[] = [];
  let k6Lines = 0;
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    const where = `line ${index + 1}`;
    if (line.startsWith('{') || line.startsWith('[')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch (err) {
        throw new ConfigError(file, where, `invalid JSON: ${(err as Error).message}`);
      }
      const k6 = k6Point(parsed);
      if (k6 !== null) {
        k6Lines++;
        if (k6 !== 'other') out.push(checked(k6, file, `${where} (${K6_DURATION})`));
        return;
      }
      const v = numericValue(parsed);
      if (v === undefined)
        throw new ConfigError(
          file,
          where,
          `expected a number or an object with a numeric ${VALUE_FIELDS.join('/')} field`,
        );
      out.push(checked(v, file, where));
      return;
    }
    // CSV: one column; strip quotes; the first non-empty line may be a header.
    if (line.includes(',')) throw new ConfigError(file, where, `expected one column, got ${JSON.stringify(line)}`);
    const cell = line.replace(/^"(.*)"$/, '$1').trim();
    const value = Number(cell);
    if (cell === '' || Number.isNaN(value)) {
      if (index === firstContent && /[A-Za-z_]/.test(cell) && !/^[+-]?(Infinity|NaN)$/.test(cell)) return;
      throw new ConfigError(file, where, `expected a number, got ${JSON.stringify(cell)}`);
    }
    out.push(checked(value, file, where));
  });
  if (k6Lines > 0 && out.length === 0)
    throw new ConfigError(file, '', `k6 JSON output without any ${K6_DURATION} point: nothing to compare`);
  return out;
}

/**
 * A line of k6's JSON output: the value of an `http_req_duration` point, `'other'` for any other
 * line of that format (metric declarations, other metrics), null for a line of another format.
 */
function k6Point(v: unknown): unknown | 'other' | null {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  const r = v as { type?: unknown; metric?: unknown; data?: { value?: unknown } };
  if ((r.type !== 'Point' && r.type !== 'Metric') || typeof r.metric !== 'string') return null;
  if (r.type === 'Point' && r.metric === K6_DURATION) return r.data?.value;
  return 'other';
}

/** The line an array element starts on, for error messages (counts top-level commas). */
function lineOfElement(text: string, index: number): number {
  let depth = 0;
  let seen = 0;
  let line = 1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\n') line++;
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '[' || ch === '{') depth++;
    else if (ch === ']' || ch === '}') depth--;
    else if (ch === ',' && depth === 1 && ++seen === index) {
      let j = i + 1;
      while (j < text.length && /\s/.test(text[j]!)) {
        if (text[j] === '\n') line++;
        j++;
      }
      return line;
    }
  }
  if (index === 0) {
    // The first element: the line of the first non-space character after the opening bracket.
    const open = text.indexOf('[');
    let j = open + 1;
    while (j < text.length && /\s/.test(text[j]!)) j++;
    return text.slice(0, j).split('\n').length;
  }
  return line;
}
