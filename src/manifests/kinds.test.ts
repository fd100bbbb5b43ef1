import { describe, expect, it } from 'vitest';
import { kindDefinition, knownKinds } from './kinds.ts';
import { hasTypeMap, schemaOf, unknownFieldsBySchema, unknownFieldsByTypeMap } from './strict-fields.ts';

describe('the kinds the harness knows', () => {
  it('each has a field source for unknown-field checks; a library upgrade that hides one fails here', () => {
    expect(knownKinds().length).toBeGreaterThan(20);
    for (const { apiVersion, kind } of knownKinds()) {
      const definition = kindDefinition(apiVersion, kind)!;
      expect(typeof definition.model, `${apiVersion} ${kind}`).toBe('function');
      if (definition.fields.kind === 'typeMap')
        expect(hasTypeMap(definition.fields.typeName), `${apiVersion} ${kind}`).toBe(true);
      else
        expect(Object.keys(schemaOf(definition.model).properties ?? {}), `${apiVersion} ${kind}`).toEqual(
          expect.arrayContaining(['spec', 'metadata']),
        );
    }
    expect(kindDefinition('networking.istio.io/v1beta1', 'VirtualServce')).toBeUndefined();
    expect(kindDefinition('v1', 'Deployment')).toBeUndefined();
  });

  it('finds unknown fields in metadata, in maps of objects and in lists', () => {
    const virtualService = kindDefinition('networking.istio.io/v1beta1', 'VirtualService')!;
    const problems = unknownFieldsBySchema(schemaOf(virtualService.model), {
      metadata: { name: 'x', lables: {} },
      spec: {
        hosts: ['a'],
        http: [
          {
            match: [{ headers: { 'end-user': { exact: 'u', exactly: 'v' } } }],
            route: [{ destination: { host: 'a', subset: 'b' }, weigth: 1 }],
          },
        ],
      },
    });
    expect(problems.map((p) => p.path)).toEqual([
      ['metadata', 'lables'],
      ['spec', 'http', 0, 'match', 0, 'headers', 'end-user', 'exactly'],
      ['spec', 'http', 0, 'route', 0, 'weigth'],
    ]);
    const deployment = unknownFieldsByTypeMap('V1Deployment', {
      metadata: { labels: { 'any-label': 'is fine' } },
      spec: { template: { spec: { containers: [{ name: 'a', env: [{ name: 'X', valeu: '1' }] }] } } },
    });
    expect(deployment.map((p) => p.path)).toEqual([['spec', 'template', 'spec', 'containers', 0, 'env', 0, 'valeu']]);
  });
});
