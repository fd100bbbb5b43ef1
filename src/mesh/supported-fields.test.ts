import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.ts';
import { kindDefinition, knownKinds } from '../manifests/kinds.ts';
import { type JsonSchema, schemaOf } from '../manifests/strict-fields.ts';
import { checkMesh } from './mesh.ts';
import { FIELD_TABLES, fieldTableMarkdown, unsupportedFields } from './supported-fields.ts';

/** Every field path under `spec` of a schema: arrays are transparent, a map's key is `*`. */
function schemaPaths(schema: JsonSchema, at: string, out: Set<string>): void {
  const properties: Record<string, JsonSchema> = { ...schema.properties };
  for (const branch of [...(schema.oneOf ?? []), ...(schema.anyOf ?? []), ...(schema.allOf ?? [])])
    Object.assign(properties, branch.properties);
  for (const [name, child] of Object.entries(properties)) {
    const p = `${at}.${name}`;
    out.add(p);
    const node = child.type === 'array' && child.items ? child.items : child;
    schemaPaths(node, p, out);
    if (typeof node.additionalProperties === 'object') {
      const value = node.additionalProperties;
      if (value.properties || value.oneOf || value.anyOf) {
        out.add(`${p}.*`);
        schemaPaths(value, `${p}.*`, out);
      }
    }
  }
}

/** The schema paths of `kind` over every apiVersion the harness reads. */
function pathsOfKind(kind: string): Set<string> {
  const out = new Set<string>();
  for (const k of knownKinds().filter((k) => k.kind === kind)) {
    const spec = schemaOf(kindDefinition(k.apiVersion, k.kind)!.model).properties?.spec;
    if (spec) schemaPaths(spec, 'spec', out);
  }
  return out;
}

describe('every field of the Istio kinds is implemented or refused', () => {
  for (const [kind, table] of Object.entries(FIELD_TABLES)) {
    it(`${kind}: each schema field of @kubernetes-models/istio is listed (or lies under a refused one)`, () => {
      const paths = pathsOfKind(kind);
      expect(paths.size).toBeGreaterThan(3);
      const unlisted = [...paths].filter((p) => {
        if (table[p]) return false;
        // Under a refused field: covered by it.
        const parts = p.split('.');
        for (let i = parts.length - 1; i > 1; i--) {
          if (table[parts.slice(0, i).join('.')]?.support === 'refused') return false;
        }
        return true;
      });
      expect(unlisted, `fields of ${kind} neither implemented nor refused`).toEqual([]);
      // And the list names no field the schemas do not have (a typo would refuse nothing).
      const stale = Object.keys(table).filter((p) => !paths.has(p));
      expect(stale, `listed fields of ${kind} that no schema has`).toEqual([]);
    });
  }

  it('reads the apiVersions Istio documents: networking v1, v1beta1, v1alpha3 and security v1, v1beta1', () => {
    for (const kind of ['VirtualService', 'DestinationRule', 'Gateway', 'ServiceEntry'])
      for (const v of ['v1', 'v1beta1', 'v1alpha3'])
        expect(kindDefinition(`networking.istio.io/${v}`, kind), `${v} ${kind}`).toBeDefined();
    for (const kind of ['AuthorizationPolicy', 'PeerAuthentication'])
      for (const v of ['v1', 'v1beta1'])
        expect(kindDefinition(`security.istio.io/${v}`, kind), `${v} ${kind}`).toBeDefined();
  });

  it('docs/istio-fields.md is the list (regenerate with npx tsx scripts/istio-fields-doc.ts)', async () => {
    expect(await readFile('docs/istio-fields.md', 'utf8')).toBe(fieldTableMarkdown());
  });
});

describe('refusing what the local data plane does not implement', () => {
  const vs = (http: Record<string, unknown>) => ({
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'reviews' },
    spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews' } }] }, http] },
  });
  const route = { route: [{ destination: { host: 'reviews' } }] };
  const policy = (rule: Record<string, unknown>) => ({
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'deny' },
    spec: { action: 'DENY', rules: [rule] },
  });
  const paths = (o: { kind: string; spec?: unknown }) =>
    unsupportedFields(o).map((p) => `${p.path.join('.')}: ${p.expected}`);

  it('names the field of each one the issue found ignored, and says the local data plane does not support it', () => {
    const cases: [{ kind: string; spec?: unknown }, string][] = [
      [vs({ ...route, match: [{ port: 9080 }] }), 'spec.http.1.match.0.port'],
      [vs({ ...route, rewrite: { uri: '/v2' } }), 'spec.http.1.rewrite'],
      [vs({ ...route, headers: { request: { set: { a: 'b' } } } }), 'spec.http.1.headers'],
      [
        vs({ route: [{ destination: { host: 'reviews' }, headers: { request: { add: { a: 'b' } } } }] }),
        'spec.http.1.route.0.headers',
      ],
      [vs({ ...route, mirror: { host: 'reviews' } }), 'spec.http.1.mirror'],
      [vs({ ...route, fault: { abort: { grpcStatus: 'UNAVAILABLE' } } }), 'spec.http.1.fault.abort.grpcStatus'],
      [policy({ to: [{ operation: { ports: ['8080'] } }] }), 'spec.rules.0.to.0.operation.ports'],
      [policy({ from: [{ source: { requestPrincipals: ['*'] } }] }), 'spec.rules.0.from.0.source.requestPrincipals'],
      [policy({ to: [{ operation: { hosts: ['a'] } }] }), 'spec.rules.0.to.0.operation.hosts'],
      [policy({ from: [{ source: { ipBlocks: ['10.0.0.0/8'] } }] }), 'spec.rules.0.from.0.source.ipBlocks'],
      [
        {
          kind: 'DestinationRule',
          spec: { host: 'reviews', trafficPolicy: { connectionPool: { tcp: { maxConnections: 1 } } } },
        },
        'spec.trafficPolicy.connectionPool',
      ],
      [
        {
          kind: 'DestinationRule',
          spec: { host: 'reviews', subsets: [{ name: 'v1', trafficPolicy: { loadBalancer: { consistentHash: {} } } }] },
        },
        'spec.subsets.0.trafficPolicy.loadBalancer.consistentHash',
      ],
      [{ kind: 'PeerAuthentication', spec: { portLevelMtls: { '8080': { mode: 'DISABLE' } } } }, 'spec.portLevelMtls'],
      [
        { kind: 'Gateway', spec: { servers: [{ port: { number: 443, protocol: 'HTTPS' }, hosts: ['*'] }] } },
        'spec.servers.0.port.protocol',
      ],
      [
        {
          kind: 'Gateway',
          spec: { servers: [{ port: { number: 80, protocol: 'HTTP' }, hosts: ['bookinfo.example.com'] }] },
        },
        'spec.servers.0.hosts',
      ],
      [{ kind: 'ServiceEntry', spec: { hosts: ['a.example'], location: 'MESH_INTERNAL' } }, 'spec.location'],
      [{ kind: 'Sidecar', spec: {} }, 'kind'],
    ];
    for (const [object, field] of cases) {
      const found = paths(object);
      expect(found, field).toHaveLength(1);
      expect(found[0], field).toMatch(
        new RegExp(`^${field.replaceAll('.', '\\.')}: the local data plane does not support`),
      );
    }
  });

  it('accepts what it implements: matches, weights, faults, retries, the load balancer, ALLOW and DENY rules', () => {
    expect(
      paths(
        vs({
          name: 'r',
          match: [
            {
              uri: { prefix: '/' },
              headers: { 'end-user': { regex: '(?i)jason' } },
              withoutHeaders: { x: {} },
              ignoreUriCase: true,
            },
          ],
          route: [{ destination: { host: 'reviews', subset: 'v1', port: { number: 9080 } }, weight: 3 }],
          fault: {
            delay: { fixedDelay: '1s', percentage: { value: 5 } },
            abort: { httpStatus: 503, percentage: { value: 1 } },
          },
          timeout: '1s',
          retries: { attempts: 2, perTryTimeout: '1s', retryOn: '5xx' },
        }),
      ),
    ).toEqual([]);
    expect(
      paths({
        kind: 'DestinationRule',
        spec: {
          host: 'r',
          trafficPolicy: { loadBalancer: { simple: 'RANDOM' } },
          subsets: [{ name: 'v1', labels: { version: 'v1' } }],
        },
      }),
    ).toEqual([]);
    expect(
      paths(
        policy({
          from: [{ source: { principals: ['cluster.local/ns/a/sa/b'], notNamespaces: ['x'] } }],
          to: [{ operation: { methods: ['GET'], notPaths: ['/admin*'] } }],
        }),
      ),
    ).toEqual([]);
  });
});

describe('the mesh refuses them before it starts', () => {
  const committed = path.resolve('manifests');
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'mesh-fields-'));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('accepts the committed manifests', async () => {
    await expect(checkMesh({ manifestsDir: committed })).resolves.toBeDefined();
  });

  it('names the file, object and field of a refused field, with its line', async () => {
    const dir = await mkdtemp(path.join(scratch, 'case-'));
    await cp(committed, dir, { recursive: true });
    const file = path.join(dir, 'istio/gateway.yaml');
    const text = await readFile(file, 'utf8');
    const edited = text.replace('      timeout: 15s\n', '      timeout: 15s\n      rewrite:\n        uri: /v2\n');
    expect(edited).not.toBe(text);
    await writeFile(file, edited);
    const err = await checkMesh({ manifestsDir: dir }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^${file.replaceAll('/', '\\/')} VirtualService/sprincube/bff at spec\\.http\\[0\\]\\.rewrite \\(line \\d+\\): the local data plane does not support rewrite`,
      ),
    );
  });
});
