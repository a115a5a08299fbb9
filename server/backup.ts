// The backup command: copies the SQLite database into FILE while the server runs.
//   npm run backup -- FILE [--db PATH]        (node dist/server/backup.js FILE [--db PATH])
import { parseArgs } from 'node:util';
import { BackupError, backupSqlite } from './ops/backup.js';
import { DEFAULT_DB, DEMO_DB } from './store/index.js';
import { redact } from './store/url.js';

const USAGE = `Usage: npm run backup -- FILE [--db PATH]
  FILE       where to write the copy (a consistent SQLite database; an existing FILE is replaced
             only once the new copy is complete)
  --db PATH  the server's SQLite file (default ${DEFAULT_DB}, or DATABASE_URL; the built-in demo's is ${DEMO_DB})
Restore: stop the server, remove PATH-wal and PATH-shm, copy FILE to PATH, start the server.`;

function main() {
  let parsed;
  try {
    parsed = parseArgs({ options: { db: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    return exit(`${(error as Error).message}\n${USAGE}`);
  }
  if (parsed.values.help) {
    console.log(USAGE);
    return;
  }
  const [file, ...extra] = parsed.positionals;
  if (!file || extra.length) return exit(`Give one FILE to write the backup to.\n${USAGE}`);
  const source = parsed.values.db ?? process.env.DATABASE_URL ?? DEFAULT_DB;

  console.log(`Backing up ${redact(source)} to ${file} (the server may keep running)`);
  backupSqlite(source, file).then(
    ({ pages, bytes, ms }) => console.log(`Backed up ${redact(source)} to ${file}: ${pages} pages, ${(bytes / 1048576).toFixed(1)} MiB, in ${ms} ms; integrity_check ok`),
    (error) => exit(error instanceof BackupError ? error.message : `The backup failed: ${(error as Error).message}`),
  );
}

function exit(message: string) {
  console.error(message);
  process.exitCode = 1;
}

main();
