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

  it('leads with the effect in the unit of the metric and its limit, then the rule in one sentence', () => {
    const lines = renderMarkdown(sampleRunResult('rolled-back')).split('\n').filter(Boolean);
    expect(lines[1]).toBe('**p99 23 ms vs 20 ms, +15 %, allowed +10 %** (stage weighted-5)');
    const rule = lines.find((l) => l.startsWith('Rule: '));
    expect(rule).toMatch(/^Rule: Rolls back as soon as the combined evidence .* reaches 20 \(1\/alpha, alpha 0\.05\)/);
    expect(rule).toContain('[docs/statistics.md](docs/statistics.md)');
    expect(lines.indexOf(rule!)).toBeLessThan(lines.findIndex((l) => l.startsWith('## Stages')));
  });

  it('explains a rollback whose confidence sequence includes no change, and shows no p-value of 1 on passing metrics', () => {
    const result = sampleRunResult('rolled-back');
    const a = result.stages[1]!.intervals.at(-1)!.assessment!;
    a.metrics[1] = { ...a.metrics[1]!, ci: [0.953, 1.479], estimate: 1.2, baseline: 21.4, canary: 25.7 };
    const md = renderMarkdown(result);
    expect(md).toContain('Note: the 95 % confidence sequence of latency-p99 still includes no change');
    expect(md).toContain('the rollback comes from the combined e-value 22 ≥ 20');
    expect(md).toContain('[−4.7 %, +48 %]');
    expect(md).not.toMatch(/\| 1\.000 \|/);
    expect(md).not.toContain('p 1 ');
  });

  it('says "or, whichever is larger" for two margins, as the judge applies them', () => {
    const result = sampleRunResult('promoted');
    const a = result.stages[1]!.intervals.at(-1)!.assessment!;
    a.metrics[0] = { ...a.metrics[0]!, tolerance: { relative: 0.15, absolute: 2 } };
    const row = renderMarkdown(result)
      .split('\n')
      .filter((l) => l.startsWith('| latency-p50 | pass |'))
      .at(-1);
    expect(row).toContain('| +15 % or +2 ms, whichever is larger |');
    expect(row).not.toContain(' and ');
  });

  it('is GitHub-flavoured Markdown whose tables keep their shape even when text has pipes', () => {
    const result = sampleRunResult('rolled-back');
    result.stages[1].reason = 'p99 | 15 % higher <b>';
    const html = toHtml(renderMarkdown(result));
    const tables = html.match(/<table>[\s\S]*?<\/table>/g) ?? [];
    // run summary, stages, two per decided stage (effects, statistical detail), load, serving workloads
    expect(tables.length).toBe(8);
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
      '23 ms',
      '20 ms',
      '+15 %',
      '+10 %',
      '600 / 600 |',
    ]);
    const detail = evidence.split('\n').filter((l) => l.startsWith('| latency-p99 | quantile-e-process'));
    expect(detail.at(-1)?.split(' | ').slice(2, 5)).toEqual(['95 % [+8 %, +∞]', '64', '20']);
    expect(evidence.match(/^\| latency-p50 \| (pass|fail) /gm)?.length).toBe(2);
  });

  it('says a promoted run is promoted', () => {
    expect(renderMarkdown(sampleRunResult('promoted')).split('\n')[0]).toBe('# ✅ Canary account: PROMOTED');
  });
});
