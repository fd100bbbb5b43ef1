/**
 * The builtin driver's worker thread: runs one `BuiltinRun` and answers the main thread
 * (builtin.ts). The schedule lives here, on an event loop of its own, so the work of the main thread
 * (reading telemetry, the judge's looks, writing reports) cannot delay a request past its intended
 * time; in one thread a 50 ms look made every request due in those 50 ms leave late.
 *
 * Messages, main → thread: `snapshot` (with an id), `stop`. Thread → main: `started`, `snapshot`,
 * `progress` (a line for the main thread's stderr), `finished` (the result and the last snapshot,
 * after which the thread exits).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BuiltinRun } from './builtin-run.ts';
import type { LoadPlan, LoadResult, LoadSnapshot } from './driver.ts';

export interface ThreadInput {
  plan: LoadPlan;
  /** Whether the main thread's stderr is a TTY (the progress line is rewritten in place there). */
  tty: boolean;
}

export type ToThread = { type: 'snapshot'; id: number } | { type: 'stop'; reason: 'stopped' | 'interrupted' };

export type FromThread =
  | { type: 'started'; startedAt: number }
  | { type: 'snapshot'; id: number; snapshot: LoadSnapshot }
  | { type: 'progress'; text: string }
  | { type: 'finished'; result: LoadResult; last: LoadSnapshot };

function serve(): void {
  const port = parentPort;
  if (!port) throw new Error('builtin-thread.ts runs as a worker thread of the builtin driver');
  const input = workerData as ThreadInput;
  const post = (m: FromThread) => port.postMessage(m);
  const run = new BuiltinRun(input.plan, { isTTY: input.tty, write: (text) => post({ type: 'progress', text }) });
  port.on('message', (m: ToThread) => {
    if (m.type === 'snapshot') post({ type: 'snapshot', id: m.id, snapshot: run.snapshot() });
    else void run.stop(m.reason);
  });
  run.begin();
  post({ type: 'started', startedAt: run.startedAt });
  void run.result().then((result) => {
    post({ type: 'finished', result, last: run.snapshot() });
    port.close();
  });
}

serve();
