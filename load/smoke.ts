/**
 * Smoke test: a trickle (2 requests/s for 10 s by default) over the whole request mix; any error or a
 * p99 over 500 ms fails it. Run before a canary to know the gateway and every route answer.
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
const profile = profileFromEnv(__ENV, { rate: 2, durationS: 10 });
const service = __ENV.CANARY_SERVICE || 'account';

export const options: Options = {
  scenarios: { smoke: scenarioFromEnv(__ENV, profile, 'smoke') },
  thresholds: cohortThresholds(Number(__ENV.P99_MS || 500), 0.0001),
};

export function setup(): GatewayData {
  return checkGateway(targetFromEnv(__ENV));
}

export function smoke(data: GatewayData): void {
  sendPlanned(model, data.target, iterationSeq(), service);
}

export function handleSummary(data: SummaryData): Record<string, string> {
  return summaryOutputs(data, __ENV.SUMMARY_FILE);
}
