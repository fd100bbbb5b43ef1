/**
 * The three services as standalone HTTP servers over real loopback, without the data plane: the bff
 * reaches account and friend through `httpUpstream`, as it does on Kubernetes behind Istio.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededAccounts } from './account.ts';
import { seededFriends } from './friend-store.ts';
import { serveStandalone, type StandaloneServer } from './standalone.ts';
import { call } from '../../test/support/http.ts';

describe('reference app as standalone servers', () => {
  const running: StandaloneServer[] = [];
  let bff: StandaloneServer;

  beforeAll(async () => {
    const local = { HOST: '127.0.0.1', PORT: '0' };
    const account = await serveStandalone({ ...local, SERVICE: 'account', WORKLOAD: 'account-canary', VERSION: 'v2' });
    running.push(account);
    const friend = await serveStandalone({ ...local, SERVICE: 'friend' });
    running.push(friend);
    bff = await serveStandalone({ ...local, SERVICE: 'bff', ACCOUNT_URL: account.url, FRIEND_URL: friend.url });
    running.push(bff);
  });
  afterAll(async () => {
    for (const server of running.reverse()) await server.close();
  });

  it('serves a profile assembled from both services', async () => {
    const answer = await call(`${bff.url}/api/profile/1`, {
      headers: { 'end-user': 'canary-tester-7', 'x-request-id': 'e2e-1' },
    });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({
      account: seededAccounts()[0],
      friends: seededFriends().filter((f) => f.accountId === 1),
    });
    expect(answer.headers['x-served-by']).toBe('bff, account-canary, friend');
    expect(answer.headers['x-request-id']).toBe('e2e-1');
  });

  it('answers 404 through the bff for an unknown account', async () => {
    const answer = await call(`${bff.url}/api/account/4242`);
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body).error).toBe('account 4242 not found');
    expect(answer.headers['x-served-by']).toBe('bff, account-canary');
  });

  it('answers 500 concurrent profiles, each with its own account', async () => {
    const ids = Array.from({ length: 500 }, (_, i) => 1 + (i % 100));
    const answers = await Promise.all(ids.map((id) => call(`${bff.url}/api/profile/${id}`)));
    expect(answers.map((a) => a.status)).toEqual(ids.map(() => 200));
    expect(answers.map((a) => JSON.parse(a.body).account.id)).toEqual(ids);
  });

  it('maps an unreachable upstream to 502', async () => {
    const orphan = await serveStandalone({
      HOST: '127.0.0.1',
      PORT: '0',
      SERVICE: 'bff',
      ACCOUNT_URL: 'http://127.0.0.1:1',
      FRIEND_URL: 'http://127.0.0.1:1',
    });
    try {
      const answer = await call(`${orphan.url}/api/account/1`);
      expect(answer.status).toBe(502);
      expect(JSON.parse(answer.body).error).toMatch(/upstream account failed/);
    } finally {
      await orphan.close();
    }
  });

  it.each([
    [{ SERVICE: 'accounts' }, /^environment SERVICE: expected one of bff, account, friend, got 'accounts'/],
    [{ SERVICE: 'account', PORT: 'http' }, /^environment PORT: /],
    [{ SERVICE: 'bff', ACCOUNT_URL: 'account:8080/x' }, /^environment ACCOUNT_URL: expected an origin/],
    [{ SERVICE: 'account', ERROR_RATE: '2' }, /^environment ERROR_RATE: /],
  ])('rejects %j naming the variable', async (env, message) => {
    await expect(serveStandalone({ HOST: '127.0.0.1', PORT: '0', ...env })).rejects.toThrow(message);
  });
});

describe('src/app/main.ts', () => {
  const main = new URL('./main.ts', import.meta.url).pathname;
  const node = (env: Record<string, string>) =>
    spawn(process.execPath, ['--import', 'tsx', main], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });

  it('serves until SIGTERM, then exits 0', async () => {
    const child = node({ SERVICE: 'account', WORKLOAD: 'account-primary', HOST: '127.0.0.1', PORT: '0' });
    try {
      let out = '';
      child.stdout.setEncoding('utf8');
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: string) => {
          out += chunk;
          const match = /listening on (http:\/\/\S+)/.exec(out);
          if (match) resolve(match[1]);
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      const answer = await call(`${url}/api/account?id=2`);
      expect(answer.status).toBe(200);
      expect(answer.headers['x-served-by']).toBe('account-primary');
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('exits 3 with the variable named on bad configuration', async () => {
    const child = node({ SERVICE: 'account', LATENCY: 'lognormal:median=20' });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    const [code] = await once(child, 'exit');
    expect(code).toBe(3);
    expect(err).toMatch(/environment LATENCY: lognormal needs sigma/);
  });
});
