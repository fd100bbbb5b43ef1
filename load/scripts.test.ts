/**
 * Runs the k6 scripts' exported functions in Node against recording stand-ins for k6's modules:
 * `k6/http` answers like the gateway (x-served-by by cohort) and records every request.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { plannedRequest, trafficFromEnv } from './lib/traffic.ts';

interface SentRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  tags: Record<string, string>;
}
interface Added {
  metric: string;
  value: number;
  tags: Record<string, string>;
}

const k6 = vi.hoisted(() => ({
  sent: [] as SentRequest[],
  added: [] as Added[],
  iteration: 0,
  gatewayDown: false,
  status: 200,
}));

vi.mock('k6/http', () => {
  const respond = (
    method: string,
    url: string,
    params: { headers?: Record<string, string>; tags?: Record<string, string> } = {},
  ) => {
    k6.sent.push({ method, url, headers: params.headers ?? {}, tags: params.tags ?? {} });
    if (k6.gatewayDown)
      return {
        status: 0,
        error: 'dial tcp 127.0.0.1:9: connect: connection refused',
        headers: {},
        timings: { duration: 0 },
      };
    const user = params.headers?.['end-user'] ?? '';
    const track = user.startsWith('canary-tester-')
      ? 'account-canary'
      : user.startsWith('baseline-tester-')
        ? 'account-baseline'
        : 'account-primary';
    const path = new URL(url).pathname;
    const servedBy = path.startsWith('/api/friend') ? 'bff, friend' : `bff, ${track}`;
    return { status: k6.status, headers: { 'X-Served-By': servedBy }, timings: { duration: 12.5 } };
  };
  return {
    default: {
      get: (url: string, params?: Record<string, never>) => respond('GET', url, params),
      request: (method: string, url: string, _body: unknown, params?: Record<string, never>) =>
        respond(method, url, params),
    },
  };
});
vi.mock('k6/execution', () => ({
  default: {
    get scenario() {
      return { iterationInTest: k6.iteration };
    },
    test: {
      abort: (reason?: string) => {
        throw new Error(`test aborted: ${reason}`);
      },
    },
  },
}));
vi.mock('k6/metrics', () => ({
  Trend: class {
    constructor(readonly name: string) {}
    add(value: number, tags: Record<string, string>) {
      k6.added.push({ metric: this.name, value, tags });
    }
  },
}));

const ENV = {
  TARGET: 'http://127.0.0.1:18080/',
  COHORTS: 'user=10:0.5,canary-tester=2:0.25,baseline-tester=2:0.25',
  SEED: '11',
  RATE: '40',
  DURATION: '30s',
  SUMMARY_FILE: '/tmp/x/summary.json',
};

async function loadScript(name: 'canary' | 'smoke' | 'stress', env: Record<string, string>) {
  (globalThis as { __ENV?: Record<string, string> }).__ENV = { ...env };
  vi.resetModules();
  const scripts = {
    canary: () => import('./canary.ts'),
    smoke: () => import('./smoke.ts'),
    stress: () => import('./stress.ts'),
  };
  // The scripts' options are typed for k6; the tests read them as plain data.
  // biome-ignore lint/suspicious/noExplicitAny: the tests read k6's typed exports as plain data.
  return (await scripts[name]()) as unknown as Record<string, any>;
}

beforeEach(() => {
  k6.sent.length = 0;
  k6.added.length = 0;
  k6.gatewayDown = false;
  k6.status = 200;
});
afterEach(() => {
  delete (globalThis as { __ENV?: unknown }).__ENV;
});

describe('load/canary.ts', () => {
  it('declares an open-model scenario and thresholds per cohort from the environment', async () => {
    const script = await loadScript('canary', ENV);
    expect(script.options.scenarios.canary).toMatchObject({
      executor: 'constant-arrival-rate',
      rate: 40_000,
      timeUnit: '1000s',
      duration: '30s',
      exec: 'canary',
    });
    for (const cohort of ['user', 'canary-tester', 'baseline-tester']) {
      expect(script.options.thresholds[`canary_request_duration{cohort:${cohort}}`]).toEqual(['p(99)<1000']);
      expect(script.options.thresholds[`http_req_failed{cohort:${cohort}}`]).toEqual(['rate<0.05']);
    }
    const ramp = await loadScript('canary', { ...ENV, PROFILE: 'ramping', STAGES: '10s:20,10s:0' });
    expect(ramp.options.scenarios.canary).toMatchObject({
      executor: 'ramping-arrival-rate',
      stages: [
        { target: 20_000, duration: '10s' },
        { target: 0, duration: '10s' },
      ],
    });
  });

  it('setup() checks the gateway and aborts at once when it is down', async () => {
    const script = await loadScript('canary', ENV);
    expect(script.setup()).toEqual({ target: 'http://127.0.0.1:18080' });
    expect(k6.sent[0]).toMatchObject({ method: 'GET', url: 'http://127.0.0.1:18080/' });
    k6.gatewayDown = true;
    expect(() => script.setup()).toThrow(/gateway http:\/\/127.0.0.1:18080 is unreachable/);
    await expect(loadScript('canary', { ...ENV, TARGET: '' }).then((s) => s.setup())).rejects.toThrow(/TARGET/);
  });

  it('sends the traffic model request sequence with end-user tags and records the serving track', async () => {
    const script = await loadScript('canary', ENV);
    const model = trafficFromEnv(ENV);
    for (let i = 0; i < 40; i++) {
      k6.iteration = i;
      script.canary({ target: 'http://127.0.0.1:18080' });
    }
    expect(k6.sent).toHaveLength(40);
    k6.sent.forEach((req, i) => {
      const planned = plannedRequest(model, i);
      expect(req.url).toBe(`http://127.0.0.1:18080${planned.path}`);
      expect(req.headers['end-user']).toBe(planned.user);
      expect(req.tags).toMatchObject({ cohort: planned.cohort, route: planned.route, name: planned.route });
      const rec = k6.added[i];
      expect(rec.metric).toBe('canary_request_duration');
      expect(rec.value).toBe(12.5);
      const expectedTrack = planned.path.startsWith('/api/friend')
        ? '-'
        : planned.cohort === 'canary-tester'
          ? 'account-canary'
          : planned.cohort === 'baseline-tester'
            ? 'account-baseline'
            : 'account-primary';
      expect(rec.tags).toMatchObject({ cohort: planned.cohort, track: expectedTrack, status: '200' });
    });
    expect(new Set(k6.added.map((a) => a.tags.cohort))).toEqual(new Set(['user', 'canary-tester', 'baseline-tester']));
  });

  it('records transport errors as status 0 with no track', async () => {
    const script = await loadScript('canary', ENV);
    k6.gatewayDown = true;
    script.canary({ target: 'http://127.0.0.1:18080' });
    expect(k6.added[0].tags).toMatchObject({ status: '0', track: '-', served_by: '' });
  });

  it('handleSummary writes the summary JSON to SUMMARY_FILE and a text with failed thresholds', async () => {
    const script = await loadScript('canary', ENV);
    const data = {
      metrics: {
        http_reqs: { type: 'counter', values: { count: 1200, rate: 40 } },
        canary_request_duration: {
          type: 'trend',
          values: { med: 10, 'p(90)': 20, 'p(99)': 40, max: 90 },
          thresholds: { 'p(99)<1000': { ok: true } },
        },
        'http_req_failed{cohort:canary-tester}': {
          type: 'rate',
          values: { rate: 0.3 },
          thresholds: { 'rate<0.05': { ok: false } },
        },
      },
    };
    const out = script.handleSummary(data);
    expect(JSON.parse(out['/tmp/x/summary.json'])).toEqual(data);
    expect(out.stdout).toContain('requests 1200 (40.0/s)');
    expect(out.stdout).toContain('thresholds failed: http_req_failed{cohort:canary-tester}: rate<0.05');
  });
});

describe('load/smoke.ts and load/stress.ts', () => {
  it('smoke: a trickle with zero-error thresholds', async () => {
    const script = await loadScript('smoke', { TARGET: 'http://127.0.0.1:1' });
    expect(script.options.scenarios.smoke).toMatchObject({
      executor: 'constant-arrival-rate',
      rate: 2000,
      duration: '10s',
    });
    expect(script.options.thresholds['http_req_failed{cohort:user}']).toEqual(['rate<0.0001']);
    k6.iteration = 3;
    script.smoke({ target: 'http://127.0.0.1:1' });
    expect(k6.sent).toHaveLength(1);
  });
  it('stress: ramps by default and aborts on a high error rate', async () => {
    const script = await loadScript('stress', { TARGET: 'http://127.0.0.1:1' });
    expect(script.options.scenarios.stress).toMatchObject({
      executor: 'ramping-arrival-rate',
      stages: [{ target: 100_000 }, { target: 500_000 }, { target: 0 }],
    });
    expect(script.options.thresholds.http_req_failed[0]).toMatchObject({ abortOnFail: true });
    const closed = await loadScript('stress', {
      TARGET: 'http://127.0.0.1:1',
      MODEL: 'closed',
      VUS: '16',
      PROFILE: 'constant',
      DURATION: '20s',
    });
    expect(closed.options.scenarios.stress).toEqual({
      executor: 'constant-vus',
      exec: 'stress',
      vus: 16,
      duration: '20s',
    });
  });
});
