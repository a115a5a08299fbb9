// Online backup of the SQLite store, while the server keeps writing: SQLite's backup API reads one
// consistent snapshot through a connection of its own (WAL: readers never block the writer), into a
// file beside the target that is checked (PRAGMA integrity_check), synced and only then renamed into
// place. So FILE is always a whole, consistent database, whatever is killed when; a restore is a
// file copy with the server stopped.
import Database from 'better-sqlite3';
import { closeSync, existsSync, fsyncSync, openSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isPostgresUrl } from '../store/index.js';
import { redact } from '../store/url.js';

export class BackupError extends Error {}

export interface BackupResult {
  pages: number;
  bytes: number;
  ms: number;
}

/** The largest page count a backup step takes: all of them in one step. In steps, every write the
 * server commits between two steps restarts the copy, and under steady traffic it never ends. */
const ALL_PAGES = 0x7fffffff;

export async function backupSqlite(source: string, file: string): Promise<BackupResult> {
  if (isPostgresUrl(source)) {
    throw new BackupError(
      `${redact(source)} is a PostgreSQL database: back it up with PostgreSQL's own tools, e.g. pg_dump --format=custom --file=crumb.dump "$DATABASE_URL" (README, "Backup and restore")`,
    );
  }
  if (!existsSync(source)) throw new BackupError(`There is no SQLite database at ${source}: pass the server's --db PATH with --db`);
  const target = resolve(file);
  if (existsSync(target) && realpathSync(target) === realpathSync(source)) {
    throw new BackupError(`${file} is the database itself: write the backup to another file`);
  }
  if (!existsSync(dirname(target))) throw new BackupError(`The directory of ${file} does not exist: create it first`);

  const started = performance.now();
  const partial = `${target}.partial`;
  rmSync(partial, { force: true });
  try {
    const db = new Database(source, { readonly: true, fileMustExist: true, timeout: 5000 });
    let pages: number;
    try {
      pages = (await db.backup(partial, { progress: () => ALL_PAGES })).totalPages;
    } finally {
      db.close();
    }
    // The copy is one file: its own rollback journal instead of the source's WAL, so that there is
    // no -wal file to carry along. The server sets WAL again when it opens a restored copy.
    const copy = new Database(partial, { fileMustExist: true });
    try {
      copy.pragma('journal_mode = DELETE');
      const check = copy.pragma('integrity_check', { simple: true });
      if (check !== 'ok') throw new BackupError(`The copy failed its integrity check (${String(check)}); ${file} was not written`);
    } finally {
      copy.close();
    }
    syncFile(partial);
    renameSync(partial, target);
    syncFile(dirname(target));
    return { pages, bytes: statSync(target).size, ms: Math.round(performance.now() - started) };
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
}

function syncFile(path: string) {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
