// Where a summary report reads the rollups (report-sql.ts rollupPlan), and migration 11 on a
// SQLite store folded before it: an affiliate's sub ids come from report_affiliate_sub_ids from
// the fold under way at the migration on, from the raw clicks before it, and stay exact.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EVERY_GROUP } from '../../server/reports/page.js';
import { reqids, webCryptoMac } from '../../server/reqid.js';
import { openStore } from '../../server/store/index.js';
import { rollupPlan, SUB_LEVELS } from '../../server/store/report-sql.js';
import type { ClickRecord, ReportQuery, Store } from '../../server/store/types.js';

const ids = reqids(webCryptoMac('report-plan-test-secret'));
const DAY = 86_400_000;
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 9, 1); // a UTC midnight
const month = { from: T0, to: T0 + 30 * DAY, zone: [{ since: T0, offset: 0 }], include_tests: false, group_by: 'sub_id_1' } satisfies ReportQuery;
const folded = { folded_to: T0 + 40 * DAY, affiliate_subs_from: 0 };

describe('rollupPlan for sub ids', () => {
  it("reads the network's rollup for the network's sub ids", () => {
    const plan = rollupPlan(month, folded);
    expect(plan.affiliate_id).toBeUndefined();
    expect(plan.spans.map((s) => s.level)).toContain(SUB_LEVELS[0]);
    expect(plan.tail).toBe(month.to);
  });

  it("reads one affiliate's rollup for its key's scope or the affiliate filter", () => {
    for (const q of [{ ...month, scope: { affiliate_id: 7 } }, { ...month, affiliate_id: 7 }, { ...month, affiliate_id: 7, scope: { affiliate_id: 7 } }]) {
      const plan = rollupPlan(q, folded);
      expect(plan.affiliate_id).toBe(7);
      expect(plan.spans).toEqual(rollupPlan(month, folded).spans);
    }
  });

  it('reads the raw clicks before the by-affiliate rows begin, from the next UTC midnight on', () => {
    const plan = rollupPlan({ ...month, scope: { affiliate_id: 7 } }, { ...folded, affiliate_subs_from: T0 + 10 * DAY + 3 * HOUR });
    expect(plan.head).toBe(T0 + 11 * DAY);
    expect(plan.spans[0]!.lo).toBe(T0 + 11 * DAY);
    // The network's own rows are not concerned.
    expect(rollupPlan(month, { ...folded, affiliate_subs_from: T0 + 10 * DAY }).head).toBeUndefined();
  });

  it('reads raw for any other filter, or a filter and a scope that name different affiliates', () => {
    for (const q of [{ ...month, offer_id: 1 }, { ...month, scope: { advertiser_id: 2 } }, { ...month, country: 'US' }, { ...month, affiliate_id: 7, scope: { affiliate_id: 8 } }]) {
      expect(rollupPlan(q, folded)).toEqual({ spans: [], tail: month.from });
    }
  });
});

describe('migration 11 on a store folded before it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crumb-plan-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function click(store: Store, at: number, affiliate_id: number, s1: string): Promise<void> {
    const record: ClickRecord = {
      reqid: await ids.mint(at), click_time: at, affiliate_id, offer_id: 12345, campaign_id: 3870, creative_id: null,
      s1, s2: null, s3: null, s4: null, s5: null, ip: '203.0.113.9', country: 'US', user_agent: 'test', referrer: null,
      tracking_domain_id: null, visitor_id: null, disposition: 'redirect',
    };
    await store.recordClick(record);
  }
  const report = async (store: Store, q: ReportQuery) =>
    Object.fromEntries((await store.summaryReport(q, EVERY_GROUP)).rows.map((r) => [String(r.key), [r.clicks, r.total_clicks]]));

  it("answers an affiliate's sub ids exactly across the day the migration ran", async () => {
    const path = join(dir, 'migrated.db');
    let store = await openStore(path);
    // Two affiliates, a click each every 6 hours for 20 days.
    for (let h = 0; h < 20 * 24; h += 6) {
      await click(store, T0 + h * HOUR, 1, h % 12 ? 'x' : 'y');
      await click(store, T0 + h * HOUR + 1000, 2, 'x');
    }
    const q = { ...month, to: T0 + 20 * DAY, scope: { affiliate_id: 1 } };
    const expected = await report(store, q);
    expect(expected).toEqual({ x: [40, 40], y: [40, 40] });
    // Folded to day 8 and part-way into it, then back to the schema before migration 11.
    while ((await store.foldReports(T0 + 8 * DAY, DAY)) !== null);
    await store.foldReports(T0 + 9 * DAY, DAY, 2);
    await store.close();
    const db = new Database(path);
    const before = db.prepare('SELECT folded_to, folding_to FROM report_watermark').get() as { folded_to: number; folding_to: number | null };
    expect(before).toEqual({ folded_to: T0 + 8 * DAY, folding_to: T0 + 9 * DAY });
    db.exec('DROP TABLE report_affiliate_sub_ids; ALTER TABLE report_watermark DROP COLUMN affiliate_subs_from; DELETE FROM schema_migrations WHERE version = 11');
    db.close();

    store = await openStore(path);
    try {
      const marker = new Database(path, { readonly: true });
      expect(marker.prepare('SELECT affiliate_subs_from FROM report_watermark').get()).toEqual({ affiliate_subs_from: T0 + 9 * DAY });
      while ((await store.foldReports(T0 + 30 * DAY, DAY)) !== null);
      // The affiliate's rows hold only what was folded since: the 3 of day 8's 4 clicks left in
      // the window under way (a part day, which reports must not read), then days 9 to 19, 4 a day.
      const rows = marker.prepare('SELECT bucket, total_clicks FROM report_affiliate_sub_ids WHERE sub = 1 AND level = ? AND affiliate_id = 1').all(DAY) as { bucket: number; total_clicks: number }[];
      expect(rows.filter((r) => r.bucket === T0 + 8 * DAY).reduce((n, r) => n + r.total_clicks, 0)).toBe(3);
      expect(rows.filter((r) => r.bucket >= T0 + 9 * DAY).reduce((n, r) => n + r.total_clicks, 0)).toBe(44);
      marker.close();
      expect(await report(store, q)).toEqual(expected);
      expect(await report(store, { ...q, from: T0 + 9 * DAY + 5 * HOUR })).toEqual({ x: [22, 22], y: [21, 21] });
    } finally {
      await store.close();
    }
  });
});
