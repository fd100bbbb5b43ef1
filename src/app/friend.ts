/**
 * The `friend` service:
 * - `GET /api/friend` lists every friend (`[{ id, accountId, name }]`);
 * - `GET /api/friend?id=N` lists the friends of account N (404 when it has none);
 * - `POST /api/friend/generate?number=K` adds K friends (1..1000) to random seeded accounts and
 *   answers 201 with `{ generated: K, friends: [...] }`.
 */
import {
  type Exchange,
  parseId,
  queryParams,
  sendError,
  sendJson,
  sendMethodNotAllowed,
  sendNotFound,
} from './exchange.ts';
import { type FriendStore, generateFriends } from './friend-store.ts';
import { openFriendStore } from './open-friend-store.ts';
import type { RandomSource } from '../core/random.ts';
import type { AppRoutes } from './app-routes.ts';

export const MAX_GENERATE = 1000;

export interface FriendAppOptions {
  workload: string;
  databaseUrl?: string;
  env?: NodeJS.ProcessEnv;
  random: RandomSource;
  /** An already open store (tests); otherwise `databaseUrl` is opened. */
  store?: FriendStore;
}

export async function createFriendApp(opts: FriendAppOptions): Promise<AppRoutes> {
  const { workload, random } = opts;
  const store = opts.store ?? (await openFriendStore(opts.databaseUrl, opts.env));

  async function list(exchange: Exchange): Promise<void> {
    const raw = exchange.rawQuery === '' ? null : queryParams(exchange).get('id');
    if (raw === null) return sendJson(exchange, 200, await store.all(), workload);
    const parsed = parseId(raw, 'id');
    if ('problem' in parsed) return sendError(exchange, 400, parsed.problem, workload);
    const friends = await store.friendsOf(parsed.id);
    if (friends.length === 0) return sendError(exchange, 404, `no friends for account ${parsed.id}`, workload);
    sendJson(exchange, 200, friends, workload);
  }

  async function generate(exchange: Exchange): Promise<void> {
    const raw = queryParams(exchange).get('number');
    const number = raw !== null && /^[0-9]{1,7}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!(number >= 1 && number <= MAX_GENERATE)) {
      const got = raw === null ? 'nothing' : `'${raw}'`;
      return sendError(exchange, 400, `number: expected an integer from 1 to ${MAX_GENERATE}, got ${got}`, workload);
    }
    const friends = await store.add(generateFriends(number, random));
    sendJson(exchange, 201, { generated: friends.length, friends }, workload);
  }

  return {
    handle(exchange: Exchange) {
      if (exchange.path === '/api/friend') {
        return exchange.method === 'GET' ? list(exchange) : sendMethodNotAllowed(exchange, 'GET', workload);
      }
      if (exchange.path === '/api/friend/generate') {
        return exchange.method === 'POST' ? generate(exchange) : sendMethodNotAllowed(exchange, 'POST', workload);
      }
      sendNotFound(exchange, workload);
    },
    close: () => store.close(),
  };
}
