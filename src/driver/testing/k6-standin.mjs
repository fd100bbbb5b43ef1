#!/usr/bin/env node
// A stand-in for the `k6` binary (k6 cannot be installed on these machines), for the k6 driver's tests.
// It accepts `k6 run [--out json=FILE] [--summary-export FILE] [--env K=V]... SCRIPT`, and writes what
// k6 documents: `--out json` lines ({"type":"Metric"|"Point","data":…,"metric":…}, Grafana k6 docs,
// "Results output / JSON"), the handleSummary data ("Custom summary": metrics[name].{type,contains,
// values,thresholds{expr:{ok}}}) to the script's SUMMARY_FILE, the legacy --summary-export object,
// and k6's exit codes (errext/exitcodes). Like the real scripts' setup(), it aborts (108) when the
// gateway does not answer. It does not run the script: it emits `canary_request_duration` points as
// load/gateway.ts would, at RATE for DURATION, with latencies 5..14 ms and the track of each cohort.
// STANDIN_MODE (process env): ok | thresholds | script-error | fail | hang | send. `send` sends real
// requests through the gateway as the k6 scripts do (k6-standin-send.ts) and records their real
// latencies and tracks, for whole runs with the k6 driver.
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import http from 'node:http';

const args = process.argv.slice(2);
const mode = process.env.STANDIN_MODE ?? 'ok';
if (args[0] !== 'run') {
  process.stderr.write(`standin k6: unknown command "${args[0]}"\n`);
  process.exit(255);
}
let jsonOut, summaryExport, script;
const env = {};
for (let i = 1; i < args.length; i++) {
  const a = args[i];
  if (a === '--out' || a === '-o') {
    const v = args[++i];
    if (v.startsWith('json=')) jsonOut = v.slice(5);
  } else if (a.startsWith('--summary-export')) summaryExport = a.includes('=') ? a.split('=')[1] : args[++i];
  else if (a === '--env' || a === '-e') {
    const [k, ...rest] = args[++i].split('=');
    env[k] = rest.join('=');
  } else if (a.startsWith('-')) continue;
  else script = a;
}

const emit = (line) => jsonOut && appendFileSync(jsonOut, `${JSON.stringify(line)}\n`);
const metric = (name, type, contains, thresholds = []) =>
  emit({ type: 'Metric', data: { name, type, contains, thresholds, submetrics: null }, metric: name });
const point = (name, value, tags) =>
  emit({ type: 'Point', data: { time: new Date().toISOString(), value, tags }, metric: name });

if (!script || !existsSync(script) || mode === 'script-error') {
  process.stderr.write(
    `time="${new Date().toISOString()}" level=error msg="The moduleSpecifier \\"${script}\\" couldn't be found on local disk."\n`,
  );
  process.exit(107);
}
if (jsonOut) writeFileSync(jsonOut, '');

const target = (env.TARGET ?? '').replace(/\/+$/, '');
const rate = Number(env.RATE ?? '10');
const durationS = Number(String(env.DURATION ?? '1s').replace(/s$/, ''));
const cohorts = (env.COHORTS || 'user=10:1').split(',').map((c) => c.split('=')[0]);
const trackOf = (cohort) =>
  cohort === 'canary-tester' ? 'account-canary' : cohort === 'baseline-tester' ? 'account-baseline' : 'account-primary';

function preflight() {
  return new Promise((resolve) => {
    const req = http.get(`${target}/`, { timeout: 3000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

let sent = 0;
let stopping = false;
const stats = [];
process.on('SIGINT', () => {
  stopping = true;
});

async function main() {
  metric('http_reqs', 'counter', 'default');
  metric('canary_request_duration', 'trend', 'time', ['p(99)<1000']);
  metric('dropped_iterations', 'counter', 'default');
  if (!(await preflight())) {
    process.stderr.write(
      `time="${new Date().toISOString()}" level=error msg="test aborted: gateway ${target} is unreachable" source=console\n`,
    );
    process.exit(108);
  }
  const t0 = Date.now();
  const total = mode === 'send' ? 0 : Math.floor(rate * durationS);
  if (mode === 'send') {
    const { register } = await import('tsx/esm/api');
    register();
    const { sendPlannedTraffic } = await import('./k6-standin-send.ts');
    sent = await sendPlannedTraffic(env, {
      stopping: () => stopping,
      onResponse: ({ latencyMs, tags }) => {
        stats.push(latencyMs);
        point('http_reqs', 1, {
          method: 'GET',
          status: tags.status,
          scenario: 'canary',
          cohort: tags.cohort,
          name: tags.route,
        });
        point('canary_request_duration', latencyMs, tags);
      },
    });
  }
  while (sent < total && !stopping) {
    const due = mode === 'hang' ? total : Math.min(total, Math.floor(((Date.now() - t0) / 1000) * rate));
    for (; sent < due; sent++) {
      const cohort = cohorts[sent % cohorts.length];
      const account = sent % 4 !== 3;
      const track = account ? trackOf(cohort) : '-';
      const servedBy = account ? `bff, ${track}` : 'bff, friend';
      const value = 5 + (sent % 10);
      stats.push(value);
      point('http_reqs', 1, {
        method: 'GET',
        status: '200',
        scenario: 'canary',
        cohort,
        name: account ? '/api/account/:id' : '/api/friend',
      });
      point('canary_request_duration', value, {
        cohort,
        route: account ? '/api/account/:id' : '/api/friend',
        track,
        served_by: servedBy,
        status: '200',
        scenario: 'canary',
      });
    }
    if (mode === 'hang') await new Promise((r) => setTimeout(r, 60_000));
    await new Promise((r) => setTimeout(r, 50));
  }
  if (env.DROPPED) point('dropped_iterations', Number(env.DROPPED), { scenario: 'canary' });
  const sorted = [...stats].sort((a, b) => a - b);
  const q = (p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : 0);
  const elapsed = (Date.now() - t0) / 1000;
  const thresholdsOk = mode !== 'thresholds';
  const data = {
    state: { testRunDurationMs: elapsed * 1000, isStdOutTTY: false, isStdErrTTY: false },
    metrics: {
      http_reqs: { type: 'counter', contains: 'default', values: { count: sent, rate: sent / elapsed } },
      canary_request_duration: {
        type: 'trend',
        contains: 'time',
        values: {
          avg: stats.reduce((a, b) => a + b, 0) / Math.max(1, stats.length),
          min: sorted[0] ?? 0,
          med: q(50),
          max: sorted.at(-1) ?? 0,
          'p(90)': q(90),
          'p(99)': q(99),
        },
        thresholds: { 'p(99)<1000': { ok: true } },
      },
      'http_req_failed{cohort:canary-tester}': {
        type: 'rate',
        contains: 'default',
        values: { rate: thresholdsOk ? 0 : 0.5, passes: 0, fails: 0 },
        thresholds: { 'rate<0.05': { ok: thresholdsOk } },
      },
    },
    root_group: { name: '', path: '', id: 'd41d8cd98f00b204e9800998ecf8427e', groups: [], checks: [] },
  };
  if (env.SUMMARY_FILE) writeFileSync(env.SUMMARY_FILE, JSON.stringify(data, null, 2));
  if (summaryExport) {
    writeFileSync(
      summaryExport,
      JSON.stringify({ root_group: data.root_group, metrics: { http_reqs: { count: sent, rate: sent / elapsed } } }),
    );
  }
  process.stdout.write(`     http_reqs......................: ${sent}   ${(sent / elapsed).toFixed(6)}/s\n`);
  if (stopping) process.exit(105);
  if (!thresholdsOk) {
    process.stderr.write(
      `time="${new Date().toISOString()}" level=error msg="thresholds on metrics 'http_req_failed{cohort:canary-tester}' have been crossed"\n`,
    );
    process.exit(99);
  }
  if (mode === 'fail') process.exit(110);
  process.exit(0);
}
main();
