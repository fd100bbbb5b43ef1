/**
 * The friend store on MySQL or MariaDB (mysql2/promise pool), from
 * `DATABASE_URL=mysql://user@host:port/database`.
 *
 * The password comes from the URL, else `DATABASE_PASSWORD`, else the file named by
 * `DATABASE_PASSWORD_FILE` (how a Kubernetes Secret is usually mounted). It is never logged: every
 * message uses the redacted URL, and the password is scrubbed from driver messages as well.
 */
import { readFileSync } from 'node:fs';
import mysql from 'mysql2/promise';
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { ConfigError, InfraError } from '../core/errors.ts';
import { type Friend, type FriendStore, redactDatabaseUrl, seededFriends } from './friend-store.ts';

export interface MysqlTarget {
  host: string;
  port: number;
  user: string;
  password: string | undefined;
  database: string;
}

const EXPECTED = 'expected mysql://user@host:port/database';

/** Parses the URL and finds the password; ConfigError names the variable, never the secret. */
export function mysqlTarget(url: string, env: NodeJS.ProcessEnv): MysqlTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('environment', 'DATABASE_URL', `${EXPECTED}, got '${redactDatabaseUrl(url)}'`);
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  const user = decodeURIComponent(parsed.username);
  if (
    parsed.protocol !== 'mysql:' ||
    parsed.hostname === '' ||
    user === '' ||
    database === '' ||
    database.includes('/')
  ) {
    throw new ConfigError(
      'environment',
      'DATABASE_URL',
      `${EXPECTED} (user, host and database are required), got '${redactDatabaseUrl(url)}'`,
    );
  }
  const port = parsed.port === '' ? 3306 : Number(parsed.port);
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    user,
    password: parsed.password !== '' ? decodeURIComponent(parsed.password) : passwordFromEnv(env),
    database,
  };
}

function passwordFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  if (env.DATABASE_PASSWORD !== undefined && env.DATABASE_PASSWORD !== '') return env.DATABASE_PASSWORD;
  const file = env.DATABASE_PASSWORD_FILE;
  if (file === undefined || file === '') return undefined;
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError('environment', 'DATABASE_PASSWORD_FILE', `cannot read '${file}' (${code})`);
  }
}

interface FriendRow extends RowDataPacket {
  id: number;
  accountId: number;
  name: string;
}

const SELECT = 'SELECT id, account_id AS accountId, name FROM friend';

export async function openMysqlFriendStore(url: string, env: NodeJS.ProcessEnv): Promise<FriendStore> {
  const target = mysqlTarget(url, env);
  const where = redactDatabaseUrl(url);
  const scrub = (message: string) => (target.password ? message.split(target.password).join('***') : message);
  const fail = (doing: string, err: unknown) =>
    new InfraError(`friend store ${where}: ${doing}: ${scrub(err instanceof Error ? err.message : String(err))}`);

  const pool = mysql.createPool({
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database: target.database,
    connectionLimit: 8,
    waitForConnections: true,
    connectTimeout: 10_000,
  });

  try {
    await pool.query(`
      CREATE TABLE IF NOT EXISTS friend (
        id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        account_id INT NOT NULL,
        name VARCHAR(100) NOT NULL,
        INDEX friend_account_id (account_id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
    const seed = seededFriends().map((f) => [f.id, f.accountId, f.name]);
    await pool.query('INSERT IGNORE INTO friend (id, account_id, name) VALUES ?', [seed]);
  } catch (err) {
    await pool.end().catch(() => {});
    throw fail('cannot create and seed the schema', err);
  }

  const rows = (found: FriendRow[]): Friend[] => found.map((r) => ({ id: r.id, accountId: r.accountId, name: r.name }));

  return {
    kind: 'mysql',
    async all() {
      try {
        const [found] = await pool.query<FriendRow[]>(`${SELECT} ORDER BY id`);
        return rows(found);
      } catch (err) {
        throw fail('cannot list friends', err);
      }
    },
    async friendsOf(accountId) {
      try {
        const [found] = await pool.execute<FriendRow[]>(`${SELECT} WHERE account_id = ? ORDER BY id`, [accountId]);
        return rows(found);
      } catch (err) {
        throw fail(`cannot list the friends of account ${accountId}`, err);
      }
    },
    async add(newFriends) {
      // One row per statement inside a transaction: each insertId is then exactly that row's id,
      // whatever innodb_autoinc_lock_mode the server runs with.
      const connection = await pool.getConnection().catch((err: unknown) => {
        throw fail('cannot get a connection', err);
      });
      try {
        await connection.beginTransaction();
        const added: Friend[] = [];
        for (const row of newFriends) {
          const [result] = await connection.execute<ResultSetHeader>(
            'INSERT INTO friend (account_id, name) VALUES (?, ?)',
            [row.accountId, row.name],
          );
          added.push({ id: result.insertId, accountId: row.accountId, name: row.name });
        }
        await connection.commit();
        return added;
      } catch (err) {
        await connection.rollback().catch(() => {});
        throw fail('cannot add friends', err);
      } finally {
        connection.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
}
