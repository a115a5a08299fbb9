// Retention under fire (issue 16): a database holding a large backlog of clicks and leads older
// than the network keeps, the built server with its retention job running every second, clicks and
// lead posts at full speed, and `kill -9` of the server while the job deletes and strips in
// batches. Then:
//   - the database passes PRAGMA integrity_check;
//   - every click and lead that got a success answer is there, whole (a young lead keeps its email);
//   - the job had made progress and had not finished (the kill came during it), and each old lead
//     is either whole or stripped (a batch is one transaction, never half applied);
//   - a restarted server finishes the job, and the acknowledged rows are still there.
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { reqidFloor } from '../../server/reqid.js';
import { openSqliteStore } from '../../server/store/sqlite.js';
import { tempDbPath } from '../support/app.js';
import { AFF, CREATIVE, HOST, OFFER } from '../support/network.js';
import { startServer, type ServerProcess } from '../support/process.js';
import { eventually } from '../support/receiver.js';
import { reliabilityNetworkFile, report, writeNetworkFile } from './support.js';

const CONCURRENCY = 16;
const OLD_CLICKS = 120_000;
const OLD_LEADS = 20_000;
/** Well before any retention window: November 2023. */
const OLD = 1_700_000_000_000;

let server: ServerProcess | undefined;
afterEach(async () => {
  await server?.stop('SIGKILL');
  server = undefined;
});

async function seed(db: string) {
  await openSqliteStore({ path: db }).close();
  const sqlite = new Database(db);
  const click = sqlite.prepare(
    `INSERT INTO clicks (reqid, click_time, affiliate_id, offer_id, campaign_id, creative_id, s1, ip, user_agent, tracking_domain_id, disposition)
     VALUES (?, ?, 67890, 12345, 3870, 1057, ?, '198.51.100.7', 'Mozilla/5.0 (X11; Linux x86_64)', 1, 'redirect')`,
  );
  const lead = sqlite.prepare(
    `INSERT INTO leads (offer_id, affiliate_id, method, email, fields, ip, user_agent, created_at, is_test, attributed)
     VALUES (12345, 67890, 'server', ?, ?, '198.51.100.7', 'curl/8', ?, 0, 1)`,
  );
  sqlite.transaction(() => {
    // Ids of today's format minted at old times (their random and MAC parts zero): keyed as clicks are.
    for (let i = 0; i < OLD_CLICKS; i++) click.run(reqidFloor(OLD + i), OLD + i, `old-${i}`);
    for (let i = 0; i < OLD_LEADS; i++) lead.run(`old-${i}@example.com`, JSON.stringify({ email: `old-${i}@example.com`, first_name: 'Old' }), OLD + i);
  })();
  sqlite.close();
}

function oldRows(db: string) {
  const sqlite = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return {
      clicks: (sqlite.prepare('SELECT count(*) AS n FROM clicks WHERE click_time < ?').get(OLD + OLD_CLICKS) as { n: number }).n,
      leads: (sqlite.prepare('SELECT count(*) AS n FROM leads WHERE created_at < ? AND erased_at IS NULL').get(OLD + OLD_LEADS) as { n: number }).n,
    };
  } finally {
    sqlite.close();
  }
}

interface Outcome {
  kind: 'click' | 'lead';
  /** The click's reqid, the lead's id. */
  id?: string | number;
  email?: string;
  status?: number;
  failed?: string;
  /** How long the answer took, in ms. */
  ms?: number;
}

async function send(base: string, kind: 'click' | 'lead', key: string): Promise<Outcome> {
  const began = performance.now();
  const outcome = await attempt(base, kind, key);
  return { ...outcome, ms: performance.now() - began };
}

async function attempt(base: string, kind: 'click' | 'lead', key: string): Promise<Outcome> {
  try {
    if (kind === 'click') {
      const res = await fetch(`${base}/?a=${AFF.partner}&c=${CREATIVE.lead}&s1=${key}`, { redirect: 'manual', headers: { host: HOST } });
      const reqid = res.status === 302 ? new URL(res.headers.get('location')!).searchParams.get('reqid') ?? undefined : undefined;
      return { kind, id: reqid, status: res.status };
    }
    const email = `${key}@example.com`;
    // ckm_bp=0: the XML answer, never a redirect to the thank-you page (whose host is not ours).
    const body = new URLSearchParams({ ckm_offer_id: String(OFFER.lead), ckm_bp: '0', first_name: 'Young', last_name: 'Doe', email, zip: '90210' });
    const res = await fetch(`${base}/d.ashx`, { method: 'POST', body, headers: { host: HOST }, redirect: 'manual' });
    const leadid = /<code>0<\/code>.*<leadid>(\w+)<\/leadid>/s.exec(await res.text())?.[1];
    return { kind, id: leadid ? parseInt(leadid, 16) : undefined, email, status: res.status };
  } catch (error) {
    return { kind, failed: String((error as Error).cause ?? error) };
  }
}

describe('retention: kill -9 of the server during a retention batch', () => {
  it('leaves the database consistent, loses no acknowledged write, and finishes after a restart', async () => {
    const db = tempDbPath();
    await seed(db);
    const file = reliabilityNetworkFile();
    file.network.retention_days = { clicks: 30, lead_fields: 30, delivery_attempts: 30 };
    const config = writeNetworkFile(file);
    server = await startServer(['--config', config, '--db', db, '--retention-interval', '1']);
    const base = server.url;

    const outcomes: Outcome[] = [];
    let killed = false;
    let n = 0;
    const run = Date.now().toString(36);
    const load = Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, worker) => {
        const kind = worker % 2 ? 'lead' : 'click';
        while (!killed) outcomes.push(await send(base, kind, `rt-${run}-${n++}`));
      }),
    );
    // The job starts within a few seconds; the kill comes once it has deleted some of the backlog.
    await eventually(() => outcomes.filter((o) => o.id !== undefined).length >= 300 && oldRows(db).clicks < OLD_CLICKS - 5_000, 30_000, 'load, and the job to delete some of the backlog');
    const victim = server;
    victim.proc.kill('SIGKILL');
    killed = true;
    await victim.stop('SIGKILL');
    server = undefined;
    await load;

    const sqlite = new Database(db, { fileMustExist: true });
    let integrity: unknown;
    let lostClicks: Outcome[];
    let lostLeads: Outcome[];
    let halfStripped: number;
    try {
      integrity = sqlite.pragma('integrity_check', { simple: true });
      const hasClick = sqlite.prepare('SELECT 1 FROM clicks WHERE reqid = ?');
      const leadOf = sqlite.prepare('SELECT email FROM leads WHERE lead_id = ?');
      const acknowledged = outcomes.filter((o) => o.id !== undefined);
      lostClicks = acknowledged.filter((o) => o.kind === 'click' && !hasClick.get(o.id));
      lostLeads = acknowledged.filter((o) => o.kind === 'lead' && (leadOf.get(o.id) as { email: string } | undefined)?.email !== o.email);
      // A lead is whole or stripped: never its email gone with its fields kept, or the reverse.
      halfStripped = (sqlite.prepare("SELECT count(*) AS n FROM leads WHERE (email IS NULL) <> (erased_at IS NOT NULL) AND created_at < ?").get(OLD + OLD_LEADS) as { n: number }).n;
    } finally {
      sqlite.close();
    }
    const acknowledged = outcomes.filter((o) => o.id !== undefined).length;
    const left = oldRows(db);
    expect(integrity).toBe('ok');
    expect(acknowledged).toBeGreaterThan(100);
    // Only the requests in flight at the kill go unanswered.
    expect(outcomes.length - acknowledged, JSON.stringify(outcomes.filter((o) => o.id === undefined).slice(0, 5))).toBeLessThanOrEqual(CONCURRENCY);
    expect(lostClicks, 'acknowledged clicks missing').toEqual([]);
    expect(lostLeads, 'acknowledged leads missing or changed').toEqual([]);
    expect(halfStripped).toBe(0);
    expect(left.clicks, 'the kill came before the job had finished').toBeGreaterThan(0);

    // A restarted server takes up the job where it stopped and finishes it.
    server = await startServer(['--config', config, '--db', db, '--retention-interval', '1']);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    await eventually(() => { const left = oldRows(db); return left.clicks === 0 && left.leads === 0; }, 60_000, 'the job to finish');
    await server.stop('SIGTERM');
    server = undefined;
    const after = new Database(db, { readonly: true, fileMustExist: true });
    try {
      expect(after.pragma('integrity_check', { simple: true })).toBe('ok');
      const young = outcomes.filter((o) => o.kind === 'click' && o.id !== undefined);
      const has = after.prepare('SELECT 1 FROM clicks WHERE reqid = ?');
      expect(young.filter((o) => !has.get(o.id)).length).toBe(0);
    } finally {
      after.close();
    }
    // Figures, not assertions (the machine is shared): how long answers took while the job ran.
    const ms = outcomes.filter((o) => o.kind === 'click' && o.ms !== undefined && o.id !== undefined).map((o) => o.ms!).sort((x, y) => x - y);
    const at = (q: number) => (ms.length ? ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]!.toFixed(1) : '?');
    report('retention, kill -9 of the server during a batch (SQLite)', {
      'click ms p50 (16 clients, during the job)': at(0.5),
      'click ms p99': at(0.99),
      'requests sent': outcomes.length,
      acknowledged,
      'old clicks left at the kill': left.clicks,
      'old leads unstripped at the kill': left.leads,
      'acknowledged but lost': lostClicks.length + lostLeads.length,
    });
  }, 180_000);
});
