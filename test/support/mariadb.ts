/**
 * A real, throwaway MariaDB server for e2e suites: the Debian package's `mariadbd`, with its own
 * temporary data directory, socket and a free loopback port, a database and a password-less user
 * that can only log in from loopback. `stop()` shuts it down and removes everything it created.
 *
 * A missing binary is an error, never a skipped suite (the CI script installs `mariadb-server`).
 */
import { type ChildProcess, execFile } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { ServerProcess, freeLoopbackPort } from './server-process.ts';

const run = promisify(execFile);

export interface MariaDbServer {
  /** `mysql://USER@127.0.0.1:PORT/DATABASE`, no password. */
  url: string;
  host: '127.0.0.1';
  port: number;
  database: string;
  user: string;
  socketPath: string;
  /** Runs SQL as the server's administrator over the socket (for test setup and inspection). */
  adminQuery(sql: string): Promise<string>;
  /** Stops the server and removes its directory; idempotent. */
  stop(): Promise<void>;
}

export interface MariaDbOptions {
  database?: string;
  user?: string;
  /** How long to wait for the server to accept connections. */
  readyTimeoutMs?: number;
}

/** Debian puts `mariadbd` in /usr/sbin, which is not on every user's PATH. */

export function findMariaDbBinary(name: string): string {
  const dirs = [
    ...(process.env.PATH ?? '').split(delimiter),
    '/usr/sbin',
    '/usr/bin',
    '/usr/local/sbin',
    '/usr/local/bin',
  ];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new Error(
    `MariaDB binary '${name}' not found on PATH or in /usr/sbin: install the Debian package mariadb-server (apt-get install -y mariadb-server)`,
  );
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,31}$/;

export async function startMariaDb(opts: MariaDbOptions = {}): Promise<MariaDbServer> {
  const database = opts.database ?? 'canary_test';
  const user = opts.user ?? 'canary';
  for (const [what, value] of [
    ['database', database],
    ['user', user],
  ] as const) {
    if (!IDENTIFIER.test(value)) throw new Error(`startMariaDb: ${what} must match ${IDENTIFIER}, got '${value}'`);
  }
  const mariadbd = findMariaDbBinary('mariadbd');
  const installDb = findMariaDbBinary('mariadb-install-db');
  const client = findMariaDbBinary('mariadb');

  const root = await mkdtemp(join(tmpdir(), 'canary-mariadb-'));
  const dataDir = join(root, 'data');
  const tmp = join(root, 'tmp');
  mkdirSync(tmp);
  const socketPath = join(root, 'mariadb.sock');
  const errorLog = join(root, 'error.log');
  // mariadbd refuses to run as root unless told so explicitly; otherwise it runs as whoever we are.
  const osUser = process.getuid?.() === 0 ? 'root' : userInfo().username;

  const server = new ServerProcess(root, 20_000);
  const stop = () => server.stop();

  const adminQuery = async (sql: string): Promise<string> => {
    const { stdout } = await run(
      client,
      ['--no-defaults', `--socket=${socketPath}`, `--user=${osUser}`, '--batch', '--skip-column-names', '-e', sql],
      { timeout: 10_000 },
    );
    return stdout;
  };

  try {
    await run(
      installDb,
      [
        '--no-defaults',
        `--datadir=${dataDir}`,
        `--user=${osUser}`,
        '--auth-root-authentication-method=socket',
        '--skip-test-db',
        '--skip-name-resolve',
      ],
      { timeout: 120_000 },
    ).catch((err: { stderr?: string; message: string }) => {
      throw new Error(`mariadb-install-db failed: ${err.stderr?.trim() || err.message}`);
    });

    let port = 0;
    // The free port may be taken between our probe and mariadbd's bind: try a few times.
    for (let attempt = 1; ; attempt++) {
      port = await freeLoopbackPort();
      const spawned = server.spawn(
        mariadbd,
        [
          '--no-defaults',
          `--datadir=${dataDir}`,
          `--socket=${socketPath}`,
          `--port=${port}`,
          '--bind-address=127.0.0.1',
          `--pid-file=${join(root, 'mariadb.pid')}`,
          `--log-error=${errorLog}`,
          `--tmpdir=${tmp}`,
          `--user=${osUser}`,
          '--skip-name-resolve',
          '--skip-log-bin',
          '--innodb-buffer-pool-size=32M',
          '--innodb-log-file-size=16M',
        ],
        { stdio: 'ignore' },
      );
      const ready = await waitUntilReady(spawned, socketPath, adminQuery, opts.readyTimeoutMs ?? 60_000);
      if (ready === 'ready') break;
      const log = readTail(errorLog);
      server.forget();
      if (ready === 'exited' && /bind on tcp\/ip port|address already in use/i.test(log) && attempt < 3) continue;
      throw new Error(`mariadbd did not become ready (${ready}); error log ${errorLog}:\n${log}`);
    }

    await adminQuery(
      [
        `CREATE DATABASE \`${database}\``,
        `CREATE USER '${user}'@'127.0.0.1'`,
        `CREATE USER '${user}'@'localhost'`,
        `GRANT ALL PRIVILEGES ON \`${database}\`.* TO '${user}'@'127.0.0.1'`,
        `GRANT ALL PRIVILEGES ON \`${database}\`.* TO '${user}'@'localhost'`,
      ].join('; '),
    );

    return {
      url: `mysql://${user}@127.0.0.1:${port}/${database}`,
      host: '127.0.0.1',
      port,
      database,
      user,
      socketPath,
      adminQuery,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function waitUntilReady(
  child: ChildProcess,
  socketPath: string,
  adminQuery: (sql: string) => Promise<string>,
  timeoutMs: number,
): Promise<'ready' | 'exited' | 'timeout'> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return 'exited';
    if (existsSync(socketPath)) {
      try {
        if ((await adminQuery('SELECT 1')).trim() === '1') return 'ready';
      } catch {
        // still starting
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  return 'timeout';
}

function readTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no error log)';
  }
}
