import { ExitCode, UsageError } from '../../core/errors.ts';
import {
  type CompareInput,
  type CompareJudge,
  type CompareMetric,
  type CompareResult,
  type ErrorTally,
  compare,
} from '../../judge/compare.ts';
import { readTextFile } from '../../core/text-file.ts';
import { parseSamples } from '../../judge/sample-file.ts';
import type { Direction } from '../../judge/verdict.ts';
import { defineCommand } from '../command.ts';

export interface CompareCommandOptions {
  baseline?: string;
  canary?: string;
  baselineCounts?: string;
  canaryCounts?: string;
  judge: CompareJudge;
  metric: CompareMetric;
  direction: Direction;
  alpha: number;
  tolerance?: number;
  toleranceAbsolute?: number;
  json: boolean;
}

/** `ERRORS/TOTAL` with integers 0 <= ERRORS <= TOTAL. */
export function parseCounts(value: string, flag: string): ErrorTally {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(value);
  const errors = match ? Number(match[1]) : NaN;
  const total = match ? Number(match[2]) : NaN;
  if (!match || errors > total)
    throw new UsageError(
      flag,
      `expected ERRORS/TOTAL with whole numbers, ERRORS <= TOTAL; got ${JSON.stringify(value)}`,
    );
  return { errors, total };
}

/** Reads the inputs the flags name and judges them; the command's typed core. */
export async function runCompare(options: CompareCommandOptions): Promise<CompareResult> {
  const hasFiles = options.baseline !== undefined || options.canary !== undefined;
  const hasCounts = options.baselineCounts !== undefined || options.canaryCounts !== undefined;
  if (hasFiles && hasCounts)
    throw new UsageError(
      '--baseline-counts',
      'give either --baseline-file/--canary-file or --baseline-counts/--canary-counts, not both',
    );
  if (!(options.alpha > 0 && options.alpha < 0.5))
    throw new UsageError('--alpha', `expected a level in (0, 0.5), got ${options.alpha}`);
  for (const [flag, v] of [
    ['--tolerance', options.tolerance],
    ['--tolerance-absolute', options.toleranceAbsolute],
  ] as const) {
    if (v !== undefined && !(v >= 0)) throw new UsageError(flag, `expected a number >= 0, got ${v}`);
  }
  let input: CompareInput;
  if (hasCounts) {
    if (options.metric !== 'errors') throw new UsageError('--baseline-counts', 'counts are for --metric errors');
    if (options.baselineCounts === undefined)
      throw new UsageError('--baseline-counts', 'missing; give both --baseline-counts and --canary-counts');
    if (options.canaryCounts === undefined)
      throw new UsageError('--canary-counts', 'missing; give both --baseline-counts and --canary-counts');
    input = {
      metric: 'errors',
      counts: {
        baseline: parseCounts(options.baselineCounts, '--baseline-counts'),
        canary: parseCounts(options.canaryCounts, '--canary-counts'),
      },
    };
  } else {
    if (options.baseline === undefined)
      throw new UsageError(
        '--baseline-file',
        'missing; give --baseline-file FILE and --canary-file FILE (or counts for errors)',
      );
    if (options.canary === undefined)
      throw new UsageError(
        '--canary-file',
        'missing; give --baseline-file FILE and --canary-file FILE (or counts for errors)',
      );
    const [baseline, canary] = await Promise.all([readSamplesFile(options.baseline), readSamplesFile(options.canary)]);
    input = { metric: options.metric, samples: { baseline, canary } };
  }
  const tolerance =
    options.tolerance !== undefined || options.toleranceAbsolute !== undefined
      ? {
          ...(options.tolerance !== undefined ? { relative: options.tolerance } : {}),
          ...(options.toleranceAbsolute !== undefined ? { absolute: options.toleranceAbsolute } : {}),
        }
      : undefined;
  return compare(input, {
    judge: options.judge,
    direction: options.direction,
    alpha: options.alpha,
    ...(tolerance ? { tolerance } : {}),
  });
}

export function exitCodeFor(result: CompareResult): number {
  return result.verdict === 'pass' ? ExitCode.pass : result.verdict === 'fail' ? ExitCode.fail : ExitCode.inconclusive;
}

export function formatCompareText(result: CompareResult): string {
  const lines = [`verdict: ${result.verdict} (${result.judge} judge): ${result.reason}`];
  for (const m of result.metrics) {
    const n = `n ${m.n.baseline}/${m.n.canary}`;
    const evidence =
      m.eValue !== undefined
        ? `e ${m.eValue.toPrecision(3)}`
        : m.pValue !== undefined
          ? `p ${m.pValue.toPrecision(3)}`
          : '';
    lines.push(
      `  ${m.classification.padEnd(12)} ${m.name.padEnd(12)} ${[n, evidence].filter(Boolean).join(', ')}: ${m.reason}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export const compareCommand = defineCommand({
  command: 'compare',
  describe: 'judge two samples given as files (load.json, k6 JSON, JSON arrays, NDJSON, CSV), or two error counts',
  examples: [
    ['$0 compare --baseline-file base.ndjson --canary-file canary.csv', 'latency samples in ms, sequential judge'],
    ['$0 compare --baseline-file reports/A/load.json --canary-file reports/B/load.json', 'two runs of canary load'],
    ['$0 compare --metric errors --baseline-counts 12/4000 --canary-counts 40/4000', 'two error counts'],
  ],
  renamed: [
    { old: 'baseline', hint: 'use --baseline-file FILE (--baseline meant a track in run and a workload in analyze)' },
    { old: 'canary', hint: 'use --canary-file FILE' },
  ],
  builder: (y) =>
    y
      .option('baseline-file', { type: 'string', describe: 'baseline sample file' })
      .option('canary-file', { type: 'string', describe: 'canary sample file' })
      .option('baseline-counts', { type: 'string', describe: 'baseline errors as ERRORS/TOTAL (with --metric errors)' })
      .option('canary-counts', { type: 'string', describe: 'canary errors as ERRORS/TOTAL (with --metric errors)' })
      .option('judge', {
        choices: ['sequential', 'fixed', 'kayenta'] as const,
        default: 'sequential' as const,
        describe: 'statistical judge',
      })
      .option('metric', {
        choices: ['latency', 'errors'] as const,
        default: 'latency' as const,
        describe: 'what the samples measure',
      })
      .option('direction', {
        choices: ['increase', 'decrease', 'either'] as const,
        default: 'increase' as const,
        describe: 'which change is a regression',
      })
      .option('alpha', { type: 'number', default: 0.05, describe: 'significance level' })
      .option('tolerance', {
        type: 'number',
        describe: 'relative change allowed (0.1 = 10 %); default 0.1 latency, 0.5 errors',
      })
      .option('tolerance-absolute', { type: 'number', describe: "absolute change allowed in the metric's unit" })
      .option('json', { type: 'boolean', default: false, describe: 'print the full result as JSON' }),
  run: async (args) => {
    const result = await runCompare({
      baseline: args['baseline-file'],
      canary: args['canary-file'],
      baselineCounts: args['baseline-counts'],
      canaryCounts: args['canary-counts'],
      judge: args.judge,
      metric: args.metric,
      direction: args.direction,
      alpha: args.alpha,
      tolerance: args.tolerance,
      toleranceAbsolute: args['tolerance-absolute'],
      json: args.json,
    });
    process.stdout.write(args.json ? `${JSON.stringify(result, null, 2)}\n` : formatCompareText(result));
    return exitCodeFor(result);
  },
});

async function readSamplesFile(file: string): Promise<number[]> {
  return parseSamples(await readTextFile(file), file);
}
