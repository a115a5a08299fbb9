// The SQLite side of the benchmark: a fresh database file per run of a path, and the check that
// every answered id is in it.
import Database from 'better-sqlite3';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PathName } from './paths.js';
import type { BenchStore } from './postgres.js';

/** `from`: a store to start from (one `npm run seed` wrote), copied into `dir` first so that the
 * run leaves it as it was. */
export function sqliteStore(dir: string, from?: string): BenchStore {
  const file = join(dir, 'crumb.db');
  if (from !== undefined) copyFileSync(from, file);
  return {
    url: file,
    async verify(path, ids, answered) {
      const db = new Database(file, { readonly: true });
      try {
        const query: Record<PathName, [string, string | null, (id: string) => unknown]> = {
          click: ["SELECT count(*) AS n FROM clicks WHERE s1 = 'bench'", 'SELECT 1 FROM clicks WHERE reqid = ?', (id) => id],
          lead: ['SELECT count(*) AS n FROM leads', 'SELECT 1 FROM leads WHERE lead_id = ?', (id) => parseInt(id, 16)],
          conversion: ["SELECT count(*) AS n FROM conversions WHERE source = 'api'", 'SELECT 1 FROM conversions WHERE conversion_id = ?', Number],
          // The pixel answers a GIF without an id: only the count can be compared.
          pixel: ["SELECT count(*) AS n FROM conversions WHERE source = 'pixel'", null, String],
        };
        const [countSql, findSql, key] = query[path];
        const stored = (db.prepare(countSql).get() as { n: number }).n;
        if (!findSql) return { stored, missing: Math.max(0, answered - stored) };
        const find = db.prepare(findSql);
        let missing = 0;
        for (const id of new Set(ids)) if (!find.get(key(id))) missing++;
        return { stored, missing };
      } finally {
        db.close();
      }
    },
    backendPids: async () => [],
    drop: async () => {},
  };
}
