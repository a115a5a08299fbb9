// The conformance suite on Cloudflare D1, inside workerd (the workerd project of vitest.config.ts):
// the D1 store runs in Cloudflare's runtime against Miniflare's D1, each database of the suite a D1
// binding of its own, migrated with the files wrangler applies (server/worker/migrations/).
import { applyD1Migrations, env } from 'cloudflare:test';
import { openD1Store, type D1Database } from '../../server/store/d1.js';
import { storeConformance } from '../store/conformance.js';
import { D1_DATABASE_COUNT } from './databases.js';

const migrated = new Map<string, Promise<D1Database>>();

/** The D1 database called `name`, migrated once (as `wrangler d1 migrations apply` does at deploy). */
function database(name: string): Promise<D1Database> {
  let ready = migrated.get(name);
  if (!ready) {
    const db = env[`DB_${name}`] as D1Database | undefined;
    if (!db) throw new Error(`No D1 binding DB_${name}: the suite opens more than ${D1_DATABASE_COUNT} databases; raise D1_DATABASE_COUNT in test/workerd/databases.ts`);
    ready = applyD1Migrations(db, env.TEST_MIGRATIONS).then(() => db);
    migrated.set(name, ready);
  }
  return ready;
}

storeConformance('d1', {
  open: async (name, options) => openD1Store(await database(name), { maxQueued: options?.maxQueued }),
  cleanup: async () => {},
});
