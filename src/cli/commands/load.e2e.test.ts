/** `canary load` as a user runs it: a child process of bin/canary.js against loopback servers. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoopback } from '../../driver/testing/loopback.ts';
import type { LoopbackServer } from '../../driver/testing/loopback.ts';

const BIN = fileURLToPath(new URL('../../../bin/canary.js', import.meta.url));
const STANDIN = fileURLToPath(new URL('../../driver/testing/k6-standin.mjs', import.meta.url));
let gateway: LoopbackServer;
let reports: string;
beforeAll(async () => {
  gateway = await startLoopback();
  reports = mkdtempSync(join(tmpdir(), 'canary-load-cli-'));
});
afterAll(async () => {
  await gateway.close();
  rmSync(reports, { recursive: true, force: true });
});

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** `interruptAfterRequests`: SIGINT once the gateway has received that many more requests. */
function canary(
  args: string[],
  opts: { interruptAfterRequests?: number; env?: Record<string, string> } = {},
): Promise<Ran> {
  const t = Date.now();
  const receivedAtStart = gateway.received;
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  // Interrupt once the load has really reached the gateway, not during tsx start-up.
  const interrupt =
    opts.interruptAfterRequests === undefined
      ? undefined
      : setInterval(() => {
          if (gateway.received - receivedAtStart >= opts.interruptAfterRequests! && !child.killed) {
            child.kill('SIGINT');
            clearInterval(interrupt);
          }
        }, 5);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearInterval(interrupt);
      resolve({ code, stdout, stderr, ms: Date.now() - t });
    }),
  );
}

describe('canary load', () => {
  it.concurrent.each([
    [['--rate', '0', '--duration', '1'], '--rate'],
    [['--rate', '-5', '--duration', '1'], '--rate'],
    [['--rate', 'fast', '--duration', '1'], '--rate'],
    [['--rate', '10', '--duration', '0'], '--duration'],
    [['--rate', '10', '--duration', 'soon'], '--duration'],
    [['--connections', '0', '--duration', '1'], '--connections'],
    [['--rate', '10', '--duration', '1', '--cohorts', 'user=1:0.5'], '--cohorts'],
  ])('exits 3 naming the flag for %j', async (args, flag) => {
    const r = await canary(['load', '--target', gateway.url, '--reports-dir', reports, ...args]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(flag);
  });

  it('exits 4 naming an unreachable target', async () => {
    const down = await startLoopback();
    const url = down.url;
    await down.close();
    const r = await canary(['load', '--target', url, '--rate', '10', '--duration', '5', '--reports-dir', reports]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(url);
  });

  it('writes load.json and prints the --json summary', async () => {
    const r = await canary([
      'load',
      '--target',
      gateway.url,
      '--rate',
      '100',
      '--duration',
      '2s',
      '--json',
      '--reports-dir',
      reports,
      '--run-id',
      'cli-json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ runId: 'cli-json', status: 'completed', requests: 200, errors: 0, targetRate: 100 });
    expect(s.achievedRate).toBeGreaterThan(0);
    for (const q of ['p50', 'p90', 'p99', 'max']) expect(s.latencyMs[q]).toBeGreaterThan(0);
    expect(s.byWorkload.bff).toBe(200);
    expect(s.byWorkload['account-primary']).toBeGreaterThan(0);
    const file = JSON.parse(readFileSync(join(reports, 'cli-json', 'load.json'), 'utf8'));
    expect(file.summary).toEqual(s);
    expect(file.result.series.reduce((n: number, x: { requests: number }) => n + x.requests, 0)).toBe(200);
    expect(file.intervals.reduce((n: number, x: { completed: number }) => n + x.completed, 0)).toBe(200);
  });

  it.each([
    ['ok', 0],
    ['thresholds', 1],
  ])('--driver k6 runs K6_BINARY (stand-in mode %s) and exits %i', async (mode, code) => {
    const env = { K6_BINARY: STANDIN, STANDIN_MODE: mode };
    const r = await canary(
      [
        'load',
        '--driver',
        'k6',
        '--target',
        gateway.url,
        '--rate',
        '50',
        '--duration',
        '1',
        '--json',
        '--reports-dir',
        reports,
        '--run-id',
        `cli-k6-${mode}`,
      ],
      { env },
    );
    expect(r.code).toBe(code);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ driver: 'k6', status: 'completed', requests: 50 });
    if (mode === 'thresholds') expect(s.reason).toMatch(/thresholds failed/);
    const file = JSON.parse(readFileSync(join(reports, `cli-k6-${mode}`, 'load.json'), 'utf8'));
    expect(file.result.exit.code).toBe(mode === 'ok' ? 0 : 99);
  });

  it('on Ctrl-C writes the partial result marked interrupted and exits 130', async () => {
    const r = await canary(
      [
        'load',
        '--target',
        gateway.url,
        '--rate',
        '50',
        '--duration',
        '60',
        '--reports-dir',
        reports,
        '--run-id',
        'cli-int',
      ],
      { interruptAfterRequests: 20 },
    );
    expect(r.code).toBe(130);
    const file = JSON.parse(readFileSync(join(reports, 'cli-int', 'load.json'), 'utf8'));
    expect(file.result.status).toBe('interrupted');
    expect(file.result.requests).toBeGreaterThan(0);
    // Far fewer than the 3,000 of the 60 s plan: the run ended at the signal.
    expect(file.result.requests).toBeLessThan(3_000);
    expect(r.stdout).toContain('load interrupted');
  });
});
