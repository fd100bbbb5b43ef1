import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { targetGroups, writeTargetsFile } from './scrape-targets.ts';

const account = {
  metricsUrl: 'http://127.0.0.1:41234/metrics',
  namespace: 'sprincube',
  pod: 'account-canary-7c9d-x2k4p',
  podLabels: { app: 'account', version: 'v2', track: 'canary', 'pod-template-hash': '7c9d' },
};

describe('scrape targets as Prometheus file SD groups', () => {
  it("are each process's loopback host:port, labelled namespace, pod and the pod's app, version and track", () => {
    expect(
      targetGroups([
        account,
        {
          metricsUrl: 'http://127.0.0.1:5000/metrics',
          namespace: 'sprincube',
          pod: 'bff-1',
          podLabels: { app: 'bff' },
        },
      ]),
    ).toEqual([
      {
        targets: ['127.0.0.1:41234'],
        labels: { app: 'account', version: 'v2', track: 'canary', namespace: 'sprincube', pod: account.pod },
      },
      { targets: ['127.0.0.1:5000'], labels: { app: 'bff', namespace: 'sprincube', pod: 'bff-1' } },
    ]);
  });

  it('refuse an address that is not loopback or a path that is not /metrics, naming the pod', () => {
    expect(() => targetGroups([{ ...account, metricsUrl: 'http://10.244.0.9:15020/metrics' }])).toThrow(
      'scrape target of pod account-canary-7c9d-x2k4p: expected http://127.0.0.1:PORT/metrics, got "http://10.244.0.9:15020/metrics"',
    );
    expect(() => targetGroups([{ ...account, metricsUrl: 'http://127.0.0.1:41234/stats/prometheus' }])).toThrow(
      /expected http:\/\/127\.0\.0\.1:PORT\/metrics/,
    );
  });
});

describe('the targets file', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is replaced by a rename (a new file each time, nothing left beside it), never rewritten in place', async () => {
    dir = mkdtempSync(join(tmpdir(), 'canary-targets-'));
    const file = join(dir, 'targets.json');
    await writeTargetsFile(file, targetGroups([account]));
    const first = statSync(file).ino;
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(targetGroups([account]));
    await writeTargetsFile(file, []);
    expect(statSync(file).ino).not.toBe(first);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual([]);
    expect(readdirSync(dir)).toEqual(['targets.json']);
  });
});
