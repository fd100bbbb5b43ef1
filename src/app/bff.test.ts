import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { seededAccounts } from './account.ts';
import { seededFriends } from './friend-store.ts';
import { knobsFromEnv } from './knobs.ts';
import { seededRandom } from '../core/random.ts';
import { createService, type RunningService, type Upstream, type UpstreamResponse } from './service.ts';
import { call, type LoopbackServer, serveOnLoopback } from '../../test/support/http.ts';

interface UpstreamCall {
  service: 'account' | 'friend';
  path: string;
  method?: string;
  headers: Record<string, string>;
}

type Reply = UpstreamResponse | Error | ((c: UpstreamCall) => UpstreamResponse | Error);

/** A fake outbound sidecar: answers from a table, records every call and how many run at once. */
class FakeUpstream implements Upstream {
  calls: UpstreamCall[] = [];
  replies = new Map<string, Reply>();
  /** When set, each call waits a turn of the event loop before answering, so calls made together overlap. */
  yieldBeforeReply = false;
  inFlight = 0;
  maxInFlight = 0;

  async request(
    service: 'account' | 'friend',
    path: string,
    init: { method?: string; headers: Record<string, string> },
  ) {
    const c = { service, path, method: init.method, headers: { ...init.headers } };
    this.calls.push(c);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.yieldBeforeReply) await new Promise((r) => setImmediate(r));
      let reply = this.replies.get(`${service} ${path}`) ?? this.replies.get(service);
      if (typeof reply === 'function') reply = reply(c);
      if (reply === undefined) return json(404, { error: 'fake: no reply' }, `${service}`);
      if (reply instanceof Error) throw reply;
      return reply;
    } finally {
      this.inFlight--;
    }
  }
}

function json(status: number, body: unknown, servedBy?: string): UpstreamResponse {
  return {
    status,
    headers: servedBy ? { 'x-served-by': servedBy, 'content-type': 'application/json' } : {},
    body: JSON.stringify(body),
  };
}

const account7 = seededAccounts()[6];
const friendsOf7 = seededFriends().filter((f) => f.accountId === 7);

describe('bff', () => {
  const upstream = new FakeUpstream();
  let service: RunningService;
  let server: LoopbackServer;

  beforeAll(async () => {
    service = await createService({
      service: 'bff',
      workload: 'bff',
      version: 'v1',
      knobs: knobsFromEnv({}),
      upstream,
    });
    server = await serveOnLoopback(service.handler);
  });
  afterAll(async () => {
    await server?.close();
    await service?.close();
  });
  afterEach(() => {
    upstream.calls = [];
    upstream.replies.clear();
    upstream.yieldBeforeReply = false;
    upstream.maxInFlight = 0;
  });

  const defaultReplies = () => {
    upstream.replies.set('account /api/account?id=7', json(200, account7, 'account-canary'));
    upstream.replies.set('friend /api/friend?id=7', json(200, friendsOf7, 'friend'));
  };

  it('answers a profile with the account and its friends, and who served it', async () => {
    defaultReplies();
    const answer = await call(`${server.url}/api/profile/7`);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ account: account7, friends: friendsOf7 });
    expect(answer.headers['x-served-by']).toBe('bff, account-canary, friend');
    expect(upstream.calls.map((c) => `${c.service} ${c.method} ${c.path}`).sort()).toEqual([
      'account GET /api/account?id=7',
      'friend GET /api/friend?id=7',
    ]);
  });

  it('calls both upstreams of a profile concurrently', async () => {
    defaultReplies();
    // Calls made one after the other never overlap, however long each takes; no clock is needed.
    upstream.yieldBeforeReply = true;
    const answer = await call(`${server.url}/api/profile/7`);
    expect(answer.status).toBe(200);
    expect(upstream.maxInFlight).toBe(2);
  });

  it('propagates end-user, x-request-id and traceparent to every upstream call', async () => {
    defaultReplies();
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const answer = await call(`${server.url}/api/profile/7`, {
      headers: { 'end-user': 'canary-tester-7', 'x-request-id': 'req-7', traceparent, cookie: 'not-propagated' },
    });
    expect(answer.headers['x-request-id']).toBe('req-7');
    expect(upstream.calls).toHaveLength(2);
    for (const c of upstream.calls) {
      expect(c.headers).toEqual({ 'end-user': 'canary-tester-7', 'x-request-id': 'req-7', traceparent });
    }
  });

  it('propagates the x-request-id it generated when the caller sent none', async () => {
    upstream.replies.set('account', json(200, [], 'account-primary'));
    const answer = await call(`${server.url}/api/account`);
    const generated = answer.headers['x-request-id'];
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    expect(upstream.calls[0].headers).toEqual({ 'x-request-id': generated });
  });

  it.each([
    ['/api/account', 'account', '/api/account'],
    ['/api/account/12', 'account', '/api/account?id=12'],
    ['/api/friend', 'friend', '/api/friend'],
    ['/api/friend/12', 'friend', '/api/friend?id=12'],
  ] as const)('forwards GET %s to %s %s and passes the body through', async (path, service, upstreamPath) => {
    const body = { from: service, path: upstreamPath };
    upstream.replies.set(`${service} ${upstreamPath}`, json(200, body, `${service}-x`));
    const answer = await call(`${server.url}${path}`);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual(body);
    expect(answer.headers['x-served-by']).toBe(`bff, ${service}-x`);
    expect(upstream.calls.map((c) => [c.service, c.path])).toEqual([[service, upstreamPath]]);
  });

  it('lists each workload once, in order, however upstreams repeat them', async () => {
    upstream.replies.set('account /api/account?id=7', json(200, account7, 'account-primary, friend'));
    upstream.replies.set('friend /api/friend?id=7', json(200, friendsOf7, ' friend ,bff,db-proxy'));
    const answer = await call(`${server.url}/api/profile/7`);
    expect(answer.headers['x-served-by']).toBe('bff, account-primary, friend, db-proxy');
  });

  it.each([
    [
      'account answers 503',
      json(503, { error: 'injected error' }, 'account-canary'),
      502,
      'bff, account-canary',
      /upstream account answered 503/,
      503,
    ],
    [
      'account answers 403 (policy)',
      json(403, { error: 'RBAC: access denied' }),
      502,
      'bff',
      /upstream account answered 403/,
      403,
    ],
    [
      'account answers 504 (timeout)',
      { status: 504, headers: {}, body: 'upstream request timeout' },
      502,
      'bff',
      /answered 504/,
      504,
    ],
    [
      'account cannot be reached',
      new Error('connect ECONNREFUSED 127.0.0.1:9'),
      502,
      'bff',
      /upstream account failed: connect ECONNREFUSED/,
      null,
    ],
    [
      'account answers 404',
      json(404, { error: 'account 7 not found' }, 'account-primary'),
      404,
      'bff, account-primary',
      /account 7 not found/,
      404,
    ],
  ])('maps a profile whose %s to %i', async (_, reply, status, servedBy, message, upstreamStatus) => {
    upstream.replies.set('account', reply);
    upstream.replies.set('friend', json(200, friendsOf7, 'friend'));
    const answer = await call(`${server.url}/api/profile/7`);
    expect(answer.status).toBe(status);
    const body = JSON.parse(answer.body);
    expect(body.error).toMatch(message);
    expect(body.upstream).toEqual({ service: 'account', status: upstreamStatus });
    // Both upstreams were asked; the one that answered still shows in x-served-by.
    expect(answer.headers['x-served-by']).toBe(servedBy === 'bff' ? 'bff, friend' : `${servedBy}, friend`);
  });

  it('treats a friend 404 in a profile as no friends, and a friend 500 as 502', async () => {
    upstream.replies.set('account', json(200, account7, 'account-primary'));
    upstream.replies.set('friend', json(404, { error: 'no friends for account 7' }, 'friend'));
    const none = await call(`${server.url}/api/profile/7`);
    expect(none.status).toBe(200);
    expect(JSON.parse(none.body)).toEqual({ account: account7, friends: [] });

    upstream.replies.set('friend', json(500, { error: 'boom' }, 'friend'));
    const broken = await call(`${server.url}/api/profile/7`);
    expect(broken.status).toBe(502);
    expect(JSON.parse(broken.body).upstream).toEqual({ service: 'friend', status: 500 });
    expect(broken.headers['x-served-by']).toBe('bff, account-primary, friend');
  });

  it('answers 502 when an upstream sends invalid JSON for a profile', async () => {
    upstream.replies.set('account', { status: 200, headers: { 'x-served-by': 'account-primary' }, body: '<html>' });
    upstream.replies.set('friend', json(200, [], 'friend'));
    const answer = await call(`${server.url}/api/profile/7`);
    expect(answer.status).toBe(502);
    expect(JSON.parse(answer.body).error).toMatch(/invalid JSON/);
  });

  it('passes a 400 from an upstream through with its message', async () => {
    upstream.replies.set('friend', json(400, { error: 'id: expected a positive integer' }, 'friend'));
    const answer = await call(`${server.url}/api/friend`);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).error).toBe('id: expected a positive integer');
  });

  it.each(['/api/profile/abc', '/api/account/0', '/api/friend/1.5'])(
    'rejects the id in %s with 400 without calling upstream',
    async (path) => {
      const answer = await call(`${server.url}${path}`);
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body).error).toMatch(/^id: expected a positive integer/);
      expect(answer.headers['x-served-by']).toBe('bff');
      expect(upstream.calls).toHaveLength(0);
    },
  );

  it.each(['/', '/api/profile', '/api/profile/7/extra', '/api/accounts', '/metrics'])(
    'answers 404 for %s',
    async (path) => {
      const answer = await call(`${server.url}${path}`);
      expect(answer.status).toBe(404);
      expect(JSON.parse(answer.body).error).toMatch(/no route/);
      expect(upstream.calls).toHaveLength(0);
    },
  );

  it('answers 405 for a POST to a known route', async () => {
    const answer = await call(`${server.url}/api/profile/7`, { method: 'POST' });
    expect(answer.status).toBe(405);
    expect(upstream.calls).toHaveLength(0);
  });
});

describe('bff knobs', () => {
  it('fails injected errors itself, without calling upstream, at the configured rate', async () => {
    const upstream = new FakeUpstream();
    upstream.replies.set('account', json(200, account7, 'account-primary'));
    upstream.replies.set('friend', json(200, friendsOf7, 'friend'));
    const service = await createService({
      service: 'bff',
      workload: 'bff',
      version: 'v1',
      knobs: knobsFromEnv({ ERROR_RATE: '0.3', ERROR_STATUS: '429' }),
      upstream,
      random: seededRandom(8),
    });
    const server = await serveOnLoopback(service.handler);
    try {
      const n = 400;
      const answers = await Promise.all(Array.from({ length: n }, () => call(`${server.url}/api/profile/7`)));
      const failed = answers.filter((a) => a.status === 429);
      expect(failed.length + answers.filter((a) => a.status === 200).length).toBe(n);
      expect(Math.abs(failed.length - n * 0.3)).toBeLessThanOrEqual(3.29 * Math.sqrt(n * 0.3 * 0.7));
      expect(failed.every((a) => a.headers['x-served-by'] === 'bff')).toBe(true);
      // Two upstream calls per profile that was not failed by the knob.
      expect(upstream.calls).toHaveLength(2 * (n - failed.length));
    } finally {
      await server.close();
      await service.close();
    }
  });
});
