/**
 * One self-contained HTML page: styles, the uPlot charting library and the page's data are inlined,
 * so a report opens offline, from a CI artefact or an e-mail attachment, with nothing to fetch.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

let uplotAssets: { js: string; css: string } | undefined;

function uplot(): { js: string; css: string } {
  if (!uplotAssets) {
    const require = createRequire(import.meta.url);
    const dist = join(dirname(require.resolve('uplot/package.json')), 'dist');
    uplotAssets = {
      js: readFileSync(join(dist, 'uPlot.iife.min.js'), 'utf8'),
      css: readFileSync(join(dist, 'uPlot.min.css'), 'utf8'),
    };
  }
  return uplotAssets;
}

/** A line chart drawn by uPlot from `x` and one or more named series. */
export interface ChartSpec {
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  /** `time`: x is epoch seconds; `linear`: x is a plain number. */
  xKind: 'time' | 'linear';
  x: number[];
  series: { label: string; values: (number | null)[]; color: string; dash?: boolean; step?: boolean }[];
  /** Logarithmic x axis (latency distributions). */
  logX?: boolean;
  /** Fixed lower end of the y axis, and a top it always reaches, so an all-zero series of error
   * ratios reads as "no errors" on a sensible scale rather than on uPlot's default 0..100. */
  yMin?: number;
  yMaxAtLeast?: number;
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1f24;background:#f6f8fa}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:18px;margin:28px 0 8px} h3{font-size:15px;margin:18px 0 6px}
.banner{border-radius:8px;padding:16px 20px;color:#fff;margin-bottom:16px}
.banner .verdict{font-size:26px;font-weight:700;letter-spacing:.02em}
.banner .effect{font-size:20px;font-weight:600;margin:6px 0}
.banner .rule,.banner .stage-note{opacity:.9;font-size:14px;margin-top:6px}
.banner .unreliable{background:rgba(0,0,0,.25);padding:6px 10px;border-radius:6px;margin-top:8px}
.banner.pass{background:#1a7f37}.banner.fail{background:#cf222e}.banner.warn{background:#9a6700}.banner.neutral{background:#57606a}
table{border-collapse:collapse;width:100%;background:#fff;margin:6px 0 12px;font-size:13px}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eaeef2} td.num{text-align:right;font-variant-numeric:tabular-nums}
.cls-pass{color:#1a7f37;font-weight:600}.cls-fail{color:#cf222e;font-weight:600}.cls-other{color:#9a6700;font-weight:600}
.chart{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:8px;margin:8px 0}
.muted{color:#57606a} code{background:#eaeef2;padding:1px 4px;border-radius:4px}
.banner code{background:rgba(255,255,255,.22);color:#fff}
`;

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON that is safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

const DRAW_CHARTS = `
(function(){
  var charts = JSON.parse(document.getElementById('chart-data').textContent);
  charts.forEach(function(c){
    var el = document.getElementById(c.id);
    if (!el) return;
    var width = Math.max(320, el.clientWidth - 16);
    var opts = {
      title: c.title, width: width, height: 260,
      scales: {
        x: { time: c.xKind === 'time', distr: c.logX ? 3 : 1 },
        y: {
          range: function (u, min, max) {
            var lo = c.yMin !== undefined ? c.yMin : min;
            var hi = c.yMaxAtLeast !== undefined ? Math.max(max, c.yMaxAtLeast) : max;
            if (hi <= lo) hi = lo + 1;
            return [lo, hi];
          }
        }
      },
      axes: [{ label: c.xLabel }, { label: c.yLabel }],
      series: [{ label: c.xLabel }].concat(c.series.map(function(s){
        var o = { label: s.label, stroke: s.color, width: 2, spanGaps: false };
        if (s.dash) o.dash = [6, 4];
        if (s.step) o.paths = uPlot.paths.stepped({ align: 1 });
        return o;
      }))
    };
    var plot = new uPlot(opts, [c.x].concat(c.series.map(function(s){ return s.values; })), el);
    el.setAttribute('data-drawn', String(plot.series.length - 1));
  });
})();
`;

export function htmlPage(title: string, body: string, charts: ChartSpec[]): string {
  const assets = uplot();
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${assets.css}</style>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
<script>${assets.js}</script>
<script type="application/json" id="chart-data">${scriptJson(charts)}</script>
<script>${DRAW_CHARTS}</script>
</body>
</html>
`;
}

export function chartSlot(spec: ChartSpec): string {
  return `<div class="chart" id="${escapeHtml(spec.id)}" data-chart="${escapeHtml(spec.title)}"></div>`;
}
