/** The plan of a Kubernetes run for the engine's tests: the account service of `manifests/`, fast defaults given by the test. */
import { type PlanDefaults, type PlanFlags, planRun } from '../../canary/plan.ts';
import type { CanaryPlan } from '../../canary/plan-types.ts';
import { DEFAULTS } from '../../canary/testing/fixtures.ts';
import { readTargetFacts } from '../target-facts.ts';

/** Flags every Kubernetes test run shares; a test adds the image, stages or driver it needs. */
export const KUBE_TEST_FLAGS = {
  engine: 'kubernetes',
  configFile: 'analysis/default.yaml',
  scenario: 'healthy',
  baseline: 'baseline',
  confirm: false,
  gateway: 'http://127.0.0.1:8080',
  prometheus: 'http://127.0.0.1:9090',
} as const satisfies Partial<PlanFlags>;

export function kubeTestPlan(
  flags: Partial<PlanFlags> = {},
  defaults: PlanDefaults = DEFAULTS,
  manifestsDir = 'manifests',
): CanaryPlan {
  return planRun({ ...KUBE_TEST_FLAGS, ...flags }, defaults, readTargetFacts(manifestsDir, 'account'));
}
