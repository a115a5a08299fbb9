// The seed tool (server/seed.ts): the built command writes skewed traffic into a SQLite file, with
// its network, folded rollups, and reports that count exactly what it wrote.
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../server/app.js';
import { openNetwork } from '../../server/network/import.js';
import { openSqliteStore } from '../../server/store/sqlite.js';
import { tempDbPath } from '../support/app.js';

const path = tempDbPath();
const closing: (() => Promise<unknown>)[] = [];
afterAll(() => Promise.all(closing.map((c) => c())));

describe('npm run seed', () => {
  it('writes the clicks asked for, about 3 % converting, and a network whose reports count them', async () => {
    const run = spawnSync(process.execPath, ['dist/server/seed.js', '--clicks', '5000', '--days', '3', '--db', path], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/seeded 5000 clicks and \d+ conversions over 3 days/);

    const db = new Database(path, { readonly: true });
    const counted = db.prepare("SELECT count(*) AS clicks, sum(offer_id IS NOT NULL) AS attributed, count(DISTINCT s1) AS subs, max(click_time) - min(click_time) AS span FROM clicks").get() as Record<string, number>;
    const conversions = (db.prepare('SELECT count(*) AS n FROM conversions WHERE event_id = 0').get() as { n: number }).n;
    const folded = (db.prepare('SELECT folded_to FROM report_watermark').get() as { folded_to: number }).folded_to;
    db.close();
    expect(counted.clicks).toBe(5000);
    expect(conversions / 5000).toBeGreaterThan(0.015);
    expect(conversions / 5000).toBeLessThan(0.05);
    expect(counted.subs).toBeGreaterThan(1000);
    expect(counted.span).toBeGreaterThan(2.9 * 86_400_000);
    expect(folded).toBeGreaterThan(0);

    const store = openSqliteStore({ path });
    closing.push(() => store.close());
    const live = await openNetwork(store);
    const app = createApp({ store, network: live, secret: 'seed-test-secret-0123456789abcdefghij' });
    const today = new Date().toISOString().slice(0, 10);
    const start = new Date(Date.now() - 4 * 86_400_000).toISOString().slice(0, 10);
    const res = await app.request(`http://seed.test/api/2/reports/summary.json?api_key=seed-admin-key&group_by=offer&start_date=${start}&end_date=${today}`);
    const body = (await res.json()) as { totals: { total_clicks: number; macro_event_conversions: number }; total_rows: number };
    // The rollups (folded) and the raw tail together: every attributed click, once.
    expect(body.totals.total_clicks).toBe(counted.attributed);
    expect(body.total_rows).toBeGreaterThan(10);
  });
});
