import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import mysql from 'mysql2/promise';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findMariaDbBinary, type MariaDbServer, startMariaDb } from './mariadb.ts';

function portAcceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('startMariaDb', () => {
  let server: MariaDbServer;

  beforeAll(async () => {
    server = await startMariaDb({ database: 'support_test', user: 'tester' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('serves the database to its password-less user over loopback TCP', async () => {
    expect(server.url).toBe(`mysql://tester@127.0.0.1:${server.port}/support_test`);
    const connection = await mysql.createConnection({
      host: '127.0.0.1',
      port: server.port,
      user: 'tester',
      database: 'support_test',
    });
    try {
      await connection.query('CREATE TABLE t (n INT)');
      await connection.query('INSERT INTO t VALUES (1), (2), (3)');
      const [rows] = await connection.query<RowDataPacket[]>('SELECT SUM(n) AS total FROM t');
      expect(Number(rows[0].total)).toBe(6);
      const [who] = await connection.query<RowDataPacket[]>('SELECT CURRENT_USER() AS u');
      expect(who[0].u).toBe('tester@127.0.0.1');
    } finally {
      await connection.end();
    }
  });

  it('gives the user nothing outside its own database', async () => {
    const connection = await mysql.createConnection({ host: '127.0.0.1', port: server.port, user: 'tester' });
    try {
      await expect(connection.query('CREATE DATABASE other')).rejects.toThrow(/denied/i);
    } finally {
      await connection.end();
    }
  });

  it('stops the server, frees the port and removes its directory; a second stop is harmless', async () => {
    const other = await startMariaDb();
    const dir = dirname(other.socketPath);
    expect(other.port).not.toBe(server.port);
    expect(await portAcceptsConnections(other.port)).toBe(true);
    expect((await other.adminQuery('SELECT @@bind_address')).trim()).toBe('127.0.0.1');
    await other.stop();
    expect(await portAcceptsConnections(other.port)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    await other.stop();
  }, 90_000);

  it('names the package when a binary is missing', () => {
    expect(() => findMariaDbBinary('mariadbd-that-does-not-exist')).toThrow(
      /mariadbd-that-does-not-exist.*mariadb-server/,
    );
  });
});
