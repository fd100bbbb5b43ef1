/**
 * Rules the committed manifests keep beyond their schemas: the histogram buckets agree with the
 * data plane's, the harness's RBAC is least privilege and namespaced, no credentials are in the
 * tree, only the bff may call account and friend, and the Prometheus configuration is one
 * Prometheus accepts.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Caller, type Kind, KUBE_CALLS, RESOURCES } from '../platform/kube-client.ts';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { LATENCY_BUCKETS_MS } from '../telemetry/buckets.ts';
import { loadManifests } from './load.ts';
import type { ManifestSet } from './types.ts';

const run = promisify(execFile);
let set: ManifestSet;

beforeAll(async () => {
  set = await loadManifests('manifests');
});

type Rule = { apiGroups?: string[]; resources?: string[]; verbs?: string[] };
const objectsOfKind = (kind: string) => set.all.filter((o) => o.value.kind === kind);

describe('histogram buckets', () => {
  it('every Deployment sets sidecar.istio.io/statsHistogramBuckets to LATENCY_BUCKETS_MS for the Istio metrics', () => {
    expect(set.deployments.length).toBeGreaterThan(0);
    for (const { origin, value } of set.deployments) {
      const annotation = value.spec?.template.metadata?.annotations?.['sidecar.istio.io/statsHistogramBuckets'];
      expect(annotation, origin.object).toBeDefined();
      expect(JSON.parse(annotation!), origin.object).toEqual({ istiocustom: [...LATENCY_BUCKETS_MS] });
    }
  });
});

describe('RBAC', () => {
  it('has no cluster-scoped roles or bindings anywhere in the tree', () => {
    expect(objectsOfKind('ClusterRole').map((o) => o.origin.object)).toEqual([]);
    expect(objectsOfKind('ClusterRoleBinding').map((o) => o.origin.object)).toEqual([]);
  });

  it('grants no wildcard apiGroup, resource or verb', () => {
    const roles = objectsOfKind('Role');
    expect(roles.length).toBeGreaterThan(0);
    for (const { origin, value } of roles) {
      for (const rule of (value as { rules?: Rule[] }).rules ?? []) {
        expect(
          [...(rule.verbs ?? []), ...(rule.resources ?? []), ...(rule.apiGroups ?? [])],
          origin.object,
        ).not.toContain('*');
      }
    }
  });

  it('gives the harness exactly the verbs it uses, in its namespace, bound to its ServiceAccount', () => {
    const role = objectsOfKind('Role').find((o) => o.value.metadata?.name === 'canary-harness');
    expect(role?.value.metadata?.namespace).toBe('sprincube');
    // What the code calls as the harness (the client refuses anything else; rbac.test.ts shows each is used).
    expect(grantsOf((role!.value as unknown as { rules: Rule[] }).rules)).toEqual(callsOf('run'));
    const binding = objectsOfKind('RoleBinding').find((o) => o.value.metadata?.name === 'canary-harness')!
      .value as unknown as {
      roleRef: { kind: string; name: string };
      subjects: { kind: string; name: string; namespace: string }[];
    };
    expect(binding.roleRef).toMatchObject({ kind: 'Role', name: 'canary-harness' });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'canary-harness', namespace: 'sprincube' }]);
    expect(objectsOfKind('ServiceAccount').map((o) => o.origin.object)).toContain(
      'ServiceAccount/sprincube/canary-harness',
    );
  });
});

describe("the test cluster's data plane RBAC (cluster/config/rbac/data-plane.yaml)", () => {
  it('grants exactly what the following data plane calls, namespaced, bound to its ServiceAccount', async () => {
    const docs = parseAllDocuments(await readFile('cluster/config/rbac/data-plane.yaml', 'utf8')).map(
      (d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string }; [k: string]: unknown },
    );
    expect(docs.map((d) => `${d.kind}/${d.metadata.namespace}/${d.metadata.name}`)).toEqual([
      'ServiceAccount/sprincube/canary-data-plane',
      'Role/sprincube/canary-data-plane',
      'RoleBinding/sprincube/canary-data-plane',
    ]);
    const role = docs[1] as unknown as { rules: Rule[] };
    for (const rule of role.rules)
      expect([...(rule.verbs ?? []), ...(rule.resources ?? []), ...(rule.apiGroups ?? [])]).not.toContain('*');
    expect(grantsOf(role.rules)).toEqual(callsOf('follow'));
    expect(docs[2]).toMatchObject({
      roleRef: { kind: 'Role', name: 'canary-data-plane' },
      subjects: [{ kind: 'ServiceAccount', name: 'canary-data-plane', namespace: 'sprincube' }],
    });
  });
});

/** `group/resource` → sorted verbs, of a Role's rules. */
function grantsOf(rules: Rule[]): Record<string, string[]> {
  const grants: Record<string, string[]> = {};
  for (const rule of rules)
    for (const group of rule.apiGroups ?? [])
      for (const resource of rule.resources ?? []) grants[`${group}/${resource}`] = [...(rule.verbs ?? [])].sort();
  return grants;
}

/** `group/resource` → sorted verbs, of what a caller of the client may send. */
function callsOf(caller: Caller): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(KUBE_CALLS[caller]).map(([kind, verbs]) => {
      const t = RESOURCES[kind as Kind];
      return [`${t.group}/${t.plural}`, [...(verbs as readonly string[])].sort()];
    }),
  );
}

describe('credentials', () => {
  it('no Secret is committed, and every password-like variable comes from a secretKeyRef', () => {
    expect(objectsOfKind('Secret').map((o) => o.origin.object)).toEqual([]);
    const sensitive = /PASSWORD|SECRET|TOKEN|DATABASE_URL|CREDENTIAL/i;
    let checked = 0;
    for (const { origin, value } of set.deployments) {
      for (const container of value.spec?.template.spec?.containers ?? []) {
        for (const variable of container.env ?? []) {
          if (!sensitive.test(variable.name)) continue;
          checked++;
          expect(variable.value, `${origin.object} ${variable.name}`).toBeUndefined();
          expect(variable.valueFrom?.secretKeyRef, `${origin.object} ${variable.name}`).toBeDefined();
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(3); // friend's DATABASE_URL and MySQL's two passwords
  });

  it('no file in the tree embeds a URL with a password', async () => {
    const files = (await readdir('manifests', { recursive: true })).filter((f) => /\.ya?ml$/.test(f));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const text = await readFile(path.join('manifests', file), 'utf8');
      expect(text, file).not.toMatch(/:\/\/[^\s:/@]+:[^\s@$]+@/);
    }
  });
});

describe('authorization', () => {
  it('account and friend accept GET and POST under /api/ from the bff principal only', () => {
    const principal = 'cluster.local/ns/sprincube/sa/bff';
    for (const app of ['account', 'friend']) {
      const policies = set.authorizationPolicies.filter((p) => p.value.spec?.selector?.matchLabels?.app === app);
      expect(
        policies.map((p) => p.value.spec?.action ?? 'ALLOW'),
        app,
      ).toEqual(['ALLOW']);
      expect(policies[0].value.spec?.rules).toEqual([
        {
          from: [{ source: { principals: [principal] } }],
          to: [{ operation: { methods: ['GET', 'POST'], paths: ['/api/*'] } }],
        },
      ]);
    }
    const bff = set.deployments.find((d) => d.value.metadata?.name === 'bff')!;
    expect(bff.value.spec?.template.spec?.serviceAccountName).toBe('bff');
  });
});

describe('Prometheus scrape configuration', () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'prometheus-config-'));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  function config(): { scrape_configs: Record<string, unknown>[] } {
    const map = objectsOfKind('ConfigMap').find((o) => o.value.metadata?.name === 'prometheus-config');
    expect(map, 'ConfigMap prometheus-config').toBeDefined();
    return parse((map!.value as unknown as { data: Record<string, string> }).data['prometheus.yml']);
  }

  it('discovers pods in the sprincube namespace and follows the prometheus.io annotations Istio sets', () => {
    const [job] = config().scrape_configs;
    expect(job.kubernetes_sd_configs).toEqual([{ role: 'pod', namespaces: { names: ['sprincube', 'istio-system'] } }]);
    const relabel = job.relabel_configs as { source_labels?: string[]; action?: string; target_label?: string }[];
    expect(relabel).toContainEqual(
      expect.objectContaining({
        source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scrape'],
        action: 'keep',
      }),
    );
    expect(relabel.map((r) => r.target_label)).toEqual(expect.arrayContaining(['__metrics_path__', '__address__']));
  });

  it('is accepted by promtool (with static targets standing in for Kubernetes discovery)', async () => {
    // Debian builds Prometheus without Kubernetes discovery, so promtool checks everything else:
    // the relabel rules, their regexes and the global settings.
    const parsed = config();
    for (const job of parsed.scrape_configs) {
      delete job.kubernetes_sd_configs;
      job.static_configs = [{ targets: ['127.0.0.1:15020'] }];
    }
    const file = path.join(scratch, 'prometheus.yml');
    await writeFile(file, stringify(parsed));
    const { stdout } = await run('promtool', ['check', 'config', file]);
    expect(stdout).toMatch(/SUCCESS/);
  });
});
