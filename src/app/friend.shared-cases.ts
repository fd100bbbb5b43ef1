/**
 * The friend service's test table, run once per store: on SQLite by friend.test.ts and on a real
 * MariaDB by friend.e2e.test.ts. Same requests, same expected answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEEDED_ACCOUNT_COUNT } from './account.ts';
import { type Friend, seededFriends } from './friend-store.ts';
import { knobsFromEnv } from './knobs.ts';
import { seededRandom } from '../core/random.ts';
import { createService, type RunningService } from './service.ts';
import { call, type LoopbackServer, serveOnLoopback } from '../../test/support/http.ts';

export interface FriendStoreUnderTest {
  name: string;
  /** A persistent location (file or server), the same on every call, so a restart can be tested. */
  databaseUrl: () => string;
}

export function describeFriendService(target: FriendStoreUnderTest): void {
  describe(`friend service on ${target.name}`, () => {
    let service: RunningService;
    let server: LoopbackServer;
    const seed = seededFriends();
    const generated: Friend[] = [];

    const startFriend = async () => {
      const s = await createService({
        service: 'friend',
        workload: 'friend',
        version: 'v1',
        knobs: knobsFromEnv({}),
        databaseUrl: target.databaseUrl(),
        random: seededRandom(5),
      });
      return { service: s, server: await serveOnLoopback(s.handler) };
    };

    beforeAll(async () => {
      ({ service, server } = await startFriend());
    });
    afterAll(async () => {
      await server?.close();
      await service?.close();
    });

    it('lists the seeded friends', async () => {
      const answer = await call(`${server.url}/api/friend`);
      expect(answer.status).toBe(200);
      expect(answer.headers['x-served-by']).toBe('friend');
      expect(JSON.parse(answer.body)).toEqual(seed);
      expect(seed.length).toBeGreaterThanOrEqual(SEEDED_ACCOUNT_COUNT);
    });

    it.each([1, 2, 57, SEEDED_ACCOUNT_COUNT])('lists the friends of account %i', async (accountId) => {
      const answer = await call(`${server.url}/api/friend?id=${accountId}`);
      expect(answer.status).toBe(200);
      const friends = JSON.parse(answer.body) as Friend[];
      expect(friends).toEqual(seed.filter((f) => f.accountId === accountId));
      expect(friends.length).toBeGreaterThan(0);
    });

    it.each([
      ['?id=99999', 404, /no friends for account 99999/],
      ['?id=abc', 400, /id: expected a positive integer, got 'abc'/],
      ['?id=', 400, /id: expected a positive integer, got ''/],
    ])('answers GET /api/friend%s with %i', async (query, status, message) => {
      const answer = await call(`${server.url}/api/friend${query}`);
      expect(answer.status).toBe(status);
      expect(JSON.parse(answer.body).error).toMatch(message);
    });

    it.each([
      ['', /number: expected an integer from 1 to 1000, got nothing/],
      ['?number=0', /got '0'/],
      ['?number=1001', /got '1001'/],
      ['?number=2.5', /got '2.5'/],
      ['?number=ten', /got 'ten'/],
    ])('rejects POST /api/friend/generate%s with 400', async (query, message) => {
      const answer = await call(`${server.url}/api/friend/generate${query}`, { method: 'POST' });
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body).error).toMatch(message);
    });

    it('generates friends with new ids, visible to later reads', async () => {
      const answer = await call(`${server.url}/api/friend/generate?number=5`, { method: 'POST' });
      expect(answer.status).toBe(201);
      const body = JSON.parse(answer.body) as { generated: number; friends: Friend[] };
      expect(body.generated).toBe(5);
      expect(body.friends).toHaveLength(5);
      const maxSeedId = Math.max(...seed.map((f) => f.id));
      expect(new Set(body.friends.map((f) => f.id)).size).toBe(5);
      for (const f of body.friends) {
        expect(f.id).toBeGreaterThan(maxSeedId);
        expect(f.accountId).toBeGreaterThanOrEqual(1);
        expect(f.accountId).toBeLessThanOrEqual(SEEDED_ACCOUNT_COUNT);
      }
      generated.push(...body.friends);

      const all = JSON.parse((await call(`${server.url}/api/friend`)).body) as Friend[];
      expect(all).toEqual([...seed, ...generated].sort((a, b) => a.id - b.id));
      const owner = generated[0].accountId;
      const ofOwner = JSON.parse((await call(`${server.url}/api/friend?id=${owner}`)).body) as Friend[];
      expect(ofOwner).toContainEqual(generated[0]);
    });

    it('keeps its rows across a restart and does not seed twice', async () => {
      await server.close();
      await service.close();
      ({ service, server } = await startFriend());
      const all = JSON.parse((await call(`${server.url}/api/friend`)).body) as Friend[];
      expect(all).toEqual([...seed, ...generated].sort((a, b) => a.id - b.id));
    });

    it('answers 404 for unknown routes and 405 for wrong methods', async () => {
      expect((await call(`${server.url}/api/friends`)).status).toBe(404);
      const get = await call(`${server.url}/api/friend/generate?number=1`);
      expect(get.status).toBe(405);
      expect(get.headers.allow).toBe('POST');
      expect((await call(`${server.url}/api/friend`, { method: 'DELETE' })).status).toBe(405);
    });
  });
}
