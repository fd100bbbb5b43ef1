/**
 * `canary mesh up`: the local reference app behind the local data plane, until Ctrl-C. Prints the
 * gateway URL on a line of its own (scripts read it) and each process's /metrics address.
 */
import { ExitCode, UsageError } from '../../core/errors.ts';
import { processAborts } from '../../core/process-abort.ts';
import { startMesh, type Mesh } from '../../mesh/mesh.ts';
import { defineCommand } from '../command.ts';

export interface MeshUpOptions {
  manifestsDir: string;
  port: number;
  out: (line: string) => void;
  err: (line: string) => void;
}

export const DEFAULT_GATEWAY_PORT = 18080;

export const meshCommand = defineCommand({
  command: 'mesh <action>',
  describe: 'start the local reference app and data plane (`mesh up`) and run until Ctrl-C',
  examples: [
    ['$0 mesh up', 'the app behind the gateway on http://127.0.0.1:18080'],
    ['$0 mesh up --port 0', 'on a free port (printed as gateway: http://127.0.0.1:N)'],
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
        default: 'manifests',
        describe: 'directory of Kubernetes/Istio manifests',
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
      manifestsDir: args.manifests,
      port,
      out: (line) => process.stdout.write(`${line}\n`),
      err: (line) => process.stderr.write(`${line}\n`),
    });
  },
});

/** Runs the mesh until SIGINT/SIGTERM (exit 130) or until a child dies unasked (exit 4). */
export async function meshUp(opts: MeshUpOptions): Promise<number> {
  let signalled: string | undefined;
  let wake: (() => void) | undefined;
  const unsubscribe = processAborts((t) => {
    signalled ??= t.name;
    wake?.();
  });
  let mesh: Mesh | undefined;
  try {
    mesh = await startMesh({ manifestsDir: opts.manifestsDir, port: opts.port, log: opts.err });
    let died: string | undefined;
    mesh.onUnexpectedExit((e) => {
      died = `${e.workload} exited unexpectedly (${e.signal ? `signal ${e.signal}` : `exit code ${e.code}`})`;
      wake?.();
    });
    opts.out(`gateway: ${mesh.gatewayUrl}`);
    opts.out(`metrics: gateway ${mesh.metricsUrls[0]}`);
    for (const w of mesh.workloads) {
      w.replicas.forEach((r, i) =>
        opts.out(`metrics: ${w.name}${w.replicas.length > 1 ? `#${i}` : ''} ${r.metricsUrl}`),
      );
    }
    if (!signalled) {
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
