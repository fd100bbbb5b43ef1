/**
 * Where the friend service keeps its rows: SQLite (better-sqlite3) by default, MySQL/MariaDB
 * (mysql2) when `DATABASE_URL=mysql://…`. Both create the schema and seed the same deterministic
 * friends on open, idempotently (fixed ids, insert-or-ignore), so several replicas may share one
 * database and a restarted one finds its rows again.
 *
 * The database URL may carry a password: it only ever appears in messages through
 * `redactDatabaseUrl`.
 */
import { ConfigError } from '../core/errors.ts';
import { SEEDED_ACCOUNT_COUNT } from './account.ts';
import type { RandomSource } from '../core/random.ts';

export interface Friend {
  id: number;
  accountId: number;
  name: string;
}

export type NewFriend = Omit<Friend, 'id'>;

export interface FriendStore {
  readonly kind: 'sqlite' | 'mysql';
  /** Every friend, by id. */
  all(): Promise<Friend[]>;
  /** The friends of one account, by id; empty when it has none. */
  friendsOf(accountId: number): Promise<Friend[]>;
  /** Inserts new rows and returns them with their ids. */
  add(friends: readonly NewFriend[]): Promise<Friend[]>;
  close(): Promise<void>;
}

const FRIEND_NAMES = [
  'Alex',
  'Sam',
  'Robin',
  'Kim',
  'Jo',
  'Charlie',
  'Noa',
  'Yuki',
  'Ravi',
  'Lena',
  'Omar',
  'Ines',
  'Tariq',
  'Mila',
  'Pavel',
  'Zoe',
  'Ayo',
  'Hana',
  'Luca',
];

/**
 * The seed: account a (1..accountCount) has 1 + (3a mod 5) friends, numbered consecutively from 1,
 * with names picked by a fixed stride. The same on every start and every database.
 */
export function seededFriends(accountCount: number = SEEDED_ACCOUNT_COUNT): Friend[] {
  const friends: Friend[] = [];
  let id = 1;
  for (let accountId = 1; accountId <= accountCount; accountId++) {
    const count = 1 + ((accountId * 3) % 5);
    for (let k = 0; k < count; k++) {
      friends.push({ id, accountId, name: `${FRIEND_NAMES[(id * 5) % FRIEND_NAMES.length]} #${id}` });
      id++;
    }
  }
  return friends;
}

/** New friends for `POST /api/friend/generate`: random seeded accounts, random names. */
export function generateFriends(
  count: number,
  random: RandomSource,
  accountCount: number = SEEDED_ACCOUNT_COUNT,
): NewFriend[] {
  const out: NewFriend[] = [];
  for (let i = 0; i < count; i++) {
    const accountId = 1 + Math.floor(random() * accountCount);
    const name = `${FRIEND_NAMES[Math.floor(random() * FRIEND_NAMES.length)]} (generated)`;
    out.push({ accountId, name });
  }
  return out;
}

/** Which store a `DATABASE_URL` asks for. */
export type StoreLocation = { kind: 'sqlite'; path: string } | { kind: 'mysql'; url: string };

/**
 * unset / '' → SQLite in memory; `sqlite::memory:`, `sqlite:PATH` or a plain path → SQLite;
 * `mysql://…` → MySQL/MariaDB. Any other scheme is an error rather than a silent default.
 */
export function storeLocation(databaseUrl: string | undefined): StoreLocation {
  const value = databaseUrl?.trim() ?? '';
  if (value === '') return { kind: 'sqlite', path: ':memory:' };
  if (value.startsWith('mysql://')) return { kind: 'mysql', url: value };
  if (value.startsWith('sqlite:')) {
    const path = value.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '')
      throw new ConfigError(
        'environment',
        'DATABASE_URL',
        "expected 'sqlite:PATH' or 'sqlite::memory:', got 'sqlite:'",
      );
    return { kind: 'sqlite', path };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    throw new ConfigError(
      'environment',
      'DATABASE_URL',
      `expected mysql://user@host:port/database, sqlite:PATH or a file path, got '${redactDatabaseUrl(value)}'`,
    );
  }
  return { kind: 'sqlite', path: value };
}

/** The URL with any password replaced by `***`; an unparsable URL keeps only its scheme. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
    return scheme ? `${scheme}://<unparsable, redacted>` : '<unparsable, redacted>';
  }
}
