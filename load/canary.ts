/**
 * Canary traffic: the tagged cohorts at an open-model arrival rate (`constant-arrival-rate`, or
 * `ramping-arrival-rate` with PROFILE=ramping and STAGES=10s:100,…), thresholds per cohort.
 *
 *   k6 run -e TARGET=http://127.0.0.1:8080 -e RATE=200 -e DURATION=5m \
 *     -e COHORTS=user=1000:0.9,canary-tester=50:0.05,baseline-tester=50:0.05 load/canary.ts
 */
import type { Options } from 'k6/options';
import {
  checkGateway,
  cohortThresholds,
  iterationSeq,
  scenarioFromEnv,
  sendPlanned,
  summaryOutputs,
  targetFromEnv,
} from './gateway.ts';
import type { GatewayData, SummaryData } from './gateway.ts';
import { profileFromEnv, trafficFromEnv } from './lib/traffic.ts';

const model = trafficFromEnv(__ENV);
const profile = profileFromEnv(__ENV, { rate: 50, durationS: 60 });
const service = __ENV.CANARY_SERVICE || 'account';

export const options: Options = {
  scenarios: { canary: scenarioFromEnv(__ENV, profile, 'canary') },
  thresholds: cohortThresholds(Number(__ENV.P99_MS || 1000), Number(__ENV.MAX_ERROR_RATE || 0.05)),
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(99)'],
};

export function setup(): GatewayData {
  return checkGateway(targetFromEnv(__ENV));
}

export function canary(data: GatewayData): void {
  sendPlanned(model, data.target, iterationSeq(), service);
}

export function handleSummary(data: SummaryData): Record<string, string> {
  return summaryOutputs(data, __ENV.SUMMARY_FILE);
}
