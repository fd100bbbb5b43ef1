import type { Argv } from 'yargs';
import { defineCommand } from '../command.ts';
import { durationFlag, rateFlag, type RenamedFlag } from '../flags.ts';
import { UsageError } from '../../core/errors.ts';
import { runCommand as runCanaryCommand, type RunCommandOptions } from '../../canary/local-run.ts';
import { parseImageFlag, parseSteps, SCENARIOS } from '../../canary/plan.ts';
import { DRIVER_CHOICES } from '../../canary/plan-types.ts';
import type { Scenario } from '../../canary/plan-types.ts';

interface RunArgs {
  local: boolean;
  context?: string;
  kubeconfig?: string;
  namespace?: string;
  service: string;
  image?: string;
  prometheus?: string;
  driver: string;
  parallelism?: number;
  gateway?: string;
  config: string;
  manifests: string;
  scenario: string;
  rate?: string;
  interval?: string;
  evidence: string;
  stages?: string;
  'compare-with': string;
  'canary-version'?: string;
  'on-inconclusive': string;
  'min-duration'?: string;
  'max-duration'?: string;
  'min-samples'?: number;
  confirm: boolean;
  'dry-run': boolean;
  'reports-dir': string;
  json: boolean;
}

/** Flags whose old names meant something else in other commands. */
export const RUN_RENAMED: RenamedFlag[] = [
  {
    old: 'baseline',
    hint: 'use --compare-with baseline|primary (--baseline names a file in compare and a workload in analyze)',
  },
];

/** `canary run`: the whole progressive canary; a thin adapter over `canary/local-run.ts`. */
export const runCommand = defineCommand<RunArgs>({
  command: 'run',
  describe: 'deploy a canary, shift traffic in stages while judging it, then promote or roll back',
  examples: [
    ['$0 run', 'a whole canary run on the local engine (healthy canary: promoted, exit 0)'],
    ['$0 run --scenario slow', 'a canary 15 % slower: rolled back, exit 1'],
    ['$0 run --dry-run --compare-with primary', 'print the plan, comparing with the primary (biased)'],
    ['$0 run --interval 2s --max-duration 1m --json', 'judge every 2 s, stages at most a minute, JSON summary'],
    [
      '$0 run --context kind-canary --image account=registry.example/account:v2 --gateway http://127.0.0.1:8080 --prometheus http://127.0.0.1:9090',
      'a run on a cluster: load through a port-forward of the ingress gateway, telemetry from Prometheus',
    ],
    [
      '$0 run --context kind-canary --driver k6-operator --prometheus http://127.0.0.1:9090 --dry-run',
      'the plan of a run whose load comes from k6-operator TestRuns inside the cluster',
    ],
  ],
  renamed: RUN_RENAMED,
  builder: (y) =>
    y
      .option('local', {
        type: 'boolean',
        default: true,
        describe: 'run on the local engine (processes + local data plane); --no-local: the current kubeconfig context',
      })
      .option('context', {
        type: 'string',
        describe: 'kubeconfig context: run on that cluster (the Kubernetes engine)',
      })
      .option('kubeconfig', {
        type: 'string',
        describe: 'kubeconfig file (default: KUBECONFIG, else ~/.kube/config, else in-cluster credentials)',
      })
      .option('namespace', { type: 'string', describe: "Kubernetes namespace (default: the manifests')" })
      .option('service', { type: 'string', default: 'account', describe: 'service under canary, any of the manifests' })
      .option('image', {
        type: 'string',
        describe: "the canary's image as SERVICE=REF, e.g. account=registry.example/account:v2 (Kubernetes engine)",
      })
      .option('prometheus', {
        type: 'string',
        describe: 'base URL of a Prometheus-compatible API to judge from (required on a cluster)',
      })
      .option('driver', { type: 'string', default: 'builtin', describe: `load driver: ${DRIVER_CHOICES.join(', ')}` })
      .option('parallelism', {
        type: 'number',
        describe: 'k6-operator runners (Jobs) of the TestRun, each with its share of the rate (default 1)',
      })
      .option('gateway', {
        type: 'string',
        describe:
          'URL where load enters the cluster: a port-forward of the ingress gateway (builtin, k6), or the in-cluster URL the k6-operator runners use',
      })
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
      .option('rate', { type: 'string', describe: 'total requests per second through the gateway, e.g. 400' })
      .option('interval', {
        type: 'string',
        describe: 'time between looks of the judge: 500ms, 2s, 1m or bare seconds',
      })
      .option('evidence', {
        type: 'string',
        default: 'run',
        describe: "what each look judges: run (all since the first stage) or stage (the current stage's only)",
      })
      .option('stages', {
        type: 'string',
        describe: 'weighted steps in percent, each to the canary and the baseline (default 5,10,25,50)',
      })
      .option('compare-with', {
        type: 'string',
        default: 'baseline',
        describe: 'track the canary is compared with: baseline (a fresh deployment) or primary (biased)',
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
      .option('min-duration', {
        type: 'string',
        describe: 'minimum time per stage, e.g. 30s or 2m (overrides the configuration)',
      })
      .option('max-duration', {
        type: 'string',
        describe: 'maximum time per stage, e.g. 5m (overrides the configuration)',
      })
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
      colour: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
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
  const seconds = (flag: string, v: string | undefined): number | undefined =>
    v === undefined ? undefined : durationFlag(flag, v) / 1000;
  const count = (flag: string, v: number | undefined): number | undefined => {
    if (v !== undefined && !(Number.isInteger(v) && v >= 1))
      throw new UsageError(flag, `expected a whole number of requests, at least 1, got ${String(v)}`);
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
    'compare-with',
  ] as const) {
    const v = a[k];
    if (v !== undefined) flags[k] = v;
  }
  return {
    engine: a.context !== undefined || a.local === false ? 'kubernetes' : 'local',
    config: a.config,
    manifests: a.manifests,
    service: a.service,
    context: a.context,
    kubeconfig: a.kubeconfig,
    namespace: a.namespace,
    image: a.image === undefined ? undefined : parseImageFlag(a.image),
    prometheus: a.prometheus,
    driver: oneOf('--driver', a.driver, DRIVER_CHOICES),
    parallelism: a.parallelism,
    gateway: a.gateway,
    scenario: oneOf<Scenario>('--scenario', a.scenario, SCENARIOS),
    rate: a.rate === undefined ? undefined : rateFlag('--rate', a.rate),
    interval: seconds('--interval', a.interval),
    evidence: oneOf('--evidence', a.evidence, ['run', 'stage'] as const),
    stages: a.stages === undefined ? undefined : parseSteps(a.stages),
    baseline: oneOf('--compare-with', a['compare-with'], ['baseline', 'primary'] as const),
    canaryVersion: a['canary-version'],
    onInconclusive: oneOf('--on-inconclusive', a['on-inconclusive'], ['rollback', 'promote'] as const),
    minDuration: seconds('--min-duration', a['min-duration']),
    maxDuration: seconds('--max-duration', a['max-duration']),
    minSamples: count('--min-samples', a['min-samples']),
    confirm: a.confirm,
    dryRun: a['dry-run'],
    reportsDir: a['reports-dir'],
    json: a.json,
    flags,
  };
}
