/**
 * The CLI habits people bring from kubectl and k6, checked on the real binary: help and version,
 * examples, completion, did-you-mean, one name per flag meaning, one duration syntax.
 */
import { describe, expect, it } from 'vitest';
import { canaryBin } from './testing/canary-bin.ts';

const COMMANDS = ['run', 'mesh', 'deploy', 'route', 'promote', 'rollback', 'load', 'analyze', 'compare', 'report'];

describe('canary help, version and completion', { timeout: 180_000 }, () => {
  it('-h is --help, and the top-level help lists the commands with durations, exit codes and docs', () => {
    const r = canaryBin(['-h']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('canary <command> [flags]');
    for (const c of COMMANDS) expect(r.out).toMatch(new RegExp(`canary ${c}\\b`));
    expect(r.out).toContain('Durations: 500ms, 30s, 5m, 1m30s or bare seconds');
    expect(r.out).toContain('docs/configuration.md');
  });

  it('every command has an Examples block in its help', () => {
    for (const c of COMMANDS) {
      const r = canaryBin([c, '--help']);
      expect(r.code, c).toBe(0);
      expect(r.out, c).toMatch(/\nExamples:\n {2}canary /);
    }
  });

  it('lists deploy as usable now that the Kubernetes engine exists', () => {
    expect(canaryBin(['--help']).out).toMatch(/canary deploy +apply the reference app to a cluster/);
  });

  it('canary version prints the name, the version and Node', () => {
    const r = canaryBin(['version']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`sprincube-canary 0.1.0 (Node ${process.version})\n`);
  });

  it('canary completion prints a shell completion script, and completes commands and flags', () => {
    const script = canaryBin(['completion']);
    expect(script.code).toBe(0);
    expect(script.out).toContain('###-begin-canary-completions-###');
    expect(canaryBin(['--get-yargs-completions', 'canary', 'comp']).out.split('\n')).toContain('compare');
    expect(canaryBin(['--get-yargs-completions', 'canary', 'run', '--']).out.split('\n')).toContain('--compare-with');
  });
});

describe('canary mistakes', { timeout: 180_000 }, () => {
  it('suggests the command a typo meant', () => {
    const r = canaryBin(['comapre']);
    expect(r.code).toBe(3);
    expect(r.err).toBe("canary: unknown command 'comapre'; did you mean 'compare'? (see canary --help)\n");
  });

  it('names an unknown flag once, with the flag it most likely meant', () => {
    const r = canaryBin(['run', '--dry-run', '--bogus-flag', '--scenaro', 'slow']);
    expect(r.code).toBe(3);
    expect(r.err).toBe('canary: unknown flags --bogus-flag, --scenaro (did you mean --scenario?) (see --help)\n');
    expect(r.err).not.toContain('bogusFlag');
  });

  it('--no-local means the current kubeconfig context, never a silent local run: a cluster run names what it lacks', () => {
    const r = canaryBin(['run', '--no-local', '--dry-run']);
    expect(r.code).toBe(3);
    expect(r.err).toContain('canary: --gateway: the builtin driver sends load from this machine');
  });

  it('refuses the old --baseline with a hint naming the flag it became, in every command', () => {
    const cases: [string[], string][] = [
      [['run', '--baseline', 'primary', '--dry-run'], 'use --compare-with baseline|primary'],
      [['compare', '--baseline', 'a.json', '--canary-file', 'b.json'], 'use --baseline-file FILE'],
      [
        [
          'analyze',
          '--prometheus',
          'http://127.0.0.1:9',
          '--service',
          'account',
          '--start',
          'now-5m',
          '--end',
          'now',
          '--baseline',
          'x',
        ],
        'use --baseline-workload NAME',
      ],
    ];
    for (const [args, hint] of cases) {
      const r = canaryBin(args);
      expect(r.code, args.join(' ')).toBe(3);
      expect(r.err).toContain(`canary: --baseline: renamed: ${hint}`);
    }
  });
});

describe('one duration syntax', { timeout: 180_000 }, () => {
  it('run accepts 2s, 500ms, 1m and bare seconds where it took only numbers', () => {
    const r = canaryBin(['run', '--dry-run', '--interval', '2s', '--min-duration', '30', '--max-duration', '1m']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('judge looks every 2 s');
    expect(r.out).toMatch(/30 s\.\.60 s/);
  });

  it('run and analyze refuse a bad duration with the same words', () => {
    const run = canaryBin(['run', '--dry-run', '--interval', '2x']);
    const analyze = canaryBin([
      'analyze',
      '--prometheus',
      'http://127.0.0.1:9',
      '--service',
      'account',
      '--start',
      'now-5m',
      '--end',
      'now',
      '--interval',
      '2x',
    ]);
    expect(run.code).toBe(3);
    expect(analyze.code).toBe(3);
    const expected =
      'canary: --interval: expected a duration like 500ms, 30s, 5m, 1m30s or bare seconds (90), got "2x"\n';
    expect(run.err).toBe(expected);
    expect(analyze.err).toBe(expected);
  });
});
