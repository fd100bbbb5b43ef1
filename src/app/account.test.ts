import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Account, SEEDED_ACCOUNT_COUNT, seededAccounts } from './account.ts';
import { knobsFromEnv } from './knobs.ts';
import { createService, type RunningService } from './service.ts';
import { call, type LoopbackServer, serveOnLoopback } from '../../test/support/http.ts';

describe('account service', () => {
  let service: RunningService;
  let server: LoopbackServer;

  beforeAll(async () => {
    service = await createService({
      service: 'account',
      workload: 'account-canary',
      version: 'v2',
      knobs: knobsFromEnv({}),
    });
    server = await serveOnLoopback(service.handler);
  });
  afterAll(async () => {
    await server?.close();
    await service?.close();
  });

  it('seeds the same accounts on every start', () => {
    const a = seededAccounts();
    expect(a).toHaveLength(SEEDED_ACCOUNT_COUNT);
    expect(a).toEqual(seededAccounts());
    expect(new Set(a.map((x) => x.username)).size).toBe(SEEDED_ACCOUNT_COUNT);
    expect(a.map((x) => x.id)).toEqual(Array.from({ length: SEEDED_ACCOUNT_COUNT }, (_, i) => i + 1));
  });

  it('lists every account as JSON', async () => {
    const answer = await call(`${server.url}/api/account`);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(answer.body)).toEqual(seededAccounts());
  });

  it('answers one account by id', async () => {
    const answer = await call(`${server.url}/api/account?id=42`);
    expect(answer.status).toBe(200);
    const account = JSON.parse(answer.body) as Account;
    expect(account).toEqual(seededAccounts()[41]);
    expect(account.id).toBe(42);
  });

  it.each([
    ['?id=0', 400, /id: expected a positive integer, got '0'/],
    ['?id=abc', 400, /id: expected a positive integer, got 'abc'/],
    ['?id=-3', 400, /got '-3'/],
    [`?id=${SEEDED_ACCOUNT_COUNT + 1}`, 404, new RegExp(`account ${SEEDED_ACCOUNT_COUNT + 1} not found`)],
  ])('answers %s with %i and a JSON error', async (query, status, message) => {
    const answer = await call(`${server.url}/api/account${query}`);
    expect(answer.status).toBe(status);
    expect(JSON.parse(answer.body).error).toMatch(message);
    expect(answer.headers['x-served-by']).toBe('account-canary');
  });

  it('answers 404 for unknown routes and 405 for other methods', async () => {
    const unknown = await call(`${server.url}/api/accounts`);
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body).error).toMatch(/no route for GET \/api\/accounts/);
    const post = await call(`${server.url}/api/account`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET');
  });

  it('names its workload in x-served-by and echoes x-request-id', async () => {
    const answer = await call(`${server.url}/api/account?id=1`, { headers: { 'x-request-id': 'req-123' } });
    expect(answer.headers['x-served-by']).toBe('account-canary');
    expect(answer.headers['x-request-id']).toBe('req-123');
  });

  it('generates a distinct x-request-id when the caller sent none', async () => {
    const [a, b] = await Promise.all([call(`${server.url}/api/account?id=1`), call(`${server.url}/api/account?id=1`)]);
    expect(a.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
  });

  it('answers /healthz with its identity', async () => {
    const answer = await call(`${server.url}/healthz`);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({
      status: 'ok',
      service: 'account',
      workload: 'account-canary',
      version: 'v2',
    });
  });
});
