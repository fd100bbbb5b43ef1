import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InfraError } from '../../core/errors.ts';
import { findPrometheus, prometheusConfig } from './prometheus-server.ts';

describe("the data plane's Prometheus", () => {
  const dirs: string[] = [];
  const dir = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'canary-prom-path-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('is the first executable prometheus on PATH, skipping one that cannot be executed', () => {
    const [empty, notExecutable, executable] = [dir(), dir(), dir()];
    writeFileSync(join(notExecutable, 'prometheus'), '');
    chmodSync(join(notExecutable, 'prometheus'), 0o644);
    writeFileSync(join(executable, 'prometheus'), '#!/bin/sh\n');
    chmodSync(join(executable, 'prometheus'), 0o755);
    expect(findPrometheus([empty, notExecutable, executable].join(delimiter))).toBe(join(executable, 'prometheus'));
  });

  it('missing from PATH is an infrastructure error naming the flag, the binary and its package', () => {
    const path = dir();
    expect(() => findPrometheus(path)).toThrow(InfraError);
    expect(() => findPrometheus(path)).toThrow(
      `--prometheus: no executable prometheus on PATH (${path}): install Debian's package (apt-get install prometheus)`,
    );
  });

  it('scrapes /metrics of every target in the file SD file, at the interval asked for', () => {
    expect(JSON.parse(prometheusConfig('/tmp/x/targets.json', 1000))).toEqual({
      global: { scrape_interval: '1000ms', scrape_timeout: '1000ms', evaluation_interval: '1000ms' },
      scrape_configs: [
        {
          job_name: 'istio-merged-metrics',
          metrics_path: '/metrics',
          scheme: 'http',
          file_sd_configs: [{ files: ['/tmp/x/targets.json'], refresh_interval: '1000ms' }],
        },
      ],
    });
  });
});
