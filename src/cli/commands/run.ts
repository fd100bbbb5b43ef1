import type { Argv } from 'yargs';
import { defineCommand } from '../command.ts';
import { UsageError } from '../../core/errors.ts';
import { runCommand as runCanaryCommand, type RunCommandOptions } from '../../canary/local-run.ts';
import { parseSteps, SCENARIOS } from '../../canary/plan.ts';
import type { Scenario } from '../../canary/plan-types.ts';

interface RunArgs {
  local: boolean;
  context?: string;
  namespace?: string;
  config: string;
  manifests: string;
  scenario: string;
  rate?: number;
  interval?: number;
  evidence: string;
  stages?: string;
  baseline: string;
  'canary-version'?: string;
  'on-inconclusive': string;
  'min-duration'?: number;
  'max-duration'?: number;
  'min-samples'?: number;
  confirm: boolean;
  'dry-run': boolean;
  'reports-dir': string;
  json: boolean;
}

/** `canary run`: the whole progressive canary; a thin adapter over `canary/local-run.ts`. */
export const runCommand = defineCommand<RunArgs>({
  command: 'run',
  describe: 'deploy a canary, shift traffic in stages while judging it, then promote or roll back',
  builder: (y) =>
    y
      .option('local', {
        type: 'boolean',
        default: true,
        describe: 'run on the local engine (processes + local data plane)',
      })
      .option('context', { type: 'string', describe: 'Kubernetes context (the Kubernetes engine is not built yet)' })
      .option('namespace', { type: 'string', describe: 'Kubernetes namespace (with --context)' })
      .option('config', {
        type: 'string',
        default: 'analysis/local.yaml',
        describe: 'analysis configuration (analysis/default.yaml is the nightly gate for a cluster)',
      })
      .option('manifests', {
        type: 'string',
        default: 'manifests',
        describe: 'Kubernetes and Istio manifests of the app',
      })
      .option('scenario', { type: 'string', default: 'healthy', describe: `canary behaviour: ${SCENARIOS.join(', ')}` })
      .option('rate', { type: 'number', describe: 'total requests per second through the gateway' })
      .option('interval', { type: 'number', describe: 'seconds between looks of the judge' })
      .option('evidence', {
        type: 'string',
        default: 'run',
        describe: "what each look judges: run (all since the first stage) or stage (the current stage's only)",
      })
      .option('stages', {
        type: 'string',
        describe: 'weighted steps in percent, each to the canary and the baseline (default 5,10,25,50)',
      })
      .option('baseline', {
        type: 'string',
        default: 'baseline',
        describe: 'compare with a fresh baseline or with the primary (biased)',
      })
      .option('canary-version', {
        type: 'string',
        describe: "the canary's version (default: the primary's next major; equal to the primary for an A/A run)",
      })
      .option('on-inconclusive', {
        type: 'string',
        default: 'rollback',
        describe: 'what an inconclusive end does: rollback or promote (exit 2 either way)',
      })
      .option('min-duration', { type: 'number', describe: 'minimum seconds per stage (overrides the configuration)' })
      .option('max-duration', { type: 'number', describe: 'maximum seconds per stage (overrides the configuration)' })
      .option('min-samples', {
        type: 'number',
        describe: 'requests per arm before a stage may promote (overrides the configuration)',
      })
      .option('confirm', { type: 'boolean', default: false, describe: 'ask on the terminal before promotion' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'print the plan and change nothing' })
      .option('reports-dir', { type: 'string', default: 'reports', describe: 'where reports/<run-id>/ goes' })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'print a JSON summary instead of text',
      }) as unknown as Argv<RunArgs>,
  run: async (a) => {
    const code = await runCanaryCommand(toOptions(a), {
      out: (t) => process.stdout.write(t),
      err: (l) => process.stderr.write(`${l}\n`),
      isTty: Boolean(process.stdin.isTTY && process.stderr.isTTY),
    });
    return code;
  },
});

export function toOptions(a: RunArgs): RunCommandOptions {
  const oneOf = <T extends string>(flag: string, value: string, allowed: readonly T[]): T => {
    if (!(allowed as readonly string[]).includes(value))
      throw new UsageError(flag, `expected one of ${allowed.join(', ')}, got '${value}'`);
    return value as T;
  };
  const number = (flag: string, v: number | undefined): number | undefined => {
    if (v !== undefined && !Number.isFinite(v)) throw new UsageError(flag, 'expected a number');
    return v;
  };
  const flags: Record<string, string | number | boolean | null> = {};
  for (const [k, v] of Object.entries(a)) {
    if (k.includes('-') || k === '_' || k === '$0') continue;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') flags[k] = v;
  }
  for (const k of [
    'dry-run',
    'reports-dir',
    'canary-version',
    'on-inconclusive',
    'min-duration',
    'max-duration',
    'min-samples',
  ] as const) {
    const v = a[k];
    if (v !== undefined) flags[k] = v;
  }
  return {
    engine: a.context !== undefined ? 'kubernetes' : 'local',
    config: a.config,
    manifests: a.manifests,
    scenario: oneOf<Scenario>('--scenario', a.scenario, SCENARIOS),
    rate: number('--rate', a.rate),
    interval: number('--interval', a.interval),
    evidence: oneOf('--evidence', a.evidence, ['run', 'stage'] as const),
    stages: a.stages === undefined ? undefined : parseSteps(a.stages),
    baseline: oneOf('--baseline', a.baseline, ['baseline', 'primary'] as const),
    canaryVersion: a['canary-version'],
    onInconclusive: oneOf('--on-inconclusive', a['on-inconclusive'], ['rollback', 'promote'] as const),
    minDuration: number('--min-duration', a['min-duration']),
    maxDuration: number('--max-duration', a['max-duration']),
    minSamples: number('--min-samples', a['min-samples']),
    confirm: a.confirm,
    dryRun: a['dry-run'],
    reportsDir: a['reports-dir'],
    json: a.json,
    flags,
  };
}
