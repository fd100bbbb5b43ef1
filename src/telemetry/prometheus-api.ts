import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { UsageError } from '../core/errors.ts';
import { describeError } from './describe-error.ts';

/**
 * A client for the two endpoints every Prometheus-compatible API serves (Prometheus, Thanos,
 * Mimir, VictoriaMetrics, Cortex): `/api/v1/query` and `/api/v1/query_range`
 * (https://prometheus.io/docs/prometheus/latest/querying/api/). Nothing else is assumed.
 *
 * Queries are POSTed as a form (long PromQL does not fit every URL length limit). Network errors,
 * timeouts, HTTP 429 and 5xx are retried with exponential backoff (`backoffMs * 2^attempt`, capped
 * at `maxBackoffMs`); other 4xx (a bad query, bad credentials) fail at once, since retrying cannot
 * fix them. The bearer token is read from its file on each request (Kubernetes rotates projected
 * tokens) and never appears in an error message.
 */
export interface PrometheusClientOptions {
  /** Base URL of the API, e.g. `http://127.0.0.1:9090` or `https://mimir/prometheus`. */
  url: string;
  /** File holding a bearer token (sent as `Authorization: Bearer …`). */
  bearerTokenFile?: string;
  /** Per-attempt timeout in ms; default 10 000. */
  timeoutMs?: number;
  /** Retries after the first attempt; default 3. */
  retries?: number;
  /** First backoff in ms; default 250. */
  backoffMs?: number;
  /** Longest backoff in ms; default 5 000. */
  maxBackoffMs?: number;
}

export type PromLabels = Record<string, string>;
export interface PromSeries {
  metric: PromLabels;
  /** `[unix seconds, "value"]` pairs (matrix), or one pair (vector). */
  values: [number, string][];
}
export type PromResult =
  | { resultType: 'scalar'; value: number }
  | { resultType: 'vector' | 'matrix'; series: PromSeries[] };

/** A failed query, naming the endpoint. `unreachable` when no HTTP answer came back at all. */
export class PrometheusQueryError extends Error {
  constructor(
    readonly endpoint: string,
    readonly problem: string,
    readonly unreachable: boolean,
    readonly attempts: number,
  ) {
    super(`${endpoint}: ${problem}${attempts > 1 ? ` (after ${attempts} attempts)` : ''}`);
    this.name = 'PrometheusQueryError';
  }
}

export class PrometheusClient {
  readonly url: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(private readonly opts: PrometheusClientOptions) {
    if (!URL.canParse(opts.url) || !/^https?:$/.test(new URL(opts.url).protocol)) {
      throw new UsageError(
        '--prometheus',
        `expected an http(s) URL of a Prometheus-compatible API, got ${JSON.stringify(opts.url)}`,
      );
    }
    this.url = opts.url.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.retries = opts.retries ?? 3;
    this.backoffMs = opts.backoffMs ?? 250;
    this.maxBackoffMs = opts.maxBackoffMs ?? 5_000;
    if (!(this.retries >= 0) || !Number.isInteger(this.retries))
      throw new UsageError('retries', `expected a whole number >= 0, got ${this.retries}`);
    if (opts.bearerTokenFile !== undefined) {
      // Fail at start-up, naming the file, rather than on the first query mid-run.
      try {
        readFileSync(opts.bearerTokenFile, 'utf8');
      } catch (err) {
        throw new UsageError(
          '--bearer-token-file',
          `cannot read ${opts.bearerTokenFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
        );
      }
    }
  }

  /** Instant query at `time` (epoch ms). */
  query(promql: string, time: number): Promise<PromResult> {
    return this.call('/api/v1/query', { query: promql, time: seconds(time) });
  }

  /** Range query over [start, end] (epoch ms) with points every `stepMs`. */
  queryRange(promql: string, start: number, end: number, stepMs: number): Promise<PromResult> {
    return this.call('/api/v1/query_range', {
      query: promql,
      start: seconds(start),
      end: seconds(end),
      step: seconds(stepMs),
    });
  }

  private async call(path: string, form: Record<string, string>): Promise<PromResult> {
    const endpoint = this.url + path;
    let last: { problem: string; unreachable: boolean; retryable: boolean } = {
      problem: 'not attempted',
      unreachable: true,
      retryable: false,
    };
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      if (attempt > 0) await sleep(Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (attempt - 1)));
      last = await this.attempt(endpoint, form);
      if ('result' in last) return last.result as PromResult;
      if (!last.retryable) throw new PrometheusQueryError(endpoint, last.problem, last.unreachable, attempt + 1);
    }
    throw new PrometheusQueryError(endpoint, last.problem, last.unreachable, this.retries + 1);
  }

  private async attempt(
    endpoint: string,
    form: Record<string, string>,
  ): Promise<{ problem: string; unreachable: boolean; retryable: boolean } & { result?: PromResult }> {
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (this.opts.bearerTokenFile !== undefined) {
      try {
        headers.authorization = `Bearer ${(await readFile(this.opts.bearerTokenFile, 'utf8')).trim()}`;
      } catch (err) {
        return {
          problem: `cannot read bearer token file ${this.opts.bearerTokenFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
          unreachable: false,
          retryable: false,
        };
      }
    }
    let status: number;
    let text: string;
    try {
      const res = await request(endpoint, {
        method: 'POST',
        headers,
        body: new URLSearchParams(form).toString(),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      return { problem: describeError(err, this.timeoutMs), unreachable: true, retryable: true };
    }
    const retryable = status === 429 || status >= 500;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return {
        problem: `HTTP ${status}, not a Prometheus API answer: ${JSON.stringify(text.slice(0, 120))}`,
        unreachable: false,
        retryable,
      };
    }
    const b = body as {
      status?: string;
      errorType?: string;
      error?: string;
      data?: { resultType?: string; result?: unknown };
    };
    if (status !== 200 || b.status !== 'success') {
      const detail = b.error ? `${b.errorType ?? 'error'}: ${b.error}` : `status ${JSON.stringify(b.status)}`;
      return { problem: `HTTP ${status}, ${detail}`, unreachable: false, retryable };
    }
    const result = toResult(b.data);
    if (!result)
      return {
        problem: `unexpected answer shape: ${JSON.stringify(text.slice(0, 120))}`,
        unreachable: false,
        retryable: false,
      };
    return { problem: '', unreachable: false, retryable: false, result };
  }
}

function toResult(data: { resultType?: string; result?: unknown } | undefined): PromResult | undefined {
  if (!data) return undefined;
  const r = data.result;
  switch (data.resultType) {
    case 'scalar':
      return Array.isArray(r) ? { resultType: 'scalar', value: Number(r[1]) } : undefined;
    case 'vector':
      if (!Array.isArray(r)) return undefined;
      return {
        resultType: 'vector',
        series: r.map((s: { metric: PromLabels; value: [number, string] }) => ({
          metric: s.metric ?? {},
          values: [s.value],
        })),
      };
    case 'matrix':
      if (!Array.isArray(r)) return undefined;
      return {
        resultType: 'matrix',
        series: r.map((s: { metric: PromLabels; values: [number, string][] }) => ({
          metric: s.metric ?? {},
          values: s.values ?? [],
        })),
      };
    default:
      return undefined;
  }
}

/** Epoch ms → the decimal seconds the API expects (ms precision kept). */
function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}
