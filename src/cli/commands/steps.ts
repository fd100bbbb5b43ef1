/**
 * `canary route` / `promote` / `rollback`: the individual routing steps of a run, for people and
 * scripts. The local engine has no long-lived data plane to change (`canary run --local` starts one
 * per run and performs every step itself; `canary mesh up` serves the committed routes), so locally
 * the routing steps print the VirtualService they would apply, ready for `kubectl apply -f -`.
 * Applying a route to a cluster outside a run would leave traffic on a canary nobody judges: only
 * `canary run --context` does it, and asking `route` or `promote` for it is an error, never a silent
 * no-op. `rollback --context` (or `--kubeconfig`) is the exception, because it only ever makes
 * things safe: all traffic back on the primary, read back, then the tracks scaled to 0, for a run
 * that was killed before it could do so itself (platform/kube-rollback.ts).
 */
import type { Argv } from 'yargs';
import { stringify } from 'yaml';
import { type AnyCliCommand, type CliCommand, defineCommand } from '../command.ts';
import { ExitCode, UsageError } from '../../core/errors.ts';
import type { RoutePlan } from '../../canary/route-plan.ts';
import { virtualServiceFor } from '../../canary/routes.ts';
import { readTargetFacts } from '../../platform/target-facts.ts';

interface StepArgs {
  route?: string;
  manifests: string;
  service: string;
  context?: string;
  kubeconfig?: string;
  namespace?: string;
  json: boolean;
}

const KUBERNETES_LATER =
  'a route is applied to a cluster only by `canary run --context` (which puts it back on the primary at the end), and `canary rollback --context` puts it back after a run that could not; without --context this command prints the object for kubectl';

/** `safe`, `header`, `weighted:10` (canary 10 %, baseline 10 %), `promoted`. */
export function parseRouteArg(text: string): RoutePlan {
  const header = {
    canary: { cohort: 'canary-tester', pattern: 'canary-tester-[0-9]+' },
    baseline: { cohort: 'baseline-tester', pattern: 'baseline-tester-[0-9]+' },
  };
  if (text === 'safe' || text === 'promoted') return { kind: text };
  if (text === 'header') return { kind: 'header', ...header };
  const m = /^weighted:(\d+)$/.exec(text);
  if (m && Number(m[1]) >= 1 && Number(m[1]) <= 50)
    return { kind: 'weighted', canary: Number(m[1]), baseline: Number(m[1]), header };
  throw new UsageError('route', `expected safe, header, weighted:N (N in 1..50) or promoted, got '${text}'`);
}

function routeStep(name: string, describe: string, fixed: RoutePlan | null): CliCommand<StepArgs> {
  const onCluster = name === 'rollback';
  return defineCommand<StepArgs>({
    command: fixed ? name : `${name} <route>`,
    describe,
    examples: fixed
      ? [
          [`$0 ${name} | kubectl apply -f -`, describe],
          ...(onCluster
            ? [
                [
                  '$0 rollback --context prod',
                  'all traffic on the primary, then the baseline and canary scaled to 0, on the cluster',
                ] as [string, string],
              ]
            : []),
        ]
      : [
          ['$0 route weighted:10', 'canary 10 %, baseline 10 %, primary 80 %'],
          ['$0 route header --json', 'the header route as JSON'],
        ],
    builder: (y) => {
      let b = y
        .option('manifests', {
          type: 'string',
          default: 'manifests',
          describe: 'manifests of the app (for the VirtualService name, namespace, timeout)',
        })
        .option('service', { type: 'string', default: 'account', describe: 'service under canary' })
        .option('context', {
          type: 'string',
          describe: onCluster
            ? "kubeconfig context: put all traffic back on the primary there and scale the service's baseline and canary to 0"
            : 'refused: routes reach a cluster only through canary run',
        })
        .option('json', { type: 'boolean', default: false, describe: 'print JSON instead of YAML' });
      if (onCluster)
        b = b
          .option('kubeconfig', {
            type: 'string',
            describe: 'kubeconfig file (default: KUBECONFIG, else ~/.kube/config)',
          })
          .option('namespace', { type: 'string', describe: "the service's namespace (default: the manifests')" });
      if (!fixed) b = b.positional('route', { type: 'string', describe: 'safe | header | weighted:N | promoted' });
      return b as unknown as Argv<StepArgs>;
    },
    run: async (a) => {
      if (onCluster && (a.context !== undefined || a.kubeconfig !== undefined)) {
        const { rollbackOnCluster } = await import('../../platform/kube-rollback.ts');
        const done = await rollbackOnCluster(
          {
            manifestsDir: a.manifests,
            service: a.service,
            namespace: a.namespace,
            kubeconfig: a.kubeconfig ?? null,
            context: a.context ?? null,
          },
          (line) => process.stderr.write(`${line}\n`),
        );
        process.stdout.write(a.json ? `${JSON.stringify({ rolledBack: done }, null, 2)}\n` : `${done.join('\n')}\n`);
        return ExitCode.pass;
      }
      if (a.context !== undefined) throw new UsageError('--context', KUBERNETES_LATER);
      if (a.namespace !== undefined) throw new UsageError('--namespace', 'needs --context or --kubeconfig');
      const route = fixed ?? parseRouteArg(String(a.route));
      const facts = readTargetFacts(a.manifests, a.service);
      const vs = virtualServiceFor(facts, route);
      process.stdout.write(a.json ? `${JSON.stringify(vs, null, 2)}\n` : stringify(vs));
      return ExitCode.pass;
    },
  });
}

export const stepCommands: AnyCliCommand[] = [
  routeStep('route', 'print the VirtualService of a route: safe, header, weighted:N, promoted', null),
  routeStep('promote', 'print the VirtualService that sends all traffic to the canary', { kind: 'promoted' }),
  routeStep(
    'rollback',
    'print the VirtualService that sends all traffic back to the primary; with --context, do it on the cluster and scale the tracks to 0',
    { kind: 'safe' },
  ),
];
