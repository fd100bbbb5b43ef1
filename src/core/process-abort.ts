/**
 * The one place that turns what stops a process from outside into the run's abort: SIGINT, SIGTERM
 * and SIGHUP (to the harness, forwarded by npm, or sent to the whole process group), the parent
 * process going away (npm or a CI runner killed with SIGKILL: the harness is re-parented), and a
 * piped stdin reaching its end (the writer is gone). `canary run`, `canary load` and `canary mesh up`
 * subscribe here and nowhere else.
 *
 * Once installed, the signal handlers stay for the life of the process: a signal that arrives while
 * the run is making the route safe or writing its reports is acknowledged, never fatal. Only the hard
 * deadline (`HARD_DEADLINE_MS` after the first abort) ends the process from here, with exit 4, so a
 * shutdown that hangs cannot hang forever; the workloads then follow the harness (their IPC channel
 * closes).
 */
import { fstatSync } from 'node:fs';

/** What asked the run to stop: a signal name, or `parent-exit` / `stdin-closed`. */
export interface AbortTrigger {
  /** `SIGINT`, `SIGTERM`, `SIGHUP`, `parent-exit` or `stdin-closed`. */
  name: string;
  /** One line for people, e.g. `parent process 4711 exited`. */
  detail: string;
}

/** Where aborts come from; the process by default, a fake in tests. Returns an unsubscribe function. */
export type AbortSubscription = (listener: (trigger: AbortTrigger) => void) => () => void;

export const ABORT_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Seconds from the first abort to the forced exit; the README states it (section "Stopping a run"). */
export const HARD_DEADLINE_MS = 60_000;

/** How often the parent pid is compared with the one the process started with. */
const PARENT_POLL_MS = 250;

export interface ProcessAbortOptions {
  /** Where acknowledgements go (stderr by default). */
  log?: (line: string) => void;
  deadlineMs?: number;
  /** Ends the process at the hard deadline; injectable for tests. */
  exit?: (code: number) => void;
  /** Watches the parent pid and a piped stdin too (default true). */
  watchParent?: boolean;
  watchStdin?: boolean;
}

/**
 * The process-wide guard: installs its handlers on the first subscription and never removes them.
 * Each abort goes to every current subscriber; with none (the run is writing its reports), it is
 * acknowledged on the log.
 */
export class ProcessAbort {
  private readonly listeners = new Set<(trigger: AbortTrigger) => void>();
  private installed = false;
  private first: AbortTrigger | null = null;
  private readonly log: (line: string) => void;
  private readonly exit: (code: number) => void;
  private parentTimer: NodeJS.Timeout | null = null;
  private readonly startPpid = process.ppid;
  private stdinWatched = false;

  constructor(private readonly opts: ProcessAbortOptions = {}) {
    this.log = opts.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.exit = opts.exit ?? ((code) => process.exit(code));
  }

  readonly subscribe: AbortSubscription = (listener) => {
    this.install();
    this.listeners.add(listener);
    this.watch();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.unwatch();
    };
  };

  /** The first abort of the process, if any. */
  get aborted(): AbortTrigger | null {
    return this.first;
  }

  /** Entry point of every trigger; public for the parent and stdin watchers and for tests. */
  trigger(trigger: AbortTrigger): void {
    if (this.first === null) {
      this.first = trigger;
      const deadline = this.opts.deadlineMs ?? HARD_DEADLINE_MS;
      setTimeout(() => {
        this.log(
          `canary: ${trigger.name}: shutdown did not finish within ${deadline / 1000} s (hard deadline); exiting 4, the route may not be safe`,
        );
        this.exit(4);
      }, deadline).unref();
    }
    // A subscriber acknowledges repeats itself (the runner says what it is doing); with none, say it here.
    if (this.listeners.size === 0) {
      const deadline = (this.opts.deadlineMs ?? HARD_DEADLINE_MS) / 1000;
      this.log(
        `canary: ${trigger.name} received: already stopping (route made safe first, then reports); exits by itself, at the latest ${deadline} s after the first stop request`,
      );
    }
    for (const l of [...this.listeners]) l(trigger);
  }

  private install(): void {
    if (this.installed) return;
    this.installed = true;
    for (const s of ABORT_SIGNALS) process.on(s, () => this.trigger({ name: s, detail: `received ${s}` }));
  }

  private watch(): void {
    if (this.opts.watchParent !== false && this.parentTimer === null) {
      this.parentTimer = setInterval(() => {
        if (process.ppid !== this.startPpid) {
          this.unwatchParent();
          this.trigger({ name: 'parent-exit', detail: `parent process ${this.startPpid} exited` });
        }
      }, PARENT_POLL_MS).unref();
    }
    if (this.opts.watchStdin !== false && !this.stdinWatched && stdinIsPipe()) {
      this.stdinWatched = true;
      const stdin = process.stdin;
      stdin.on('end', this.onStdinEnd);
      stdin.on('data', ignore);
      stdin.on('error', ignore);
      // A pipe held open by a live writer must not keep the process alive once the run is over.
      (stdin as unknown as { unref?: () => void }).unref?.();
    }
  }

  private readonly onStdinEnd = (): void => {
    this.trigger({ name: 'stdin-closed', detail: 'stdin was closed (the process feeding it is gone)' });
  };

  private unwatch(): void {
    this.unwatchParent();
    if (this.stdinWatched) {
      this.stdinWatched = false;
      process.stdin.off('end', this.onStdinEnd);
      process.stdin.off('data', ignore);
      process.stdin.pause();
    }
  }

  private unwatchParent(): void {
    if (this.parentTimer) clearInterval(this.parentTimer);
    this.parentTimer = null;
  }
}

function ignore(): void {}

/** Only a pipe or socket has a writer that can go away; a TTY hangs up (SIGHUP), /dev/null is always at its end. */
function stdinIsPipe(): boolean {
  try {
    const st = fstatSync(0);
    return st.isFIFO() || st.isSocket();
  } catch {
    return false;
  }
}

let shared: ProcessAbort | null = null;

/** The process's guard, created on first use. */
export function processAbort(): ProcessAbort {
  shared ??= new ProcessAbort();
  return shared;
}

/** Subscribes to the process's guard. */
export const processAborts: AbortSubscription = (listener) => processAbort().subscribe(listener);
