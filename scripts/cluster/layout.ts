/**
 * Where the test cluster's pinned build lives. The binaries are built once into a cache outside the
 * clone, in a folder named after a hash of everything that decides what is built: the wrapper Go
 * modules (go.mod and go.sum of each), the files this project adds to the build (the TestRun CRD)
 * and the build scripts. `cluster/config/` (the project's KWOK stages, the data plane's RBAC) is read
 * at each start instead. A change to any of them gives a new folder; a folder is
 * used only once its COMPLETE marker (written last) exists.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLUSTER_SRC = join(REPO_ROOT, 'cluster');
/**
 * What the test cluster is configured with at each start, not built: the project's own KWOK stages
 * (`kwok/`) and the local data plane's RBAC (`rbac/`). Not hashed, so a change to them needs no rebuild.
 */
export const CLUSTER_CONFIG = join(CLUSTER_SRC, 'config');

/** The wrapper modules, each a folder of cluster/ with its own go.mod and go.sum. */
export const MODULES = ['kube', 'etcd', 'kwok', 'crds'] as const;

/** The five programs of the test cluster, all in bin/ of the build. */
export const BINARIES = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'] as const;
export type Binary = (typeof BINARIES)[number];

/** The root of every build: $SPRINCUBE_CLUSTER_CACHE, else $XDG_CACHE_HOME or ~/.cache, then sprincube-canary/cluster. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SPRINCUBE_CLUSTER_CACHE) return resolve(env.SPRINCUBE_CLUSTER_CACHE);
  const base = env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache');
  return join(base, 'sprincube-canary', 'cluster');
}

/** The files whose content decides the build, relative to the repository, sorted. */
export function pinnedFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (path !== CLUSTER_CONFIG) walk(path);
      } else if (/\.(mod|sum|ya?ml)$/.test(entry.name)) files.push(relative(REPO_ROOT, path));
    }
  };
  walk(CLUSTER_SRC);
  files.push('scripts/cluster/build.ts', 'scripts/cluster/kwok-stages.ts', 'scripts/cluster/layout.ts');
  return files.sort();
}

/** sha256 over the pinned files' names and contents; the first 16 hex digits name the build folder. */
export function pinsHash(): string {
  const hash = createHash('sha256');
  for (const file of pinnedFiles()) {
    hash.update(`${file}\0`);
    hash.update(readFileSync(join(REPO_ROOT, file)));
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

export interface BuildLayout {
  dir: string;
  bin: string;
  crds: string;
  kwokStages: string;
  complete: string;
}

export function buildLayout(dir = join(cacheRoot(), pinsHash())): BuildLayout {
  return {
    dir,
    bin: join(dir, 'bin'),
    crds: join(dir, 'share', 'crds'),
    kwokStages: join(dir, 'share', 'kwok'),
    complete: join(dir, 'COMPLETE'),
  };
}

/** The build for the current pins, or an error that says how to make it. */
export function requireBuild(layout = buildLayout()): BuildLayout {
  const missing = BINARIES.filter((name) => !existsSync(join(layout.bin, name)));
  if (!existsSync(layout.complete) || missing.length > 0) {
    throw new Error(
      `test cluster: no complete build at ${layout.dir}` +
        (missing.length > 0 && existsSync(layout.bin) ? ` (missing ${missing.join(', ')})` : '') +
        ': run `npm run cluster:build` (needs Go; it builds etcd, kube-apiserver, kube-controller-manager, ' +
        'kube-scheduler and kwok from the pins in cluster/)',
    );
  }
  return layout;
}

/** The Go command: $GO, else `go` on PATH, else /usr/local/go/bin/go. */
export function goCommand(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GO) return env.GO;
  for (const dir of (env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'go'))) return join(dir, 'go');
  }
  if (existsSync('/usr/local/go/bin/go')) return '/usr/local/go/bin/go';
  throw new Error('test cluster: `go` was not found on PATH nor at /usr/local/go/bin/go (set GO=/path/to/go)');
}
