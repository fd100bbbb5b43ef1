/** The plan as people read it: what `--dry-run` prints. */
import { describeRoute } from './routes.ts';
import type { CanaryPlan } from './plan-types.ts';

export function formatPlan(plan: CanaryPlan): string {
  const s = (ms: number) => `${+(ms / 1000).toFixed(1)} s`;
  const lines = [
    `canary plan (${plan.engine} engine, scenario ${plan.scenario})`,
    plan.platform.engine === 'kubernetes'
      ? `  cluster: context ${plan.platform.context ?? '(current)'}${plan.platform.kubeconfig ? ` of ${plan.platform.kubeconfig}` : ''}, namespace ${plan.platform.namespace}`
      : '  cluster: none (local processes and data plane)',
    `  service under canary: ${plan.target.service} (VirtualService ${plan.target.namespace}/${plan.target.virtualService})`,
    `  tracks:`,
    ...plan.tracks.map(
      (t) =>
        `    ${t.track.padEnd(8)} ${t.workload} ${t.version}${t.image ? ` ${t.image}` : ''}${
          Object.keys(t.env).length
            ? `  ${Object.entries(t.env)
                .map(([k, v]) => `${k}=${v}`)
                .join(' ')}`
            : ''
        }`,
    ),
    `  compare: ${plan.comparison.control.workload} (control) vs ${plan.comparison.treatment.workload}${plan.comparison.biased ? '  [BIASED]' : ''}`,
    `  cohorts: ${plan.cohorts.map((c) => `${c.name} ×${c.size} ${Math.round(c.share * 100)} %`).join(', ')}`,
    `  load: ${plan.load.ratePerSecond} requests/s (${plan.load.driver} driver${plan.load.parallelism ? ` ×${plan.load.parallelism} runners` : ''}, open model${plan.load.gateway ? `, through ${plan.load.gateway}` : ''}); telemetry: ${plan.telemetry.source === 'prometheus' ? `Prometheus at ${plan.telemetry.url}` : "the data plane's /metrics"}; judge looks every ${s(plan.intervalMs)} at ${plan.evidence === 'run' ? 'all evidence since the first stage' : "the current stage's evidence"}`,
    `  stages:`,
    ...plan.stages.map(
      (st, i) =>
        `    ${i + 1}. ${st.name.padEnd(12)} ${describeRoute(st.route).padEnd(40)} ${s(st.minDurationMs)}..${s(st.maxDurationMs)}, ≥ ${st.minSamples} requests per arm`,
    ),
    `  then: promote${plan.confirm ? ' after confirmation on the terminal' : ''}; a failed stage rolls back at once; inconclusive: ${plan.inconclusive.action} (exit ${plan.inconclusive.exitCode})`,
    ...plan.notes.map((n) => `  note: ${n}`),
  ];
  return lines.join('\n');
}
