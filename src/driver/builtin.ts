/**
 * The builtin driver: undici, on a worker thread of its own (builtin-thread.ts runs the
 * `BuiltinRun` of builtin-run.ts there). The main thread keeps the run's handle: it asks the thread
 * for snapshots, stops it, receives its result, and prints its progress line.
 *
 * Why a thread: the canary runner reads telemetry and asks the judge on the main thread, tens of
 * milliseconds of work every look, and an open-model schedule sharing that event loop sent every
 * request due meanwhile late (measured on `npm start`, quiet 2-core machine: stalls of 30 to 86 ms
 * every 2 s, p99 lateness near the 50 ms the load-health check allows). k6 is a process of its own
 * for the same reason.
 */
import { Worker } from 'node:worker_threads';
import { InfraError } from '../core/errors.ts';
import type { FromThread, ThreadInput, ToThread } from './builtin-thread.ts';
import type { Driver, LoadPlan, LoadResult, LoadRun, LoadSnapshot } from './driver.ts';
import { LoadRecorder, recordedTotals } from './recorder.ts';
import { assertTargetReachable, parseTarget } from './target.ts';

const THREAD_MAIN = new URL('./builtin-thread.mjs', import.meta.url);

export class BuiltinDriver implements Driver {
  readonly name = 'builtin' as const;

  async start(plan: LoadPlan, signal?: AbortSignal): Promise<LoadRun> {
    parseTarget(plan.target);
    await assertTargetReachable(plan.target);
    const run = await ThreadRun.start(plan);
    if (signal) {
      if (signal.aborted) void run.stop('interrupted');
      else signal.addEventListener('abort', () => void run.stop('interrupted'), { once: true });
    }
    return run;
  }
}

/** The main thread's handle on a run that sends from its own thread. */
class ThreadRun implements LoadRun {
  private nextId = 0;
  private readonly pending = new Map<number, (s: LoadSnapshot) => void>();
  /** The thread's last snapshot, handed out once after it finished; later snapshots are empty. */
  private last: LoadSnapshot | undefined;
  private finished: LoadResult | undefined;
  private stopping = false;
  private readonly done: Promise<LoadResult>;

  private constructor(
    private readonly worker: Worker,
    readonly startedAt: number,
    done: Promise<LoadResult>,
  ) {
    this.done = done;
  }

  static start(plan: LoadPlan): Promise<ThreadRun> {
    const input: ThreadInput = { plan, tty: Boolean(process.stderr.isTTY) };
    const worker = new Worker(THREAD_MAIN, { workerData: input, stdout: false, stderr: false });
    return new Promise<ThreadRun>((resolveStart, rejectStart) => {
      let run: ThreadRun | undefined;
      let resolveDone!: (r: LoadResult) => void;
      const done = new Promise<LoadResult>((res) => (resolveDone = res));
      const fail = (err: unknown) => {
        const reason = `the builtin load driver's thread failed: ${err instanceof Error ? err.message : String(err)}`;
        if (!run) return rejectStart(new InfraError(reason));
        if (run.finished) return;
        // The result never rejects (driver.ts): a failed load, which is never evidence, with nothing counted.
        run.finished = failedResult(plan, run.startedAt, reason);
        run.settleSnapshots();
        resolveDone(run.finished);
      };
      worker.on('message', (m: FromThread) => {
        switch (m.type) {
          case 'started':
            run = new ThreadRun(worker, m.startedAt, done);
            resolveStart(run);
            break;
          case 'snapshot':
            run?.pending.get(m.id)?.(m.snapshot);
            run?.pending.delete(m.id);
            break;
          case 'progress':
            process.stderr.write(m.text);
            break;
          case 'finished':
            if (run) {
              run.finished = m.result;
              run.last = m.last;
              run.settleSnapshots();
            }
            resolveDone(m.result);
            break;
        }
      });
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`it exited with code ${code} before the load finished`)));
    });
  }

  snapshot(): Promise<LoadSnapshot> {
    if (this.finished) return Promise.resolve(this.takeLast());
    const id = this.nextId++;
    return new Promise<LoadSnapshot>((resolve) => {
      this.pending.set(id, resolve);
      this.post({ type: 'snapshot', id });
    });
  }

  stop(reason: 'stopped' | 'interrupted'): Promise<LoadResult> {
    if (!this.finished && !this.stopping) {
      this.stopping = true;
      this.post({ type: 'stop', reason });
    }
    return this.done;
  }

  result(): Promise<LoadResult> {
    return this.done;
  }

  private post(m: ToThread): void {
    this.worker.postMessage(m);
  }

  /** Snapshots asked for while the thread finished are answered from its last one. */
  private settleSnapshots(): void {
    for (const resolve of this.pending.values()) resolve(this.takeLast());
    this.pending.clear();
  }

  private takeLast(): LoadSnapshot {
    const last = this.last;
    if (last) {
      this.last = undefined;
      this.lastEnd = last.end;
      return last;
    }
    const now = Date.now();
    const empty: LoadSnapshot = {
      start: this.lastEnd ?? now,
      end: now,
      sent: 0,
      completed: 0,
      inFlight: 0,
      dropped: 0,
      series: [],
    };
    this.lastEnd = now;
    return empty;
  }

  private lastEnd: number | undefined;
}

function failedResult(plan: LoadPlan, startedAt: number, reason: string): LoadResult {
  const endedAt = Date.now();
  return {
    driver: 'builtin',
    target: plan.target,
    status: 'failed',
    reason,
    startedAt,
    endedAt,
    elapsedS: (endedAt - startedAt) / 1000,
    ...recordedTotals(new LoadRecorder(startedAt, 0), plan),
    achievedRate: 0,
  };
}
