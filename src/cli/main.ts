import { createRequire } from 'node:module';
import yargs, { type Argv } from 'yargs';
import { CanaryError, ExitCode } from '../core/errors.ts';
import { suggest } from '../core/suggest.ts';
import type { AnyCliCommand } from './command.ts';
import { refuseRenamed } from './flags.ts';
// Each command is imported only when it is the one asked for: a command's dependencies (the mesh,
// the drivers, SQLite, the Kubernetes models) then cost nothing to the others' start-up and memory.
const commandModules: Record<string, () => Promise<AnyCliCommand[]>> = {
  run: async () => [(await import('./commands/run.ts')).runCommand],
  mesh: async () => [(await import('./commands/mesh.ts')).meshCommand],
  deploy: async () => [(await import('./commands/deploy.ts')).deployCommand],
  steps: async () => (await import('./commands/steps.ts')).stepCommands,
  load: async () => [(await import('./commands/load.ts')).loadCommand],
  analyze: async () => [(await import('./commands/analyze.ts')).analyzeCommand],
  compare: async () => [(await import('./commands/compare.ts')).compareCommand],
  report: async () => [(await import('./commands/report.ts')).reportCommand],
};
const STEP_COMMANDS = new Set(['route', 'promote', 'rollback']);
const BUILTIN_COMMANDS = ['version', 'completion'];
const COMMAND_NAMES = [
  ...Object.keys(commandModules).filter((k) => k !== 'steps'),
  ...STEP_COMMANDS,
  ...BUILTIN_COMMANDS,
];

function commandKey(argv: readonly string[]): string | undefined {
  // Completion asks `--get-yargs-completions canary <words so far>`: the command is after the script name.
  const words = argv[0] === '--get-yargs-completions' ? argv.slice(2) : argv;
  const first =
    words.length > 1 || argv[0] !== '--get-yargs-completions' ? words.find((a) => !a.startsWith('-')) : undefined;
  return first === undefined ? undefined : STEP_COMMANDS.has(first) ? 'steps' : first;
}

/**
 * What the top-level help lists, without importing every command (their dependencies make start-up
 * slow); each entry equals the command's own `command` and `describe` (main.test.ts checks).
 */
export const COMMAND_SUMMARIES: { command: string; describe: string }[] = [
  { command: 'run', describe: 'deploy a canary, shift traffic in stages while judging it, then promote or roll back' },
  {
    command: 'mesh <action>',
    describe: 'start the local reference app and data plane (`mesh up`) and run until Ctrl-C',
  },
  {
    command: 'deploy',
    describe:
      'apply the reference app to a cluster (server-side apply), or print every object a run would apply (--dry-run)',
  },
  { command: 'route <route>', describe: 'print the VirtualService of a route: safe, header, weighted:N, promoted' },
  { command: 'promote', describe: 'print the VirtualService that sends all traffic to the canary' },
  {
    command: 'rollback',
    describe:
      'print the VirtualService that sends all traffic back to the primary; with --context, do it on the cluster and scale the tracks to 0',
  },
  { command: 'load', describe: 'drive traffic through the gateway and write the client-side results' },
  { command: 'analyze', describe: 'judge a time window that already happened, from a Prometheus-compatible API' },
  {
    command: 'compare',
    describe: 'judge two samples given as files (load.json, k6 JSON, JSON arrays, NDJSON, CSV), or two error counts',
  },
  {
    command: 'report [run]',
    describe: 're-render a run’s reports from result.json, or (--trend) the regression report from the history',
  },
];

/** The commands to register: the one asked for, fully; none for the top level (summaries only). */
async function commandsFor(argv: string[]): Promise<AnyCliCommand[]> {
  const key = commandKey(argv);
  if (key !== undefined && key in commandModules) return commandModules[key]!();
  return [];
}

/** Every command, fully loaded (for tests that check the summaries). */
export async function allCommands(): Promise<AnyCliCommand[]> {
  return (await Promise.all(Object.values(commandModules).map((load) => load()))).flat();
}

function packageInfo(): { name: string; version: string } {
  const pkg = createRequire(import.meta.url)('../../package.json') as { name: string; version: string };
  return { name: pkg.name, version: pkg.version };
}

/** `sprincube-canary 0.1.0 (Node v20.19.0)`. */
export function versionText(): string {
  const { name, version } = packageInfo();
  return `${name} ${version} (Node ${process.version})`;
}

/**
 * yargs says `Unknown arguments: bogus-flag, bogusFlag` (the flag and its camel-case alias): name
 * each flag once, with a dash, and suggest the known flag it most likely meant.
 */
export function unknownArgumentsMessage(msg: string, knownFlags: readonly string[]): string | null {
  const m = /^Unknown arguments?: (.*)$/.exec(msg);
  if (!m) return null;
  const given = m[1]!.split(', ').filter(Boolean);
  const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  const flags = [...new Set(given.map(kebab))];
  const known = knownFlags.filter((k) => k.length > 1 && !/[A-Z]/.test(k) && k !== '$0' && k !== '_');
  const parts = flags.map((f) => {
    const name = f.length === 1 ? `-${f}` : `--${f}`;
    const near = suggest(f, known).slice(0, 2);
    return `${name}${near.length ? ` (did you mean ${near.map((n) => `--${n}`).join(' or ')}?)` : ''}`;
  });
  return `unknown flag${parts.length > 1 ? 's' : ''} ${parts.join(', ')} (see --help)`;
}

/** Parses argv, runs one command, and maps every error to its exit code and a one-line message. */
export async function main(argv: string[]): Promise<number> {
  let exitCode: number = ExitCode.usage;
  const key = commandKey(argv);
  const unknownCommand = key !== undefined && !(key in commandModules) && !BUILTIN_COMMANDS.includes(key);
  // yargs' completion asks with `--get-yargs-completions`; that is not a command to reject.
  if (unknownCommand && !argv.includes('--get-yargs-completions')) {
    const near = suggest(key, COMMAND_NAMES);
    process.stderr.write(
      `canary: unknown command '${key}'${near.length ? `; did you mean ${near.map((n) => `'${n}'`).join(' or ')}?` : ''} (see canary --help)\n`,
    );
    return ExitCode.usage;
  }
  const commands = await commandsFor(argv);
  // The flags of the command being parsed, for did-you-mean (filled in when yargs builds it).
  let knownFlags: string[] = ['help', 'version'];
  const parser: Argv = yargs(argv)
    .scriptName('canary')
    .usage('$0 <command> [flags]\n\nCanary analysis and load testing for the Sprincube reference mesh.')
    .strict()
    .demandCommand(1, 'name a command (see canary --help)')
    .help()
    .alias('h', 'help')
    .version(versionText())
    .wrap(Math.min(110, process.stdout.columns || 110))
    .epilogue(
      'Durations: 500ms, 30s, 5m, 1m30s or bare seconds. Exit codes: 0 promoted/pass, 1 rolled back/fail, 2 inconclusive, 3 bad usage, 4 infrastructure, 130 interrupted. Docs: docs/configuration.md, docs/statistics.md',
    )
    .completion('completion', 'print a bash/zsh completion script: canary completion >> ~/.bashrc')
    .fail((msg, err) => {
      if (err) throw err;
      throw new CliUsage(unknownArgumentsMessage(msg ?? '', knownFlags) ?? msg ?? 'bad usage (see --help)');
    });
  parser.command(
    'version',
    'print the name, version and Node version',
    (y) => y.example('$0 version', 'sprincube-canary 0.1.0 (Node v20.19.0)'),
    () => {
      process.stdout.write(`${versionText()}\n`);
      exitCode = ExitCode.pass;
    },
  );
  if (commands.length === 0) for (const c of COMMAND_SUMMARIES) parser.command(c.command, c.describe);
  for (const c of commands) {
    parser.command(
      c.command,
      c.describe,
      (y) => {
        const built = c.builder(y);
        for (const [line, what] of c.examples) built.example(line, what);
        knownFlags = [...knownFlags, ...Object.keys((built as unknown as OptionsOf).getOptions().key)];
        return built;
      },
      async (args) => {
        refuseRenamed(argv, c.renamed ?? []);
        exitCode = await c.run(args);
      },
    );
  }
  try {
    // A renamed flag is refused before yargs calls it unknown, so the hint names the new flag.
    for (const c of commands)
      if (c.command.split(' ')[0] === argv.find((a) => !a.startsWith('-'))) refuseRenamed(argv, c.renamed ?? []);
    await parser.parseAsync();
    if (argv.includes('completion') && key === 'completion') return ExitCode.pass;
    if (argv.some((a) => a === '--help' || a === '-h' || a === '--version')) return ExitCode.pass;
    return exitCode;
  } catch (err) {
    return report(err);
  }
}

class CliUsage extends Error {}

/** yargs' own view of the flags a builder declared (not in its public typings). */
interface OptionsOf {
  getOptions(): { key: Record<string, unknown> };
}

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
