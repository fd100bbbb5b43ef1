/**
 * Picks the friend store a `DATABASE_URL` names. The stores import their shared types from
 * friend-store.ts and this file imports the stores, so the arrows point one way; each driver is
 * loaded only when asked for.
 */
import { type FriendStore, storeLocation } from './friend-store.ts';

/** Opens the store `databaseUrl` names, creating and seeding the schema. */
export async function openFriendStore(
  databaseUrl: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<FriendStore> {
  const location = storeLocation(databaseUrl);
  if (location.kind === 'sqlite') {
    const { openSqliteFriendStore } = await import('./friend-store-sqlite.ts');
    return openSqliteFriendStore(location.path);
  }
  const { openMysqlFriendStore } = await import('./friend-store-mysql.ts');
  return openMysqlFriendStore(location.url, env);
}
