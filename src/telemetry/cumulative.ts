/**
 * Turns readings of cumulative counters (Prometheus counters, histogram buckets, `_sum`) into
 * per-reading increases, the way Prometheus' own `increase()` treats counter resets
 * (https://prometheus.io/docs/prometheus/latest/querying/functions/#resets): a value lower than the
 * previous one means the process restarted and the counter began again at zero, so the whole new
 * value is the increase.
 *
 * Both telemetry sources use this one class, so they count identically: the scrape source feeds it
 * one reading per target per interval; the prometheus source feeds it the points of `query_range`.
 *
 * Limitation shared with Prometheus: a restart followed by more traffic than the old value before
 * the next reading is indistinguishable from steady growth. Read at least as often as a process
 * could restart and catch up (every interval is plenty).
 */
export class CounterDeltas {
  private readonly last = new Map<string, number>();

  /**
   * Records `value` for the series `key` and returns its increase since the previous reading.
   * - First sight of a series on a `baseline` reading: 0 (whatever it counted happened before).
   * - First sight on a later reading: the series was born since the last reading (a new label
   *   combination or a new process), so it counted from zero: the increase is `value`.
   * - Lower than before: a counter reset; the increase is `value`.
   * NaN readings are ignored (Prometheus histograms may expose NaN `_sum` when empty).
   */
  observe(key: string, value: number, baseline: boolean): number {
    if (!Number.isFinite(value)) return 0;
    const previous = this.last.get(key);
    this.last.set(key, value);
    if (previous === undefined) return baseline ? 0 : value;
    return value >= previous ? value - previous : value;
  }

  /** Forgets every series (a new window, or a source restarted by its owner). */
  clear(): void {
    this.last.clear();
  }
}
