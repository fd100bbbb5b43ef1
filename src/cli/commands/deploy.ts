/**
 * `canary deploy`: the reference app on a cluster. `--dry-run` prints every object a run would
 * apply (in apply order, for the chosen service, image and namespace) and needs no cluster;
 * without it the objects are server-side applied to the kubeconfig's context. A thin adapter over
 * `platform/kube-deploy.ts`.
 */
import type { Argv } from 'yargs';
import { stringify } from 'yaml';
import { parseImageFlag } from '../../canary/plan.ts';
import { ExitCode, UsageError } from '../../core/errors.ts';
import { defineCommand } from '../command.ts';

interface DeployArgs {
  manifests: string;
  service: string;
  image?: string;
  namespace?: string;
  context?: string;
  kubeconfig?: string;
  'dry-run': boolean;
  'server-dry-run': boolean;
  output: string;
}

export const DEPLOY_DESCRIBE =
  'apply the reference app to a cluster (server-side apply), or print every object a run would apply (--dry-run)';

export const deployCommand = defineCommand<DeployArgs>({
  command: 'deploy',
  describe: DEPLOY_DESCRIBE,
  examples: [
    ['$0 deploy --dry-run -o yaml', 'every object, in apply order, with no cluster needed'],
    [
      '$0 deploy --dry-run -o json --image account=registry.example/account:v2 --namespace staging',
      'the same as a kubectl List, for another image and namespace',
    ],
    ['$0 deploy --context kind-canary', 'apply the app, the namespace and the harness ServiceAccount and Role'],
  ],
  builder: (y) =>
    y
      .option('manifests', {
        type: 'string',
        default: 'manifests',
        describe: 'Kubernetes and Istio manifests of the app',
      })
      .option('service', { type: 'string', default: 'account', describe: 'service under canary' })
      .option('image', { type: 'string', describe: "the canary's image as SERVICE=REF" })
      .option('namespace', { type: 'string', describe: "namespace of every object (default: the manifests')" })
      .option('context', { type: 'string', describe: 'kubeconfig context (default: the current one)' })
      .option('kubeconfig', {
        type: 'string',
        describe: 'kubeconfig file (default: KUBECONFIG, else ~/.kube/config, else in-cluster credentials)',
      })
      .option('dry-run', { type: 'boolean', default: false, describe: 'print the objects and apply nothing' })
      .option('server-dry-run', {
        type: 'boolean',
        default: false,
        describe: 'send every object to the API server with dryRun=All: validated there, nothing stored',
      })
      .option('output', {
        alias: 'o',
        type: 'string',
        default: 'yaml',
        describe: 'with --dry-run: yaml or json',
      }) as unknown as Argv<DeployArgs>,
  run: async (a) => {
    if (a.output !== 'yaml' && a.output !== 'json')
      throw new UsageError('--output', `expected yaml or json, got '${a.output}'`);
    if (a['dry-run'] && (a.context !== undefined || a.kubeconfig !== undefined))
      throw new UsageError(
        '--dry-run',
        'prints the objects without a cluster; drop --context/--kubeconfig or use --server-dry-run',
      );
    const request = {
      manifestsDir: a.manifests,
      service: a.service,
      image: a.image === undefined ? undefined : parseImageFlag(a.image),
      namespace: a.namespace,
    };
    const { applyReferenceApp, renderDeployObjects } = await import('../../platform/kube-deploy.ts');
    if (a['dry-run']) {
      const objects = renderDeployObjects(request);
      process.stdout.write(
        a.output === 'json'
          ? `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }, null, 2)}\n`
          : objects.map((o) => stringify(o)).join('---\n'),
      );
      return ExitCode.pass;
    }
    await applyReferenceApp(
      { ...request, context: a.context ?? null, kubeconfig: a.kubeconfig ?? null, dryRun: a['server-dry-run'] },
      (l) => process.stderr.write(`${l}\n`),
    );
    return ExitCode.pass;
  },
});
