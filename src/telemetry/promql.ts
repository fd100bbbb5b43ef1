import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigError, UsageError } from '../core/errors.ts';
import { parseYaml } from '../core/yaml.ts';

/**
 * PromQL templates are data (`analysis/promql/*.yaml`), so teams can adapt them to their own
 * relabelling without touching code. Values substituted into them are escaped here, and only here.
 */

/**
 * Escapes a value for the inside of a double-quoted PromQL string literal. PromQL strings use Go's
 * escape rules (https://prometheus.io/docs/prometheus/latest/querying/basics/#string-literals):
 * a backslash or double quote must be escaped, and a raw line break ends the literal with a
 * syntax error, so every control character is written as an escape too. After this, a value can
 * neither close the literal nor break the query, whatever it contains.
 */
export function escapePromQLString(value: string): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out;
}

/** Escapes RE2 metacharacters so a value matches itself literally in a `=~` matcher. */
export function escapeRegex(value: string): string {
  return value.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/** A PromQL duration for a number of ms (`90000` → `90000ms`); PromQL accepts the `ms` unit. */
export function promqlDuration(ms: number): string {
  return `${Math.max(1, Math.round(ms))}ms`;
}

/** The values a template may use, raw; `render` escapes each for its place. */
export interface TemplateValues {
  /** `{{service}}`: inside a string literal, escaped. */
  service: string;
  /** `{{workloads}}`: an anchored RE2 alternation matching exactly these names, for `=~"..."`. */
  workloads: readonly string[];
  /** `{{interval}}`: the interval's length as a PromQL duration (for `rate(x[{{interval}}])`). */
  intervalMs?: number;
}

const PLACEHOLDER = /\{\{\s*([a-zA-Z_]+)\s*\}\}/g;

/** Substitutes `{{service}}`, `{{workloads}}` and `{{interval}}`; any other placeholder is an error. */
export function render(template: string, values: TemplateValues, where: { file: string; path: string }): string {
  return template.replace(PLACEHOLDER, (_, name: string) => {
    switch (name) {
      case 'service':
        return escapePromQLString(values.service);
      case 'workloads':
        return escapePromQLString(values.workloads.map(escapeRegex).join('|'));
      case 'interval':
        if (values.intervalMs === undefined) break;
        return promqlDuration(values.intervalMs);
    }
    throw new ConfigError(
      where.file,
      where.path,
      `unknown placeholder {{${name}}}; expected {{service}}, {{workloads}} or {{interval}}`,
    );
  });
}

/**
 * The three range queries the prometheus source needs. Each returns raw cumulative series (no
 * `increase()`, whose extrapolation makes counts non-integer); the source turns them into exact
 * increases itself. Results must keep `destination_workload`, plus `response_code` (requests) or
 * `le` (buckets); every other label left in the result identifies one replica, whose counter
 * resets are detected on its own.
 */
export const TelemetryTemplatesSchema = z
  .object({
    requests: z
      .string()
      .min(1)
      .describe('cumulative istio_requests_total per replica, destination_workload and response_code'),
    latencyBuckets: z
      .string()
      .min(1)
      .describe('cumulative istio_request_duration_milliseconds_bucket per replica, destination_workload and le'),
    latencySum: z
      .string()
      .min(1)
      .describe('cumulative istio_request_duration_milliseconds_sum per replica and destination_workload'),
    scrapeTimes: z
      .string()
      .min(1)
      .optional()
      .describe(
        'per replica and destination_workload, the time of the istio_requests_total sample read (timestamp()): the sample ratio check weighs each arm by the time its counts cover',
      ),
    targets: z
      .string()
      .min(1)
      .optional()
      .describe(
        'one series per scrape target up, label workload its Deployment: a run on a cluster waits until Prometheus scrapes every track before it sends load',
      ),
  })
  .strict();
export type TelemetryTemplates = z.infer<typeof TelemetryTemplatesSchema>;

export const DEFAULT_TEMPLATES_FILE = fileURLToPath(new URL('../../analysis/promql/istio.yaml', import.meta.url));

/** Reads and validates a template file; a bad file is a `ConfigError` naming the file and path. */
export function loadTemplates(file: string = DEFAULT_TEMPLATES_FILE): TelemetryTemplates {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, '', `cannot read PromQL templates (${(err as Error).message})`);
  }
  const doc = parseYaml(file, text);
  const parsed = TelemetryTemplatesSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.join('.') || '(top level)';
    throw new ConfigError(file, path, issue.message);
  }
  for (const [key, template] of Object.entries(parsed.data)) {
    // Render once with dummy values so a bad placeholder fails at load time, not mid-run.
    render(template, { service: 's', workloads: ['w'], intervalMs: 1000 }, { file, path: key });
  }
  return parsed.data;
}

/** Checks user PromQL scalars (name → query) up front, naming the bad one. */
export function checkScalars(scalars: Record<string, string>): void {
  for (const [name, query] of Object.entries(scalars)) {
    if (typeof query !== 'string' || query.trim() === '')
      throw new UsageError(`scalars.${name}`, 'expected a PromQL query');
    render(query, { service: 's', workloads: ['w'], intervalMs: 1000 }, { file: 'scalars', path: name });
  }
}
