// Opens the store a location names: a file path for embedded SQLite (the default), or a
// postgres:// (postgresql://) URL for PostgreSQL, where several server instances share one database.
import { openSqliteStore } from './sqlite.js';
import type { Store } from './types.js';

export const DEFAULT_DB = 'data/crumb.db';
/** The built-in demo keeps its own file, so that its demo postback never meets a real network's data. */
export const DEMO_DB = 'data/demo.db';

/** A postgres:// or postgresql:// URL (anything else is a SQLite file). */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/** `maxQueued`: most writes waiting at once, past which a write fails fast with StoreOverloaded. */
export async function openStore(location: string, options: { synchronous?: 'NORMAL' | 'FULL'; maxQueued?: number } = {}): Promise<Store> {
  // PostgreSQL commits durably by itself (synchronous_commit); `synchronous` is SQLite's setting.
  if (isPostgresUrl(location)) {
    // Loaded only when asked for, so that a SQLite server never loads the PostgreSQL client.
    const { openPostgresStore } = await import('./postgres.js');
    return openPostgresStore({ url: location, maxQueued: options.maxQueued });
  }
  // Summary reports on a reader thread: a heavy one never holds the event loop (sqlite-reader.ts).
  return openSqliteStore({ path: location, synchronous: options.synchronous, maxQueued: options.maxQueued, readerThread: true });
}
