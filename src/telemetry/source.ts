import type { Measurement } from './measurement.ts';

/**
 * Where measurements come from (DESIGN.md, "One pipeline, two engines"). A source reports, per
 * interval and per workload of one service, Istio's destination-side telemetry:
 * `istio_requests_total` (requests by response class, errors) and
 * `istio_request_duration_milliseconds` (a latency histogram), plus any PromQL scalar the user
 * configured.
 *
 * Contract, shared by every implementation (Argo Rollouts' measure/evaluate split):
 * - A failed read is a `Measurement` with `status: 'error'` and a `reason` naming the URL or query;
 *   an interval without a single request to any of the workloads is `status: 'nodata'`. Neither
 *   is an exception, and neither is ever a pass: the judge decides what they mean.
 * - `measurement.workloads` has one entry per requested workload, zero-filled when that workload
 *   served nothing in the interval (its `requests` is 0, which the judge treats as no data).
 * - Counts are exact integers: cumulative counters become per-interval increases with counter
 *   resets (a restarted process) detected as Prometheus does (see `cumulative.ts`).
 * - Reading never throws. `begin()` throws `InfraError` when the source cannot work at all
 *   (Prometheus unreachable), so a run or an `analyze` exits 4 before it judges anything; the
 *   other throws are caller mistakes: `UsageError` for a bad window or a window on a source
 *   without history, `Error` for `measure()` before `begin()`.
 *
 * Live use (the canary runner): `begin()` once when the stage starts, then `measure()` at the end
 * of every interval; each call covers the time since the previous one. Retrospective use
 * (`canary analyze`): `measureWindow(start, end, step)` on a source that keeps history.
 */
export interface Source {
  readonly kind: SourceKind;
  /**
   * Starts the first interval and resolves to its start (epoch ms). `scrape` takes a reading of
   * every target so the first interval has a starting point; `prometheus` checks that the API
   * answers. Throws `InfraError` when nothing can be measured at all.
   */
  begin(): Promise<number>;
  /** Measures the interval from the end of the previous one (or `begin()`) until now. */
  measure(): Promise<Measurement>;
  /**
   * Measures a window that already happened, [start, end) in epoch ms, split into consecutive
   * intervals of `stepMs` (the last may be shorter). Needs history: the `scrape` source has none
   * and throws `UsageError`.
   */
  measureWindow(start: number, end: number, stepMs: number): Promise<Measurement[]>;
}

export type SourceKind = 'scrape' | 'prometheus';
export const SOURCE_KINDS: readonly SourceKind[] = ['scrape', 'prometheus'];

export type { CommonSourceOptions } from './options.ts';
