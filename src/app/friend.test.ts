import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.ts';
import { describeFriendService } from './friend.shared-cases.ts';
import { generateFriends, redactDatabaseUrl, seededFriends, storeLocation } from './friend-store.ts';
import { openFriendStore } from './open-friend-store.ts';
import { mysqlTarget } from './friend-store-mysql.ts';
import { seededRandom } from '../core/random.ts';

const dir = mkdtempSync(join(tmpdir(), 'canary-friend-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeFriendService({ name: 'SQLite (file)', databaseUrl: () => join(dir, 'friends.db') });

describe('SQLite friend store', () => {
  it('defaults to an in-memory database, seeded', async () => {
    const store = await openFriendStore(undefined);
    try {
      expect(store.kind).toBe('sqlite');
      expect(await store.all()).toEqual(seededFriends());
    } finally {
      await store.close();
    }
  });

  it('keeps two in-memory stores apart', async () => {
    const a = await openFriendStore('sqlite::memory:');
    const b = await openFriendStore('');
    try {
      await a.add([{ accountId: 1, name: 'only in a' }]);
      expect((await a.friendsOf(1)).map((f) => f.name)).toContain('only in a');
      expect((await b.friendsOf(1)).map((f) => f.name)).not.toContain('only in a');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('names the path when the file cannot be opened', async () => {
    await expect(openFriendStore(join(dir, 'missing-dir', 'x.db'))).rejects.toThrow(
      /cannot open SQLite database '.*missing-dir\/x\.db'/,
    );
  });
});

describe('friend seed and generator', () => {
  it('seeds 1 to 5 friends for every account, ids consecutive from 1', () => {
    const seed = seededFriends(100);
    expect(seed.map((f) => f.id)).toEqual(Array.from({ length: seed.length }, (_, i) => i + 1));
    for (let accountId = 1; accountId <= 100; accountId++) {
      const n = seed.filter((f) => f.accountId === accountId).length;
      expect(n).toBeGreaterThanOrEqual(1);
      expect(n).toBeLessThanOrEqual(5);
    }
  });

  it('generates reproducibly from the seed, for seeded accounts only', () => {
    const a = generateFriends(50, seededRandom(3));
    expect(a).toEqual(generateFriends(50, seededRandom(3)));
    expect(a).not.toEqual(generateFriends(50, seededRandom(4)));
    expect(a.every((f) => f.accountId >= 1 && f.accountId <= 100)).toBe(true);
  });
});

describe('storeLocation', () => {
  it.each([
    [undefined, { kind: 'sqlite', path: ':memory:' }],
    ['', { kind: 'sqlite', path: ':memory:' }],
    ['sqlite::memory:', { kind: 'sqlite', path: ':memory:' }],
    ['sqlite:/var/lib/friend.db', { kind: 'sqlite', path: '/var/lib/friend.db' }],
    ['sqlite:///var/lib/friend.db', { kind: 'sqlite', path: '/var/lib/friend.db' }],
    ['./friend.db', { kind: 'sqlite', path: './friend.db' }],
    ['mysql://app@db:3306/friends', { kind: 'mysql', url: 'mysql://app@db:3306/friends' }],
  ])('reads %j', (url, expected) => {
    expect(storeLocation(url)).toEqual(expected);
  });

  it('rejects another scheme without showing its password', () => {
    expect(() => storeLocation('postgres://app:hunter2@db/friends')).toThrow(ConfigError);
    expect(() => storeLocation('postgres://app:hunter2@db/friends')).toThrow(
      /DATABASE_URL: expected mysql:\/\/.*postgres:\/\/app:\*\*\*@db\/friends/,
    );
    expect(() => storeLocation('postgres://app:hunter2@db/friends')).not.toThrow(/hunter2/);
  });
});

describe('redactDatabaseUrl', () => {
  it('hides the password and keeps the rest', () => {
    expect(redactDatabaseUrl('mysql://app:s3cr%40t@db.example:3307/friends')).toBe(
      'mysql://app:***@db.example:3307/friends',
    );
    expect(redactDatabaseUrl('mysql://app@db/friends')).toBe('mysql://app@db/friends');
  });
  it('keeps only the scheme of what it cannot parse', () => {
    const redacted = redactDatabaseUrl('mysql://app:pw@[bad/friends');
    expect(redacted).toBe('mysql://<unparsable, redacted>');
  });
});

describe('mysqlTarget', () => {
  it('reads user, host, port, database and the URL password', () => {
    expect(mysqlTarget('mysql://app:p%40ss@db.example:3307/friends', {})).toEqual({
      host: 'db.example',
      port: 3307,
      user: 'app',
      password: 'p@ss',
      database: 'friends',
    });
    expect(mysqlTarget('mysql://app@db/friends', {}).port).toBe(3306);
  });

  it('takes the password from DATABASE_PASSWORD, else DATABASE_PASSWORD_FILE', async () => {
    expect(mysqlTarget('mysql://app@db/friends', { DATABASE_PASSWORD: 'from-env' }).password).toBe('from-env');
    const file = join(dir, 'password');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, 'from-file\n');
    expect(mysqlTarget('mysql://app@db/friends', { DATABASE_PASSWORD_FILE: file }).password).toBe('from-file');
    expect(mysqlTarget('mysql://app@db/friends', {}).password).toBeUndefined();
    expect(() => mysqlTarget('mysql://app@db/friends', { DATABASE_PASSWORD_FILE: join(dir, 'nope') })).toThrow(
      /DATABASE_PASSWORD_FILE: cannot read '.*nope' \(ENOENT\)/,
    );
  });

  it.each(['mysql://db/friends', 'mysql://app@db/', 'mysql://app:pw@/friends'])(
    'rejects %s with a redacted URL',
    (url) => {
      let message = '';
      try {
        mysqlTarget(url, {});
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        message = (err as Error).message;
      }
      expect(message).toMatch(/^environment DATABASE_URL: expected mysql:\/\/user@host:port\/database/);
      expect(message).not.toMatch(/:pw@/);
    },
  );
});
