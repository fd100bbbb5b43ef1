/** How objects are named in messages and matched across the set. */

/** The namespace an object lands in; `default` when the manifest leaves it out, as kubectl would. */
export function namespaceOf(object: { metadata?: { namespace?: string } }): string {
  return object.metadata?.namespace ?? 'default';
}
