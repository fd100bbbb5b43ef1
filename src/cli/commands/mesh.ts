/**
 * `canary mesh up`: the local reference app behind the local data plane, until Ctrl-C. Prints the
 * gateway URL on a line of its own (scripts read it) and each process's /metrics address. With
 * `--kubeconfig K --namespace N` the data plane follows that namespace of a cluster instead of
 * reading files (mesh/follow.ts): a process per Running pod, routes as the API server holds them;
 * `--prometheus` then starts Debian's Prometheus on 127.0.0.1 scraping every process through the
 * file SD targets the data plane publishes, prints its URL, and stops it with the rest.
 */
import { ExitCode, InfraError, UsageError } from '../../core/errors.ts';
import { processAborts } from '../../core/process-abort.ts';
import { startFollowing } from '../../mesh/follow.ts';
import { startMesh, type UnexpectedExit } from '../../mesh/mesh.ts';
import { type MeshPrometheus, startMeshPrometheus } from '../../mesh/telemetry/prometheus-server.ts';
import { KubeClient } from '../../platform/kube-client.ts';
import { defineCommand } from '../command.ts';

/** Where the data plane reads its objects: a directory of manifests, or one namespace of a cluster. */
export type MeshSource = { manifestsDir: string } | { kubeconfig: string; namespace: string };

export interface MeshUpOptions {
  source: MeshSource;
  port: number;
  /** Start a Prometheus scraping the data plane (a cluster source only). */
  prometheus?: boolean;
  out: (line: string) => void;
  err: (line: string) => void;
}

export const DEFAULT_MANIFESTS = 'manifests';

/** The source the flags name; refuses `--manifests` with a cluster, half a cluster, and `--prometheus` with files. */
export function meshSource(flags: {
  manifests?: string;
  kubeconfig?: string;
  namespace?: string;
  prometheus?: boolean;
}): MeshSource {
  const cluster = flags.kubeconfig !== undefined || flags.namespace !== undefined;
  if (cluster && flags.manifests !== undefined)
    throw new UsageError(
      '--manifests',
      'cannot be combined with --kubeconfig/--namespace: the data plane reads either files or a cluster',
    );
  if (flags.namespace !== undefined && flags.kubeconfig === undefined)
    throw new UsageError('--namespace', 'needs --kubeconfig (the cluster whose namespace to follow)');
  if (flags.kubeconfig !== undefined && flags.namespace === undefined)
    throw new UsageError('--kubeconfig', 'needs --namespace (the namespace to follow)');
  if (flags.kubeconfig !== undefined && flags.namespace !== undefined) {
    if (flags.kubeconfig === '') throw new UsageError('--kubeconfig', 'expected a kubeconfig file');
    if (flags.namespace === '') throw new UsageError('--namespace', 'expected a namespace');
    return { kubeconfig: flags.kubeconfig, namespace: flags.namespace };
  }
  if (flags.prometheus)
    throw new UsageError(
      '--prometheus',
      'needs --kubeconfig and --namespace: it scrapes the data plane that follows a cluster (the data plane from files prints its /metrics URLs for a Prometheus of your own)',
    );
  return { manifestsDir: flags.manifests ?? DEFAULT_MANIFESTS };
}

/** What `meshUp` needs of either data plane. */
interface RunningMesh {
  gatewayUrl: string;
  /** The Prometheus scraping the data plane, when one was started. */
  prometheusUrl?: string;
  /** `[name, url]` of every /metrics endpoint at start. */
  metrics: [string, string][];
  onUnexpectedExit(listener: (e: UnexpectedExit) => void): void;
  onFailure(listener: (err: Error) => void): void;
  stop(): Promise<void>;
}

async function startRunningMesh(opts: MeshUpOptions): Promise<RunningMesh> {
  const { source } = opts;
  if ('manifestsDir' in source) {
    const mesh = await startMesh({ manifestsDir: source.manifestsDir, port: opts.port, log: opts.err });
    return {
      gatewayUrl: mesh.gatewayUrl,
      metrics: [
        ['gateway', mesh.metricsUrls[0]!],
        ...mesh.workloads.flatMap((w) =>
          w.replicas.map((r, i): [string, string] => [
            `${w.name}${w.replicas.length > 1 ? `#${i}` : ''}`,
            r.metricsUrl,
          ]),
        ),
      ],
      onUnexpectedExit: (l) => mesh.onUnexpectedExit(l),
      onFailure: () => {},
      stop: () => mesh.stop(),
    };
  }
  // Prometheus first: a missing binary fails before anything else has started.
  const prometheus: MeshPrometheus | undefined = opts.prometheus ? await startMeshPrometheus() : undefined;
  try {
    const client = await KubeClient.connect(
      { kubeconfig: source.kubeconfig, context: null },
      { caller: 'follow', log: (l) => opts.err(`kubernetes: ${l}`) },
    );
    opts.err(`mesh up: following namespace ${source.namespace} of ${client.server}`);
    const mesh = await startFollowing({
      client,
      namespace: source.namespace,
      port: opts.port,
      log: opts.err,
      targetsFile: prometheus?.targetsFile,
    });
    if (prometheus)
      opts.err(
        `mesh up: prometheus scrapes every process through ${prometheus.targetsFile} (its data in ${prometheus.dir}, removed at stop)`,
      );
    return {
      gatewayUrl: mesh.gatewayUrl,
      prometheusUrl: prometheus?.url,
      metrics: [
        ['gateway', mesh.metricsUrls()[0]!],
        ...mesh.workloads().map((w): [string, string] => [`${w.workload} (pod ${w.pod})`, w.metricsUrl]),
      ],
      onUnexpectedExit: (l) => mesh.onUnexpectedExit(l),
      onFailure: (l) => {
        mesh.onFailure(l);
        void prometheus?.died.then((why) => l(new InfraError(why)));
      },
      stop: async () => {
        await mesh.stop();
        await prometheus?.stop();
      },
    };
  } catch (err) {
    await prometheus?.stop();
    throw err;
  }
}

export const DEFAULT_GATEWAY_PORT = 18080;

export const meshCommand = defineCommand({
  command: 'mesh <action>',
  describe: 'start the local reference app and data plane (`mesh up`) and run until Ctrl-C',
  examples: [
    ['$0 mesh up', 'the app behind the gateway on http://127.0.0.1:18080'],
    ['$0 mesh up --port 0', 'on a free port (printed as gateway: http://127.0.0.1:N)'],
    [
      '$0 mesh up --kubeconfig ~/.kube/config --namespace sprincube',
      "follow a cluster's namespace: a local process per Running pod, routes as the API server holds them",
    ],
    [
      '$0 mesh up --kubeconfig ~/.kube/config --namespace sprincube --prometheus',
      'the same, with a Prometheus on 127.0.0.1 scraping every process (printed as prometheus: http://127.0.0.1:N)',
    ],
  ],
  builder: (y) =>
    y
      .positional('action', {
        choices: ['up'] as const,
        describe: 'up: start the mesh and print the gateway URL',
        demandOption: true,
      })
      .option('manifests', {
        type: 'string',
        describe: `directory of Kubernetes/Istio manifests (default: ${DEFAULT_MANIFESTS}; not with --kubeconfig)`,
      })
      .option('kubeconfig', {
        type: 'string',
        describe: 'follow a cluster instead of reading files: its kubeconfig (with --namespace)',
      })
      .option('namespace', {
        type: 'string',
        describe: 'the namespace of the --kubeconfig cluster to follow',
      })
      .option('prometheus', {
        type: 'boolean',
        describe:
          "with --kubeconfig: start the prometheus on PATH (Debian's package) on 127.0.0.1, scraping every process every second",
      })
      .option('port', {
        type: 'number',
        default: DEFAULT_GATEWAY_PORT,
        describe: 'gateway port on 127.0.0.1 (0 picks a free one)',
      }),
  run: async (args) => {
    const port = args.port;
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError('--port', `expected an integer 0..65535, got ${String(port)}`);
    return meshUp({
      source: meshSource(args),
      port,
      prometheus: args.prometheus === true,
      out: (line) => process.stdout.write(`${line}\n`),
      err: (line) => process.stderr.write(`${line}\n`),
    });
  },
});

/** Runs the mesh until SIGINT/SIGTERM (exit 130), or until a child dies unasked or following the cluster fails (exit 4). */
export async function meshUp(opts: MeshUpOptions): Promise<number> {
  let signalled: string | undefined;
  let wake: (() => void) | undefined;
  const unsubscribe = processAborts((t) => {
    signalled ??= t.name;
    wake?.();
  });
  let mesh: RunningMesh | undefined;
  try {
    mesh = await startRunningMesh(opts);
    let died: string | undefined;
    mesh.onUnexpectedExit((e) => {
      died ??= `${e.workload} exited unexpectedly (${e.signal ? `signal ${e.signal}` : `exit code ${e.code}`})`;
      wake?.();
    });
    mesh.onFailure((err) => {
      died ??= err.message;
      wake?.();
    });
    opts.out(`gateway: ${mesh.gatewayUrl}`);
    if (mesh.prometheusUrl) opts.out(`prometheus: ${mesh.prometheusUrl}`);
    for (const [name, url] of mesh.metrics) opts.out(`metrics: ${name} ${url}`);
    if (!signalled && !died) {
      opts.err('mesh up: press Ctrl-C to stop');
      // Keeps the event loop alive while waiting; signal handlers alone do not.
      const keepAlive = setInterval(() => {}, 1 << 30);
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      clearInterval(keepAlive);
    }
    await mesh.stop();
    if (died && !signalled) {
      opts.err(`canary: ${died}; stopped the mesh`);
      return ExitCode.infrastructure;
    }
    opts.err(`mesh up: stopped every process (${signalled})`);
    return ExitCode.interrupted;
  } finally {
    await mesh?.stop();
    unsubscribe();
  }
}
