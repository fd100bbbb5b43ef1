/**
 * AuthorizationPolicy enforcement at a workload's inbound sidecar, pure. The part the manifests use:
 * `selector.matchLabels`, `action` ALLOW / DENY, `rules[].from[].source` (principals, namespaces and
 * their `not…` forms), `rules[].to[].operation` (methods, paths and their `not…` forms).
 *
 * Istio's evaluation order (https://istio.io/latest/docs/concepts/security/#implicit-enablement):
 * any matching DENY policy denies; with no ALLOW policy for the workload the request is allowed;
 * otherwise it is allowed only if some ALLOW policy matches. Inside a policy, rules are ORed; inside a
 * rule, `from`, `to` and `when` are ANDed; the entries of `from` (or `to`) are ORed; the fields of one
 * source (or operation) are ANDed; the values of one field are ORed. A policy with no rules matches
 * nothing (so an ALLOW policy without rules denies everything). Values match exactly, or with one `*`
 * as a prefix, a suffix, or alone.
 */
import { ConfigError } from '../../core/errors.ts';
import type { IAuthorizationPolicy } from '../../manifests/types.ts';
import { ROOT_NAMESPACE } from '../config.ts';

export interface AuthzRequest {
  /** The peer's principal (`cluster.local/ns/<ns>/sa/<sa>`); undefined for a plain-text caller. */
  principal?: string;
  namespace?: string;
  method: string;
  /** Path with or without a query string; the query is ignored, as Istio does. */
  path: string;
}

export interface AuthzDecision {
  allowed: boolean;
  /** `DENY ns/name`, `ALLOW ns/name`, `no ALLOW policy matched`, or `no policy`. */
  reason: string;
}

export interface AuthzTarget {
  namespace: string;
  labels: Readonly<Record<string, string>>;
}

export type Authorizer = (req: AuthzRequest) => AuthzDecision;

type ValuePredicate = (v: string | undefined) => boolean;
type RulePredicate = (req: AuthzRequest, path: string) => boolean;

interface PolicyView {
  metadata?: { name?: string; namespace?: string };
  spec?: {
    selector?: { matchLabels?: Record<string, string> };
    action?: string;
    rules?: {
      from?: {
        source?: { principals?: string[]; notPrincipals?: string[]; namespaces?: string[]; notNamespaces?: string[] };
      }[];
      to?: { operation?: { methods?: string[]; notMethods?: string[]; paths?: string[]; notPaths?: string[] } }[];
      when?: unknown[];
    }[];
  };
}

const ALLOW_ALL: AuthzDecision = { allowed: true, reason: 'no policy' };

/**
 * Compiles the policies that apply to one workload: those in its namespace (or the root namespace)
 * whose selector matches its labels. Throws ConfigError for what the local engine cannot honour.
 */
export function compileAuthorizer(
  policies: readonly IAuthorizationPolicy[],
  target: AuthzTarget,
  originOf: (kind: string, name: string) => string | undefined = () => undefined,
): Authorizer {
  const deny: { name: string; matches: RulePredicate }[] = [];
  const allow: { name: string; matches: RulePredicate }[] = [];
  for (const raw of policies as readonly PolicyView[]) {
    const ns = raw.metadata?.namespace ?? 'default';
    const name = raw.metadata?.name ?? '(unnamed)';
    const fail = (path: string, problem: string): never => {
      throw new ConfigError(
        originOf('AuthorizationPolicy', name) ?? `AuthorizationPolicy ${name}`,
        `AuthorizationPolicy/${ns}/${name} ${path}`,
        problem,
      );
    };
    if (ns !== target.namespace && ns !== ROOT_NAMESPACE) continue;
    const selector = raw.spec?.selector?.matchLabels ?? {};
    if (!Object.entries(selector).every(([k, v]) => target.labels[k] === v)) continue;
    const action = raw.spec?.action ?? 'ALLOW';
    if (action !== 'ALLOW' && action !== 'DENY') {
      if (action === 'AUDIT') continue; // AUDIT never changes the decision.
      fail('spec.action', `${action} is not supported by the local data plane (ALLOW, DENY, AUDIT)`);
    }
    const rules = (raw.spec?.rules ?? []).map((rule, i): RulePredicate => {
      if (rule.when && rule.when.length > 0)
        fail(`spec.rules[${i}].when`, 'conditions are not supported by the local data plane');
      const from = (rule.from ?? []).map((f) => {
        const s = f.source ?? {};
        const checks = [field(s.principals, false), field(s.notPrincipals, true)].filter(isPredicate);
        const nsChecks = [field(s.namespaces, false), field(s.notNamespaces, true)].filter(isPredicate);
        return (req: AuthzRequest) => checks.every((c) => c(req.principal)) && nsChecks.every((c) => c(req.namespace));
      });
      const to = (rule.to ?? []).map((t) => {
        const o = t.operation ?? {};
        const methods = [field(o.methods, false), field(o.notMethods, true)].filter(isPredicate);
        const paths = [field(o.paths, false), field(o.notPaths, true)].filter(isPredicate);
        return (req: AuthzRequest, path: string) => methods.every((c) => c(req.method)) && paths.every((c) => c(path));
      });
      return (req, path) =>
        (from.length === 0 || from.some((f) => f(req))) && (to.length === 0 || to.some((t) => t(req, path)));
    });
    const matches: RulePredicate = (req, path) => rules.some((r) => r(req, path));
    (action === 'DENY' ? deny : allow).push({ name: `${ns}/${name}`, matches });
  }
  if (deny.length === 0 && allow.length === 0) return () => ALLOW_ALL;
  return (req) => {
    const q = req.path.indexOf('?');
    const path = q < 0 ? req.path : req.path.slice(0, q);
    for (const p of deny) if (p.matches(req, path)) return { allowed: false, reason: `DENY ${p.name}` };
    if (allow.length === 0) return ALLOW_ALL;
    for (const p of allow) if (p.matches(req, path)) return { allowed: true, reason: `ALLOW ${p.name}` };
    return { allowed: false, reason: 'no ALLOW policy matched' };
  };
}

function isPredicate(p: ValuePredicate | undefined): p is ValuePredicate {
  return p !== undefined;
}

/** A field's values ORed; `negate` for the `not…` fields. Unset field: no constraint. */
function field(values: string[] | undefined, negate: boolean): ValuePredicate | undefined {
  if (!values || values.length === 0) return undefined;
  const preds = values.map(wildcard);
  return negate
    ? (v) => v === undefined || !preds.some((p) => p(v))
    : (v) => v !== undefined && preds.some((p) => p(v));
}

function wildcard(pattern: string): (v: string) => boolean {
  // Istio also accepts principals written with the spiffe:// scheme.
  const p = pattern.startsWith('spiffe://') ? pattern.slice('spiffe://'.length) : pattern;
  if (p === '*') return () => true;
  if (p.endsWith('*')) {
    const prefix = p.slice(0, -1);
    return (v) => v.startsWith(prefix);
  }
  if (p.startsWith('*')) {
    const suffix = p.slice(1);
    return (v) => v.endsWith(suffix);
  }
  return (v) => v === p;
}
