/**
 * Progress output on stderr while a load runs: on a TTY one live line rewritten 4 times a second;
 * otherwise (CI logs) a plain line every 5 s. Quantiles are over the last progress window.
 */
import type { Histogram } from 'hdr-histogram-js';
import { newLatencyHistogram, summarize } from './recorder.ts';

export interface ProgressSource {
  elapsedS(): number;
  targetRate(): number | undefined;
  sent(): number;
  errors(): number;
  inFlight(): number;
}

/** Where the line goes: stderr, or the builtin driver's thread forwarding it to the main thread's stderr. */
export interface ProgressOutput {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

export class ProgressLine {
  private readonly window: Histogram = newLatencyHistogram();
  private timer: NodeJS.Timeout | undefined;
  private lastSent = 0;
  private lastAt = 0;
  private readonly tty: boolean;

  constructor(
    private readonly source: ProgressSource,
    private readonly out: ProgressOutput = process.stderr,
  ) {
    this.tty = Boolean(out.isTTY);
  }

  observe(latencyMs: number): void {
    this.window.recordValue(Math.max(1, Math.round(latencyMs * 1000)));
  }

  start(): void {
    this.print();
    this.timer = setInterval(() => this.print(), this.tty ? 250 : 5000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.tty) this.out.write('\n');
  }

  /** One progress line (exposed for tests). */
  line(): string {
    const s = this.source;
    const t = s.elapsedS();
    const sent = s.sent();
    const rate = t > this.lastAt ? (sent - this.lastSent) / (t - this.lastAt) : 0;
    this.lastSent = sent;
    this.lastAt = t;
    const q = summarize(this.window);
    this.window.reset();
    const target = s.targetRate();
    const fmt = (v: number | null) => (v === null ? '-' : `${v.toFixed(1)}ms`);
    return (
      `load ${t.toFixed(1)}s` +
      (target === undefined ? '' : ` target ${target.toFixed(0)}/s`) +
      ` achieved ${rate.toFixed(1)}/s p50 ${fmt(q.p50)} p99 ${fmt(q.p99)} errors ${s.errors()} in-flight ${s.inFlight()}`
    );
  }

  private print(): void {
    const l = this.line();
    this.out.write(this.tty ? `\r\x1b[K${l}` : `${l}\n`);
  }
}
