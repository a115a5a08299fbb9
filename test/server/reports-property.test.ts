// The summary report equals what the row lists say (PROTOCOL.md 11: "numbers are exact"): on random
// clicks and conversions, every group's metrics, for an admin and an affiliate key, are what
// click.json and conversions.json list for the same range, counted here by hand.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REPORT_GROUPS } from '../../server/store/types.js';
import { makeApp, type TestApp } from '../support/app.js';
import { call, createKey } from '../support/keys.js';
import { AFF, API_KEY, conversionNetworkFile } from '../support/network.js';
import { click, convert } from '../support/reports.js';

const MINUTE = 60_000;
const START = Date.UTC(2026, 10, 1);
const DAYS = 4;

const clickArb = fc.record({
  minute: fc.integer({ min: 0, max: DAYS * 1440 - 1 }),
  route: fc.constantFrom(
    { affiliate_id: AFF.partner, offer_id: 12345, campaign_id: 3870, creative_id: 1057 },
    { affiliate_id: AFF.second, offer_id: 12345, campaign_id: 3876, creative_id: 1057 },
    { affiliate_id: AFF.partner, offer_id: 666, campaign_id: 3878, creative_id: 6601 },
    { affiliate_id: null, offer_id: null, campaign_id: null, creative_id: null },
  ),
  kind: fc.constantFrom('redirect', 'pixel', 'repeat'),
  s1: fc.constantFrom(null, 'a', 'b', 'zz'),
  s2: fc.constantFrom(null, 'x'),
  country: fc.constantFrom(null, 'US', 'DE'),
});
const conversionArb = fc.record({
  of: fc.nat(),
  after: fc.integer({ min: 0, max: 1440 }),
  event_id: fc.constantFrom(0, 0, 1),
  status: fc.constantFrom('approved', 'approved', 'pending', 'rejected', 'reversed', 'scrubbed'),
  payout: fc.integer({ min: 0, max: 5000 }),
  revenue: fc.integer({ min: 0, max: 8000 }),
  is_test: fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
});

type Tally = Record<string, number>;
const day = (text: string) => text.slice(0, 10);
const hour = (text: string) => `${text.slice(0, 13)}:00`;

async function listAll(t: TestApp, key: string, path: string, params: Record<string, string | number>, field: string): Promise<any[]> {
  const rows: any[] = [];
  let after: string | number | null = null;
  do {
    const { body } = await call(t, 'GET', path, key, { ...params, row_limit: path === 'click.json' ? 10_000 : 500, ...(after === null ? {} : { start_after: after }) });
    // click.json answers inside `response`, as CAKE's does.
    const answer = body.response ?? body;
    rows.push(...answer[field]);
    after = answer.next_start_after;
  } while (after !== null);
  return rows;
}

describe('the summary report equals the row lists', () => {
  it('for every group, on random clicks and conversions', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(clickArb, { minLength: 1, maxLength: 60 }),
        fc.array(conversionArb, { maxLength: 40 }),
        fc.integer({ min: 0, max: DAYS - 1 }),
        fc.integer({ min: 0, max: DAYS - 1 }),
        fc.boolean(),
        fc.boolean(),
        fc.option(fc.integer({ min: 0, max: DAYS * 96 })),
        async (clicks, conversions, a, b, asAffiliate, include_tests, foldTo) => {
          const t = makeApp({ file: conversionNetworkFile() });
          try {
            const written = [];
            for (const c of clicks) {
              const disposition = c.route.offer_id === null ? 'bad_affiliate_id' : c.kind === 'repeat' ? `repeat ${'0'.repeat(32)}` : c.kind;
              written.push(await click(t.store, START + c.minute * MINUTE, { ...c.route, s1: c.s1, s2: c.s2, country: c.country, disposition }));
            }
            const attributed = written.filter((w) => w.offer_id !== null);
            for (const v of conversions) {
              if (!attributed.length) break;
              const of = attributed[v.of % attributed.length]!;
              await convert(t.store, of, of.click_time + v.after * MINUTE, {
                event_id: v.event_id,
                status: v.status as never,
                payout: v.payout,
                revenue: v.revenue,
                is_test: v.is_test,
                advertiser_id: of.offer_id === 666 ? 6 : 5,
              });
            }
            // The report rollups folded up to a random quarter hour (or not at all): the same numbers.
            if (foldTo !== null) while ((await t.store.foldReports(START + foldTo * 15 * MINUTE, 86_400_000)) !== null);
            const key = asAffiliate ? await createKey(t, 'affiliate', AFF.partner) : API_KEY;
            const range = { start_date: day(new Date(START + Math.min(a, b) * 86_400_000).toISOString()), end_date: day(new Date(START + Math.max(a, b) * 86_400_000).toISOString()) };
            // Every click of the data (for the conversions' sub ids and country), and the range's.
            const allClicks = await listAll(t, key, 'click.json', { start_date: '2026-11-01', end_date: '2026-11-30' }, 'clicks');
            const byId = new Map(allClicks.map((c) => [c.click_id, c]));
            const inRange = (date: string) => day(date) >= range.start_date && day(date) <= range.end_date;
            const listedClicks = allClicks.filter((c) => inRange(c.click_date));
            const listedConversions = (await listAll(t, key, 'conversions.json', { ...range, include_tests: String(include_tests) }, 'conversions')).map((c) => c.conversion);

            for (const group_by of REPORT_GROUPS) {
              if (asAffiliate && group_by === 'advertiser') continue;
              const keyOfClick = (c: any) =>
                group_by === 'day' ? day(c.click_date) : group_by === 'hour' ? hour(c.click_date) : group_by === 'advertiser' ? (c.offer_id === 666 ? 6 : 5) : group_by.startsWith('sub_id') || group_by === 'country' ? c[group_by] : c[`${group_by}_id`];
              const keyOfConversion = (v: any) => {
                if (group_by === 'day') return day(v.conversion_date);
                if (group_by === 'hour') return hour(v.conversion_date);
                if (group_by === 'offer') return v.offer.offer_id;
                if (group_by === 'affiliate') return v.affiliate.affiliate_id;
                if (group_by === 'advertiser') return v.advertiser_id;
                if (group_by === 'campaign' || group_by === 'creative') return v[`${group_by}_id`];
                return byId.get(v.click_id)?.[group_by] ?? null;
              };
              const expected = new Map<unknown, Tally>();
              const tally = (k: unknown) => {
                let row = expected.get(k ?? null);
                if (!row) expected.set(k ?? null, (row = { clicks: 0, total_clicks: 0, macro_event_conversions: 0, micro_events: 0, paid: 0, pending: 0, rejected: 0, cost: 0, revenue: 0 }));
                return row;
              };
              for (const c of listedClicks) {
                if (c.offer_id === null) continue;
                const row = tally(keyOfClick(c));
                row.total_clicks! += 1;
                if (c.disposition === 'redirect' || c.disposition === 'pixel') row.clicks! += 1;
              }
              for (const v of listedConversions) {
                const row = tally(keyOfConversion(v));
                const standing = v.conversion_status === 'approved' || v.conversion_status === 'pending';
                if (standing && v.event_id === 0) row.macro_event_conversions! += 1;
                if (standing && v.event_id !== 0) row.micro_events! += 1;
                if (v.conversion_status === 'approved' && v.payout > 0) row.paid! += 1;
                if (v.conversion_status === 'pending') row.pending! += 1;
                if (v.conversion_status === 'rejected') row.rejected! += 1;
                row.cost = Math.round(row.cost! * 100 + v.payout * 100) / 100;
                if (!asAffiliate) row.revenue = Math.round(row.revenue! * 100 + v.revenue * 100) / 100;
              }

              const { status, body } = await call(t, 'GET', 'reports/summary.json', key, { ...range, group_by, include_tests: String(include_tests), time_zone: 'UTC', row_limit: 10_000 });
              expect(status).toBe(200);
              const field = group_by === 'day' ? 'date' : group_by === 'hour' ? 'hour' : ['offer', 'affiliate', 'campaign', 'creative', 'advertiser'].includes(group_by) ? `${group_by}_id` : group_by;
              const got = new Map<unknown, Tally>(
                body.rows.map((r: any) => [
                  r.key[field],
                  {
                    clicks: r.clicks,
                    total_clicks: r.total_clicks,
                    macro_event_conversions: r.macro_event_conversions,
                    micro_events: r.micro_events,
                    paid: r.paid,
                    pending: r.pending,
                    rejected: r.rejected,
                    cost: asAffiliate ? r.payout : r.cost,
                    revenue: asAffiliate ? 0 : r.revenue,
                  },
                ]),
              );
              // A group the lists name only with zero counts (a scrubbed conversion) is a row of zeros.
              for (const [k, row] of expected) if (!got.has(k) && Object.values(row).every((n) => n === 0)) expected.delete(k);
              for (const [k, row] of got) if (!expected.has(k) && Object.values(row).every((n) => n === 0)) got.delete(k);
              expect({ group_by, rows: Object.fromEntries(got) }).toEqual({ group_by, rows: Object.fromEntries(expected) });
              expect(body.total_rows).toBe(body.rows.length);
            }
          } finally {
            await t.close();
          }
        },
      ),
      { numRuns: 25 },
    );
  }, 120_000);
});
