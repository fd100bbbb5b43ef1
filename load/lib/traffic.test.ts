import { describe, expect, it } from 'vitest';
import {
  CohortSpecError,
  DEFAULT_COHORTS,
  cohortFor,
  cohortOfUser,
  formatCohorts,
  parseCohorts,
  userId,
} from './cohorts.ts';
import { DEFAULT_MIX, MixSpecError, parseMix, routeFor } from './mix.ts';
import {
  ProfileSpecError,
  arrivalTime,
  arrivalsBy,
  k6Scenario,
  parseDurationS,
  parseRampStages,
  parseRate,
  totalArrivals,
} from './profile.ts';
import {
  defaultTrafficModel,
  plannedRequest,
  plannedRequestReference,
  profileFromEnv,
  trackOf,
  trafficFromEnv,
  workloadsOf,
} from './traffic.ts';

describe('cohorts', () => {
  it('parses name=size:share and round-trips through formatCohorts', () => {
    const c = parseCohorts('user=100:0.8, canary-tester=10:0.1,baseline-tester=10:0.1');
    expect(c).toEqual([
      { name: 'user', size: 100, share: 0.8 },
      { name: 'canary-tester', size: 10, share: 0.1 },
      { name: 'baseline-tester', size: 10, share: 0.1 },
    ]);
    expect(parseCohorts(formatCohorts(c))).toEqual(c);
    expect(parseCohorts('')).toEqual(DEFAULT_COHORTS);
  });
  it.each([
    ['user=100:0.5', /sum to 1, they sum to 0.5/],
    ['admin=1:1', /unknown cohort "admin"/],
    ['user=0:1', /size of "user" must be a positive integer/],
    ['user=1:x', /share of "user"/],
    ['user=1:1,user=2:0', /given twice/],
    ['user', /not name=size:share/],
  ])('rejects %s', (spec, msg) => {
    expect(() => parseCohorts(spec)).toThrow(CohortSpecError);
    expect(() => parseCohorts(spec)).toThrow(msg);
  });
  it('picks cohorts by cumulative share and users within the size', () => {
    const c = parseCohorts('user=3:0.5,canary-tester=2:0.25,baseline-tester=2:0.25');
    expect(cohortFor(c, 0.49).name).toBe('user');
    expect(cohortFor(c, 0.5).name).toBe('canary-tester');
    expect(cohortFor(c, 0.9999999).name).toBe('baseline-tester');
    expect(userId(c[0], 0)).toBe('user-1');
    expect(userId(c[0], 0.999)).toBe('user-3');
    expect(cohortOfUser('canary-tester-12')).toBe('canary-tester');
    expect(cohortOfUser('canary-tester-')).toBeUndefined();
  });
});

describe('mix', () => {
  it('rejects unknown routes and all-zero weights, naming them', () => {
    expect(() => parseMix('checkout=1')).toThrow(/unknown route "checkout"/);
    expect(() => parseMix('profile=0')).toThrow(MixSpecError);
    expect(() => parseMix('', 0)).toThrow(/id range/);
  });
  it('never picks a route with weight 0', () => {
    const mix = parseMix('profile=1,friend-list=0,account-by-id=1');
    for (let u = 0; u < 1; u += 0.01) expect(['profile', 'account-by-id']).toContain(routeFor(mix, u).name);
  });
});

describe('plannedRequest', () => {
  it('is deterministic per seq and follows the shares over many requests', () => {
    const model = trafficFromEnv({ COHORTS: 'user=100:0.8,canary-tester=5:0.1,baseline-tester=5:0.1', SEED: '7' });
    const n = 20_000;
    const counts: Record<string, number> = {};
    const routes: Record<string, number> = {};
    for (let seq = 0; seq < n; seq++) {
      const r = plannedRequest(model, seq);
      counts[r.cohort] = (counts[r.cohort] ?? 0) + 1;
      routes[r.routeName] = (routes[r.routeName] ?? 0) + 1;
      expect(cohortOfUser(r.user)).toBe(r.cohort);
    }
    expect(plannedRequest(model, 123)).toEqual(plannedRequest(model, 123));
    // Binomial sd of a 10 % share over 20,000 draws is 0.21 %; allow ~5 sd.
    expect(counts['canary-tester'] / n).toBeCloseTo(0.1, 1);
    expect(Math.abs(counts['baseline-tester'] / n - 0.1)).toBeLessThan(0.01);
    expect(Math.abs(counts.user / n - 0.8)).toBeLessThan(0.01);
    const totalW = Object.values(DEFAULT_MIX.weights).reduce((s, w) => s + (w ?? 0), 0);
    expect(Math.abs(routes['account-by-id'] / n - 4 / totalW)).toBeLessThan(0.015);
    // A different seed gives a different sequence.
    const other = { ...model, seed: 8 };
    const same = Array.from(
      { length: 50 },
      (_, i) => plannedRequest(model, i).user === plannedRequest(other, i).user,
    ).filter(Boolean);
    expect(same.length).toBeLessThan(45);
  });
  it('the table-driven form agrees with the reference form, request by request', () => {
    for (const env of [
      {},
      {
        COHORTS: 'user=7:0.333333,canary-tester=3:0.333333,baseline-tester=3:0.333334',
        MIX: 'profile=1,friend-list=2',
        SEED: '99',
      },
    ]) {
      const model = trafficFromEnv(env);
      // One expect for the first disagreement (an expect per request costs more than the check).
      let firstMismatch: number | undefined;
      for (let seq = 0; seq < 50_000 && firstMismatch === undefined; seq++) {
        if (JSON.stringify(plannedRequest(model, seq)) !== JSON.stringify(plannedRequestReference(model, seq)))
          firstMismatch = seq;
      }
      if (firstMismatch !== undefined)
        expect(plannedRequest(model, firstMismatch)).toEqual(plannedRequestReference(model, firstMismatch));
    }
  });

  it('fills paths from the route template and id range', () => {
    const model = defaultTrafficModel();
    for (let seq = 0; seq < 200; seq++) {
      const r = plannedRequest(model, seq);
      if (r.route.includes(':id')) {
        expect(r.path).toMatch(new RegExp(`^${r.route.replace(':id', '[1-5]')}$`));
      } else {
        expect(r.path).toBe(r.route);
      }
    }
  });
});

describe('profiles', () => {
  it('parses durations and rates, naming the field on bad input', () => {
    expect(parseDurationS('1m30s')).toBe(90);
    expect(parseDurationS('500ms')).toBe(0.5);
    expect(parseDurationS('20')).toBe(20);
    for (const bad of ['0', '-5', 'abc', '10x', ''])
      expect(() => parseDurationS(bad, '--duration')).toThrow(/--duration/);
    expect(parseRate('200')).toBe(200);
    for (const bad of ['0', '-1', 'fast', '']) expect(() => parseRate(bad, '--rate')).toThrow(ProfileSpecError);
  });
  it('constant: k/rate, exactly rate × duration arrivals', () => {
    const p = { kind: 'constant' as const, rate: 200, durationS: 20 };
    expect(arrivalTime(p, 0)).toBe(0);
    expect(arrivalTime(p, 199)).toBeCloseTo(0.995, 9);
    expect(arrivalTime(p, 3999)).toBeCloseTo(19.995, 9);
    expect(arrivalTime(p, 4000)).toBeUndefined();
    expect(totalArrivals(p)).toBe(4000);
  });
  it('ramping: arrivalTime inverts arrivalsBy', () => {
    const p = { kind: 'ramping' as const, startRate: 0, stages: parseRampStages('10s:100,5s:100,10s:0') };
    expect(arrivalsBy(p, 10)).toBeCloseTo(500, 9);
    expect(totalArrivals(p)).toBe(500 + 500 + 500);
    for (const k of [0, 1, 10, 499, 500, 750, 1000, 1499]) {
      const t = arrivalTime(p, k)!;
      expect(arrivalsBy(p, t)).toBeCloseTo(k, 6);
    }
    expect(arrivalTime(p, 1500)).toBeUndefined();
  });
  it('maps to k6 arrival-rate scenarios', () => {
    expect(k6Scenario({ kind: 'constant', rate: 12.5, durationS: 30 }, 'canary', 100)).toMatchObject({
      executor: 'constant-arrival-rate',
      rate: 12500,
      timeUnit: '1000s',
      duration: '30s',
      exec: 'canary',
    });
    const ramp = profileFromEnv({ PROFILE: 'ramping', START_RATE: '5', STAGES: '10s:50' }, { rate: 1, durationS: 1 });
    expect(k6Scenario(ramp, 'canary', 100)).toMatchObject({
      executor: 'ramping-arrival-rate',
      startRate: 5000,
      stages: [{ target: 50000, duration: '10s' }],
    });
    expect(() => profileFromEnv({ PROFILE: 'spiky' }, { rate: 1, durationS: 1 })).toThrow(/PROFILE/);
  });
});

describe('x-served-by', () => {
  it('finds the track of the service under canary', () => {
    expect(trackOf('bff, account-canary, friend', 'account')).toBe('account-canary');
    expect(trackOf('bff, friend', 'account')).toBe('-');
    expect(trackOf(undefined, 'account')).toBe('-');
    expect(trackOf('bff,accounting', 'account')).toBe('-');
    expect(workloadsOf('bff, friend, friend,account-primary')).toEqual(['bff', 'friend', 'account-primary']);
  });
});
