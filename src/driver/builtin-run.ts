/**
 * One run of the builtin driver, on the thread that sends it (builtin-thread.ts): the schedule, the
 * connections and the recording. builtin.ts starts it on a worker thread of its own.
 *
 * Open model: request k has an intended start time `arrivalTime(profile, k)` (load/lib/profile.ts).
 * A timer wakes up shortly before it and dispatches every request whose time has come; latency is
 * measured from the intended time, not from when the client got round to sending it, so a stalled
 * server inflates the percentiles instead of silently slowing the client down (coordinated omission;
 * Gil Tene, "How NOT to Measure Latency", 2015; wrk2 does the same).
 *
 * Closed model: N connections, each sends its next request when the previous one has completed; for
 * saturation benchmarks, where latency is from the actual send. Over http:// it runs on the lean
 * keep-alive client of closed-loop-client.ts (one socket per connection), whose per-request CPU is
 * below undici's; https:// targets stay on undici.
 */
import { performance } from 'node:perf_hooks';
import { Client, Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { arrivalTime, profileDurationS, rateAt, totalArrivals } from '../../load/lib/profile.ts';
import { plannedRequest, trackOf } from '../../load/lib/traffic.ts';
import type { PlannedRequest } from '../../load/lib/traffic.ts';
import { ClosedLoopClient } from './closed-loop-client.ts';
import type { LoadPlan, LoadResult, LoadSnapshot, LoadStatus } from './driver.ts';
import { ProgressLine } from './progress.ts';
import type { ProgressOutput } from './progress.ts';
import { LoadRecorder, newLatencyHistogram, recordedTotals } from './recorder.ts';
import { parseTarget } from './target.ts';

export const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_IN_FLIGHT = 4096;
const DEFAULT_MAX_CONNECTIONS = 256;

const SERVED_BY = Buffer.from('x-served-by');

/** Legacy-interface dispatch handler of one request (see `BuiltinRun.send`). */
class RequestHandler {
  private status = 0;
  private servedBy = '';
  private settled = false;

  constructor(
    private readonly run: BuiltinRun,
    private readonly req: PlannedRequest,
    private readonly intendedMs: number,
    private readonly then: (() => void) | undefined,
  ) {}

  onConnect(): void {}

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    this.status = statusCode;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i];
      if (name.length === SERVED_BY.length && name.toString('latin1').toLowerCase() === 'x-served-by') {
        this.servedBy =
          this.servedBy === ''
            ? rawHeaders[i + 1].toString('latin1')
            : `${this.servedBy}, ${rawHeaders[i + 1].toString('latin1')}`;
      }
    }
    return true;
  }

  onData(): boolean {
    return true;
  }

  onComplete(): void {
    this.settle(this.status);
  }

  onError(): void {
    this.settle(0);
  }

  private settle(status: number): void {
    if (this.settled) return;
    this.settled = true;
    this.run.completed(this.req, this.intendedMs, status, status === 0 ? '' : this.servedBy);
    if (this.then) this.then();
  }
}

export class BuiltinRun {
  readonly startedAt = Date.now();
  private readonly t0 = performance.now();
  private readonly recorder: LoadRecorder;
  private readonly pool: Pool;
  private readonly timeoutMs: number;
  private readonly service: string;
  private readonly progress: ProgressLine | undefined;
  private readonly lag = newLatencyHistogram();
  private timer: NodeJS.Timeout | undefined;
  private nextSeq = 0;
  private sendingDone = false;
  private lastDispatchMs = 0;
  private status: LoadStatus = 'completed';
  private finished: Promise<LoadResult> | undefined;
  private resolveSendingDone!: () => void;
  private readonly sendingDoneP = new Promise<void>((r) => (this.resolveSendingDone = r));
  private drainWaiters: (() => void)[] = [];
  private readonly origin: string;
  private readonly clients: Client[] = [];
  private readonly leanClients: ClosedLoopClient[] = [];
  private readonly url: URL;
  private readonly tracks = new Map<string, string>();

  constructor(
    private readonly plan: LoadPlan,
    progressOut?: ProgressOutput,
  ) {
    this.recorder = new LoadRecorder(this.startedAt, plan.rawSampleCap ?? 0);
    this.timeoutMs = plan.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.service = plan.canaryService ?? 'account';
    const url = parseTarget(plan.target);
    this.url = url;
    this.origin = url.origin;
    // Open model: requests beyond the connection count wait in undici's queue; their latency still
    // runs from the intended time, so the cap costs no accuracy, and it bounds sockets and memory
    // when a stall or a CPU hiccup releases a burst.
    const connections =
      plan.model.kind === 'closed' ? plan.model.connections : (plan.model.maxConnections ?? DEFAULT_MAX_CONNECTIONS);
    this.pool = new Pool(this.origin, { ...this.clientOptions(), connections });
    if (plan.progress === 'auto') {
      const model = plan.model;
      this.progress = new ProgressLine(
        {
          elapsedS: () => this.nowMs() / 1000,
          targetRate: () => (model.kind === 'open' ? rateAt(model.profile, this.nowMs() / 1000) : undefined),
          sent: () => this.recorder.sent,
          errors: () => this.recorder.errors,
          inFlight: () => this.recorder.inFlight,
        },
        progressOut,
      );
    }
  }

  private clientOptions() {
    return {
      pipelining: 1,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      connectTimeout: Math.min(this.timeoutMs, 5000),
      keepAliveTimeout: 30_000,
    };
  }

  begin(): void {
    this.progress?.start();
    if (this.plan.model.kind === 'open') this.scheduleOpen();
    else this.runClosed(this.plan.model.connections, this.plan.model.durationS);
    this.finished = this.sendingDoneP.then(() => this.finish());
  }

  snapshot(): LoadSnapshot {
    return this.recorder.snapshot();
  }

  stop(reason: 'stopped' | 'interrupted'): Promise<LoadResult> {
    if (!this.sendingDone) {
      this.status = reason;
      this.endSending();
    }
    return this.result();
  }

  result(): Promise<LoadResult> {
    if (!this.finished) throw new Error('BuiltinRun.result() before begin()');
    return this.finished;
  }

  /** `trackOf`, memoised: a run sees only a handful of distinct `x-served-by` values. */
  private trackOf(servedBy: string): string {
    let track = this.tracks.get(servedBy);
    if (track === undefined) {
      track = trackOf(servedBy, this.service);
      if (this.tracks.size < 10_000) this.tracks.set(servedBy, track);
    }
    return track;
  }

  private nowMs(): number {
    return performance.now() - this.t0;
  }

  private endSending(): void {
    if (this.sendingDone) return;
    this.sendingDone = true;
    if (this.timer) clearTimeout(this.timer);
    this.resolveSendingDone();
  }

  // --- open model ---------------------------------------------------------------------------------

  private scheduleOpen(): void {
    const model = this.plan.model;
    if (model.kind !== 'open') return;
    const profile = model.profile;
    const maxInFlight = model.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    const spinMs = model.spinMs ?? 1;
    let nextAt = arrivalTime(profile, 0);
    const tick = () => {
      if (this.sendingDone) return;
      const now = this.nowMs();
      // Dispatch everything that is due; a late timer catches up in one burst, keeping the count exact.
      while (nextAt !== undefined && nextAt * 1000 <= now) {
        const seq = this.nextSeq++;
        const intendedMs = nextAt * 1000;
        this.lag.recordValue(Math.max(1, Math.round((now - intendedMs) * 1000)));
        if (this.recorder.inFlight >= maxInFlight) this.recorder.noteDropped();
        else this.send(plannedRequest(this.plan.traffic, seq), intendedMs);
        this.lastDispatchMs = now;
        nextAt = arrivalTime(profile, this.nextSeq);
      }
      if (nextAt === undefined) {
        this.endSending();
        return;
      }
      const waitMs = nextAt * 1000 - this.nowMs();
      // setTimeout fires at the earliest after `delay` ms and often ~1 ms later: wake up early and
      // spin on setImmediate for the last `spinMs`, so dispatch is within ~0.1 ms of schedule.
      if (spinMs <= 0) this.timer = setTimeout(tick, Math.max(0, Math.floor(waitMs)));
      else if (waitMs > spinMs + 0.5) this.timer = setTimeout(tick, Math.floor(waitMs - spinMs));
      else this.timer = setImmediate(tick) as unknown as NodeJS.Timeout;
    };
    tick();
  }

  // --- closed model -------------------------------------------------------------------------------

  private runClosed(connections: number, durationS: number): void {
    const endMs = durationS * 1000;
    this.timer = setTimeout(() => this.endSending(), endMs);
    if (this.url.protocol === 'http:') {
      this.runClosedLean(connections);
      return;
    }
    for (let i = 0; i < connections; i++) {
      // One Client per connection: each loop owns its socket, like wrk and autocannon.
      const client = new Client(this.origin, this.clientOptions());
      this.clients.push(client);
      const loop = () => {
        if (this.sendingDone) return;
        const seq = this.nextSeq++;
        const at = this.nowMs();
        this.lastDispatchMs = at;
        this.send(plannedRequest(this.plan.traffic, seq), at, loop, client);
      };
      loop();
    }
  }

  /** The closed loop on `ClosedLoopClient`s: same sequence numbers, recording and timing as `send`. */
  private runClosedLean(connections: number): void {
    const host = this.url.hostname.startsWith('[') ? this.url.hostname.slice(1, -1) : this.url.hostname;
    const port = this.url.port === '' ? 80 : Number(this.url.port);
    const hostHeader = this.url.host;
    const traffic = this.plan.traffic;
    for (let i = 0; i < connections; i++) {
      let req: PlannedRequest | undefined;
      let at = 0;
      const client = new ClosedLoopClient({
        host,
        port,
        timeoutMs: this.timeoutMs,
        onResponse: (status, servedBy) => {
          const done = req!;
          req = undefined;
          this.completed(done, at, status, status === 0 ? '' : servedBy);
          loop();
        },
      });
      this.leanClients.push(client);
      const loop = () => {
        if (this.sendingDone) return;
        const seq = this.nextSeq++;
        req = plannedRequest(traffic, seq);
        at = this.nowMs();
        this.lastDispatchMs = at;
        this.recorder.noteSent();
        client.send(`${req.method} ${req.path} HTTP/1.1\r\nhost: ${hostHeader}\r\nend-user: ${req.user}\r\n\r\n`);
      };
      loop();
    }
  }

  // --- one request ----------------------------------------------------------------------------------

  private send(req: PlannedRequest, intendedMs: number, then?: () => void, client?: Dispatcher): void {
    this.recorder.noteSent();
    // undici 7's Client speaks the legacy handler interface internally; a new-style handler goes
    // through an adapter that also parses every response header into an object, which cost ~10 %
    // of the closed-loop throughput. Here only `x-served-by` is read, from the raw header list.
    const handler = new RequestHandler(this, req, intendedMs, then);
    (client ?? this.pool).dispatch(
      {
        origin: this.origin,
        path: req.path,
        method: req.method,
        headers: ['end-user', req.user],
      },
      handler as unknown as Dispatcher.DispatchHandler,
    );
  }

  /** Called once per request by its handler. */
  completed(req: PlannedRequest, intendedMs: number, status: number, servedBy: string): void {
    const latencyMs = this.nowMs() - intendedMs;
    const workload = status === 0 ? '-' : this.trackOf(servedBy);
    this.recorder.record({
      seq: req.seq,
      cohort: req.cohort,
      route: req.route,
      workload,
      servedBy,
      status,
      latencyMs,
      atMs: intendedMs,
    });
    if (status !== 0) this.progress?.observe(latencyMs);
    if (this.drainWaiters.length > 0 && this.recorder.inFlight === 0) for (const w of this.drainWaiters.splice(0)) w();
  }

  // --- end ----------------------------------------------------------------------------------------

  private async finish(): Promise<LoadResult> {
    const endOfSendingMs = this.nowMs();
    if (this.recorder.inFlight > 0) {
      await Promise.race([
        new Promise<void>((r) => this.drainWaiters.push(r)),
        new Promise<void>((r) => setTimeout(r, this.timeoutMs + 1000).unref()),
      ]);
    }
    this.progress?.stop();
    for (const c of this.leanClients) c.close();
    await Promise.all([this.pool, ...this.clients].map((d) => d.destroy().catch(() => undefined)));
    return this.buildResult(endOfSendingMs);
  }

  private buildResult(endOfSendingMs: number): LoadResult {
    const model = this.plan.model;
    const rec = this.recorder;
    let elapsedS: number;
    if (model.kind === 'open' && this.status === 'completed') {
      // The planned duration, stretched by however late the last request went out.
      const lastIntendedS = arrivalTime(model.profile, Math.max(0, totalArrivals(model.profile) - 1)) ?? 0;
      elapsedS = Math.max(
        profileDurationS(model.profile),
        this.lastDispatchMs / 1000 + (profileDurationS(model.profile) - lastIntendedS),
      );
    } else if (model.kind === 'closed' && this.status === 'completed') {
      elapsedS = Math.max(model.durationS, endOfSendingMs / 1000);
    } else {
      elapsedS = endOfSendingMs / 1000;
    }
    const result: LoadResult = {
      driver: 'builtin',
      target: this.plan.target,
      status: this.status,
      ...(this.status === 'completed'
        ? {}
        : {
            reason:
              this.status === 'interrupted' ? 'interrupted before the planned end' : 'stopped early by the caller',
          }),
      startedAt: this.startedAt,
      endedAt: Date.now(),
      elapsedS,
      ...recordedTotals(rec, this.plan),
      achievedRate: elapsedS > 0 ? rec.sent / elapsedS : 0,
    };
    if (model.kind === 'open' && this.lag.totalCount > 0) {
      result.schedulerLagMs = { p99: this.lag.getValueAtPercentile(99) / 1000, max: this.lag.maxValue / 1000 };
    }
    return result;
  }
}
