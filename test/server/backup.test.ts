// Online backup (npm run backup -- FILE): a consistent copy of the SQLite store while it is written
// to, a restore that is a file copy, and the PostgreSQL store pointed at pg_dump.
import Database from 'better-sqlite3';
import { copyFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { backupSqlite } from '../../server/ops/backup.js';
import { reqids, webCryptoMac } from '../../server/reqid.js';
import { openSqliteStore } from '../../server/store/sqlite.js';
import type { ClickRecord, Store } from '../../server/store/types.js';
import { tempDbPath } from '../support/app.js';
import { AFF, CREATIVE, HOST, testNetworkFile } from '../support/network.js';
import { runEntry, startServer, type ServerProcess } from '../support/process.js';

const BACKUP = 'dist/server/backup.js';
const ids = reqids(webCryptoMac('backup-test-secret'));

let server: ServerProcess | undefined;
const stores: Store[] = [];
afterEach(async () => {
  await server?.stop('SIGKILL');
  server = undefined;
  await Promise.allSettled(stores.splice(0).map((s) => s.close()));
});

async function aClick(n: number): Promise<ClickRecord> {
  return {
    reqid: await ids.mint(Date.now()),
    click_time: Date.now(),
    affiliate_id: 67890,
    offer_id: 12345,
    campaign_id: 3870,
    creative_id: 1057,
    s1: `n${n}`,
    s2: null,
    s3: null,
    s4: null,
    s5: null,
    ip: null,
    country: null,
    user_agent: 'x'.repeat(200),
    referrer: null,
    tracking_domain_id: 1,
    visitor_id: null,
    disposition: 'redirect',
  };
}

function check(file: string) {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return {
      integrity: db.pragma('integrity_check', { simple: true }),
      journal: db.pragma('journal_mode', { simple: true }),
      reqids: new Set((db.prepare('SELECT reqid FROM clicks').all() as { reqid: string }[]).map((r) => r.reqid)),
    };
  } finally {
    db.close();
  }
}

describe('backupSqlite', () => {
  it('copies a database that is being written to: consistent, with every write committed before it began', async () => {
    const path = tempDbPath();
    const store = openSqliteStore({ path });
    stores.push(store);
    const committed: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const c = await aClick(i);
      committed.push(c.reqid);
      void store.recordClick(c);
    }
    await store.recordClick(await aClick(-1));
    // Writers keep committing, batch after batch, for the whole backup.
    let writing = true;
    let n = 0;
    const writer = (async () => {
      while (writing) await Promise.all(Array.from({ length: 50 }, async () => store.recordClick(await aClick(n++))));
    })();
    const file = join(dirname(path), 'backup.db');
    const result = await backupSqlite(path, file);
    writing = false;
    await writer;
    expect(n).toBeGreaterThan(0);

    const copy = check(file);
    expect(copy.integrity).toBe('ok');
    // One file: no -wal to carry along when it is copied back.
    expect(copy.journal).toBe('delete');
    for (const reqid of committed) expect(copy.reqids.has(reqid)).toBe(true);
    expect(result.pages).toBeGreaterThan(0);
    expect(result.bytes).toBeGreaterThan(0);
    expect(readdirSync(dirname(file)).filter((f) => f.includes('partial'))).toEqual([]);
  });

  it('copies a database no server has open, and replaces an existing FILE', async () => {
    const path = tempDbPath();
    const store = openSqliteStore({ path });
    await store.recordClick(await aClick(1));
    await store.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
    const file = join(dirname(path), 'backup.db');
    writeFileSync(file, 'an older backup');
    await backupSqlite(path, file);
    expect(check(file).reqids.size).toBe(1);
  });

  it('refuses to write over the database itself, from a missing database, or into a missing directory', async () => {
    const path = tempDbPath();
    const store = openSqliteStore({ path });
    stores.push(store);
    await store.recordClick(await aClick(1));
    await expect(backupSqlite(path, path)).rejects.toThrow('is the database itself');
    await expect(backupSqlite(`${path}.nope`, join(dirname(path), 'b.db'))).rejects.toThrow('There is no SQLite database at');
    await expect(backupSqlite(path, join(dirname(path), 'no', 'such', 'b.db'))).rejects.toThrow('does not exist: create it first');
    expect(check(path).integrity).toBe('ok');
  });

  it('points a PostgreSQL store at pg_dump, and connects to nothing', async () => {
    await expect(backupSqlite('postgres://crumb:hunter2@db.internal:5432/crumb', '/tmp/x.db')).rejects.toThrow(
      /postgres:\/\/crumb:\*\*\*@db\.internal:5432\/crumb is a PostgreSQL database: back it up with PostgreSQL's own tools, e\.g\. pg_dump/,
    );
  });
});

describe('the backup command, with the server running', () => {
  it('backs up the live database, and the copy restores by a file copy with every click answered before it', async () => {
    const db = tempDbPath();
    const config = `${db}.json`;
    writeFileSync(config, JSON.stringify(testNetworkFile()));
    server = await startServer(['--config', config, '--db', db]);
    const clickOnce = async (i: number) => {
      const res = await fetch(`${server!.url}/?a=${AFF.partner}&c=${CREATIVE.lead}&s1=b${i}`, { redirect: 'manual', headers: { host: HOST } });
      expect(res.status).toBe(302);
      return new URL(res.headers.get('location')!).searchParams.get('reqid')!;
    };
    const before = await Promise.all(Array.from({ length: 200 }, (_, i) => clickOnce(i)));
    // Clicks keep arriving while the backup runs.
    let clicking = true;
    const during = (async () => {
      let i = 1000;
      while (clicking) await clickOnce(i++);
    })();
    const file = join(dirname(db), 'nightly.db');
    const { code, output } = await runEntry([file, '--db', db], {}, BACKUP);
    clicking = false;
    await during;
    expect(output).toMatch(/Backed up .+ to .+nightly\.db: \d+ pages, [\d.]+ MiB, in \d+ ms; integrity_check ok/);
    expect(code).toBe(0);
    expect(check(file).integrity).toBe('ok');

    // Restore: the server stopped, the copy put where a database goes, the server started on it.
    await server.stop();
    const restored = join(dirname(db), 'restored.db');
    copyFileSync(file, restored);
    expect(existsSync(`${restored}-wal`)).toBe(false);
    server = await startServer(['--config', config, '--db', restored]);
    const res = await fetch(`${server.url}/api/2/click.json?api_key=test-api-key&row_limit=5000`);
    const body = (await res.json()) as any;
    const found = new Set(body.response.clicks.map((c: any) => c.click_id));
    expect(found.size).toBeGreaterThanOrEqual(before.length);
    for (const reqid of before) expect(found.has(reqid)).toBe(true);
  });

  it('refuses a PostgreSQL DATABASE_URL, naming pg_dump', async () => {
    const { code, output } = await runEntry(['/tmp/crumb-never-written.db'], { DATABASE_URL: 'postgresql://crumb:hunter2@db.internal/crumb' }, BACKUP);
    expect(code).toBe(1);
    expect(output).toContain('is a PostgreSQL database: back it up with');
    expect(output).toContain('pg_dump');
    expect(output).not.toContain('hunter2');
    expect(existsSync('/tmp/crumb-never-written.db')).toBe(false);
  });

  it('says how to use it when FILE is missing', async () => {
    const { code, output } = await runEntry([], {}, BACKUP);
    expect(code).toBe(1);
    expect(output).toContain('Usage: npm run backup -- FILE [--db PATH]');
    expect(output).toContain('Restore: stop the server');
  });
});
