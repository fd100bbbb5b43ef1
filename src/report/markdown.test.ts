import { micromark } from 'micromark';
import { gfm, gfmHtml } from 'micromark-extension-gfm';
import { describe, expect, it } from 'vitest';
import { sampleRunResult } from './fixtures/run-result.ts';
import { renderMarkdown } from './markdown.ts';

function toHtml(md: string): string {
  return micromark(md, { extensions: [gfm()], htmlExtensions: [gfmHtml()] });
}

describe('renderMarkdown', () => {
  it('leads with the verdict and the reason, and names the responsible metric', () => {
    const md = renderMarkdown(sampleRunResult('rolled-back'));
    const lines = md.split('\n');
    expect(lines[0]).toBe('# ❌ Canary account: ROLLED BACK');
    expect(md).toContain('Responsible: `latency-p99`');
  });

  it('is GitHub-flavoured Markdown whose tables keep their shape even when text has pipes', () => {
    const result = sampleRunResult('rolled-back');
    result.stages[1].reason = 'p99 | 15 % higher <b>';
    const html = toHtml(renderMarkdown(result));
    const tables = html.match(/<table>[\s\S]*?<\/table>/g) ?? [];
    // run summary, stages, one per decided stage, load, serving workloads
    expect(tables.length).toBe(6);
    for (const table of tables) {
      const rows = table.match(/<tr>[\s\S]*?<\/tr>/g) ?? [];
      const widths = rows.map((r) => (r.match(/<t[hd][ >]/g) ?? []).length);
      expect(new Set(widths).size).toBe(1);
    }
    expect(html).toContain('p99 | 15 % higher &lt;b&gt;');
  });

  it('shows every metric of each decided stage with its evidence', () => {
    const md = renderMarkdown(sampleRunResult('rolled-back'));
    const evidence = md.slice(md.indexOf('## Evidence per metric'));
    expect(evidence).toContain('### weighted-5 (rollback)');
    const failing = evidence
      .slice(evidence.indexOf('### weighted-5'))
      .split('\n')
      .find((l) => l.startsWith('| latency-p99'));
    expect(failing?.split(' | ').slice(0, 7)).toEqual([
      '| latency-p99 (critical)',
      'fail',
      '20.000',
      '23.000',
      '×1.150',
      '[1.080, +∞]',
      '64.000',
    ]);
    expect(evidence.match(/^\| latency-p50 /gm)?.length).toBe(2);
  });

  it('says a promoted run is promoted', () => {
    expect(renderMarkdown(sampleRunResult('promoted')).split('\n')[0]).toBe('# ✅ Canary account: PROMOTED');
  });
});
