/**
 * Where each loaded object came from in its YAML text, so that an error at
 * `spec.http[0].route[1].weight` can also give the line to look at. Kept beside the objects (keyed
 * by the object itself) rather than in them, so the objects stay plain Kubernetes data.
 */
import { isNode, type Document, type LineCounter } from 'yaml';
import type { PathSegment } from './path.ts';

interface Source {
  document: Document;
  lines: LineCounter;
}

const sources = new WeakMap<object, Source>();

export function rememberSource(value: object, document: Document, lines: LineCounter): void {
  sources.set(value, { document, lines });
}

/**
 * The 1-based line of `path` inside the object loaded as `value`, or of its nearest ancestor that
 * exists (a missing required field points at the object that should hold it). Undefined when the
 * object was not loaded from a file.
 */
export function lineAt(value: object, path: readonly PathSegment[]): number | undefined {
  const source = sources.get(value);
  if (!source) return undefined;
  for (let depth = path.length; depth >= 0; depth--) {
    const node: unknown = source.document.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) return source.lines.linePos(node.range[0]).line;
  }
  return undefined;
}
