import type { Argv } from 'yargs';
import type { RenamedFlag } from './flags.ts';

/**
 * One CLI command: a thin adapter that maps flags to a typed options object and calls a function
 * that tests can call without argv. `run` resolves to the process exit code.
 *
 * Conventions every command follows (src/cli/main.ts applies them): at least one example, shown
 * under "Examples:" in its help; durations in the one syntax of src/cli/flags.ts; a flag name means
 * one thing across commands (a renamed flag is listed in `renamed`, refused with a hint); a command
 * that cannot be used yet says so at the start of its `describe` (`[not built yet] …`).
 */
export interface CliCommand<A = Record<string, unknown>> {
  command: string;
  describe: string;
  /** `[command line, what it does]`, shown under "Examples:" in the command's help. */
  examples: [string, string][];
  /** Old flag names that meant something else, refused with a hint naming the new flag. */
  renamed?: RenamedFlag[];
  builder: (y: Argv) => Argv<A>;
  run: (args: A) => Promise<number>;
}

/** Reads a command's own flags in a type-safe way from yargs' loosely typed result. */
export function defineCommand<A>(c: CliCommand<A>): CliCommand<A> {
  return c;
}

/** A command of any options type, for lists of commands; each command's own `defineCommand` keeps its flags typed. */
// biome-ignore lint/suspicious/noExplicitAny: a list holds commands of different option types, and yargs hands each its own.
export type AnyCliCommand = CliCommand<any>;
