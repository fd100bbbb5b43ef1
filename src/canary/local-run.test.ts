import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, UsageError } from '../core/errors.ts';
import { runCommand, type RunCommandOptions } from './local-run.ts';

const dir = mkdtempSync(join(tmpdir(), 'canary-local-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const options = (over: Partial<RunCommandOptions> = {}): RunCommandOptions => ({
  engine: 'local',
  config: 'analysis/local.yaml',
  manifests: 'manifests',
  scenario: 'healthy',
  baseline: 'baseline',
  confirm: false,
  dryRun: true,
  reportsDir: join(dir, 'reports'),
  json: false,
  flags: {},
  ...over,
});

function io() {
  let out = '';
  const err: string[] = [];
  return {
    io: {
      out: (t: string) => void (out += t),
      err: (l: string) => void err.push(l),
      isTty: false,
      renderReports: null,
    },
    out: () => out,
    err,
  };
}

describe('runCommand', () => {
  it('--dry-run prints the plan, exits 0 and writes nothing', async () => {
    const t = io();
    expect(await runCommand(options({ stages: [10, 20] }), t.io)).toBe(0);
    expect(t.out()).toMatch(/weighted-10[\s\S]*weighted-20[\s\S]*dry run: nothing was started/);
    expect(existsSync(join(dir, 'reports'))).toBe(false);
  });

  it('--dry-run --json prints the plan as JSON', async () => {
    const t = io();
    await runCommand(options({ json: true, baseline: 'primary' }), t.io);
    const plan = JSON.parse(t.out());
    expect(plan.comparison.biased).toBe(true);
    expect(plan.stages[0].name).toBe('header');
  });

  it('--confirm without a TTY is refused before anything starts (exit 3)', async () => {
    const t = io();
    await expect(runCommand(options({ dryRun: false, confirm: true }), t.io)).rejects.toThrow(UsageError);
    expect(t.err).toEqual([]);
  });

  it('a bad analysis file is a ConfigError naming the file and the path', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'metrics:\n  - name: x\n    kind: throughput\n    tolerance: { relative: 0.1 }\n');
    await expect(runCommand(options({ config: bad }), io().io)).rejects.toThrow(ConfigError);
    await expect(runCommand(options({ config: bad }), io().io)).rejects.toThrow(/metrics\[0\]\.kind/);
  });

  it('the Kubernetes engine: --dry-run shows every engine decision and needs no cluster', async () => {
    const t = io();
    const o = options({
      engine: 'kubernetes',
      context: 'no-such-context',
      kubeconfig: join(dir, 'absent-kubeconfig'),
      namespace: 'staging',
      image: { service: 'account', ref: 'registry.example/account:v2' },
      gateway: 'http://127.0.0.1:8080',
      prometheus: 'http://127.0.0.1:9090',
    });
    expect(await runCommand(o, t.io)).toBe(0);
    expect(t.out()).toContain(
      `cluster: context no-such-context of ${join(dir, 'absent-kubeconfig')}, namespace staging`,
    );
    expect(t.out()).toMatch(/canary +account-canary v2 registry\.example\/account:v2/);
    expect(t.out()).toContain('through http://127.0.0.1:8080); telemetry: Prometheus at http://127.0.0.1:9090');
    const json = io();
    await runCommand({ ...o, json: true }, json.io);
    expect(JSON.parse(json.out())).toMatchObject({
      platform: { engine: 'kubernetes', context: 'no-such-context', namespace: 'staging' },
      load: { driver: 'builtin', gateway: 'http://127.0.0.1:8080' },
      telemetry: { source: 'prometheus', url: 'http://127.0.0.1:9090' },
    });
  });

  it('a run on a cluster with a kubeconfig that is not there is a ConfigError naming it, before anything starts', async () => {
    const o = options({
      engine: 'kubernetes',
      dryRun: false,
      kubeconfig: join(dir, 'absent-kubeconfig'),
      gateway: 'http://127.0.0.1:8080',
      prometheus: 'http://127.0.0.1:9090',
    });
    await expect(runCommand(o, io().io)).rejects.toThrow(ConfigError);
    await expect(runCommand(o, io().io)).rejects.toThrow(/absent-kubeconfig: cannot read the kubeconfig/);
  });

  it('--service of a service with one Deployment is refused on the local engine, naming the flag', async () => {
    await expect(runCommand(options({ service: 'friend' }), io().io)).rejects.toThrow(
      /--service: the local engine needs Deployments friend-primary, friend-baseline and friend-canary/,
    );
  });

  it('a stage minimum above its maximum is refused naming the flag', async () => {
    await expect(runCommand(options({ minDuration: 30, maxDuration: 10 }), io().io)).rejects.toThrow(/--max-duration/);
  });
});
