/**
 * Container entry point: `node --import tsx src/app/main.ts`, configured by the environment
 * (standalone.ts). Stops cleanly on SIGTERM, as Kubernetes asks before killing a pod.
 */
import { CanaryError } from '../core/errors.ts';
import { serveStandalone } from './standalone.ts';

try {
  const server = await serveStandalone(process.env);
  process.stdout.write(`${server.workload} (${server.service}) listening on ${server.url}\n`);
  const shutdown = (signal: string) => {
    process.stdout.write(`${server.workload}: ${signal}, closing\n`);
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof CanaryError ? err.exitCode : 1);
}
