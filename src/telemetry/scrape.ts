import { request } from 'undici';
import { UsageError } from '../core/errors.ts';
import { CounterDeltas } from './cumulative.ts';
import { parseBound, parseExposition, type Sample } from './exposition.ts';
import { describeError } from './describe-error.ts';
import { ISTIO_METRICS } from './istio-metrics.ts';
import type { Measurement } from './measurement.ts';
import { checkCommonOptions, noTrafficReason, type CommonSourceOptions } from './options.ts';
import type { Source } from './source.ts';
import { IntervalTally } from './tally.ts';

export interface ScrapeSourceOptions extends CommonSourceOptions {
  /** Every `/metrics` URL to read (the local mesh's `metricsUrls`); at least one. */
  targets: string[];
}

/**
 * The embedded default source: reads the local data plane's `/metrics` endpoints directly, once
 * per interval, and turns their cumulative counters into per-interval increases. It keeps no
 * history, so it measures only live intervals.
 *
 * Replicas of a workload are summed; each target's series are grouped the same way the PromQL
 * templates of the prometheus source group them (per target, workload, and response code or
 * bucket bound), so both sources detect the same counter resets and report the same counts.
 */
export class ScrapeSource implements Source {
  readonly kind = 'scrape' as const;
  private readonly deltas = new CounterDeltas();
  /** Targets read successfully at least once: their next reading is measured against that one. */
  private readonly seen = new Set<string>();
  private readonly wanted: Set<string>;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private lastEnd: number | undefined;

  constructor(private readonly opts: ScrapeSourceOptions) {
    checkCommonOptions(opts);
    if (!Array.isArray(opts.targets) || opts.targets.length === 0)
      throw new UsageError('targets', 'expected at least one /metrics URL to scrape');
    for (const t of opts.targets) {
      if (!URL.canParse(t) || !/^https?:$/.test(new URL(t).protocol))
        throw new UsageError('targets', `expected an http(s) URL, got ${JSON.stringify(t)}`);
    }
    this.wanted = new Set(opts.workloads);
    this.timeoutMs = opts.timeoutMs ?? 2_000;
    this.now = opts.now ?? Date.now;
  }

  async begin(): Promise<number> {
    const start = this.now();
    const readings = await Promise.all(this.opts.targets.map((url) => this.read(url)));
    // Failed targets are simply not yet seen: their first good reading becomes their starting point.
    const tally = new IntervalTally(this.opts.workloads, this.opts.errorClasses);
    for (const r of readings) if (r.samples) this.feed(r.url, r.samples, tally);
    this.lastEnd = start;
    return start;
  }

  async measure(): Promise<Measurement> {
    if (this.lastEnd === undefined) throw new Error('ScrapeSource.measure() called before begin()');
    const start = this.lastEnd;
    const end = this.now();
    const readings = await Promise.all(this.opts.targets.map((url) => this.read(url)));
    this.lastEnd = end;
    const tally = new IntervalTally(this.opts.workloads, this.opts.errorClasses);
    const failures: string[] = [];
    for (const r of readings) {
      if (r.samples) this.feed(r.url, r.samples, tally);
      else failures.push(`${r.url}: ${r.error}`);
    }
    const workloads = tally.build();
    const total = Object.values(workloads).reduce((acc, w) => acc + w.requests, 0);
    if (failures.length > 0) {
      return {
        start,
        end,
        status: 'error',
        reason: `scrape failed for ${failures.join('; ')}`,
        workloads,
        scalars: {},
      };
    }
    if (total === 0) {
      return { start, end, status: 'nodata', reason: noTrafficReason(this.opts), workloads, scalars: {} };
    }
    return { start, end, status: 'ok', workloads, scalars: {} };
  }

  async measureWindow(_start: number, _end: number, _stepMs: number): Promise<Measurement[]> {
    throw new UsageError(
      'source',
      'the scrape source keeps no history; measuring a past window needs the prometheus source (--prometheus URL)',
    );
  }

  private async read(url: string): Promise<{ url: string; samples?: Sample[]; error?: string }> {
    try {
      const res = await request(url, {
        signal: AbortSignal.timeout(this.timeoutMs),
        headers: { accept: 'text/plain;version=0.0.4' },
      });
      const body = await res.body.text();
      if (res.statusCode !== 200) return { url, error: `HTTP ${res.statusCode}` };
      return { url, samples: parseExposition(body, (name) => ISTIO_METRICS.has(name)) };
    } catch (err) {
      return { url, error: describeError(err, this.timeoutMs) };
    }
  }

  /** Sums one target's matching series per group, then turns each group's total into an increase. */
  private feed(url: string, samples: Sample[], tally: IntervalTally): void {
    const baseline = !this.seen.has(url);
    this.seen.add(url);
    const groups = new Map<string, { value: number; apply: (increase: number) => void }>();
    const add = (key: string, value: number, apply: (increase: number) => void) => {
      const g = groups.get(key);
      if (g) g.value += value;
      else groups.set(key, { value, apply });
    };
    for (const s of samples) {
      const l = s.labels;
      if (l.reporter !== 'destination' || l.destination_service_name !== this.opts.service) continue;
      const workload = l.destination_workload;
      if (workload === undefined || !this.wanted.has(workload)) continue;
      if (s.name === 'istio_requests_total') {
        const code = l.response_code ?? '';
        const flags = l.response_flags ?? '-';
        add(`${url}\0req\0${workload}\0${code}\0${flags}`, s.value, (n) => tally.addRequests(workload, code, n, flags));
      } else if (s.name === 'istio_request_duration_milliseconds_bucket') {
        const le = parseBound(l.le ?? '');
        if (le === undefined) continue;
        add(`${url}\0le\0${workload}\0${le}`, s.value, (n) => tally.addBucket(workload, le, n));
      } else if (s.name === 'istio_request_duration_milliseconds_sum') {
        add(`${url}\0sum\0${workload}`, s.value, (n) => tally.addLatencySum(workload, n));
      }
    }
    for (const [key, g] of groups) g.apply(this.deltas.observe(key, g.value, baseline));
  }
}
