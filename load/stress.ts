/**
 * Stress test: a ramping arrival rate (default 0 → 100/s over 30 s, → 500/s over 60 s, → 0 over
 * 30 s; override with STAGES) to find where latency or errors break; thresholds are loose on purpose
 * and abort the test once errors pass 20 %.
 */
import type { Options } from 'k6/options';
import { checkGateway, iterationSeq, scenarioFromEnv, sendPlanned, summaryOutputs, targetFromEnv } from './gateway.ts';
import type { GatewayData, SummaryData } from './gateway.ts';
import { profileFromEnv, trafficFromEnv } from './lib/traffic.ts';

const env: Record<string, string | undefined> = { PROFILE: 'ramping', STAGES: '30s:100,60s:500,30s:0', ...__ENV };
const model = trafficFromEnv(env);
const profile = profileFromEnv(env, { rate: 100, durationS: 120 });
const service = env.CANARY_SERVICE || 'account';

export const options: Options = {
  scenarios: { stress: scenarioFromEnv(env, profile, 'stress') },
  thresholds: {
    http_req_failed: [{ threshold: 'rate<0.2', abortOnFail: true, delayAbortEval: '10s' }],
    canary_request_duration: ['p(99)<5000'],
  },
};

export function setup(): GatewayData {
  return checkGateway(targetFromEnv(env));
}

export function stress(data: GatewayData): void {
  sendPlanned(model, data.target, iterationSeq(), service);
}

export function handleSummary(data: SummaryData): Record<string, string> {
  return summaryOutputs(data, env.SUMMARY_FILE);
}
