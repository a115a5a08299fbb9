// Backup under fire (issue 16): leads and conversions at full speed against the built server, an
// online backup (dist/server/backup.js, what `npm run backup` runs) of a database large enough that
// the copy takes a while, and `kill -9` of the server while the backup copies. Then:
//   - the backup finishes, and it and the database pass PRAGMA integrity_check;
//   - every lead and conversion that got a success answer is in the database (after a restart);
//   - every one answered before the backup began is in the backup;
//   - neither has anything half-written: each lead of the per-lead offer with its conversion, each
//     conversion with its outbox row;
//   - the backup, copied into place, starts a server that answers at once.
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../server/store/sqlite.js';
import { tempDbPath } from '../support/app.js';
import { AFF, API_KEY, CREATIVE, HOST, OFFER } from '../support/network.js';
import { ROOT, startServer, type ServerProcess } from '../support/process.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { report, writeNetworkFile } from './support.js';

/** Requests in flight at once. */
const CONCURRENCY = 24;
/** Clicks written before the server starts, so that the database is tens of megabytes. */
const SEEDED_CLICKS = 150_000;

let server: ServerProcess | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await server?.stop('SIGKILL');
  server = undefined;
  await receiver?.close();
  receiver = undefined;
});

type Kind = 'lead' | 'conversion';
interface Outcome {
  kind: Kind;
  key: string;
  id?: number;
  /** performance.now() when the answer arrived. */
  at: number;
  status?: number;
  failed?: string;
}

async function seed(db: string) {
  await openSqliteStore({ path: db }).close();
  const sqlite = new Database(db);
  const insert = sqlite.prepare(
    `INSERT INTO clicks (reqid, click_time, affiliate_id, offer_id, campaign_id, creative_id, s1, user_agent, tracking_domain_id, disposition)
     VALUES (?, ?, 67890, 12345, 3870, 1057, ?, ?, 1, 'redirect')`,
  );
  const agent = `Mozilla/5.0 (X11; Linux x86_64) ${'AppleWebKit/537.36 (KHTML, like Gecko) '.repeat(6)}`;
  sqlite.transaction(() => {
    for (let i = 0; i < SEEDED_CLICKS; i++) insert.run(`0seed${String(i).padStart(27, '0')}`, 1_700_000_000_000 + i, `seed-${i}`, agent);
  })();
  sqlite.close();
}

async function send(base: string, kind: Kind, key: string, reqid: string): Promise<Outcome> {
  try {
    if (kind === 'lead') {
      const body = new URLSearchParams({ ckm_offer_id: String(OFFER.cpl), ckm_request_id: reqid, first_name: 'Backup', email: key });
      const res = await fetch(`${base}/d.ashx`, { method: 'POST', body, headers: { host: HOST } });
      const leadid = /<code>0<\/code>.*<leadid>(\w+)<\/leadid>/.exec(await res.text())?.[1];
      return { kind, key, id: leadid ? parseInt(leadid, 16) : undefined, status: res.status, at: performance.now() };
    }
    const query = new URLSearchParams({ api_key: API_KEY, click_id: reqid, offer_id: String(OFFER.lead), unique_id: key });
    const res = await fetch(`${base}/api/2/conversion.json?${query}`);
    const answer = (await res.json()) as any;
    return { kind, key, id: answer.request_status === 'Success' ? answer.conversion.conversion_id : undefined, status: res.status, at: performance.now() };
  } catch (error) {
    return { kind, key, failed: String((error as Error).cause ?? error), at: performance.now() };
  }
}

async function click(base: string, creative: number): Promise<string> {
  const res = await fetch(`${base}/?a=${AFF.partner}&c=${creative}`, { redirect: 'manual', headers: { host: HOST } });
  return new URL(res.headers.get('location')!).searchParams.get('reqid')!;
}

/** Runs the backup command; resolves when it exits, with when it began copying and when it ended. */
function runBackup(db: string, file: string) {
  const proc = spawn(process.execPath, ['dist/server/backup.js', file, '--db', db], { cwd: ROOT });
  let output = '';
  let began: number | undefined;
  let onBegin: () => void = () => {};
  const beginning = new Promise<void>((resolve) => (onBegin = resolve));
  const collect = (d: Buffer) => {
    output += d;
    if (began === undefined && output.includes('Backing up')) {
      began = performance.now();
      onBegin();
    }
  };
  proc.stdout.on('data', collect);
  proc.stderr.on('data', collect);
  const timer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
  const done = new Promise<{ code: number | null; output: string; began: number; ended: number }>((resolve) =>
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output, began: began ?? Number.NaN, ended: performance.now() });
    }),
  );
  return { beginning, done };
}

/** What a database file holds, read with a connection of our own. */
function contents(file: string) {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const integrity = db.pragma('integrity_check', { simple: true });
    const leads = new Set((db.prepare('SELECT lead_id FROM leads').all() as { lead_id: number }[]).map((r) => r.lead_id));
    const conversions = new Set((db.prepare('SELECT conversion_id FROM conversions').all() as { conversion_id: number }[]).map((r) => r.conversion_id));
    const halfWritten = [
      ...(db.prepare(`SELECT 'lead ' || l.lead_id || ' without its conversion' AS problem FROM leads l LEFT JOIN conversions c ON c.conversion_id = l.conversion_id WHERE c.conversion_id IS NULL`).all() as { problem: string }[]),
      ...(db.prepare(`SELECT 'conversion ' || c.conversion_id || ' with ' || count(d.delivery_id) || ' outbox rows' AS problem FROM conversions c LEFT JOIN deliveries d ON d.conversion_id = c.conversion_id GROUP BY c.conversion_id HAVING count(d.delivery_id) <> 1`).all() as { problem: string }[]),
    ].map((r) => r.problem);
    const clicks = (db.prepare('SELECT count(*) AS n FROM clicks').get() as { n: number }).n;
    return { integrity, leads, conversions, halfWritten, clicks };
  } finally {
    db.close();
  }
}

describe('backup: kill -9 of the server during an online backup', () => {
  it('leaves the database and the backup consistent, and loses no acknowledged write', async () => {
    const db = tempDbPath();
    await seed(db);
    receiver = await startReceiver();
    const config = writeNetworkFile();
    server = await startServer(['--config', config, '--db', db]);
    const base = server.url;
    const pb = await fetch(`${base}/api/2/affiliate_postback.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ api_key: API_KEY, affiliate_id: AFF.partner, offer_id: 0, postback_url: `${receiver.base}/pb?c={conversion_id}` }),
    });
    expect(pb.status).toBe(200);
    const leadClick = await click(base, CREATIVE.cpl);
    const conversionClick = await click(base, CREATIVE.lead);

    const outcomes: Outcome[] = [];
    let killed = false;
    let n = 0;
    const run = Date.now().toString(36);
    const load = Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, worker) => {
        const kind: Kind = worker % 2 ? 'lead' : 'conversion';
        while (!killed) {
          const i = n++;
          outcomes.push(await send(base, kind, kind === 'lead' ? `bk-${run}-${i}@example.com` : `bk-${run}-${i}`, kind === 'lead' ? leadClick : conversionClick));
        }
      }),
    );
    // Under load for a moment, then the backup; the kill comes while it copies.
    while (outcomes.filter((o) => o.id).length < 300) await new Promise((resolve) => setTimeout(resolve, 20));
    const file = join(dirname(db), 'backup.db');
    const backup = runBackup(db, file);
    await backup.beginning;
    await new Promise((resolve) => setTimeout(resolve, 30));
    const victim = server;
    victim.proc.kill('SIGKILL');
    const killedAt = performance.now();
    killed = true;
    await victim.stop('SIGKILL');
    server = undefined;
    await load;
    const result = await backup.done;
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('integrity_check ok');
    expect(killedAt, 'the kill came before the backup had finished').toBeLessThan(result.ended);

    const answered = outcomes.filter((o) => o.id !== undefined);
    const fiveXX = outcomes.filter((o) => (o.status ?? 0) >= 500).length;
    const beforeBackup = answered.filter((o) => o.at < result.began);
    expect(fiveXX).toBe(0);
    expect(beforeBackup.length).toBeGreaterThanOrEqual(300);

    // The backup: whole, with everything acknowledged before it began.
    const copy = contents(file);
    expect(copy.integrity).toBe('ok');
    expect(copy.clicks).toBeGreaterThanOrEqual(SEEDED_CLICKS);
    const missingFromBackup = beforeBackup.filter((o) => !(o.kind === 'lead' ? copy.leads : copy.conversions).has(o.id!));
    expect(missingFromBackup, 'acknowledged before the backup began, missing from it').toEqual([]);
    expect(copy.halfWritten).toEqual([]);

    // The database, after the server is restarted on it: everything acknowledged, nothing by halves.
    server = await startServer(['--config', config, '--db', db]);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    await server.stop('SIGTERM');
    server = undefined;
    const original = contents(db);
    expect(original.integrity).toBe('ok');
    const lost = answered.filter((o) => !(o.kind === 'lead' ? original.leads : original.conversions).has(o.id!));
    expect(lost, 'acknowledged but not stored').toEqual([]);
    expect(original.halfWritten).toEqual([]);

    // The restore: the backup copied into place starts a server that answers at once.
    const restored = join(dirname(db), 'restored.db');
    copyFileSync(file, restored);
    server = await startServer(['--config', config, '--db', restored]);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    const first = await send(server.url, 'conversion', `bk-${run}-after-restore`, conversionClick);
    expect(first.id).toBeDefined();

    report('backup, kill -9 of the server during the copy (SQLite)', {
      'requests sent': outcomes.length,
      acknowledged: answered.length,
      'acknowledged before the backup began': beforeBackup.length,
      'database MiB': (result.output.match(/([\d.]+) MiB/)?.[1] ?? '?'),
      'backup ms': Math.round(result.ended - result.began),
      'kill after the backup began, ms': Math.round(killedAt - result.began),
      'missing from the backup': missingFromBackup.length,
      'acknowledged but lost': lost.length,
      'half-written': original.halfWritten.length + copy.halfWritten.length,
      '5xx': fiveXX,
    });
  }, 120_000);
});
