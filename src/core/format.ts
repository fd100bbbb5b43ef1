/**
 * The one place where numbers become text, for the terminal, the reports and the judge's reasons:
 * three significant digits unless a unit calls for fewer, a thin space before a unit as the SI
 * brochure writes it (here a plain space, for terminals), `–` for a number that is missing.
 */

/** What a metric's values are measured in. */
export type ValueUnit = 'ms' | 'ratio' | 'scalar';

const MISSING = '–';

function finite(v: number | null | undefined): v is number {
  return v !== null && v !== undefined && Number.isFinite(v);
}

/** A plain number: 3 significant digits, no exponent between 0.001 and 1e6 (`0.0512`, `25.7`, `1234`). */
export function formatNumber(v: number | null | undefined): string {
  if (!finite(v)) return MISSING;
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e6 || a < 1e-3) return v.toExponential(2);
  if (a >= 1000) return Math.round(v).toString();
  return Number(v.toPrecision(3)).toString();
}

/** A count of things: a whole number with thin grouping (`12,345`). */
export function formatCount(v: number | null | undefined): string {
  if (!finite(v)) return MISSING;
  return Math.round(v).toLocaleString('en-US');
}

/** A latency: `25.7 ms`, `2.30 s` from 2300 ms. */
export function formatMs(v: number | null | undefined): string {
  if (!finite(v)) return MISSING;
  if (Math.abs(v) >= 1000) return `${(v / 1000).toPrecision(3)} s`;
  return `${formatNumber(v)} ms`;
}

/** A proportion as a percentage: `0.0123` → `1.23 %`. */
export function formatProportion(v: number | null | undefined): string {
  if (!finite(v)) return MISSING;
  return `${formatNumber(v * 100)} %`;
}

/** A relative change, signed: `0.2` → `+20 %`, `-0.051` → `−5.1 %`. */
export function formatRelativeChange(v: number | null | undefined): string {
  if (!finite(v)) return MISSING;
  const pct = v * 100;
  const digits = Math.abs(pct) >= 10 ? 0 : 1;
  const text = String(Number(Math.abs(pct).toFixed(digits)));
  if (Number(text) === 0) return '±0 %';
  return `${pct > 0 ? '+' : '−'}${text} %`;
}

/** A signed difference in a unit: `+4.3 ms`, `−0.2 points` (for proportions). */
export function formatDifference(v: number | null | undefined, unit: ValueUnit): string {
  if (!finite(v)) return MISSING;
  const sign = v > 0 ? '+' : v < 0 ? '−' : '±';
  const a = Math.abs(v);
  if (unit === 'ms') return `${sign}${formatMs(a)}`;
  if (unit === 'ratio') return `${sign}${formatNumber(a * 100)} points`;
  return `${sign}${formatNumber(a)}`;
}

/** A value in its unit: a latency in ms, an error ratio as a percentage, a scalar as is. */
export function formatValue(v: number | null | undefined, unit: ValueUnit): string {
  if (unit === 'ms') return formatMs(v);
  if (unit === 'ratio') return formatProportion(v);
  return formatNumber(v);
}

/** A rate: `400 req/s`, `12.5 req/s`. */
export function formatRate(v: number | null | undefined): string {
  if (!finite(v)) return MISSING;
  return `${formatNumber(v)} req/s`;
}

/** Elapsed time for people: `850 ms`, `12.5 s`, `3 min 5 s`. */
export function formatElapsed(ms: number | null | undefined): string {
  if (!finite(ms)) return MISSING;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** An e-value or a likelihood ratio: `301`, `0.42`, `1.2e+05`. */
export function formatEValue(v: number | null | undefined): string {
  if (v === Number.POSITIVE_INFINITY) return '∞';
  if (!finite(v)) return MISSING;
  return formatNumber(v);
}
