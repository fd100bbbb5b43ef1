/**
 * Small builders for the canary tests: a plan with short stages, measurements and assessments. Test
 * support only; nothing here is used by the harness itself.
 */
import type { StageAssessment, StageDecision } from '../../judge/verdict.ts';
import type { Measurement, WorkloadMeasurement } from '../../telemetry/measurement.ts';
import { planRun, type PlanDefaults, type PlanFlags, type TargetFacts } from '../plan.ts';
import type { CanaryPlan } from '../plan-types.ts';

export const TARGET: TargetFacts = {
  service: 'account',
  host: 'account',
  virtualService: 'account',
  namespace: 'sprincube',
  routeTimeout: '10s',
  workloads: { primary: 'account-primary', baseline: 'account-baseline', canary: 'account-canary' },
  primaryVersion: 'v1',
  primaryEnv: { LATENCY: 'lognormal:median=20,sigma=0.3', ERROR_RATE: '0' },
};

export const DEFAULTS: PlanDefaults = {
  intervalMs: 1000,
  header: { minDurationMs: 2000, maxDurationMs: 10_000, minSamples: 100 },
  weighted: { minDurationMs: 2000, maxDurationMs: 10_000, minSamples: 100 },
  inconclusive: 'rollback',
};

export function testPlan(flags: Partial<PlanFlags> = {}, defaults: PlanDefaults = DEFAULTS): CanaryPlan {
  return planRun(
    {
      engine: 'local',
      configFile: 'analysis/default.yaml',
      scenario: 'healthy',
      baseline: 'baseline',
      confirm: false,
      stagesPercent: [5, 50],
      ...flags,
    },
    defaults,
    TARGET,
  );
}

export function workloadMeasurement(workload: string, requests: number, errors = 0): WorkloadMeasurement {
  return {
    workload,
    requests,
    errors,
    byClass: { '2xx': requests - errors, '5xx': errors },
    latency: { bounds: [10, 20, 40], counts: [0, requests, 0] },
  };
}

export function measurement(at: number, status: Measurement['status'] = 'ok', perArm = 100): Measurement {
  return {
    start: at - 1000,
    end: at,
    status,
    reason: status === 'error' ? 'GET http://127.0.0.1:1/metrics: connection refused' : undefined,
    workloads:
      status === 'error'
        ? {}
        : {
            'account-primary': workloadMeasurement('account-primary', perArm * 8),
            'account-baseline': workloadMeasurement('account-baseline', perArm),
            'account-canary': workloadMeasurement('account-canary', perArm),
          },
    scalars: {},
  };
}

export function assessment(decision: StageDecision, over: Partial<StageAssessment> = {}): StageAssessment {
  return {
    decision,
    reason: over.reason ?? `judge says ${decision}`,
    responsible: over.responsible ?? (decision === 'rollback' ? ['latency-p99'] : []),
    metrics: [],
    srm: null,
    combined: { eValue: 1, threshold: 20, alpha: 0.05 },
    elapsedMs: 0,
    minDurationMs: 0,
    maxDurationMs: 0,
    samples: { baseline: 1000, canary: 1000, minimum: 100 },
    ...over,
  };
}
