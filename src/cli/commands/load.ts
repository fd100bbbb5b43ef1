import { defineCommand } from '../command.ts';
import { ExitCode, InfraError, InterruptedError } from '../../core/errors.ts';
import { processAborts } from '../../core/process-abort.ts';
import { DRIVER_NAMES } from '../../driver/factory.ts';
import { formatSummary, runLoad } from '../../driver/load-session.ts';

/** `canary load`: drive traffic only and write the client-side results (reports/<run-id>/load.json). */
export const loadCommand = defineCommand({
  command: 'load',
  describe: 'drive traffic through the gateway and write the client-side results',
  examples: [
    ['$0 load --target http://127.0.0.1:18080 --rate 200 --duration 30s', 'open model, 200 requests/s for 30 s'],
    ['$0 load --target http://127.0.0.1:18080 --connections 32 --duration 1m', 'closed model, 32 connections'],
  ],
  builder: (y) =>
    y
      .option('driver', { type: 'string', choices: DRIVER_NAMES, default: 'builtin', describe: 'load generator' })
      .option('target', { type: 'string', demandOption: true, describe: 'gateway URL, e.g. http://127.0.0.1:8080' })
      .option('rate', { type: 'string', describe: 'open model: requests per second' })
      .option('connections', { type: 'string', describe: 'closed model: concurrent connections' })
      .option('duration', { type: 'string', demandOption: true, describe: 'how long: seconds or 20s, 1m30s' })
      .option('cohorts', {
        type: 'string',
        default: '',
        describe: 'name=size:share,… (user, canary-tester, baseline-tester)',
      })
      .option('mix', { type: 'string', default: '', describe: 'route=weight,… over the bff API' })
      .option('seed', { type: 'number', default: 1, describe: 'seed of the request sequence' })
      .option('script', { type: 'string', describe: 'k6 driver: script to run (default load/canary.ts)' })
      .option('raw-samples', { type: 'number', default: 0, describe: 'keep up to this many raw per-request samples' })
      .option('reports-dir', { type: 'string', default: 'reports', describe: 'where reports/<run-id>/ go' })
      .option('run-id', { type: 'string', describe: 'run id (default load-<time>-<random>)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the summary as JSON' }),
  run: async (args) => {
    const controller = new AbortController();
    let signalName: string | undefined;
    const unsubscribe = processAborts((t) => {
      signalName ??= t.name;
      controller.abort();
    });
    try {
      const report = await runLoad(
        {
          driver: args.driver,
          target: args.target,
          rate: args.rate,
          connections: args.connections,
          duration: args.duration,
          cohorts: args.cohorts,
          mix: args.mix,
          seed: args.seed,
          script: args.script,
          reportsDir: args['reports-dir'],
          runId: args['run-id'],
          rawSamples: args['raw-samples'],
          progress: args.json ? 'off' : 'auto',
        },
        controller.signal,
      );
      const s = report.summary;
      process.stdout.write(args.json ? `${JSON.stringify(s, null, 2)}\n` : `${formatSummary(s)}\n`);
      if (s.status === 'interrupted' || signalName) throw new InterruptedError(signalName ?? 'SIGINT');
      if (s.status === 'failed')
        throw new InfraError(`load failed: ${s.reason ?? 'unknown reason'} (partial result in ${s.file})`);
      // k6 ran to the end but its thresholds failed or the script called test.fail().
      if (report.result.exit && report.result.exit.code !== 0) return ExitCode.fail;
      return ExitCode.pass;
    } finally {
      unsubscribe();
    }
  },
});
