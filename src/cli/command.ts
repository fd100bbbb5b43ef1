import type { Argv } from 'yargs';

/**
 * One CLI command: a thin adapter that maps flags to a typed options object and calls a function
 * that tests can call without argv. `run` resolves to the process exit code.
 */
export interface CliCommand<A = Record<string, unknown>> {
  command: string;
  describe: string;
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
