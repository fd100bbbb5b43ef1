/**
 * A real server (MariaDB, Prometheus) started by a test suite: one child process at a time, killed
 * if the test process exits first, and stopped with SIGTERM (then SIGKILL after a grace period) before
 * its scratch directory is removed. Stopping is idempotent.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';

export { freeLoopbackPort } from '../../src/core/loopback.ts';

export class ServerProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly killOnExit = () => this.child?.kill('SIGKILL');

  /** `root` is the scratch directory removed on stop; `graceMs` how long SIGTERM may take. */
  constructor(
    private readonly root: string,
    private readonly graceMs: number,
  ) {}

  spawn(command: string, args: string[], options: SpawnOptions): ChildProcess {
    const child = spawn(command, args, options);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    process.on('exit', this.killOnExit);
    return child;
  }

  /** Forgets a child that already exited (a failed start), before trying again. */
  forget(): void {
    process.off('exit', this.killOnExit);
    this.child = undefined;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    process.off('exit', this.killOnExit);
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), this.graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    await rm(this.root, { recursive: true, force: true });
  }
}
