/**
 * The real bundler (esbuild runs as a child process, hence e2e): every script of `load/` becomes
 * one ES module whose only imports are k6's own, as a TestRun's ConfigMap needs.
 */
import { describe, expect, it } from 'vitest';
import { bundleLoadScript } from './k6-operator.ts';

describe('bundleLoadScript', () => {
  it.each(['load/canary.ts', 'load/smoke.ts', 'load/stress.ts'])(
    '%s bundles to one module importing only k6',
    async (file) => {
      const js = await bundleLoadScript(file);
      const imports = [...js.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
      expect(imports.length).toBeGreaterThan(0);
      expect(imports.every((i) => i === 'k6' || i?.startsWith('k6/'))).toBe(true);
      // k6 reads `options` (scenarios, thresholds) from the module.
      expect(js).toMatch(/export \{[^}]*\boptions\b/);
      expect(js).not.toMatch(/: (string|number)\b\)/);
    },
  );
});
