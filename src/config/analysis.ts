/**
 * The analysis configuration (`analysis/*.yaml`): which metrics to judge and how. Validated once, at
 * the edge, by the zod schema below; the same schema generates `analysis/schema.json` for editors.
 * A bad file is a `ConfigError` naming the file, the path (`metrics[2].kind`) and what was expected.
 */
import { z } from 'zod';
import { DURATION_EXAMPLES, DURATION_PATTERN, isDuration, parseDuration } from '../core/duration.ts';
import { ConfigError } from '../core/errors.ts';
import { parseYaml } from '../core/yaml.ts';
import { didYouMean } from '../core/suggest.ts';

/** A duration: seconds as a number, or a string like `90s`, `5m`, `1h`, `500ms` (src/core/duration.ts). Parsed to milliseconds. */
const Duration = z
  .union([
    z.number().positive(),
    z
      .string()
      .regex(new RegExp(DURATION_PATTERN), `expected a duration like ${DURATION_EXAMPLES}`)
      .refine((v) => isDuration(v), `expected a positive duration like ${DURATION_EXAMPLES}`),
  ])
  .transform((value) => parseDuration(value))
  .describe(`seconds as a number, or a duration like ${DURATION_EXAMPLES}`);

const Direction = z
  .enum(['increase', 'decrease', 'either'])
  .describe('which change is a regression: increase (latency, errors), decrease (throughput), or either');

const Tolerance = z
  .object({
    relative: z.number().min(0).optional().describe('relative change allowed, e.g. 0.1 = 10 % worse'),
    absolute: z
      .number()
      .min(0)
      .optional()
      .describe("absolute change allowed in the metric's unit (ms; a proportion for errors)"),
  })
  .strict()
  .refine((t) => t.relative !== undefined || t.absolute !== undefined, { message: 'expected relative and/or absolute' })
  .describe('a change within the larger of these margins is not a regression (non-inferiority margin)');

const EffectSize = z
  .object({
    allowedIncrease: z.number().positive().default(1),
    allowedDecrease: z.number().positive().default(1),
    measure: z.enum(['meanRatio', 'cles']).default('meanRatio'),
  })
  .strict()
  .describe('Kayenta mode: minimum effect size (canary mean / baseline mean) for High / Low');

const metricBase = {
  name: z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'expected a name of letters, digits, _ . : -'),
  direction: Direction.default('increase'),
  tolerance: Tolerance,
  critical: z
    .boolean()
    .default(false)
    .describe('a failed critical metric rolls back at once (and scores 0 in Kayenta mode)'),
  weight: z.number().positive().default(1).describe('weight in the e-value average and in group scores'),
  group: z.string().optional().describe('Kayenta mode: group for weighted scores'),
  mustHaveData: z
    .boolean()
    .default(false)
    .describe('Kayenta mode: missing data counts against the score (NodataFailMetric)'),
  effectSize: EffectSize.optional(),
};

const LatencyMetric = z
  .object({
    ...metricBase,
    kind: z.literal('latency'),
    quantile: z
      .number()
      .gt(0)
      .lt(1)
      .optional()
      .describe(
        'quantile to judge, e.g. 0.99; without it (and without test), the mean of log(latency) (a ratio of geometric means)',
      ),
    test: z
      .literal('distribution')
      .optional()
      .describe(
        'distribution: a one-sided test on the whole latency distribution (rank scores per interval); rollback evidence only, so it takes no quantile and no tolerance',
      ),
    tolerance: Tolerance.optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.test === 'distribution') {
      if (m.quantile !== undefined)
        ctx.addIssue({
          code: 'custom',
          message: 'a distribution test judges every quantile: remove quantile',
          path: ['quantile'],
        });
      if (m.tolerance !== undefined)
        ctx.addIssue({
          code: 'custom',
          message:
            'a distribution test only gathers evidence of a regression; non-inferiority is shown by the quantile metrics: remove tolerance',
          path: ['tolerance'],
        });
    } else if (m.tolerance === undefined) {
      ctx.addIssue({ code: 'custom', message: 'expected relative and/or absolute', path: ['tolerance'] });
    }
  });

/** An error ratio is a proportion: a margin above 1 would make every canary non-inferior. */
const ErrorsTolerance = z
  .object({
    relative: z.number().min(0).optional().describe('relative change allowed, e.g. 0.1 = 10 % more errors'),
    absolute: z
      .number()
      .min(0)
      .max(1, 'expected a proportion in [0, 1] (0.01 = 1 point of errors)')
      .optional()
      .describe('absolute change allowed, a proportion in [0, 1] (0.01 = 1 point of errors)'),
  })
  .strict()
  .refine((t) => t.relative !== undefined || t.absolute !== undefined, { message: 'expected relative and/or absolute' })
  .describe('a change within the larger of these margins is not a regression (non-inferiority margin)');

const ErrorsMetric = z
  .object({
    ...metricBase,
    tolerance: ErrorsTolerance,
    kind: z.literal('errors'),
    expectedErrorRate: z
      .number()
      .gt(0)
      .lt(1)
      .default(0.01)
      .describe('error ratio expected at the end of a stage; sets the prior concentration (expected errors / 8)'),
  })
  .strict();

const PromqlMetric = z
  .object({
    ...metricBase,
    kind: z.literal('promql'),
    queries: z
      .object({
        baseline: z.string().min(1).describe('PromQL returning one number for the baseline, per interval'),
        canary: z.string().min(1).describe('PromQL returning one number for the canary, per interval'),
      })
      .strict(),
  })
  .strict();

export const METRIC_KINDS = ['latency', 'errors', 'promql'] as const;

const Metric = z.discriminatedUnion('kind', [LatencyMetric, ErrorsMetric, PromqlMetric]);

const Stage = z
  .object({
    minDuration: Duration.default(60),
    maxDuration: Duration.default(600),
  })
  .strict();

const Kayenta = z
  .object({
    tolerance: z.number().min(0).default(0.25).describe('a shift counts only beyond tolerance × |estimate|'),
    confidence: z.number().gt(0).lt(1).default(0.98).describe('confidence of the Mann-Whitney interval'),
    marginalThreshold: z.number().min(0).max(100).default(75),
    passThreshold: z.number().min(0).max(100).default(95),
    groupWeights: z
      .record(z.string(), z.number().min(0))
      .default({})
      .describe('weight per group; groups not listed share the rest equally'),
    nanStrategy: z.enum(['remove', 'replace']).default('remove'),
  })
  .strict()
  .refine((k) => k.marginalThreshold <= k.passThreshold, {
    message: 'expected marginalThreshold <= passThreshold',
    path: ['marginalThreshold'],
  });

export const AnalysisConfigSchema = z
  .object({
    judge: z.enum(['sequential', 'fixed', 'kayenta']).default('sequential'),
    alpha: z
      .number()
      .gt(0)
      .lt(0.5)
      .default(0.05)
      .describe('rollback level per canary run (0.01 suggested for nightly fleets)'),
    srmAlpha: z
      .number()
      .gt(0)
      .lt(0.5)
      .default(0.001)
      .describe('sample-ratio-mismatch level; a mismatch makes the stage inconclusive'),
    minSamples: z
      .number()
      .int()
      .min(1)
      .default(500)
      .describe('requests per arm before a stage may promote or a plug-in-variance test may act'),
    expectedSamplesPerArm: z
      .number()
      .int()
      .min(1)
      .default(20_000)
      .describe('requests per arm expected by the end of a stage; tunes the sequential tests to be sharpest there'),
    stage: Stage.default({ minDuration: 60, maxDuration: 600 }),
    maxMissingShare: z
      .number()
      .min(0)
      .max(1)
      .default(0.2)
      .describe(
        'share of intervals without data (a failed read) above which a promote becomes inconclusive (a rollback stands)',
      ),
    onUnreliableLoad: z
      .enum(['inconclusive', 'warn'])
      .default('inconclusive')
      .describe(
        'a verdict reached on unreliable load (rate not kept, client saturated, host CPU busy): inconclusive (exit 2), or warn and keep the verdict',
      ),
    metrics: z.array(Metric).min(1),
    kayenta: Kayenta.default({
      tolerance: 0.25,
      confidence: 0.98,
      marginalThreshold: 75,
      passThreshold: 95,
      groupWeights: {},
      nanStrategy: 'remove',
    }),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.metrics.every((m) => m.kind === 'latency' && m.test === 'distribution')) {
      ctx.addIssue({
        code: 'custom',
        message: 'a distribution test cannot promote alone: add a metric with a tolerance (a quantile, errors)',
        path: ['metrics'],
      });
    }
    const seen = new Set<string>();
    config.metrics.forEach((m, i) => {
      if (seen.has(m.name))
        ctx.addIssue({ code: 'custom', message: `duplicate metric name "${m.name}"`, path: ['metrics', i, 'name'] });
      seen.add(m.name);
    });
    if (config.stage.minDuration > config.stage.maxDuration) {
      ctx.addIssue({ code: 'custom', message: 'expected minDuration <= maxDuration', path: ['stage', 'minDuration'] });
    }
  });

export type AnalysisConfig = z.output<typeof AnalysisConfigSchema>;
export type AnalysisConfigInput = z.input<typeof AnalysisConfigSchema>;
export type MetricConfig = AnalysisConfig['metrics'][number];
export type LatencyMetricConfig = Extract<MetricConfig, { kind: 'latency' }>;
export type ErrorsMetricConfig = Extract<MetricConfig, { kind: 'errors' }>;
export type PromqlMetricConfig = Extract<MetricConfig, { kind: 'promql' }>;
export type KayentaConfig = AnalysisConfig['kayenta'];
export type JudgeMode = AnalysisConfig['judge'];

/** The key under which a telemetry source stores a promql metric's value for one arm. */
export function promqlScalarKey(metricName: string, arm: 'baseline' | 'canary'): string {
  return `${metricName}.${arm}`;
}

/** JSON Schema for editors, generated from the same schema (input side: durations as written). */
export function analysisJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(AnalysisConfigSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
}

/** The committed `analysis/schema.json` text: the JSON Schema with a title, 2-space indented. */
export function analysisJsonSchemaText(): string {
  const schema = { title: 'sprincube-canary analysis configuration', ...analysisJsonSchema() };
  return `${JSON.stringify(schema, null, 2)}\n`;
}

/** `metrics[2].kind` from a zod path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const part of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  return node;
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): { path: string; problem: string } {
  if (issue.code === 'invalid_union' && 'discriminator' in issue && issue.discriminator) {
    const path =
      issue.path[issue.path.length - 1] === issue.discriminator ? issue.path : [...issue.path, issue.discriminator];
    return {
      path: formatPath(path),
      problem: `expected one of ${METRIC_KINDS.join(', ')}, got ${JSON.stringify(valueAt(input, path))}`,
    };
  }
  if (issue.code === 'invalid_value') {
    return {
      path: formatPath(issue.path),
      problem: `expected one of ${issue.values.map((v) => String(v)).join(', ')}, got ${JSON.stringify(valueAt(input, issue.path))}`,
    };
  }
  if (issue.code === 'unrecognized_keys') {
    const known = keysAt(AnalysisConfigSchema, issue.path, input);
    const hints = issue.keys.map((k) => didYouMean(k, known)).filter(Boolean);
    return {
      path: formatPath(issue.path),
      problem: `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}${hints.length ? hints[0] : `; expected one of ${known.join(', ')}`}`,
    };
  }
  return { path: formatPath(issue.path), problem: issue.message };
}

interface SchemaNode {
  _zod: { def: Record<string, unknown> & { type: string } };
}

/** The keys an object of the schema accepts at `path` (through defaults, pipes, arrays and unions). */
function keysAt(schema: unknown, path: readonly PropertyKey[], input: unknown): string[] {
  const out = new Set<string>();
  const visit = (node: SchemaNode | undefined, rest: readonly PropertyKey[], value: unknown): void => {
    if (!node) return;
    const def = node._zod.def;
    switch (def.type) {
      case 'default':
      case 'optional':
      case 'nullable':
      case 'prefault':
        visit(def.innerType as SchemaNode, rest, value);
        return;
      case 'pipe':
        visit(def.in as SchemaNode, rest, value);
        return;
      case 'union':
        for (const option of def.options as SchemaNode[]) {
          // A discriminated union: only the option the input chose.
          const disc = def.discriminator as string | undefined;
          if (disc && value && typeof value === 'object') {
            const shape = (option._zod.def.shape ?? {}) as Record<string, SchemaNode>;
            const lit = shape[disc]?._zod.def.values as unknown[] | undefined;
            if (lit && !lit.includes((value as Record<string, unknown>)[disc])) continue;
          }
          visit(option, rest, value);
        }
        return;
      case 'array':
        visit(def.element as SchemaNode, rest.slice(1), Array.isArray(value) ? value[rest[0] as number] : undefined);
        return;
      case 'record':
        visit(def.valueType as SchemaNode, rest.slice(1), undefined);
        return;
      case 'object': {
        const shape = def.shape as Record<string, SchemaNode>;
        if (rest.length === 0) {
          for (const k of Object.keys(shape)) out.add(k);
          return;
        }
        const key = String(rest[0]);
        visit(
          shape[key],
          rest.slice(1),
          value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined,
        );
        return;
      }
    }
  };
  visit(schema as SchemaNode, path, input);
  return [...out];
}

/** Validates an already parsed document; `file` names it in errors. */
export function parseAnalysisConfig(input: unknown, file: string): AnalysisConfig {
  const result = AnalysisConfigSchema.safeParse(input);
  if (result.success) return result.data;
  // A misspelt key comes first: it usually explains the "missing" key reported beside it.
  const first = result.error.issues.find((i) => i.code === 'unrecognized_keys') ?? result.error.issues[0]!;
  const { path, problem } = describeIssue(first, input);
  const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more problem(s))` : '';
  throw new ConfigError(file, path, problem + more);
}

/** Parses and validates the text of an analysis file; pure, so the judge and the plan can use it without I/O. */
export function parseAnalysisConfigText(text: string, file: string): AnalysisConfig {
  return parseAnalysisConfig(parseYaml(file, text), file);
}
