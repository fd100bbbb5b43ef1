import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.ts';
import { analysisJsonSchemaText, parseAnalysisConfig } from './analysis.ts';
import { loadAnalysisConfig } from './load.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'analysis-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeConfig(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

async function configError(file: string): Promise<ConfigError> {
  try {
    await loadAnalysisConfig(file);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`expected ${file} to be rejected`);
}

describe('loadAnalysisConfig', () => {
  it('refuses an errors tolerance that is not a proportion, naming the field', async () => {
    const file = writeConfig(
      'errors-absolute-2.yaml',
      'metrics:\n  - name: errors\n    kind: errors\n    tolerance: { absolute: 2 }\n',
    );
    const err = await configError(file);
    expect(err.message).toMatch(/metrics\[0\]\.tolerance\.absolute|metrics\.0\.tolerance\.absolute/);
    expect(err.message).toMatch(/proportion in \[0, 1\]/);
  });

  it('keeps the missing-interval share at 20 % unless configured, within [0, 1]', async () => {
    const ok = await loadAnalysisConfig(
      writeConfig(
        'missing-default.yaml',
        'metrics:\n  - { name: errors, kind: errors, tolerance: { absolute: 0.01 } }\n',
      ),
    );
    expect(ok.maxMissingShare).toBe(0.2);
    const err = await configError(
      writeConfig(
        'missing-bad.yaml',
        'maxMissingShare: 1.5\nmetrics:\n  - { name: errors, kind: errors, tolerance: { absolute: 0.01 } }\n',
      ),
    );
    expect(err.message).toMatch(/maxMissingShare/);
  });

  it('loads analysis/default.yaml with durations in ms and defaults filled in', async () => {
    const config = await loadAnalysisConfig(join(root, 'analysis/default.yaml'));
    expect(config.judge).toBe('sequential');
    expect(config.stage).toEqual({ minDuration: 60_000, maxDuration: 600_000 });
    expect(config.metrics.map((m) => m.name)).toEqual([
      'latency-p50',
      'latency-p90',
      'latency-p99',
      'latency-distribution',
      'errors',
    ]);
    const p99 = config.metrics[2];
    expect(p99.kind === 'latency' && p99.quantile).toBe(0.99);
    expect(config.metrics[4].critical).toBe(true);
    const distribution = config.metrics[3];
    expect(distribution.kind === 'latency' && distribution.test).toBe('distribution');
    expect(distribution.tolerance).toBeUndefined();
    expect(config.metrics[0].weight).toBe(1);
  });

  it('names the file, the path and the expected kinds for an unknown metric kind', async () => {
    const file = writeConfig(
      'bad-kind.yaml',
      'metrics:\n  - { name: a, kind: errors, tolerance: { absolute: 0.01 } }\n  - { name: b, kind: errors, tolerance: { absolute: 0.01 } }\n  - { name: c, kind: cpu, tolerance: { relative: 0.1 } }\n',
    );
    const err = await configError(file);
    expect(err.file).toBe(file);
    expect(err.where).toBe('metrics[2].kind');
    expect(err.problem).toMatch(/expected one of latency, errors, promql, got "cpu"/);
    expect(err.exitCode).toBe(3);
  });

  it('rejects an unknown key, a bad duration, a missing tolerance and duplicate names', async () => {
    expect(
      (
        await configError(
          writeConfig('k.yaml', 'metrics: [{ name: a, kind: errors, tolerance: { relative: 1 }, wieght: 2 }]\n'),
        )
      ).problem,
    ).toMatch(/unknown key\(s\) "wieght"/);
    const d = await configError(
      writeConfig(
        'd.yaml',
        'stage: { minDuration: 5 minutes }\nmetrics: [{ name: a, kind: errors, tolerance: { relative: 1 } }]\n',
      ),
    );
    expect(d.where).toBe('stage.minDuration');
    expect(d.problem).toMatch(/duration like 500ms, 30s, 5m/);
    expect(
      (await configError(writeConfig('t.yaml', 'metrics: [{ name: a, kind: errors, tolerance: {} }]\n'))).problem,
    ).toMatch(/relative and\/or absolute/);
    const dup = await configError(
      writeConfig(
        'dup.yaml',
        'metrics: [{ name: a, kind: errors, tolerance: { relative: 1 } }, { name: a, kind: errors, tolerance: { relative: 1 } }]\n',
      ),
    );
    expect(dup.where).toBe('metrics[1].name');
  });

  it('reports a YAML syntax error with its line and a missing file', async () => {
    const err = await configError(writeConfig('syntax.yaml', 'alpha: 0.05\nmetrics: [\n  - oops: [\n'));
    expect(err.message).toMatch(/syntax\.yaml line \d+, column \d+: malformed YAML/);
    expect((await configError(join(dir, 'missing.yaml'))).problem).toMatch(/cannot read the file: ENOENT/);
  });

  it('requires at least one metric and a quantile inside (0, 1)', () => {
    expect(() => parseAnalysisConfig({ metrics: [] }, 'x.yaml')).toThrow(/x\.yaml metrics/);
    expect(() =>
      parseAnalysisConfig(
        { metrics: [{ name: 'p', kind: 'latency', quantile: 1, tolerance: { relative: 0.1 } }] },
        'x.yaml',
      ),
    ).toThrow(/metrics\[0\]\.quantile/);
  });
});

describe('analysis/schema.json', () => {
  it('equals the schema generated from the code (run `npx tsx src/config/generate-schema.ts`)', () => {
    expect(readFileSync(join(root, 'analysis/schema.json'), 'utf8')).toBe(analysisJsonSchemaText());
  });
  it('lists the metric kinds for editors', () => {
    expect(analysisJsonSchemaText()).toContain('"promql"');
  });
});

describe('latency metric with test: distribution', () => {
  const latency = { name: 'p50', kind: 'latency', quantile: 0.5, tolerance: { relative: 0.1 } } as const;
  const distribution = { name: 'dist', kind: 'latency', test: 'distribution' } as const;
  it('is accepted beside a metric with a tolerance, with no tolerance of its own', () => {
    const config = parseAnalysisConfig({ metrics: [latency, distribution] }, 'a.yaml');
    expect(config.metrics[1]).toMatchObject({ test: 'distribution', weight: 1, direction: 'increase' });
  });
  it('refuses a tolerance or a quantile on it, naming the path', () => {
    expect(() =>
      parseAnalysisConfig({ metrics: [latency, { ...distribution, tolerance: { relative: 0.1 } }] }, 'a.yaml'),
    ).toThrow(/metrics\[1\]\.tolerance.*non-inferiority is shown by the quantile metrics/);
    expect(() => parseAnalysisConfig({ metrics: [latency, { ...distribution, quantile: 0.9 }] }, 'a.yaml')).toThrow(
      /metrics\[1\]\.quantile/,
    );
  });
  it('refuses a stage of distribution tests only (nothing could show non-inferiority)', () => {
    expect(() => parseAnalysisConfig({ metrics: [distribution] }, 'a.yaml')).toThrow(/cannot promote alone/);
  });
  it('still requires a tolerance on quantile and geometric-mean latency metrics', () => {
    expect(() => parseAnalysisConfig({ metrics: [{ name: 'p50', kind: 'latency', quantile: 0.5 }] }, 'a.yaml')).toThrow(
      /metrics\[0\]\.tolerance/,
    );
  });
});

describe('did-you-mean for configuration keys', () => {
  it('suggests the key a typo meant, at any depth, before the problems it causes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'analysis-typo-'));
    const file = join(dir, 'typo.yaml');
    const cases: [string, string][] = [
      [
        'alpah: 0.05\nmetrics: [{ name: a, kind: errors, tolerance: { relative: 1 } }]\n',
        ' unknown key(s) "alpah"; did you mean "alpha"?',
      ],
      [
        'stage: { minDuraton: 30s }\nmetrics: [{ name: a, kind: errors, tolerance: { relative: 1 } }]\n',
        'stage: unknown key(s) "minDuraton"; did you mean "minDuration" or "maxDuration"?',
      ],
      [
        'metrics: [{ name: a, kind: latency, quantile: 0.5, tolerence: { relative: 0.1 } }]\n',
        'metrics[0]: unknown key(s) "tolerence"; did you mean "tolerance"?',
      ],
    ];
    for (const [text, message] of cases) {
      writeFileSync(file, text);
      expect(() => parseAnalysisConfig(parseYaml(text), file)).toThrow(message);
    }
    rmSync(dir, { recursive: true, force: true });
  });
});
