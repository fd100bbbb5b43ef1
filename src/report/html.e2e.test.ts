import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../test/support/chromium.ts';
import { sampleRunResult } from './fixtures/run-result.ts';
import { renderHtml } from './html.ts';

const dir = mkdtempSync(join(tmpdir(), 'report-html-'));
const artefacts = join(process.cwd(), 'test-artifacts');
let chromium: Awaited<ReturnType<typeof launchChromium>>;

beforeAll(async () => {
  mkdirSync(artefacts, { recursive: true });
  chromium = await launchChromium();
});
afterAll(async () => {
  await chromium?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('report.html in headless Chromium', () => {
  it('renders offline with no console errors, the verdict banner and every chart drawn', async () => {
    const file = join(dir, 'report.html');
    writeFileSync(file, renderHtml(sampleRunResult('rolled-back')));
    const context = await chromium.browser.newContext({ viewport: { width: 1200, height: 900 } });
    // Offline: any request other than the file itself fails the test.
    const requests: string[] = [];
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      requests.push(url);
      return route.abort();
    });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
    await page.goto(pathToFileURL(file).href);
    await page.waitForFunction(
      () => document.querySelectorAll('.chart[data-drawn]').length === document.querySelectorAll('.chart').length,
    );

    expect(problems).toEqual([]);
    expect(requests).toEqual([]);
    expect(await page.textContent('#verdict .verdict')).toBe('ROLLED BACK');
    const charts = await page.$$eval('.chart', (els) =>
      els.map((el) => ({
        id: el.id,
        series: Number(el.getAttribute('data-drawn')),
        canvas: (() => {
          const c = el.querySelector('canvas');
          return c ? { w: c.width, h: c.height } : null;
        })(),
      })),
    );
    expect(charts.map((c) => c.id)).toEqual(['chart-distribution', 'chart-latency', 'chart-errors', 'chart-split']);
    for (const c of charts) {
      expect(c.canvas?.w).toBeGreaterThan(300);
      expect(c.series).toBeGreaterThanOrEqual(2);
    }
    // The canvas must hold drawn pixels, not just exist.
    const inked = await page.$eval('#chart-latency canvas', (c) => {
      const canvas = c as HTMLCanvasElement;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
      return n;
    });
    expect(inked).toBeGreaterThan(1000);
    // The effect and its limit, and the rule, are what a person sees without scrolling.
    const effect = await page.$eval('#verdict .effect', (el) => {
      const box = el.getBoundingClientRect();
      return { text: el.textContent, bottom: box.bottom, visible: box.height > 0 };
    });
    expect(effect.text).toBe('p99 23 ms vs 20 ms, +15 %, allowed +10 %');
    expect(effect.visible).toBe(true);
    expect(effect.bottom).toBeLessThan(900);
    const rule = await page.$eval('#rule', (el) => ({
      text: el.textContent ?? '',
      bottom: el.getBoundingClientRect().bottom,
    }));
    expect(rule.text).toMatch(/^Rolls back as soon as the combined evidence/);
    expect(rule.bottom).toBeLessThan(900);
    await page.screenshot({ path: join(artefacts, 'report-rolled-back-above-the-fold.png') });
    const rows = await page.$$eval('#stages tbody tr', (trs) => trs.map((tr) => tr.textContent ?? ''));
    expect(rows[1]).toContain('rollback');
    await page.screenshot({ path: join(artefacts, 'report.png'), fullPage: true });
    await context.close();
  });
});
