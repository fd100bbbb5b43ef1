/**
 * The services' image, checked without a Docker daemon: the Dockerfile's entry point exists, the
 * build context keeps what it copies, and everything the entry point loads at run time is a
 * production dependency (the image installs with `npm ci --omit=dev`, so a devDependency
 * reachable from the entry would crash the pod at start).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

let dockerfile: string;
let dockerignore: string[];
let dependencies: Set<string>;

beforeAll(async () => {
  dockerfile = await readFile('Dockerfile', 'utf8');
  dockerignore = (await readFile('.dockerignore', 'utf8'))
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { dependencies: Record<string, string> };
  dependencies = new Set(Object.keys(pkg.dependencies));
});

function entryPoint(): string {
  const cmd = /^CMD (\[.*\])$/m.exec(dockerfile);
  expect(cmd, 'a CMD in exec form').not.toBeNull();
  const argv = JSON.parse(cmd![1]) as string[];
  expect(argv.slice(0, 3)).toEqual(['node', '--import', 'tsx']);
  expect(dependencies, 'tsx must be a production dependency').toContain('tsx');
  return argv[3];
}

/** Package names imported at run time (type-only imports are erased by tsx) by `file` and the modules it reaches. */
async function runtimePackages(entry: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const seen = new Set<string>();
  const pending = [path.resolve(entry)];
  const specifier =
    /^\s*(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = await readFile(file, 'utf8');
    for (const match of text.matchAll(specifier)) {
      const target = match[1] ?? match[2];
      if (target.startsWith('.')) pending.push(path.resolve(path.dirname(file), target));
      else if (!target.startsWith('node:') && !builtinModules.includes(target)) {
        const name = target.startsWith('@') ? target.split('/').slice(0, 2).join('/') : target.split('/')[0];
        if (!found.has(name)) found.set(name, path.relative('.', file));
      }
    }
  }
  return found;
}

describe('the services image', () => {
  it('builds on node:20-slim with production dependencies only', () => {
    expect(dockerfile).toMatch(/^FROM node:20-slim\b/m);
    expect(dockerfile).toMatch(/RUN npm ci --omit=dev\b/);
    expect(dockerfile).toMatch(/^USER node$/m);
  });

  it('starts an entry point that exists', () => {
    expect(existsSync(entryPoint()), entryPoint()).toBe(true);
  });

  it('copies only what the build context keeps', () => {
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1].split(/\s+/));
    expect(copied).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'bin', 'src']));
    for (const source of copied) {
      expect(existsSync(source), source).toBe(true);
      expect(dockerignore, source).not.toContain(source);
    }
    expect(dockerignore).toEqual(expect.arrayContaining(['node_modules', '.git', '**/*.test.ts']));
  });

  it('needs no devDependency at run time', async () => {
    const packages = await runtimePackages(entryPoint());
    expect(packages.size).toBeGreaterThan(0);
    const missing = [...packages]
      .filter(([name]) => !dependencies.has(name))
      .map(([name, file]) => `${name} (imported by ${file})`);
    expect(missing).toEqual([]);
  });
});
