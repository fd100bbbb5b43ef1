/**
 * Paths inside a manifest object, written the way people read them in kubectl's and istioctl's
 * messages: `spec.http[0].route[1].weight`, `metadata.annotations["sidecar.istio.io/inject"]`.
 */
export type PathSegment = string | number;

const plainKey = /^[A-Za-z_$][\w$]*$/;

export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (plainKey.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out === '' ? '(the object)' : out;
}

/** Segments of a JSON pointer (RFC 6901), as Ajv reports them in `instancePath`. */
export function fromJsonPointer(pointer: string): PathSegment[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((raw) => raw.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((segment) => (/^(0|[1-9]\d*)$/.test(segment) ? Number(segment) : segment));
}
