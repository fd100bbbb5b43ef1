/**
 * Istio's StringMatch (`exact` / `prefix` / `regex`) compiled once into a predicate. Istio compiles
 * `regex` with RE2 and Envoy's `safe_regex` matches the *whole* value, so the pattern is anchored here:
 * `canary-tester-[0-9]+` must not match `xcanary-tester-7` or `canary-tester-7x`.
 * See https://istio.io/latest/docs/reference/config/networking/virtual-service/#StringMatch
 */
export interface StringMatchSpec {
  exact?: string;
  prefix?: string;
  regex?: string;
}

/** Tests a value; `undefined` means the header or parameter is absent. */
export type StringPredicate = (value: string | undefined) => boolean;

export class InvalidMatchError extends Error {}

export function compileStringMatch(spec: StringMatchSpec | null | undefined, ignoreCase = false): StringPredicate {
  // An empty StringMatch (`{}`) matches any present value: Istio's "header present" idiom.
  if (!spec || (spec.exact === undefined && spec.prefix === undefined && spec.regex === undefined)) {
    return (v) => v !== undefined;
  }
  const kinds = ['exact', 'prefix', 'regex'].filter((k) => spec[k as keyof StringMatchSpec] !== undefined);
  if (kinds.length > 1) throw new InvalidMatchError(`give one of exact, prefix or regex, not ${kinds.join(' and ')}`);
  if (spec.exact !== undefined) {
    const want = ignoreCase ? spec.exact.toLowerCase() : spec.exact;
    return ignoreCase ? (v) => v !== undefined && v.toLowerCase() === want : (v) => v === want;
  }
  if (spec.prefix !== undefined) {
    const want = ignoreCase ? spec.prefix.toLowerCase() : spec.prefix;
    return ignoreCase
      ? (v) => v !== undefined && v.toLowerCase().startsWith(want)
      : (v) => v !== undefined && v.startsWith(want);
  }
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${spec.regex})$`, ignoreCase ? 'i' : '');
  } catch (err) {
    throw new InvalidMatchError(`regex ${JSON.stringify(spec.regex)} does not compile: ${(err as Error).message}`);
  }
  return (v) => v !== undefined && re.test(v);
}
