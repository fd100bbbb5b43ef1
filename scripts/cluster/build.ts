/**
 * `npm run cluster:build`: builds the test cluster's programs from the pinned wrapper modules in
 * cluster/ into the cache (scripts/cluster/layout.ts), copies the CRDs and KWOK stages beside them,
 * and writes COMPLETE last. Does nothing when COMPLETE exists. The last line printed is the folder.
 *
 * Go checks every module against the wrapper's go.sum (-mod=readonly: a go.sum that lacks an entry
 * fails the build rather than being rewritten). The kube programs build in one `go build` so the
 * packages they share compile once.
 */
import { spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { withoutFailingPods } from './kwok-stages.ts';
import { BINARIES, buildLayout, CLUSTER_SRC, goCommand, pinsHash } from './layout.ts';

/** KWOK's own default stages, from its module's kustomize/stage folder. */
const KWOK_STAGES = [
  'node/fast/node-initialize.yaml',
  'node/heartbeat/node-heartbeat.yaml',
  'pod/fast/pod-ready.yaml',
  'pod/fast/pod-complete.yaml',
  'pod/fast/pod-delete.yaml',
];

function run(
  command: string,
  args: string[],
  cwd: string,
  capture = false,
): Promise<{ stdout: string; seconds: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'],
      env: {
        ...process.env,
        GOFLAGS: `${process.env.GOFLAGS ?? ''} -mod=readonly`.trim(),
        // The machine's own Go (1.26.8 here): an older one fails naming the version go.mod needs
        // instead of fetching a toolchain. Set GOTOOLCHAIN=go1.27.3 in the environment to change it.
        GOTOOLCHAIN: process.env.GOTOOLCHAIN ?? 'local',
      },
    });
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve({ stdout, seconds: (Date.now() - started) / 1000 });
      else
        reject(
          new Error(`cluster:build: \`${command} ${args.join(' ')}\` in ${cwd} failed (${signal ?? `exit ${code}`})`),
        );
    });
  });
}

/** The folder of a module in the module cache, downloaded and checked against the wrapper's go.sum. */
async function moduleDir(go: string, wrapper: string, module: string): Promise<{ dir: string; version: string }> {
  const { stdout } = await run(go, ['mod', 'download', '-json', module], join(CLUSTER_SRC, wrapper), true);
  const info = JSON.parse(stdout) as { Dir?: string; Version?: string; Error?: string };
  if (info.Error || !info.Dir || !info.Version) {
    throw new Error(`cluster:build: module ${module} (cluster/${wrapper}/go.mod): ${info.Error ?? 'no folder'}`);
  }
  return { dir: info.Dir, version: info.Version };
}

function dirSize(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  let total = 0;
  for (const name of readdirSync(path)) total += dirSize(join(path, name));
  return total;
}

/**
 * Other builds in the cache (earlier pins) take about 370 MiB each: keep the newest one besides the
 * current build (switching between two branches then costs nothing) and remove the rest.
 */
function pruneOldBuilds(current: string): void {
  const root = dirname(current);
  const others = readdirSync(root)
    .map((name) => join(root, name))
    // A folder without COMPLETE may be another build under way: left alone.
    .filter((dir) => dir !== current && existsSync(join(dir, 'COMPLETE')))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  for (const dir of others.slice(1)) {
    rmSync(dir, { recursive: true, force: true });
    console.log(`cluster:build: removed the older build ${dir}`);
  }
}

async function main(): Promise<void> {
  const layout = buildLayout();
  if (existsSync(layout.complete)) {
    console.log(`cluster:build: up to date (pins ${pinsHash()})`);
    console.log(layout.dir);
    return;
  }
  const go = goCommand();
  const started = Date.now();
  const goVersion = (await run(go, ['env', 'GOVERSION'], CLUSTER_SRC, true)).stdout.trim();
  console.log(`cluster:build: building into ${layout.dir} with ${goVersion} (${go})`);
  rmSync(layout.dir, { recursive: true, force: true });
  for (const dir of [layout.bin, layout.crds, layout.kwokStages]) mkdirSync(dir, { recursive: true });

  const build = ['build', '-trimpath', '-ldflags=-s -w'];
  const timings: Record<string, number> = {};
  console.log('cluster:build: kube-apiserver, kube-controller-manager, kube-scheduler (the long one)');
  timings.kube = (
    await run(
      go,
      [
        ...build,
        '-o',
        `${layout.bin}/`,
        'k8s.io/kubernetes/cmd/kube-apiserver',
        'k8s.io/kubernetes/cmd/kube-controller-manager',
        'k8s.io/kubernetes/cmd/kube-scheduler',
      ],
      join(CLUSTER_SRC, 'kube'),
    )
  ).seconds;
  console.log('cluster:build: etcd');
  timings.etcd = (
    await run(go, [...build, '-o', join(layout.bin, 'etcd'), 'go.etcd.io/etcd/server/v3'], join(CLUSTER_SRC, 'etcd'))
  ).seconds;
  console.log('cluster:build: kwok');
  timings.kwok = (
    await run(go, [...build, '-o', join(layout.bin, 'kwok'), 'sigs.k8s.io/kwok/cmd/kwok'], join(CLUSTER_SRC, 'kwok'))
  ).seconds;
  for (const name of BINARIES) {
    if (!existsSync(join(layout.bin, name))) throw new Error(`cluster:build: ${name} was not built into ${layout.bin}`);
  }

  const istio = await moduleDir(go, 'crds', 'istio.io/api');
  copyFileSync(join(istio.dir, 'kubernetes', 'customresourcedefinitions.gen.yaml'), join(layout.crds, 'istio.yaml'));
  copyFileSync(join(CLUSTER_SRC, 'crds', 'k6-testrun.yaml'), join(layout.crds, 'k6-testrun.yaml'));

  const kwok = await moduleDir(go, 'kwok', 'sigs.k8s.io/kwok');
  for (const file of KWOK_STAGES) {
    const text = readFileSync(join(kwok.dir, 'kustomize', 'stage', file), 'utf8');
    const name = file.split('/').pop() as string;
    writeFileSync(join(layout.kwokStages, name), name === 'pod-ready.yaml' ? withoutFailingPods(text) : text);
  }

  const seconds = Math.round((Date.now() - started) / 1000);
  const bytes = dirSize(layout.dir);
  const manifest = {
    pins: pinsHash(),
    go: goVersion,
    modules: { istio: istio.version, kwok: kwok.version },
    seconds,
    timings,
    bytes,
  };
  writeFileSync(join(layout.dir, 'build.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(layout.complete, `${new Date().toISOString()}\n`);
  pruneOldBuilds(layout.dir);
  console.log(`cluster:build: done in ${seconds} s, ${(bytes / 2 ** 20).toFixed(0)} MiB in ${layout.dir}`);
  console.log(layout.dir);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
