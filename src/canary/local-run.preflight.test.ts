/**
 * What `canary run` refuses before anything starts: a reports directory that cannot take the record
 * (issue case 5) and manifests or routes the mesh would reject (case 9), with no run directory and no
 * history row left behind.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, UsageError } from '../core/errors.ts';
import { runCommand, type RunCommandOptions } from './local-run.ts';

const dir = mkdtempSync(join(tmpdir(), 'canary-preflight-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const options = (over: Partial<RunCommandOptions> = {}): RunCommandOptions => ({
  engine: 'local',
  config: 'analysis/local.yaml',
  manifests: 'manifests',
  scenario: 'healthy',
  baseline: 'baseline',
  confirm: false,
  dryRun: false,
  reportsDir: join(dir, 'reports'),
  json: false,
  flags: {},
  ...over,
});

function io() {
  const err: string[] = [];
  return { io: { out: () => {}, err: (l: string) => void err.push(l), isTty: false, renderReports: null }, err };
}

describe('canary run refuses before anything starts', () => {
  it('a reports directory that cannot be created: exit 3 naming --reports-dir, nothing deployed', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a directory\n');
    const t = io();
    const err = await runCommand(options({ reportsDir: join(file, 'reports') }), t.io).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/^--reports-dir: cannot create .*a-file\/reports \(ENOTDIR/);
    expect((err as Error).message).toMatch(/nothing was started/);
    expect(t.err.some((l) => /deploying/.test(l))).toBe(false);
  });

  it('a history database that cannot be written: exit 3 naming it, nothing deployed', async () => {
    const reports = join(dir, 'history-is-a-dir');
    mkdirSync(join(reports, 'history.sqlite'), { recursive: true });
    const t = io();
    const err = await runCommand(options({ reportsDir: reports }), t.io).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/cannot write .*history\.sqlite \(EISDIR/);
    expect(t.err.some((l) => /deploying/.test(l))).toBe(false);
  });

  it('a broken VirtualService: ConfigError naming the file, no run directory, no history row', async () => {
    const manifests = join(dir, 'manifests');
    cpSync('manifests', manifests, { recursive: true });
    const routes = join(manifests, 'istio', 'friend-routes.yaml');
    writeFileSync(
      routes,
      readFileSync(routes, 'utf8').replace('subset: v1\n      timeout', 'subset: v9\n      timeout'),
    );
    const reports = join(dir, 'reports-broken');
    const t = io();
    const err = await runCommand(options({ manifests, reportsDir: reports }), t.io).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/friend-routes\.yaml/);
    expect((err as Error).message).toMatch(/v9/);
    expect(existsSync(reports)).toBe(false);
    expect(t.err.some((l) => /deploying/.test(l))).toBe(false);
  });
});
