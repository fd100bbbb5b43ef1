/**
 * Reads a sample file for `canary compare`: a JSON array of numbers, NDJSON (one number, or one
 * object with a numeric `value`, per line), or a one-column CSV (a header line is allowed).
 * A bad entry is a `ConfigError` naming the file and the line (exit 3).
 */
import { ConfigError } from '../core/errors.ts';

const VALUE_FIELDS = ['value', 'latency', 'latencyMs', 'durationMs', 'ms'];

export function parseSamples(text: string, file: string): number[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  if (trimmed.startsWith('[')) return parseJsonArray(trimmed, text, file);
  const lines = text.split(/\r?\n/);
  const firstContent = lines.findIndex((l) => l.trim() !== '');
  const looksJson = /^[{[]/.test(lines[firstContent].trim());
  const out: number[] = [];
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    const where = `line ${index + 1}`;
    if (looksJson || line.startsWith('{')) {
      out.push(ndjsonValue(line, file, where));
      return;
    }
    // CSV: one column; strip quotes; the first non-empty line may be a header.
    const cell = line.replace(/^"(.*)"$/, '$1').trim();
    if (line.includes(',')) throw new ConfigError(file, where, `expected one column, got ${JSON.stringify(line)}`);
    const value = Number(cell);
    if (cell === '' || !Number.isFinite(value)) {
      if (index === firstContent && /[A-Za-z_]/.test(cell)) return;
      throw new ConfigError(file, where, `expected a number, got ${JSON.stringify(cell)}`);
    }
    out.push(value);
  });
  return out;
}

function parseJsonArray(trimmed: string, text: string, file: string): number[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch (err) {
    const position = /position (\d+)/.exec((err as Error).message);
    const offset = position ? Number(position[1]) + text.indexOf('[') : 0;
    const line = text.slice(0, offset).split('\n').length;
    throw new ConfigError(file, `line ${line}`, `invalid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new ConfigError(file, 'line 1', 'expected a JSON array of numbers');
  return parsed.map((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new ConfigError(
        file,
        `line ${lineOfElement(text, i)}, element ${i}`,
        `expected a number, got ${JSON.stringify(v)}`,
      );
    }
    return v;
  });
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
      while (j < text.length && /\s/.test(text[j])) {
        if (text[j] === '\n') line++;
        j++;
      }
      return line;
    }
  }
  return index === 0 ? text.slice(0, text.indexOf('[')).split('\n').length : line;
}

function ndjsonValue(line: string, file: string, where: string): number {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (err) {
    throw new ConfigError(file, where, `invalid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed === 'number' && Number.isFinite(parsed)) return parsed;
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
    const record = parsed as Record<string, unknown>;
    for (const field of VALUE_FIELDS) {
      const v = record[field];
      if (typeof v === 'number' && Number.isFinite(v)) return v;
    }
    throw new ConfigError(file, where, `expected a number or an object with a numeric ${VALUE_FIELDS.join('/')} field`);
  }
  throw new ConfigError(file, where, `expected a number, got ${line}`);
}
