/** The docs a user's clone has: the README and the analysis files point inside the repository. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './testing/canary-bin.ts';

const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

describe('docs inside the repository', () => {
  it('the README starts with npx canary (and npm link) and links the configuration and statistics pages', () => {
    const readme = read('README.md');
    const firstBlock = readme.slice(0, readme.indexOf('## '));
    expect(firstBlock).toContain('npx canary run');
    expect(firstBlock).toContain('npm link');
    expect(firstBlock).toContain('(docs/configuration.md)');
    expect(firstBlock).toContain('(docs/statistics.md)');
    expect(readme).not.toMatch(/(?<!docs\/)STATS\.md/);
    expect(existsSync(join(ROOT, 'docs/configuration.md'))).toBe(true);
  });

  it('every analysis file names the configuration reference, and none the shared STATS.md', () => {
    for (const f of ['analysis/default.yaml', 'analysis/local.yaml', 'analysis/promql/istio.yaml']) {
      expect(read(f), f).toContain('docs/configuration.md');
      expect(read(f), f).not.toContain('STATS.md');
    }
  });

  it('the configuration reference covers every top-level key of the schema', () => {
    const schema = JSON.parse(read('analysis/schema.json')) as { properties: Record<string, unknown> };
    const doc = read('docs/configuration.md');
    for (const key of Object.keys(schema.properties)) expect(doc, key).toContain(`\`${key}`);
  });
});
