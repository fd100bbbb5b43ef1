/**
 * The friend store on SQLite (better-sqlite3): the embedded default. better-sqlite3 is synchronous;
 * with an indexed lookup on a few hundred rows a query takes microseconds, which is cheaper than
 * handing work to a thread.
 */
import Database from 'better-sqlite3';
import { InfraError } from '../core/errors.ts';
import { type Friend, type FriendStore, type NewFriend, seededFriends } from './friend-store.ts';

interface FriendRow {
  id: number;
  accountId: number;
  name: string;
}

export function openSqliteFriendStore(path: string): FriendStore {
  let db: Database.Database;
  try {
    db = new Database(path);
    if (path !== ':memory:') db.pragma('journal_mode = WAL');
    db.exec(`
      CREATE TABLE IF NOT EXISTS friend (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL,
        name TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS friend_account_id ON friend (account_id);
    `);
    const seed = db.prepare('INSERT OR IGNORE INTO friend (id, account_id, name) VALUES (?, ?, ?)');
    db.transaction((rows: Friend[]) => {
      for (const row of rows) seed.run(row.id, row.accountId, row.name);
    })(seededFriends());
  } catch (err) {
    throw new InfraError(`friend store: cannot open SQLite database '${path}': ${(err as Error).message}`, {
      cause: err,
    });
  }

  const selectAll = db.prepare<[], FriendRow>('SELECT id, account_id AS accountId, name FROM friend ORDER BY id');
  const selectOf = db.prepare<[number], FriendRow>(
    'SELECT id, account_id AS accountId, name FROM friend WHERE account_id = ? ORDER BY id',
  );
  const insert = db.prepare<[number, string]>('INSERT INTO friend (account_id, name) VALUES (?, ?)');
  const insertAll = db.transaction((rows: readonly NewFriend[]): Friend[] =>
    rows.map((row) => ({
      id: Number(insert.run(row.accountId, row.name).lastInsertRowid),
      accountId: row.accountId,
      name: row.name,
    })),
  );

  return {
    kind: 'sqlite',
    all: async () => selectAll.all(),
    friendsOf: async (accountId) => selectOf.all(accountId),
    add: async (rows) => insertAll(rows),
    close: async () => {
      if (db.open) db.close();
    },
  };
}
