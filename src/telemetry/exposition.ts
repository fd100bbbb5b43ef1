/**
 * A parser for the Prometheus text exposition format (version 0.0.4), limited to what the scrape
 * source needs: sample lines with labels and a value. `# HELP` / `# TYPE` comments are skipped,
 * because counters and histograms are recognised by name (`_total`, `_bucket{le}`, `_sum`).
 *
 * Format reference: https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 *   metric_name [ "{" label_name "=" `"` label_value `"` { "," ... } [ "," ] "}" ] value [ timestamp ]
 * Label values escape backslash (`\\`), double quote (`\"`) and line feed (`\n`). Values are Go
 * floats, including `NaN`, `+Inf` and `-Inf`.
 *
 * Throws `ExpositionError` naming the line number on malformed input: a half-parsed scrape would
 * silently drop requests, and a dropped request must not look like "no errors".
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export class ExpositionError extends Error {
  constructor(
    readonly line: number,
    problem: string,
  ) {
    super(`line ${line}: ${problem}`);
    this.name = 'ExpositionError';
  }
}

const NAME = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const LABEL_NAME = /[a-zA-Z_][a-zA-Z0-9_]*/y;

/** Parses every sample of an exposition; `accept(name)` may skip metrics early by name (faster). */
export function parseExposition(text: string, accept: (name: string) => boolean = () => true): Sample[] {
  const samples: Sample[] = [];
  let lineNo = 0;
  for (const raw of text.split('\n')) {
    lineNo++;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    let i = skipSpaces(line, 0);
    if (i >= line.length || line[i] === '#') continue;
    NAME.lastIndex = i;
    const m = NAME.exec(line);
    if (!m) throw new ExpositionError(lineNo, `expected a metric name, got ${JSON.stringify(line.slice(i, i + 20))}`);
    const name = m[0];
    if (!accept(name)) continue;
    i = NAME.lastIndex;
    const labels: Record<string, string> = {};
    if (line[i] === '{') i = parseLabels(line, i + 1, labels, lineNo);
    i = skipSpaces(line, i);
    const end = line.indexOf(' ', i);
    const valueText = end < 0 ? line.slice(i) : line.slice(i, end);
    const value = parseValue(valueText);
    if (value === undefined)
      throw new ExpositionError(lineNo, `metric ${name}: expected a number, got ${JSON.stringify(valueText)}`);
    samples.push({ name, labels, value });
  }
  return samples;
}

function parseLabels(line: string, start: number, labels: Record<string, string>, lineNo: number): number {
  let i = skipSpaces(line, start);
  while (line[i] !== '}') {
    LABEL_NAME.lastIndex = i;
    const m = LABEL_NAME.exec(line);
    if (!m) throw new ExpositionError(lineNo, `expected a label name at column ${i + 1}`);
    i = skipSpaces(line, LABEL_NAME.lastIndex);
    if (line[i] !== '=') throw new ExpositionError(lineNo, `expected "=" after label ${m[0]}`);
    i = skipSpaces(line, i + 1);
    if (line[i] !== '"') throw new ExpositionError(lineNo, `expected a quoted value for label ${m[0]}`);
    let value = '';
    i++;
    for (;;) {
      const c = line[i];
      if (c === undefined) throw new ExpositionError(lineNo, `unterminated value for label ${m[0]}`);
      if (c === '"') break;
      if (c === '\\') {
        const next = line[i + 1];
        value += next === 'n' ? '\n' : next === '"' ? '"' : next === '\\' ? '\\' : `\\${next ?? ''}`;
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    labels[m[0]] = value;
    i = skipSpaces(line, i + 1);
    if (line[i] === ',') i = skipSpaces(line, i + 1);
    else if (line[i] !== '}') throw new ExpositionError(lineNo, `expected "," or "}" after label ${m[0]}`);
  }
  return i + 1;
}

function parseValue(text: string): number | undefined {
  switch (text) {
    case 'NaN':
      return Number.NaN;
    case '+Inf':
    case 'Inf':
      return Number.POSITIVE_INFINITY;
    case '-Inf':
      return Number.NEGATIVE_INFINITY;
  }
  if (text === '') return undefined;
  const v = Number(text);
  return Number.isNaN(v) ? undefined : v;
}

function skipSpaces(line: string, i: number): number {
  while (line[i] === ' ' || line[i] === '\t') i++;
  return i;
}

/** Parses a histogram `le` label value (`"+Inf"` included) to a number. */
export function parseBound(le: string): number | undefined {
  return parseValue(le);
}
