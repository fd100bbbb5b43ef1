import yargs from 'yargs';
import { CanaryError, ExitCode } from '../core/errors.ts';
import type { CliCommand } from './command.ts';
import { analyzeCommand } from './commands/analyze.ts';
import { compareCommand } from './commands/compare.ts';
import { loadCommand } from './commands/load.ts';
import { meshCommand } from './commands/mesh.ts';
import { reportCommand } from './commands/report.ts';
import { runCommand } from './commands/run.ts';
import { stepCommands } from './commands/steps.ts';

const commands: CliCommand<any>[] = [
  runCommand,
  meshCommand,
  ...stepCommands,
  loadCommand,
  analyzeCommand,
  compareCommand,
  reportCommand,
];

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
  for (const c of commands) {
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
  process.stderr.write(`canary: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return ExitCode.infrastructure;
}
