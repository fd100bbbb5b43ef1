import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.ts';
import { findManifestProblems, loadManifests, validateManifests, type ManifestProblem } from './load.ts';
import { formatPath } from './path.ts';

const committed = path.resolve('manifests');
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'manifests-test-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A copy of the committed manifests with one file edited; fails if the edit did not apply. */
async function brokenCopy(file: string, edit: (text: string) => string): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(path.join(scratch, 'case-'));
  await cp(committed, dir, { recursive: true });
  const target = path.join(dir, file);
  const before = await readFile(target, 'utf8');
  const after = edit(before);
  expect(after, `the edit of ${file} changed nothing`).not.toBe(before);
  await writeFile(target, after);
  return { dir, file: target };
}

async function problemsOf(dir: string): Promise<ManifestProblem[]> {
  return findManifestProblems(await loadManifests(dir));
}

function summary(problems: ManifestProblem[]): string[] {
  return problems.map((p) => `${p.origin.file} ${p.origin.object} ${formatPath(p.path)}: ${p.expected}`);
}

describe('the committed manifests', () => {
  it('validate against the schemas and each other', async () => {
    const set = await loadManifests(committed);
    expect(summary(findManifestProblems(set))).toEqual([]);
    // An empty or half-read set is not a pass: the objects the mesh needs are there.
    expect(set.deployments.map((d) => d.value.metadata?.name).sort()).toEqual([
      'account-baseline',
      'account-canary',
      'account-primary',
      'bff',
      'friend',
      'mysql',
    ]);
    expect(set.virtualServices.map((v) => v.value.metadata?.name).sort()).toEqual(['account', 'bff', 'friend']);
    expect(set.destinationRules.map((v) => v.value.metadata?.name).sort()).toEqual(['account', 'bff', 'friend']);
    expect(set.gateways).toHaveLength(1);
    expect(set.authorizationPolicies.length).toBeGreaterThanOrEqual(2);
    const kinds = new Set(set.all.map((o) => o.value.kind));
    for (const kind of [
      'ServiceEntry',
      'WorkloadGroup',
      'WorkloadEntry',
      'PersistentVolumeClaim',
      'ConfigMap',
      'Role',
      'RoleBinding',
    ]) {
      expect(kinds, kind).toContain(kind);
    }
  });

  it('route the end-user cohorts to the canary and baseline subsets, everyone else to the primary', async () => {
    const set = await loadManifests(committed);
    const account = set.virtualServices.find((v) => v.value.metadata?.name === 'account')!.value;
    const routes = account.spec?.http ?? [];
    expect(
      routes.map((r) => [r.match?.[0]?.headers?.['end-user']?.regex, r.route?.map((d) => d.destination?.subset)]),
    ).toEqual([
      ['canary-tester-[0-9]+', ['canary']],
      ['baseline-tester-[0-9]+', ['baseline']],
      [undefined, ['primary']],
    ]);
    const rule = set.destinationRules.find((r) => r.value.metadata?.name === 'account')!.value;
    expect(rule.spec?.subsets?.map((s) => [s.name, s.labels])).toEqual([
      ['primary', { track: 'primary' }],
      ['baseline', { track: 'baseline' }],
      ['canary', { track: 'canary' }],
    ]);
  });
});

describe('a broken manifest is reported with its file, object and path', () => {
  it('an unknown field in an Istio object', async () => {
    const { dir, file } = await brokenCopy('istio/account-routes.yaml', (t) =>
      t.replace('          weight: 100\n', '          weight: 100\n          wieght: 100\n'),
    );
    const [problem, ...rest] = await problemsOf(dir);
    expect(rest).toEqual([]);
    expect(problem.origin.file).toBe(file);
    expect(problem.origin.object).toBe('VirtualService/sprincube/account');
    expect(formatPath(problem.path)).toBe('spec.http[2].route[0].wieght');
    expect(problem.expected).toMatch(/unknown field "wieght"/);
    const lines = (await readFile(file, 'utf8')).split('\n');
    expect(lines[problem.line! - 1]).toContain('wieght: 100');
  });

  it('an unknown field in a Kubernetes object', async () => {
    const { dir, file } = await brokenCopy('app/bff.yaml', (t) =>
      t.replace('  replicas: 1\n', '  replicas: 1\n  replica: 2\n'),
    );
    const problems = await problemsOf(dir);
    expect(summary(problems)).toEqual([
      expect.stringContaining(`${file} Deployment/sprincube/bff spec.replica: expected one of the fields`),
    ]);
  });

  it('a value of the wrong type', async () => {
    const { dir, file } = await brokenCopy('istio/account-routes.yaml', (t) => t.replace('weight: 100', 'weight: ten'));
    const problems = await problemsOf(dir);
    expect(summary(problems)).toEqual([
      `${file} VirtualService/sprincube/account spec.http[2].route[0].weight: expected integer, got string "ten"`,
    ]);
  });

  it('a wrong type in a Kubernetes object, through validateManifests as a ConfigError', async () => {
    const { dir, file } = await brokenCopy('app/friend.yaml', (t) =>
      t.replace('containerPort: 8080', 'containerPort: http'),
    );
    const set = await loadManifests(dir);
    let thrown: unknown;
    try {
      validateManifests(set);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const error = thrown as ConfigError;
    expect(error.exitCode).toBe(3);
    expect(error.file).toBe(file);
    expect(error.where).toMatch(
      /^Deployment\/sprincube\/friend at spec\.template\.spec\.containers\[0\]\.ports\[0\]\.containerPort \(line \d+\)$/,
    );
    expect(error.problem).toBe('expected integer, got string "http"');
  });

  it('Istio objects written with networking.istio.io/v1 and security.istio.io/v1, as current Istio examples are', async () => {
    const routes = await brokenCopy('istio/account-routes.yaml', (t) =>
      t.replaceAll('networking.istio.io/v1beta1', 'networking.istio.io/v1'),
    );
    expect(summary(await problemsOf(routes.dir))).toEqual([]);
    const policies = await brokenCopy('istio/authorization.yaml', (t) =>
      t.replaceAll('security.istio.io/v1beta1', 'security.istio.io/v1'),
    );
    expect(summary(await problemsOf(policies.dir))).toEqual([]);
    const typo = await brokenCopy('istio/account-routes.yaml', (t) =>
      t.replace('networking.istio.io/v1beta1', 'networking.istio.io/v1').replace('  hosts:\n', '  hostz:\n'),
    );
    expect(summary(await problemsOf(typo.dir))[0]).toMatch(
      /VirtualService\/sprincube\/account spec\.hostz: expected one of the fields/,
    );
  });

  it('a negative weight', async () => {
    const { dir, file } = await brokenCopy('istio/account-routes.yaml', (t) =>
      t.replace(
        '            subset: primary\n          weight: 100\n',
        '            subset: primary\n          weight: 110\n        - destination:\n            host: account\n            subset: canary\n          weight: -10\n',
      ),
    );
    expect(summary(await problemsOf(dir))).toEqual([
      `${file} VirtualService/sprincube/account spec.http[2].route[1].weight: expected a weight >= 0, got -10`,
    ]);
  });

  it('weights that add up to 0 (weights that do not sum to 100 are normalised, as Istio does)', async () => {
    const split = (a: number, b: number) => (t: string) =>
      t.replace(
        '            subset: primary\n          weight: 100\n',
        `            subset: primary\n          weight: ${a}\n        - destination:\n            host: account\n            subset: canary\n          weight: ${b}\n`,
      );
    const normalised = await brokenCopy('istio/account-routes.yaml', split(90, 20));
    expect(summary(await problemsOf(normalised.dir))).toEqual([]);
    const { dir, file } = await brokenCopy('istio/account-routes.yaml', split(0, 0));
    expect(summary(await problemsOf(dir))).toEqual([
      `${file} VirtualService/sprincube/account spec.http[2].route: expected the weights of 2 destinations to add up to more than 0, got 0`,
    ]);
  });

  it('a route to a port the Service does not have', async () => {
    const { dir, file } = await brokenCopy('istio/gateway.yaml', (t) => t.replace('number: 8080', 'number: 9080'));
    expect(summary(await problemsOf(dir))).toEqual([
      expect.stringMatching(
        /VirtualService\/sprincube\/bff spec\.http\[0\]\.route\[0\]\.destination\.port\.number: expected a port of Service Service\/sprincube\/bff \(8080\), got 9080/,
      ),
    ]);
    expect(file).toContain('gateway.yaml');
  });

  it('a route to a subset no DestinationRule defines', async () => {
    const { dir, file } = await brokenCopy('istio/account-routes.yaml', (t) =>
      t.replace('subset: canary\n', 'subset: canary-v3\n'),
    );
    const problems = await problemsOf(dir);
    expect(summary(problems)).toEqual([
      `${file} VirtualService/sprincube/account spec.http[0].route[0].destination.subset: expected a subset defined for host "account", got "canary-v3" (DestinationRule/sprincube/account defines primary, baseline, canary)`,
    ]);
  });

  it('a route to a host that no Service or ServiceEntry defines', async () => {
    const { dir } = await brokenCopy('istio/friend-routes.yaml', (t) =>
      t.replace('            host: friend\n', '            host: frend\n'),
    );
    const problems = summary(await problemsOf(dir));
    expect(problems[0]).toMatch(
      /VirtualService\/sprincube\/friend spec\.http\[0\]\.route\[0\]\.destination\.host: expected the host of a Service or ServiceEntry/,
    );
    expect(problems[1]).toMatch(/destination\.subset: expected a DestinationRule for host "frend"/);
  });

  it('a VirtualService bound to a Gateway that does not exist', async () => {
    const { dir } = await brokenCopy('istio/gateway.yaml', (t) =>
      t.replace('    - sprincube-gateway\n', '    - sprincube-gw\n'),
    );
    expect(summary(await problemsOf(dir))).toEqual([
      expect.stringMatching(/VirtualService\/sprincube\/bff spec\.gateways\[0\]: expected the name of a Gateway/),
    ]);
  });

  it('an AuthorizationPolicy whose selector matches no workload', async () => {
    const { dir } = await brokenCopy('istio/authorization.yaml', (t) =>
      t.replace('      app: account\n', '      app: acount\n'),
    );
    expect(summary(await problemsOf(dir))).toEqual([
      expect.stringMatching(
        /AuthorizationPolicy\/sprincube\/account-from-bff spec\.selector\.matchLabels: expected labels that select at least one workload/,
      ),
    ]);
  });

  it('a DestinationRule subset whose labels match no workload', async () => {
    const { dir } = await brokenCopy('istio/account-routes.yaml', (t) =>
      t.replace('        track: baseline\n', '        track: basline\n'),
    );
    expect(summary(await problemsOf(dir))).toEqual([
      expect.stringMatching(
        /DestinationRule\/sprincube\/account spec\.subsets\[1\]\.labels: expected labels that select/,
      ),
    ]);
  });

  it('a header regex that does not compile', async () => {
    const { dir } = await brokenCopy('istio/account-routes.yaml', (t) =>
      t.replace('"canary-tester-[0-9]+"', '"canary-tester-[0-9+"'),
    );
    expect(summary(await problemsOf(dir))).toEqual([
      expect.stringMatching(
        /spec\.http\[0\]\.match\[0\]\.headers\["end-user"\]\.regex: expected a valid RE2 regular expression/,
      ),
    ]);
  });

  it('a regex RE2 refuses (look-ahead), and RE2 syntax JavaScript lacks accepted', async () => {
    const lookahead = await brokenCopy('istio/account-routes.yaml', (t) =>
      t.replace('"canary-tester-[0-9]+"', '"canary-tester-(?=[0-9])[0-9]+"'),
    );
    expect(summary(await problemsOf(lookahead.dir))).toEqual([
      expect.stringMatching(
        /VirtualService\/sprincube\/account spec\.http\[0\]\.match\[0\]\.headers\["end-user"\]\.regex: expected a valid RE2 regular expression .*\(\?=/,
      ),
    ]);
    const posix = await brokenCopy('istio/account-routes.yaml', (t) =>
      t.replace('"canary-tester-[0-9]+"', '"(?i)canary-tester-[[:digit:]]+"'),
    );
    expect(summary(await problemsOf(posix.dir))).toEqual([]);
  });

  it('a StringMatch with two forms at once', async () => {
    const { dir } = await brokenCopy('istio/gateway.yaml', (t) =>
      t.replace('            prefix: /api\n', '            prefix: /api\n            exact: /api\n'),
    );
    expect(summary(await problemsOf(dir))).toEqual([
      expect.stringMatching(
        /VirtualService\/sprincube\/bff spec\.http\[0\]\.match\[0\]\.uri: expected exactly one of exact, prefix, regex/,
      ),
    ]);
  });

  it('an unknown kind', async () => {
    const { dir } = await brokenCopy('istio/friend-routes.yaml', (t) =>
      t.replace('kind: VirtualService', 'kind: VirtualServce'),
    );
    expect(summary(await problemsOf(dir))).toEqual([
      expect.stringMatching(
        /VirtualServce\/sprincube\/friend kind: expected a kind the harness knows: for networking.istio.io\/v1beta1 one of VirtualService, DestinationRule/,
      ),
    ]);
  });

  it('two objects with the same kind and name', async () => {
    const { dir } = await brokenCopy('istio/friend-routes.yaml', (t) => t.replace('  name: bff\n', '  name: friend\n'));
    const problems = summary(await problemsOf(dir));
    expect(problems).toContainEqual(
      expect.stringMatching(
        /DestinationRule\/sprincube\/friend metadata\.name: expected a name not used by another DestinationRule/,
      ),
    );
  });

  it('malformed YAML, with the line', async () => {
    // Line 11 of the file is `  http:`; a tab cannot indent YAML.
    const { dir, file } = await brokenCopy('istio/friend-routes.yaml', (t) =>
      t.replace('    - friend\n  http:\n', '    - friend\n\thttp:\n'),
    );
    const error = await loadManifests(dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).file).toBe(file);
    expect((error as ConfigError).where).toBe('line 11, column 1');
    expect((error as ConfigError).problem).toMatch(/^malformed YAML: /);
  });

  it('a document that is not an object', async () => {
    const { dir, file } = await brokenCopy('app/namespace.yaml', (t) => `${t}---\n- just\n- a list\n`);
    await expect(loadManifests(dir)).rejects.toThrow(`${file} document 2 (line 10): expected a Kubernetes object`);
  });

  it('a directory without manifests', async () => {
    const empty = await mkdtemp(path.join(scratch, 'empty-'));
    await expect(loadManifests(empty)).rejects.toThrow(/expected at least one \*\.yaml or \*\.yml file/);
    await expect(loadManifests(path.join(empty, 'missing'))).rejects.toThrow(
      /expected a directory of Kubernetes\/Istio manifests/,
    );
  });

  it('reports every problem, and validateManifests says how many more there are', async () => {
    const { dir } = await brokenCopy('istio/account-routes.yaml', (t) =>
      t.replace('weight: 100', 'weight: ten').replace('timeout: 10s', 'timeout: 10s\n      timout: 10s'),
    );
    const set = await loadManifests(dir);
    expect(findManifestProblems(set)).toHaveLength(2);
    expect(() => validateManifests(set)).toThrow(/\[and 1 more problem\]$/);
  });
});
