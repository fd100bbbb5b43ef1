/**
 * The few error classes the harness throws on purpose. Each maps to one exit code (DESIGN.md,
 * "Command line") and is caught once, at the top of the CLI.
 */

export const ExitCode = {
  pass: 0,
  fail: 1,
  inconclusive: 2,
  usage: 3,
  infrastructure: 4,
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export abstract class CanaryError extends Error {
  abstract readonly exitCode: ExitCodeValue;
}

/** A bad flag or argument: names the flag and what was expected. Exit 3. */
export class UsageError extends CanaryError {
  readonly exitCode = ExitCode.usage;
  constructor(
    readonly flag: string,
    message: string,
  ) {
    super(`${flag}: ${message}`);
    this.name = 'UsageError';
  }
}

/** A bad configuration or manifest: names the file, the object or path, and what was expected. Exit 3. */
export class ConfigError extends CanaryError {
  readonly exitCode = ExitCode.usage;
  constructor(
    readonly file: string,
    readonly where: string,
    readonly problem: string,
  ) {
    super(`${file}${where ? ` ${where}` : ''}: ${problem}`);
    this.name = 'ConfigError';
  }
}

/** Something outside the harness failed: cluster, Prometheus, the app, a port in use. Exit 4. */
export class InfraError extends CanaryError {
  readonly exitCode = ExitCode.infrastructure;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InfraError';
  }
}

/** Ctrl-C or SIGTERM, raised after the routes were made safe. Exit 130. */
export class InterruptedError extends CanaryError {
  readonly exitCode = ExitCode.interrupted;
  constructor(readonly signal: string) {
    super(`interrupted by ${signal}`);
    this.name = 'InterruptedError';
  }
}
