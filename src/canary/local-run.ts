/**
 * `canary run` as a function: flags (already typed) → configuration → plan → the composition root
 * (platform, driver and telemetry source from the plan, each by its factory) → result.json and
 * reports → exit code. Everything that can be wrong with the input is
 * checked before anything starts (exit 3).
 */
import { createInterface } from 'node:readline/promises';
import { join } from 'node:path';
import type { AnalysisConfig } from '../config/analysis.ts';
import { loadAnalysisConfig } from '../config/load.ts';
import { ExitCode, UsageError } from '../core/errors.ts';
import { writableProblem } from '../report/write-file.ts';
import { createRunDriver } from '../driver/factory.ts';
import { withHostCpu } from '../driver/host-cpu.ts';
import { createPlatform } from '../platform/factory.ts';
import type { Deployment } from '../platform/platform.ts';
import type { Source } from '../telemetry/source.ts';
import { readTargetFacts } from '../platform/target-facts.ts';
import { createSource } from '../telemetry/factory.ts';
import { createStageJudge } from './judge-adapter.ts';
import { planDefaultsFrom } from './plan-defaults.ts';
import { formatPlan } from './plan-text.ts';
import { planRun, type PlanFlags, type TargetFacts } from './plan.ts';
import type { CanaryPlan, Scenario } from './plan-types.ts';
import type { RunResult } from './result.ts';
import { runCanary, type RunnerDeps, type RunOutput, type SignalSubscription } from './runner.ts';
import { renderReports as renderRunReports } from '../report/render-reports.ts';
import { decidingStage, decisionRule, verdictEffects } from '../report/effect.ts';
import { STATUS_WORDS } from '../report/format.ts';
import { assessLoadHealth } from '../report/load-health.ts';
import { formatElapsed } from '../core/format.ts';

export interface RunCommandOptions {
  engine: 'local' | 'kubernetes';
  config: string;
  manifests: string;
  /** Service under canary; default `account`. */
  service?: string;
  context?: string;
  kubeconfig?: string;
  namespace?: string;
  driver?: string;
  parallelism?: number;
  gateway?: string;
  prometheus?: string;
  image?: { service: string; ref: string };
  scenario: Scenario;
  rate?: number;
  interval?: number;
  evidence?: 'run' | 'stage';
  stages?: number[];
  baseline: 'baseline' | 'primary';
  canaryVersion?: string;
  onInconclusive?: 'rollback' | 'promote';
  minDuration?: number;
  maxDuration?: number;
  minSamples?: number;
  confirm: boolean;
  dryRun: boolean;
  reportsDir: string;
  json: boolean;
  /** The flags as given, for result.json. */
  flags: Record<string, string | number | boolean | null>;
}

/** Seams for tests and for the bench: everything else is built from the options. */
export interface RunCommandIo {
  out: (text: string) => void;
  err: (line: string) => void;
  isTty: boolean;
  /** Colour the verdict (stdout is a TTY and NO_COLOR is unset). */
  colour?: boolean;
  ask?: (question: string) => Promise<boolean>;
  signals?: SignalSubscription;
  renderReports?: RunnerDeps['renderReports'] | null;
}

export interface PreparedRun {
  plan: CanaryPlan;
  analysis: AnalysisConfig;
  /** What the manifests say of the service under canary. */
  target: TargetFacts;
  /** The same flags planned against other facts (the primary as it runs on the cluster). */
  planFor: (target: TargetFacts) => CanaryPlan;
}

/** Config, manifests and flags → plan; throws UsageError / ConfigError (exit 3) and starts nothing. */
export async function prepareRun(o: RunCommandOptions): Promise<PreparedRun> {
  const analysis = await loadAnalysisConfig(o.config);
  const service = o.service ?? 'account';
  const target = readTargetFacts(o.manifests, service);
  if (o.engine === 'local' && target.derivedTracks)
    throw new UsageError(
      '--service',
      `the local engine needs Deployments ${service}-primary, ${service}-baseline and ${service}-canary in the manifests; ` +
        `only ${service} is declared (the Kubernetes engine, --context, creates the baseline and canary from it)`,
    );
  const defaults = planDefaultsFrom(analysis, {
    minDurationSeconds: o.minDuration,
    maxDurationSeconds: o.maxDuration,
    minSamples: o.minSamples,
  });
  const flags: PlanFlags = {
    engine: o.engine,
    configFile: o.config,
    scenario: o.scenario,
    rate: o.rate,
    intervalSeconds: o.interval,
    evidence: o.evidence,
    stagesPercent: o.stages,
    baseline: o.baseline,
    confirm: o.confirm,
    canaryVersion: o.canaryVersion,
    onInconclusive: o.onInconclusive,
    context: o.context,
    kubeconfig: o.kubeconfig,
    namespace: o.namespace,
    driver: o.driver,
    parallelism: o.parallelism,
    gateway: o.gateway,
    prometheus: o.prometheus,
    image: o.image,
  };
  const planFor = (facts: TargetFacts) => planRun(flags, defaults, facts);
  return { plan: planFor(target), analysis, target, planFor };
}

/** Longest wait for Prometheus to scrape every track of a run on a cluster before the load starts. */
const TARGETS_TIMEOUT_MS = 60_000;
/**
 * How far behind now a run's looks read Prometheus. A sample is stamped with the time its scrape
 * began and stored when it ends; read at now, a replica's counts and its scrape times (two queries)
 * could come from different scrapes, which skews the time the sample ratio check weighs by. A second
 * covers scrapes that take up to a second; decisions come that much later.
 */
const PROMETHEUS_LAG_MS = 1_000;

/** The telemetry source the plan names, built once deploy has said where the data plane is. */
export function sourceFor(deployment: Deployment, plan: CanaryPlan): Source {
  const workloads = plan.tracks.map((t) => t.workload);
  if (plan.telemetry.source === 'prometheus' && plan.telemetry.url !== null)
    return createSource('prometheus', {
      url: plan.telemetry.url,
      service: plan.target.service,
      workloads,
      // A run's new pods on a cluster are scraped only once Prometheus has discovered them; and each
      // look reads a little behind now, where every scrape stamped before it is stored.
      ...(plan.engine === 'kubernetes' ? { awaitTargetsMs: TARGETS_TIMEOUT_MS, lagMs: PROMETHEUS_LAG_MS } : {}),
    });
  return createSource('scrape', { service: plan.target.service, workloads, targets: deployment.metricsUrls });
}

export async function runCommand(o: RunCommandOptions, io: RunCommandIo): Promise<number> {
  const prepared = await prepareRun(o);
  const { analysis } = prepared;
  let plan = prepared.plan;
  // The composition root: platform, driver and source are the ones the plan names.
  let platform = await createPlatform(plan, { manifestsDir: o.manifests, log: io.err });
  // Manifests and every route of the plan, before a process starts or the run directory exists.
  await platform.check(plan.tracks, [{ kind: 'safe' }, ...plan.stages.map((s) => s.route), { kind: 'promoted' }]);
  if (o.dryRun) {
    io.out(o.json ? `${JSON.stringify(plan, null, 2)}\n` : `${formatPlan(plan)}\n(dry run: nothing was started)\n`);
    return ExitCode.pass;
  }
  // The cluster's credentials, before the run directory exists: a bad kubeconfig or context is exit 3.
  await platform.prepare?.();
  // On a cluster the baseline copies the primary as it runs (after a promotion, the promoted image),
  // not as the manifests wrote it.
  const written = prepared.target;
  const running = await platform.runningPrimary?.(written.workloads.primary);
  if (running) {
    const target = { ...written, ...running };
    if (target.primaryImage !== written.primaryImage || target.primaryVersion !== written.primaryVersion)
      io.err(
        `kubernetes: ${written.workloads.primary} runs ${target.primaryImage} (${target.primaryVersion}); the baseline copies it, not the manifests' ${written.primaryImage} (${written.primaryVersion})`,
      );
    plan = prepared.planFor(target);
    // The platform acts on the plan it was made with (a promotion copies that plan's canary): made
    // again for this one.
    platform = await createPlatform(plan, { manifestsDir: o.manifests, log: io.err });
    await platform.check(plan.tracks, [{ kind: 'safe' }, ...plan.stages.map((s) => s.route), { kind: 'promoted' }]);
    await platform.prepare?.();
  }
  // Where the run's record goes must take it, before anything starts: a verdict with nowhere to go is lost.
  const unwritable = writableProblem(o.reportsDir, [join(o.reportsDir, 'history.sqlite')]);
  if (unwritable)
    throw new UsageError('--reports-dir', `${unwritable}; choose a writable directory (nothing was started)`);
  if (o.confirm && !io.isTty && !io.ask) {
    throw new UsageError(
      '--confirm',
      'asks on the terminal before promotion, but stdin/stdout is not a TTY; run it interactively or drop --confirm',
    );
  }
  const judge = createStageJudge(analysis);
  // The reports and the history are rendered from result.json once it is written (tests may turn them off).
  const renderReports: RunnerDeps['renderReports'] =
    io.renderReports === undefined
      ? (result, dir) => void renderRunReports(result, dir)
      : (io.renderReports ?? undefined);
  io.err(formatPlan(plan));
  const output = await runCanary(
    plan,
    {
      platform,
      // The host's CPU matters where the load is sent from: not for runners inside the cluster.
      driver:
        plan.load.driver === 'k6-operator'
          ? await createRunDriver(plan.load.driver, { plan, log: io.err })
          : withHostCpu(await createRunDriver(plan.load.driver, { plan, log: io.err })),
      createSource: sourceFor,
      judge,
      confirm: io.ask ?? askOnTerminal,
      renderReports,
      signals: io.signals,
      log: io.err,
    },
    { reportsDir: o.reportsDir, config: { file: o.config, analysis, flags: o.flags } },
  );
  io.out(o.json ? `${JSON.stringify(summary(output), null, 2)}\n` : verdictText(output, io.colour ?? false));
  // The exit code is the one result.json records; without a result.json the run's record is lost (exit 4).
  return output.resultError === null ? output.result.exitCode : ExitCode.infrastructure;
}

/**
 * Asks on the terminal. Readline puts the TTY in raw mode, so Ctrl-C arrives as a key, not a
 * signal: it is turned back into SIGINT so the run aborts as it would anywhere else.
 */
async function askOnTerminal(question: string, signal: AbortSignal): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  rl.on('SIGINT', () => process.kill(process.pid, 'SIGINT'));
  try {
    const answer = await rl.question(`${question} [y/N] `, { signal });
    return /^y(es)?$/i.test(answer.trim());
  } catch {
    return false;
  } finally {
    rl.close();
  }
}

export function summary(output: RunOutput): Record<string, unknown> {
  const r: RunResult = output.result;
  return {
    runId: r.runId,
    status: r.status,
    exitCode: r.exitCode,
    reason: r.reason,
    responsible: r.responsible,
    durationMs: r.durationMs,
    reportDir: output.runDir,
    report: output.resultError
      ? null
      : output.rendered
        ? `${output.runDir}/report.html`
        : `${output.runDir}/result.json`,
    reportError: output.reportError,
    resultError: output.resultError,
    stages: r.stages.map((s) => ({
      name: s.name,
      outcome: s.outcome,
      timeToDecisionMs: s.timeToDecisionMs,
      intervals: s.intervals.length,
    })),
  };
}

/** ANSI colour of each status on a TTY (NO_COLOR turns it off). */
const STATUS_COLOUR: Record<RunResult['status'], string> = {
  promoted: '\x1b[1;32m',
  'rolled-back': '\x1b[1;31m',
  inconclusive: '\x1b[1;33m',
  aborted: '\x1b[1m',
  error: '\x1b[1;31m',
};

/**
 * The verdict as a person reads it: the status, the effect in the metric's unit beside its limit,
 * the rule in one sentence, the judge's reason, a warning when the load was unreliable, the stages,
 * and where the report is.
 */
export function verdictText(output: RunOutput, colour = false): string {
  const r = output.result;
  const head = STATUS_WORDS[r.status].title;
  const paint = (text: string) => (colour ? `${STATUS_COLOUR[r.status]}${text}\x1b[0m` : text);
  const effects = verdictEffects(r);
  const decided = decidingStage(r);
  const health = assessLoadHealth(r);
  const stages = r.stages
    .filter((s) => s.outcome !== 'skipped')
    .map((s) => `  ${s.name.padEnd(12)} ${s.outcome.padEnd(12)} ${formatElapsed(s.timeToDecisionMs)}`);
  const report = output.rendered ? `${output.runDir}/report.html` : `${output.runDir}/result.json`;
  const where =
    output.resultError !== null
      ? `report: none, result.json could not be written (${output.resultError}); exit 4`
      : output.reportError !== null
        ? `report: ${report} (other reports failed: ${output.reportError})`
        : `report: ${report}`;
  return [
    `${paint(`${head} (exit ${r.exitCode})`)}: ${effects || r.reason}`,
    ...(effects ? [`  why: ${r.reason}`] : []),
    ...(decided ? [`  rule: ${decisionRule(decided.assessment)}`] : []),
    ...(health && !health.reliable ? [`  ${paint('warning')}: ${health.reason}`] : []),
    ...stages,
    where,
    '',
  ].join('\n');
}
