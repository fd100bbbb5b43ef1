import yargs from 'yargs';
import { CanaryError, ExitCode } from '../core/errors.ts';
import type { AnyCliCommand } from './command.ts';
// Each command is imported only when it is the one asked for: a command's dependencies (the mesh,
// the drivers, SQLite, the Kubernetes models) then cost nothing to the others' start-up and memory.
const commandModules: Record<string, () => Promise<AnyCliCommand[]>> = {
  run: async () => [(await import('./commands/run.ts')).runCommand],
  mesh: async () => [(await import('./commands/mesh.ts')).meshCommand],
  steps: async () => (await import('./commands/steps.ts')).stepCommands,
  load: async () => [(await import('./commands/load.ts')).loadCommand],
  analyze: async () => [(await import('./commands/analyze.ts')).analyzeCommand],
  compare: async () => [(await import('./commands/compare.ts')).compareCommand],
  report: async () => [(await import('./commands/report.ts')).reportCommand],
};
const STEP_COMMANDS = new Set(['deploy', 'route', 'promote', 'rollback']);

async function commandsFor(argv: string[]): Promise<AnyCliCommand[]> {
  const first = argv.find((a) => !a.startsWith('-'));
  const key = first === undefined ? undefined : STEP_COMMANDS.has(first) ? 'steps' : first;
  if (key !== undefined && key in commandModules) return commandModules[key]();
  // No command, or an unknown one: load them all, for --help and for yargs' suggestions.
  return (await Promise.all(Object.values(commandModules).map((load) => load()))).flat();
}

/** Parses argv, runs one command, and maps every error to its exit code and a one-line message. */
export async function main(argv: string[]): Promise<number> {
  let exitCode: number = ExitCode.usage;
  const parser = yargs(argv)
    .scriptName('canary')
    .strict()
    .demandCommand(1, 'name a command (see canary --help)')
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns || 110))
    .fail((msg, err) => {
      if (err) throw err;
      throw new CliUsage(msg);
    });
  for (const c of await commandsFor(argv)) {
    parser.command(c.command, c.describe, c.builder, async (args) => {
      exitCode = await c.run(args);
    });
  }
  try {
    await parser.parseAsync();
    return exitCode;
  } catch (err) {
    return report(err);
  }
}

class CliUsage extends Error {}

function report(err: unknown): number {
  if (err instanceof CliUsage) {
    process.stderr.write(`canary: ${err.message}\n`);
    return ExitCode.usage;
  }
  if (err instanceof CanaryError) {
    process.stderr.write(`canary: ${err.message}\n`);
    return err.exitCode;
  }
  process.stderr.write(
    `canary: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  return ExitCode.infrastructure;
}
