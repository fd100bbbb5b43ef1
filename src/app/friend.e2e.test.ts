import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MariaDbServer, startMariaDb } from '../../test/support/mariadb.ts';
import { InfraError } from '../core/errors.ts';
import { describeFriendService } from './friend.shared-cases.ts';
import { seededFriends } from './friend-store.ts';
import { openFriendStore } from './open-friend-store.ts';

let mariadb: MariaDbServer;
beforeAll(async () => {
  mariadb = await startMariaDb({ database: 'friend_e2e', user: 'friend' });
});
afterAll(async () => {
  await mariadb?.stop();
});

describeFriendService({ name: 'MariaDB', databaseUrl: () => mariadb.url });

describe('MySQL friend store on MariaDB', () => {
  it('keeps its rows in the server', async () => {
    const store = await openFriendStore(mariadb.url, {});
    try {
      expect(store.kind).toBe('mysql');
      const count = Number(
        (await mariadb.adminQuery('SELECT COUNT(*) FROM friend_e2e.friend WHERE id <= 1000')).trim(),
      );
      expect(count).toBeGreaterThanOrEqual(seededFriends().length);
    } finally {
      await store.close();
    }
  });

  it('reports a refused login with the URL redacted, never the password', async () => {
    const withPassword = mariadb.url.replace('mysql://friend@', 'mysql://friend:Wr0ng-Secret@');
    let error: unknown;
    try {
      await openFriendStore(withPassword, {});
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InfraError);
    const message = (error as Error).message;
    expect(message).toContain(`mysql://friend:***@127.0.0.1:${mariadb.port}/friend_e2e`);
    expect(message).toMatch(/access denied/i);
    expect(message).not.toContain('Wr0ng-Secret');
  });

  it('reports an unreachable server as an infrastructure error', async () => {
    const closedPort = mariadb.url.replace(`:${mariadb.port}/`, ':1/');
    await expect(openFriendStore(closedPort, { DATABASE_PASSWORD: 'Env-Secret' })).rejects.toThrow(InfraError);
    await expect(openFriendStore(closedPort, { DATABASE_PASSWORD: 'Env-Secret' })).rejects.not.toThrow(/Env-Secret/);
  });
});
