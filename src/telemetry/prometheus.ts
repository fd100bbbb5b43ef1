import { setTimeout as sleep } from 'node:timers/promises';
import { InfraError, UsageError } from '../core/errors.ts';
import { CounterDeltas } from './cumulative.ts';
import { parseBound } from './exposition.ts';
import type { Measurement } from './measurement.ts';
import { checkCommonOptions, noTrafficReason, type CommonSourceOptions } from './options.ts';
import { PrometheusClient, PrometheusQueryError, type PromResult, type PromSeries } from './prometheus-api.ts';
import { DEFAULT_TEMPLATES_FILE, checkScalars, loadTemplates, render, type TelemetryTemplates } from './promql.ts';
import type { Source } from './source.ts';
import { IntervalTally } from './tally.ts';

export interface PrometheusSourceOptions extends CommonSourceOptions {
  /** Base URL of a Prometheus-compatible API. */
  url: string;
  /** File with a bearer token for the API; read on each request, never logged. */
  bearerTokenFile?: string;
  /** PromQL templates; default `analysis/promql/istio.yaml`. */
  templatesFile?: string;
  /**
   * Spacing of the `query_range` points in ms; at most the scrape interval, so that every counter
   * reset is seen (default 15 000, Istio's recommended scrape interval). Raised automatically when
   * a window would need more than 10 000 points per query.
   */
  resolutionMs?: number;
  /** Live `measure()` stops this long before now, so Prometheus has scraped the interval; default 0. */
  lagMs?: number;
  /** Retries of a failed query (network, 429, 5xx); default 3. Backoff starts at `backoffMs` (250). */
  retries?: number;
  backoffMs?: number;
  /**
   * User PromQL scalars by metric name, evaluated at the end of each interval. Placeholders:
   * `{{service}}`, `{{workloads}}`, `{{interval}}` (the interval as a PromQL duration). A query must
   * return one number; NaN or an empty result is `null` (no data).
   */
  scalars?: Record<string, string>;
  /**
   * With the `targets` template: `begin()` waits up to this long until every workload has a scrape
   * target that is up (new pods are discovered seconds after they are Ready), then throws
   * `InfraError` naming the missing ones. Unset: no wait (a window in the past, a local data plane).
   */
  awaitTargetsMs?: number;
  /** Time between two looks at the targets while waiting; default 250 ms. */
  targetsPollMs?: number;
}

/** Prometheus refuses more than 11 000 points per series in one range query; stay below. */
const MAX_POINTS_PER_QUERY = 10_000;

/**
 * Reads Istio telemetry from a Prometheus-compatible API. The PromQL (kept as data, see
 * `analysis/promql/istio.yaml`) returns each replica's cumulative series at points spaced
 * `resolutionMs`; increases and counter resets are then computed exactly as the scrape source does
 * (`cumulative.ts`), so both report the same integer counts for the same traffic.
 */
export class PrometheusSource implements Source {
  readonly kind = 'prometheus' as const;
  private readonly client: PrometheusClient;
  private readonly templates: TelemetryTemplates;
  private readonly templatesFile: string;
  private readonly resolutionMs: number;
  private readonly lagMs: number;
  private readonly now: () => number;
  private lastEnd: number | undefined;
  /** Each series' last value seen by a live `measure()`, carried from one look to the next. */
  private live: LiveCounters | undefined;

  constructor(private readonly opts: PrometheusSourceOptions) {
    checkCommonOptions(opts);
    this.client = new PrometheusClient({
      url: opts.url,
      bearerTokenFile: opts.bearerTokenFile,
      timeoutMs: opts.timeoutMs,
      retries: opts.retries,
      backoffMs: opts.backoffMs,
    });
    this.templatesFile = opts.templatesFile ?? DEFAULT_TEMPLATES_FILE;
    this.templates = loadTemplates(this.templatesFile);
    checkScalars(opts.scalars ?? {});
    this.resolutionMs = opts.resolutionMs ?? 15_000;
    if (!(this.resolutionMs >= 1))
      throw new UsageError('resolutionMs', `expected at least 1 ms, got ${this.resolutionMs}`);
    this.lagMs = opts.lagMs ?? 0;
    this.now = opts.now ?? Date.now;
  }

  get url(): string {
    return this.client.url;
  }

  async begin(): Promise<number> {
    const start = this.now() - this.lagMs;
    try {
      await this.client.query('vector(1)', start);
    } catch (err) {
      if (err instanceof PrometheusQueryError)
        throw new InfraError(`Prometheus not usable: ${err.message}`, { cause: err });
      throw err;
    }
    if (this.opts.awaitTargetsMs !== undefined) await this.awaitTargets(this.opts.awaitTargetsMs);
    const begun = this.now() - this.lagMs;
    this.lastEnd = begun;
    this.live = { first: true, byKind: new Map() };
    return begun;
  }

  /** Resolves once every workload has a target up (the `targets` template); InfraError when time runs out. */
  private async awaitTargets(timeoutMs: number): Promise<void> {
    const template = this.templates.targets;
    if (template === undefined) return;
    const promql = render(
      template,
      { service: this.opts.service, workloads: this.opts.workloads },
      { file: this.templatesFile, path: 'targets' },
    );
    // Real elapsed time, not the measurement clock (`now`, which tests may hold still).
    const deadline = performance.now() + timeoutMs;
    let missing: string[] = [...this.opts.workloads];
    for (;;) {
      try {
        const r = await this.client.query(promql, this.now());
        const up = new Set(r.resultType === 'scalar' ? [] : r.series.map((s) => s.metric.workload));
        missing = this.opts.workloads.filter((w) => !up.has(w));
      } catch (err) {
        if (!(err instanceof PrometheusQueryError)) throw err;
        throw new InfraError(`Prometheus targets query failed: ${err.message}`, { cause: err });
      }
      if (missing.length === 0) return;
      if (performance.now() >= deadline) break;
      await sleep(this.opts.targetsPollMs ?? 250);
    }
    throw new InfraError(
      `Prometheus at ${this.client.url} scrapes no target of ${missing.join(', ')} after ${timeoutMs} ms (query: ${promql})`,
    );
  }

  async measure(): Promise<Measurement> {
    if (this.lastEnd === undefined) throw new Error('PrometheusSource.measure() called before begin()');
    const start = this.lastEnd;
    const end = Math.max(start + 1, this.now() - this.lagMs);
    const [m] = await this.window(start, end, end - start, this.live);
    this.lastEnd = m!.end;
    return m!;
  }

  measureWindow(start: number, end: number, stepMs: number): Promise<Measurement[]> {
    return this.window(start, end, stepMs, undefined);
  }

  /**
   * The window's measurements. With `live` (the looks of a run), each series' increase is counted
   * from the value the previous look saw, not from the value at `start` read again now: Prometheus
   * stamps a sample with the time its scrape began and stores it when the scrape ends, so a scrape
   * under way at a look has a time before that look's end but was not there to be read. Read again
   * at the next look's start, it would fall between the two windows and its requests would be lost
   * (half of every track's requests, with a look interval equal to the scrape interval). Carried,
   * they count in the next interval.
   */
  private async window(
    start: number,
    end: number,
    stepMs: number,
    live: LiveCounters | undefined,
  ): Promise<Measurement[]> {
    if (!Number.isFinite(start) || !Number.isFinite(end) || end <= start)
      throw new UsageError('window', `expected start < end, got ${start} .. ${end}`);
    if (!(stepMs >= 1)) throw new UsageError('step', `expected an interval of at least 1 ms, got ${stepMs}`);
    const grid = pointGrid(start, end, stepMs, this.resolutionMs);
    const values = { service: this.opts.service, workloads: this.opts.workloads };
    const q = (key: 'requests' | 'latencyBuckets' | 'latencySum' | 'scrapeTimes') =>
      render(this.templates[key]!, values, { file: this.templatesFile, path: key });

    let requests: PromSeries[], buckets: PromSeries[], sums: PromSeries[], scrapeTimes: PromSeries[] | undefined;
    try {
      [requests, buckets, sums, scrapeTimes] = await Promise.all([
        this.rangeSeries(q('requests'), grid),
        this.rangeSeries(q('latencyBuckets'), grid),
        this.rangeSeries(q('latencySum'), grid),
        this.templates.scrapeTimes === undefined || live === undefined
          ? undefined
          : this.rangeSeries(q('scrapeTimes'), grid),
      ]);
    } catch (err) {
      if (!(err instanceof PrometheusQueryError)) throw err;
      return grid.intervals.map(([a, b]) => ({
        start: grid.times[a]!,
        end: grid.times[b]!,
        status: 'error' as const,
        reason: `prometheus query failed: ${err.message}`,
        workloads: {},
        scalars: {},
      }));
    }

    const tallies = grid.intervals.map(() => new IntervalTally(this.opts.workloads, this.opts.errorClasses));
    const indexOfTime = new Map(grid.times.map((t, k) => [t, k]));
    const timeline = scrapeTimes && live ? scrapeTimeline(scrapeTimes, indexOfTime, live) : undefined;
    const feed = (
      series: PromSeries[],
      kind: string,
      apply: (t: IntervalTally, s: PromSeries, n: number, k: number) => void,
    ) => {
      const deltas = live === undefined ? new CounterDeltas() : carried(live, kind);
      // A window's first point is the zero of its counts, unless a previous look's values carry on.
      const baseline = live === undefined || live.first;
      for (const s of series) {
        const key = `${kind}\0${seriesKey(s.metric)}`;
        for (const [k, v] of pointsOf(s, indexOfTime)) {
          const n = deltas.observe(key, v, k === 0 && baseline);
          if (k > 0 || !baseline) apply(tallies[grid.intervalOfPoint[k]!]!, s, n, k);
        }
      }
    };
    const coveredRequests = grid.intervals.map(() => new Map<string, number>());
    feed(requests, 'req', (t, s, n, k) => {
      const w = s.metric.destination_workload;
      if (w === undefined) return;
      t.addRequests(w, s.metric.response_code ?? '', n, s.metric.response_flags ?? '-');
      // Requests since a scrape of this replica that was read: those its scrape times cover.
      const replica = timeline?.get(replicaKey(s.metric));
      if (replica?.readBefore(k) && n > 0) {
        const i = grid.intervalOfPoint[k]!;
        coveredRequests[i]!.set(w, (coveredRequests[i]!.get(w) ?? 0) + n);
        replica.grew.add(k);
      }
    });
    feed(buckets, 'le', (t, s, n) => {
      const w = s.metric.destination_workload;
      const le = parseBound(s.metric.le ?? '');
      if (w !== undefined && le !== undefined) t.addBucket(w, le, n);
    });
    feed(sums, 'sum', (t, s, n) => {
      const w = s.metric.destination_workload;
      if (w !== undefined) t.addLatencySum(w, n);
    });

    const coveredMs = timeline ? coverage(timeline, grid, live!) : undefined;
    // Read: the next look counts from these values. (A look whose queries failed read nothing, so
    // the one after it still takes its first values as the zero, not as requests.)
    if (live) live.first = false;

    const out: Measurement[] = [];
    for (let i = 0; i < grid.intervals.length; i++) {
      const [a, b] = grid.intervals[i]!;
      const iStart = grid.times[a]!;
      const iEnd = grid.times[b]!;
      const workloads = tallies[i]!.build();
      if (coveredMs)
        for (const w of Object.values(workloads))
          w.covered = { requests: coveredRequests[i]!.get(w.workload) ?? 0, ms: coveredMs[i]!.get(w.workload) ?? 0 };
      const { scalars, failures } = await this.scalarsAt(iEnd, iEnd - iStart);
      const total = Object.values(workloads).reduce((acc, w) => acc + w.requests, 0);
      if (failures.length > 0)
        out.push({ start: iStart, end: iEnd, status: 'error', reason: failures.join('; '), workloads, scalars });
      else if (total === 0)
        out.push({
          start: iStart,
          end: iEnd,
          status: 'nodata',
          reason: noTrafficReason(this.opts),
          workloads,
          scalars,
        });
      else out.push({ start: iStart, end: iEnd, status: 'ok', workloads, scalars });
    }
    return out;
  }

  /** Runs a range query over the grid, in chunks below Prometheus' points limit, merging series. */
  private async rangeSeries(promql: string, grid: PointGrid): Promise<PromSeries[]> {
    const merged = new Map<string, PromSeries>();
    const merge = (result: PromResult) => {
      for (const s of seriesOf(result)) {
        const key = seriesKey(s.metric);
        const existing = merged.get(key);
        if (existing) existing.values.push(...s.values);
        else merged.set(key, { metric: s.metric, values: [...s.values] });
      }
    };
    const last = grid.uniform - 1;
    for (let from = 0; from < last; from += MAX_POINTS_PER_QUERY) {
      const to = Math.min(last, from + MAX_POINTS_PER_QUERY);
      merge(await this.client.queryRange(promql, grid.times[from]!, grid.times[to]!, grid.resolutionMs));
    }
    if (grid.times.length > grid.uniform) merge(await this.client.query(promql, grid.times[grid.uniform]!));
    return [...merged.values()];
  }

  private async scalarsAt(
    time: number,
    intervalMs: number,
  ): Promise<{ scalars: Record<string, number | null>; failures: string[] }> {
    const scalars: Record<string, number | null> = {};
    const failures: string[] = [];
    for (const [name, template] of Object.entries(this.opts.scalars ?? {})) {
      const promql = render(
        template,
        { service: this.opts.service, workloads: this.opts.workloads, intervalMs },
        { file: 'scalars', path: name },
      );
      try {
        const r = await this.client.query(promql, time);
        const values = r.resultType === 'scalar' ? [r.value] : r.series.map((s) => Number(s.values[0]?.[1]));
        if (values.length > 1)
          failures.push(`scalar ${name}: expected one number, the query returned ${values.length} series`);
        const v = values.length === 1 ? values[0]! : Number.NaN;
        scalars[name] = Number.isFinite(v) ? v : null;
      } catch (err) {
        if (!(err instanceof PrometheusQueryError)) throw err;
        scalars[name] = null;
        failures.push(`scalar ${name}: prometheus query failed: ${err.message}`);
      }
    }
    return { scalars, failures };
  }
}

/**
 * Evaluation points: a uniform run `start + k * resolutionMs` (one range query, or a few below the
 * points limit), plus `end` itself when the run falls short of it (one instant query), so a window
 * loses nothing at its tail. Intervals are [first point, last point] index pairs; the resolution is
 * shrunk to divide the step evenly, so interval edges fall on points and no increase straddles two
 * intervals.
 */
export interface PointGrid {
  resolutionMs: number;
  /** Points of the uniform run. */
  uniform: number;
  /** Every point's instant (epoch ms, integer); `times.length` is `uniform` or `uniform + 1`. */
  times: number[];
  intervals: [number, number][];
  /** Interval index of the increase that ends at point k (k >= 1). */
  intervalOfPoint: number[];
}

export function pointGrid(startMs: number, endMs: number, stepMs: number, resolutionMs: number): PointGrid {
  const start = Math.round(startMs);
  const end = Math.round(endMs);
  const window = end - start;
  const step = Math.max(1, Math.min(Math.round(stepMs), window));
  let perInterval = Math.max(1, Math.ceil(step / resolutionMs));
  let res = Math.max(1, Math.floor(step / perInterval));
  // Far past Prometheus' points limit per query, coarsen rather than fire hundreds of queries.
  while (window / res > 50 * MAX_POINTS_PER_QUERY && perInterval > 1) {
    perInterval = Math.ceil(perInterval / 2);
    res = Math.max(1, Math.floor(step / perInterval));
  }
  const uniform = Math.floor(window / res) + 1;
  const times = Array.from({ length: uniform }, (_, k) => start + k * res);
  if (times[uniform - 1]! < end) times.push(end);
  const intervals: [number, number][] = [];
  for (let a = 0; a < times.length - 1; a += perInterval)
    intervals.push([a, Math.min(a + perInterval, times.length - 1)]);
  const intervalOfPoint = new Array<number>(times.length).fill(0);
  intervals.forEach(([a, b], i) => {
    for (let k = a + 1; k <= b; k++) intervalOfPoint[k] = i;
  });
  return { resolutionMs: res, uniform, times, intervals, intervalOfPoint };
}

/**
 * The live looks' carried state: one `CounterDeltas` per kind of series, each replica's last scrape
 * time read (epoch ms) by `replicaKey`, and whether no look has read yet.
 */
interface LiveCounters {
  first: boolean;
  byKind: Map<string, CounterDeltas>;
  scrapedAt?: Map<string, number>;
}

/** The scrape times read of one replica in a window (point index → epoch ms), and the last one read before it. */
interface ReplicaScrapes {
  workload: string;
  times: Map<number, number>;
  carried: number | undefined;
  /** Whether a scrape of this replica was read before point k (this window or an earlier look). */
  readBefore(k: number): boolean;
  /** The points at which its request counter rose since the scrape read before (filled by the requests feed). */
  grew: Set<number>;
}

/** The requests series' labels that name one replica: all but the response's own. */
function replicaKey(labels: Record<string, string>): string {
  const { response_code: _code, response_flags: _flags, ...replica } = labels;
  return seriesKey(replica);
}

/** Each replica's scrape times in the window, from the `scrapeTimes` series (`timestamp()`, seconds). */
function scrapeTimeline(
  scrapeTimes: PromSeries[],
  indexOfTime: Map<number, number>,
  live: LiveCounters,
): Map<string, ReplicaScrapes> {
  const out = new Map<string, ReplicaScrapes>();
  for (const s of scrapeTimes) {
    const workload = s.metric.destination_workload;
    if (workload === undefined) continue;
    const key = replicaKey(s.metric);
    const times = new Map<number, number>();
    for (const [k, seconds] of pointsOf(s, indexOfTime)) if (Number.isFinite(seconds)) times.set(k, seconds * 1000);
    const carried = live.scrapedAt?.get(key);
    const first = Math.min(...times.keys());
    out.set(key, { workload, times, carried, readBefore: (k) => carried !== undefined || first < k, grew: new Set() });
  }
  return out;
}

/**
 * Per interval, per workload, the time its counts cover, for a run's looks: for each replica, the
 * time between two of its scrapes that were read and between which its counter rose (the first of
 * a replica starts its time and counts nothing), averaged over the workload's replicas that served
 * in the interval; the requests that go with it are those counted after a replica's first scrape
 * read (`readBefore`). Leaving out the spans without requests costs nothing at the rates a canary
 * runs (many requests per scrape interval) and is the same for both arms. So an arm's covered
 * requests and time match exactly, whenever its load began and whatever phase Prometheus scrapes it
 * at. Carries each replica's last scrape time to the next look.
 *
 * Only a run's looks are weighed: their load is steady, so an arm's requests grow with the time its
 * scrapes span. A past window (`canary analyze`) may hold traffic that began and ended inside it.
 */
function coverage(timeline: Map<string, ReplicaScrapes>, grid: PointGrid, live: LiveCounters): Map<string, number>[] {
  const last = (live.scrapedAt ??= new Map());
  const spans = grid.intervals.map(() => new Map<string, { ms: number; replicas: Set<string> }>());
  for (const [key, replica] of timeline) {
    let previous = replica.carried;
    for (const [k, at] of [...replica.times].sort((a, b) => a[0] - b[0])) {
      // Only time in which the replica served: an idle one (a deleted pod still draining, a
      // replica that gets no traffic) would add time without requests to its arm.
      if (previous !== undefined && replica.grew.has(k)) {
        const span = spans[grid.intervalOfPoint[k]!]!;
        const entry = span.get(replica.workload) ?? { ms: 0, replicas: new Set<string>() };
        entry.ms += Math.max(0, at - previous);
        entry.replicas.add(key);
        span.set(replica.workload, entry);
      }
      previous = at;
    }
    if (previous !== undefined) last.set(key, previous);
  }
  return spans.map((byWorkload) => new Map([...byWorkload].map(([w, e]) => [w, e.ms / e.replicas.size])));
}

function carried(live: LiveCounters, kind: string): CounterDeltas {
  let deltas = live.byKind.get(kind);
  if (!deltas) live.byKind.set(kind, (deltas = new CounterDeltas()));
  return deltas;
}

/** The points of a series as [point index, value], in time order, de-duplicated across chunks. */
function pointsOf(s: PromSeries, indexOfTime: Map<number, number>): [number, number][] {
  const byIndex = new Map<number, number>();
  for (const [t, v] of s.values) {
    const k = indexOfTime.get(Math.round(t * 1000));
    if (k !== undefined) byIndex.set(k, Number(v));
  }
  return [...byIndex.entries()].sort((a, b) => a[0] - b[0]);
}

function seriesOf(r: PromResult): PromSeries[] {
  return r.resultType === 'scalar' ? [] : r.series;
}

function seriesKey(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
