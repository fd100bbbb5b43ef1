/**
 * The `account` service: `GET /api/account` lists every account, `GET /api/account?id=N` answers
 * one (404 when unknown). Accounts live in memory and are the same on every replica and every run
 * (seeded from the id), so that the bff's profile joins them with the friend store's rows.
 */
import {
  type Exchange,
  parseId,
  queryParams,
  sendError,
  sendJsonText,
  sendMethodNotAllowed,
  sendNotFound,
} from './exchange.ts';
import type { AppRoutes } from './app-routes.ts';

export interface Account {
  id: number;
  username: string;
  name: string;
  email: string;
}

/** Accounts 1..SEEDED_ACCOUNT_COUNT exist; the friend store seeds friends for the same ids. */
export const SEEDED_ACCOUNT_COUNT = 100;

const FIRST_NAMES = [
  'Ada',
  'Grace',
  'Alan',
  'Edsger',
  'Barbara',
  'Donald',
  'Frances',
  'Ken',
  'Radia',
  'Tony',
  'Margaret',
  'John',
  'Leslie',
  'Niklaus',
  'Shafi',
  'Dennis',
];
const LAST_NAMES = [
  'Lovelace',
  'Hopper',
  'Turing',
  'Dijkstra',
  'Liskov',
  'Knuth',
  'Allen',
  'Thompson',
  'Perlman',
  'Hoare',
  'Hamilton',
  'Backus',
  'Lamport',
  'Wirth',
  'Goldwasser',
  'Ritchie',
  'Kay',
];

/** Deterministic accounts 1..count (the name pairs cycle through co-prime list lengths). */
export function seededAccounts(count: number = SEEDED_ACCOUNT_COUNT): Account[] {
  const accounts: Account[] = [];
  for (let id = 1; id <= count; id++) {
    const first = FIRST_NAMES[(id * 7) % FIRST_NAMES.length];
    const last = LAST_NAMES[(id * 11) % LAST_NAMES.length];
    const username = `${first}.${last}.${id}`.toLowerCase();
    accounts.push({ id, username, name: `${first} ${last}`, email: `${username}@example.test` });
  }
  return accounts;
}

export function createAccountApp(opts: { workload: string; accounts?: Account[] }): AppRoutes {
  const { workload } = opts;
  const accounts = opts.accounts ?? seededAccounts();
  // Answers are serialised once: the account service is on the hot path of every canary run.
  const listJson = JSON.stringify(accounts);
  const byId = new Map(accounts.map((a) => [a.id, JSON.stringify(a)]));

  return {
    handle(exchange: Exchange) {
      if (exchange.path !== '/api/account') return sendNotFound(exchange, workload);
      if (exchange.method !== 'GET') return sendMethodNotAllowed(exchange, 'GET', workload);
      if (exchange.rawQuery === '') return sendJsonText(exchange, 200, listJson, workload);
      const raw = queryParams(exchange).get('id');
      if (raw === null) return sendJsonText(exchange, 200, listJson, workload);
      const parsed = parseId(raw, 'id');
      if ('problem' in parsed) return sendError(exchange, 400, parsed.problem, workload);
      const json = byId.get(parsed.id);
      if (json === undefined) return sendError(exchange, 404, `account ${parsed.id} not found`, workload);
      sendJsonText(exchange, 200, json, workload);
    },
    close: async () => {},
  };
}
