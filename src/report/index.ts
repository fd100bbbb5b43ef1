export { renderReports, type RenderOptions, type RenderedReports } from './render-reports.ts';
export { renderMarkdown } from './markdown.ts';
export { renderHtml } from './html.ts';
export { renderJunit } from './junit.ts';
export { buildTrend, renderTrendHtml, renderTrendMarkdown } from './trend.ts';
