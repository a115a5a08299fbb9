// The D1 migrations wrangler applies (`wrangler d1 migrations apply`), generated from the SQLite
// store's own list (server/store/sqlite-schema.ts) so that the two can never differ: one file per
// version, which also records the version in schema_migrations, where the D1 store checks it.
// `npm run build:worker` writes them into server/worker/migrations/ (write-migrations.ts); a test
// checks that the committed files are what this generates.
import { migrations, MIGRATIONS_TABLE, RECORD_MIGRATION } from '../store/sqlite-schema.js';

export interface MigrationFile {
  /** The file name wrangler orders by: 0001_crumb_v1.sql, … */
  name: string;
  text: string;
}

export const MIGRATIONS_DIR = 'server/worker/migrations';

export function d1Migrations(): MigrationFile[] {
  return migrations.map((m) => ({
    name: `${String(m.version).padStart(4, '0')}_crumb_v${m.version}.sql`,
    text: [
      `-- Generated from server/store/sqlite-schema.ts (version ${m.version}) by \`npm run build:worker\`: do not edit.`,
      `${MIGRATIONS_TABLE};`,
      dedent(m.sql),
      `${RECORD_MIGRATION.replace('?', String(m.version)).replace('?', "CAST(strftime('%s', 'now') AS INTEGER) * 1000")};`,
      '',
    ].join('\n'),
  }));
}

/** The migration's SQL without the indentation it has inside the TypeScript source. */
function dedent(sql: string): string {
  const lines = sql.replace(/^\n+/, '').replace(/\s+$/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
  return lines.map((l) => l.slice(indent)).join('\n');
}
