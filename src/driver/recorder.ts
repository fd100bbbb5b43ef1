/**
 * Accumulates completed requests into series (cohort × track × x-served-by × route), each with an HDR
 * histogram (hdr-histogram-js, microseconds, 3 significant digits: 0.1 % relative precision, enough to
 * tell a 10 % shift apart), twice: for the current interval and for the whole run. Both drivers feed it.
 */
import * as hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import { workloadsOf } from '../../load/lib/traffic.ts';
import type { LatencyHistogram } from '../telemetry/measurement.ts';
import type { LatencySummary, LoadPlan, LoadResult, LoadSeries, LoadSnapshot, RawSample } from './driver.ts';
import { meanRate } from '../../load/lib/profile.ts';

/** 2 minutes in µs: longer latencies are clamped (the request timeout is far below). */
const HIGHEST_US = 120_000_000;

export function newLatencyHistogram(): Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
    bitBucketSize: 32,
  });
}

export interface CompletedRequest {
  seq: number;
  cohort: string;
  route: string;
  /** Track of the service under canary (`-` if none). */
  workload: string;
  servedBy: string;
  /** HTTP status, 0 for a transport error. */
  status: number;
  latencyMs: number;
  /** Intended (open) or actual (closed) start, ms after the run start. */
  atMs: number;
}

interface SeriesAccumulator {
  cohort: string;
  workload: string;
  servedBy: string;
  route: string;
  requests: number;
  errors: number;
  transportErrors: number;
  byStatus: Record<string, number>;
  histogram: Histogram;
}

/**
 * Each request is recorded once, into the current interval; a snapshot folds the interval into the
 * whole-run totals (histogram `add`), so the per-request cost is one map lookup and one HDR record.
 */
export class LoadRecorder {
  private readonly interval = new Map<string, SeriesAccumulator>();
  private readonly total = new Map<string, SeriesAccumulator>();
  private intervalStart: number;
  private intervalSent = 0;
  private intervalCompleted = 0;
  private intervalDropped = 0;
  readonly samples: RawSample[] = [];
  sent = 0;
  completed = 0;
  errors = 0;
  dropped = 0;

  constructor(
    startedAt: number,
    private readonly rawSampleCap = 0,
  ) {
    this.intervalStart = startedAt;
  }

  get inFlight(): number {
    return this.sent - this.completed;
  }

  noteSent(n = 1): void {
    this.sent += n;
    this.intervalSent += n;
  }

  noteDropped(n = 1): void {
    this.dropped += n;
    this.intervalDropped += n;
  }

  record(r: CompletedRequest): void {
    this.completed++;
    this.intervalCompleted++;
    const isError = r.status === 0 || r.status >= 500;
    if (isError) this.errors++;
    // The workload is a function of x-served-by, so it need not be part of the key.
    const key = `${r.cohort}\u0000${r.route}\u0000${r.servedBy}`;
    let s = this.interval.get(key);
    if (!s) {
      s = emptyAccumulator(r);
      this.interval.set(key, s);
    }
    s.requests++;
    if (isError) s.errors++;
    if (r.status === 0) s.transportErrors++;
    s.byStatus[r.status] = (s.byStatus[r.status] ?? 0) + 1;
    if (r.status !== 0) s.histogram.recordValue(toMicros(r.latencyMs));
    if (this.samples.length < this.rawSampleCap) {
      this.samples.push({
        seq: r.seq,
        atMs: r.atMs,
        latencyMs: r.latencyMs,
        status: r.status,
        cohort: r.cohort,
        route: r.route,
        workload: r.workload,
      });
    }
  }

  /** Everything since the previous snapshot; starts a new interval. */
  snapshot(now = Date.now()): LoadSnapshot {
    const active = [...this.interval.values()].filter((s) => s.requests > 0);
    const snap: LoadSnapshot = {
      start: this.intervalStart,
      end: now,
      sent: this.intervalSent,
      completed: this.intervalCompleted,
      inFlight: this.inFlight,
      dropped: this.intervalDropped,
      series: active.map(toSeries),
    };
    for (const [key, s] of this.interval) {
      if (s.requests === 0) continue;
      let t = this.total.get(key);
      if (!t) {
        t = emptyAccumulator(s);
        this.total.set(key, t);
      }
      fold(t, s);
      // Reused for the next interval: a fresh 75 kB histogram per series per interval would be
      // garbage that V8 frees only in a major GC, and RSS would creep over a long run.
      s.requests = 0;
      s.errors = 0;
      s.transportErrors = 0;
      s.byStatus = {};
      s.histogram.reset();
    }
    this.intervalStart = now;
    this.intervalSent = 0;
    this.intervalCompleted = 0;
    this.intervalDropped = 0;
    return snap;
  }

  /** Whole-run series so far (the totals plus the current interval, which stays open). */
  totalSeries(): LoadSeries[] {
    return [...this.mergedTotals().values()].map(toSeries);
  }

  totalLatency(): LatencySummary {
    const all = newLatencyHistogram();
    for (const s of this.mergedTotals().values()) all.add(s.histogram);
    return summarize(all);
  }

  private mergedTotals(): Map<string, SeriesAccumulator> {
    const out = new Map<string, SeriesAccumulator>();
    for (const map of [this.total, this.interval]) {
      for (const [key, s] of map) {
        if (s.requests === 0) continue;
        let t = out.get(key);
        if (!t) {
          t = emptyAccumulator(s);
          out.set(key, t);
        }
        fold(t, s);
      }
    }
    return out;
  }
}

function emptyAccumulator(r: { cohort: string; workload: string; servedBy: string; route: string }): SeriesAccumulator {
  return {
    cohort: r.cohort,
    workload: r.workload,
    servedBy: r.servedBy,
    route: r.route,
    requests: 0,
    errors: 0,
    transportErrors: 0,
    byStatus: {},
    histogram: newLatencyHistogram(),
  };
}

function fold(into: SeriesAccumulator, from: SeriesAccumulator): void {
  into.requests += from.requests;
  into.errors += from.errors;
  into.transportErrors += from.transportErrors;
  for (const [k, v] of Object.entries(from.byStatus)) into.byStatus[k] = (into.byStatus[k] ?? 0) + v;
  into.histogram.add(from.histogram);
}

function toMicros(ms: number): number {
  return Math.min(HIGHEST_US, Math.max(1, Math.round(ms * 1000)));
}

function toSeries(s: SeriesAccumulator): LoadSeries {
  return {
    cohort: s.cohort,
    workload: s.workload,
    servedBy: s.servedBy,
    route: s.route,
    requests: s.requests,
    errors: s.errors,
    transportErrors: s.transportErrors,
    byStatus: s.byStatus,
    latencyMs: summarize(s.histogram),
    histogram: hdr.encodeIntoCompressedBase64(s.histogram),
  };
}

export function summarize(h: Histogram): LatencySummary {
  if (h.totalCount === 0) return { p50: null, p90: null, p99: null, max: null, mean: null };
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    max: ms(h.maxValue),
    mean: Math.round(h.mean) / 1000,
  };
}

/** Decodes a series' histogram (µs). */
export function decodeSeriesHistogram(series: Pick<LoadSeries, 'histogram'>): Histogram {
  return hdr.decodeFromCompressedBase64(series.histogram);
}

/**
 * Merges series histograms into the judge's non-cumulative bucket form (`bounds` in ms, e.g.
 * `LATENCY_BUCKETS_MS` plus `Infinity`), so client-side latencies can be judged like telemetry.
 */
export function seriesLatencyHistogram(
  series: readonly Pick<LoadSeries, 'histogram'>[],
  bounds: readonly number[],
): LatencyHistogram {
  const withInf = bounds[bounds.length - 1] === Infinity ? [...bounds] : [...bounds, Infinity];
  const counts = new Array<number>(withInf.length).fill(0);
  let sum = 0;
  for (const s of series) {
    const h = decodeSeriesHistogram(s) as hdr.JsHistogram;
    const it = h.recordedValuesIterator;
    it.reset();
    while (it.hasNext()) {
      const v = it.next();
      // Each HDR bucket is attributed at its median equivalent value (its representative value).
      const ms = h.medianEquivalentValue(v.valueIteratedTo) / 1000;
      const i = withInf.findIndex((b) => ms <= b);
      counts[i] += v.countAtValueIteratedTo;
      sum += ms * v.countAtValueIteratedTo;
    }
  }
  return { bounds: withInf, counts, sum };
}

/** Requests per workload named in `x-served-by` (each distinct workload of a request once). */
export function requestsByWorkload(series: readonly LoadSeries[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of series)
    for (const w of workloadsOf(s.servedBy)) out[w] = (out[w] ?? 0) + (s.requests - s.transportErrors);
  return out;
}

export function requestsBy(series: readonly LoadSeries[], key: 'workload' | 'cohort'): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of series) out[s[key]] = (out[s[key]] ?? 0) + s.requests;
  return out;
}

/** What both drivers report the same way: the model, the recorder's counts, latency and breakdowns. */
export type RecordedTotals = Pick<
  LoadResult,
  | 'model'
  | 'sent'
  | 'requests'
  | 'errors'
  | 'dropped'
  | 'latencyMs'
  | 'byWorkload'
  | 'byTrack'
  | 'byCohort'
  | 'series'
  | 'samples'
>;

export function recordedTotals(rec: LoadRecorder, plan: LoadPlan): RecordedTotals {
  const m = plan.model;
  const series = rec.totalSeries();
  return {
    model:
      m.kind === 'open'
        ? { kind: 'open', targetRate: meanRate(m.profile), profile: m.profile }
        : { kind: 'closed', connections: m.connections, durationS: m.durationS },
    sent: rec.sent,
    requests: rec.completed,
    errors: rec.errors,
    dropped: rec.dropped,
    latencyMs: rec.totalLatency(),
    byWorkload: requestsByWorkload(series),
    byTrack: requestsBy(series, 'workload'),
    byCohort: requestsBy(series, 'cohort'),
    series,
    ...((plan.rawSampleCap ?? 0) > 0 ? { samples: rec.samples } : {}),
  };
}
