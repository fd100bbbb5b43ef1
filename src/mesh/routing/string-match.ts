/**
 * Istio's StringMatch (`exact` / `prefix` / `regex`) compiled once into a predicate. Istio hands
 * `regex` to Envoy's `safe_regex`, which is RE2 and matches the *whole* value: `canary-tester-[0-9]+`
 * must not match `xcanary-tester-7` or `canary-tester-7x`. Regexes are compiled with re2js, a port of
 * RE2, so RE2's syntax holds (`[[:digit:]]`, `\pL`, `(?i)`) and what RE2 refuses (look-ahead,
 * back-references) is refused at load time.
 * See https://istio.io/latest/docs/reference/config/networking/virtual-service/#StringMatch
 */
import { RE2JS } from 're2js';

export interface StringMatchSpec {
  exact?: string;
  prefix?: string;
  regex?: string;
}

/** Tests a value; `undefined` means the header or parameter is absent. */
export type StringPredicate = (value: string | undefined) => boolean;

export class InvalidMatchError extends Error {
  /** The field of the HTTPMatchRequest that holds the match (`headers.end-user`), when known. */
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Compiled RE2 patterns of one route table, by source text, so a pattern used twice compiles once. */
export type RegexCache = Map<string, RE2JS>;

/**
 * `ignoreCase` is VirtualService `ignoreUriCase`: Istio applies it to `exact` and `prefix` only, never
 * to `regex` (write `(?i)` in the pattern for that).
 */
export function compileStringMatch(
  spec: StringMatchSpec | null | undefined,
  ignoreCase = false,
  cache: RegexCache = new Map(),
): StringPredicate {
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
  const re = compileRe2(spec.regex as string, cache);
  return (v) => v !== undefined && re.matches(v);
}

/** Compiles an RE2 pattern (cached per table); InvalidMatchError says why RE2 refuses it. */
export function compileRe2(pattern: string, cache: RegexCache = new Map()): RE2JS {
  let re = cache.get(pattern);
  if (re) return re;
  try {
    re = RE2JS.compile(pattern);
  } catch (err) {
    throw new InvalidMatchError(
      `regex ${JSON.stringify(pattern)} is not valid RE2 syntax (Istio compiles regexes with RE2): ${(err as Error).message}`,
    );
  }
  cache.set(pattern, re);
  return re;
}
