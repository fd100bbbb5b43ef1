import { describe, expect, it } from 'vitest';
import { formatPath, fromJsonPointer } from './path.ts';

describe('manifest paths', () => {
  it('reads Ajv instance paths (RFC 6901 pointers, ~1 for / and ~0 for ~)', () => {
    expect(fromJsonPointer('')).toEqual([]);
    expect(fromJsonPointer('/spec/http/0/route/12/weight')).toEqual(['spec', 'http', 0, 'route', 12, 'weight']);
    expect(fromJsonPointer('/metadata/annotations/sidecar.istio.io~1inject')).toEqual([
      'metadata',
      'annotations',
      'sidecar.istio.io/inject',
    ]);
    expect(fromJsonPointer('/a~0b/007')).toEqual(['a~b', '007']);
  });

  it('writes them as people read them', () => {
    expect(formatPath(['spec', 'http', 0, 'route', 1, 'weight'])).toBe('spec.http[0].route[1].weight');
    expect(formatPath(['metadata', 'annotations', 'sidecar.istio.io/inject'])).toBe(
      'metadata.annotations["sidecar.istio.io/inject"]',
    );
    expect(formatPath(['spec', 'http', 0, 'match', 0, 'headers', 'end-user', 'regex'])).toBe(
      'spec.http[0].match[0].headers["end-user"].regex',
    );
    expect(formatPath([])).toBe('(the object)');
  });
});
