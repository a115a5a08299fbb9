// The summary report (PROTOCOL.md 11) on a small data set checked by hand: every group and metric,
// totals, sort and paging, CSV equal to JSON, the time zones' cuts (a 23- and a 25-hour day, +05:30,
// +05:45 and +10:30), and each role's scope, through the v2 API as a client calls it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { foldJob } from '../../server/reports/fold.js';
import { offsetAt, offsetPieces, startOfDay } from '../../server/reports/zone.js';
import { makeApp, type TestApp } from '../support/app.js';
import { call, createKey } from '../support/keys.js';
import { ADVERTISER, AFF, API_KEY, conversionNetworkFile } from '../support/network.js';
import { click, convert } from '../support/reports.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const D1 = Date.UTC(2026, 10, 20);
const D2 = Date.UTC(2026, 10, 21);

let t: TestApp;
const keys = { partner: '', second: '', acme: '', other: '' };

beforeAll(async () => {
  t = makeApp({ file: conversionNetworkFile() });
  keys.partner = await createKey(t, 'affiliate', AFF.partner);
  keys.second = await createKey(t, 'affiliate', AFF.second);
  keys.acme = await createKey(t, 'advertiser', ADVERTISER.acme);
  keys.other = await createKey(t, 'advertiser', ADVERTISER.other);
  const s = t.store;
  const c1 = await click(s, D1 + 10 * HOUR, { s1: 'a' });
  await click(s, D1 + 11 * HOUR, { s1: 'a', disposition: `repeat ${c1.reqid}` });
  const c3 = await click(s, D1 + 12 * HOUR, { affiliate_id: AFF.second, campaign_id: 3876, s1: 'b', country: 'DE' });
  const c4 = await click(s, D2 + 9 * HOUR, { offer_id: 666, campaign_id: 3878, creative_id: 6601, disposition: 'pixel' });
  // Refused: counted nowhere.
  await click(s, D2 + 10 * HOUR, { affiliate_id: null, offer_id: null, campaign_id: null, creative_id: null, disposition: 'bad_affiliate_id' });
  await convert(s, c1, D1 + 10 * HOUR + 30 * MINUTE, { payout: 1800, revenue: 2200 });
  await convert(s, c3, D1 + 13 * HOUR, { payout: 1800, revenue: 2200, status: 'pending' });
  await convert(s, c4, D2 + 9 * HOUR + 30 * MINUTE, { payout: 500, revenue: 700, status: 'rejected', advertiser_id: 6 });
  await convert(s, c1, D2 + 8 * HOUR, { payout: 50, revenue: 100, event_id: 1 });
  await convert(s, c4, D2 + 9 * HOUR + 40 * MINUTE, { payout: 500, revenue: 700, is_test: true, advertiser_id: 6 });
});
afterAll(() => t.close());

const summary = (params: Record<string, string | number>, key = API_KEY) =>
  call(t, 'GET', 'reports/summary.json', key, { start_date: '2026-11-20', end_date: '2026-11-21', ...params });

/** clicks, total_clicks, macro, micro, paid, pending, rejected, cost, revenue. */
type Counts = [number, number, number, number, number, number, number, number, number];
function counts(row: any): Counts {
  return [row.clicks, row.total_clicks, row.macro_event_conversions, row.micro_events, row.paid, row.pending, row.rejected, row.cost, row.revenue];
}
function table(rows: any[], field: string): Record<string, Counts> {
  return Object.fromEntries(rows.map((r) => [String(r.key[field]), counts(r)]));
}

describe('the summary report, by hand', () => {
  it('by day: every metric and the totals', async () => {
    const { status, body } = await summary({ group_by: 'day' });
    expect(status).toBe(200);
    expect(body).toEqual({
      request_status: 'Success',
      time_zone: 'UTC',
      total_rows: 2,
      totals: { clicks: 3, total_clicks: 4, macro_event_conversions: 2, micro_events: 1, conversion_rate: 0.6667, paid: 2, pending: 1, rejected: 1, cost: 18.5, revenue: 23, profit: 4.5, margin: 0.1957, epc: 7.67 },
      rows: [
        { key: { date: '2026-11-20' }, clicks: 2, total_clicks: 3, macro_event_conversions: 2, micro_events: 0, conversion_rate: 1, paid: 1, pending: 1, rejected: 0, cost: 18, revenue: 22, profit: 4, margin: 0.1818, epc: 11 },
        { key: { date: '2026-11-21' }, clicks: 1, total_clicks: 1, macro_event_conversions: 0, micro_events: 1, conversion_rate: 0, paid: 1, pending: 0, rejected: 1, cost: 0.5, revenue: 1, profit: 0.5, margin: 0.5, epc: 1 },
      ],
    });
  });

  it('clicks and total_clicks differ exactly by the repeats first touch kept', async () => {
    const { body } = await summary({ group_by: 'sub_id_1' });
    expect(body.totals.total_clicks - body.totals.clicks).toBe(1);
  });

  it.each([
    ['offer', 'offer_id', { 12345: [2, 3, 2, 1, 2, 1, 0, 18.5, 23], 666: [1, 1, 0, 0, 0, 0, 1, 0, 0] }],
    ['affiliate', 'affiliate_id', { [AFF.partner]: [2, 3, 1, 1, 2, 0, 1, 18.5, 23], [AFF.second]: [1, 1, 1, 0, 0, 1, 0, 0, 0] }],
    ['campaign', 'campaign_id', { 3870: [1, 2, 1, 1, 2, 0, 0, 18.5, 23], 3876: [1, 1, 1, 0, 0, 1, 0, 0, 0], 3878: [1, 1, 0, 0, 0, 0, 1, 0, 0] }],
    ['creative', 'creative_id', { 1057: [2, 3, 2, 1, 2, 1, 0, 18.5, 23], 6601: [1, 1, 0, 0, 0, 0, 1, 0, 0] }],
    ['advertiser', 'advertiser_id', { 5: [2, 3, 2, 1, 2, 1, 0, 18.5, 23], 6: [1, 1, 0, 0, 0, 0, 1, 0, 0] }],
    ['country', 'country', { US: [2, 3, 1, 1, 2, 0, 1, 18.5, 23], DE: [1, 1, 1, 0, 0, 1, 0, 0, 0] }],
    ['sub_id_1', 'sub_id_1', { a: [1, 2, 1, 1, 2, 0, 0, 18.5, 23], b: [1, 1, 1, 0, 0, 1, 0, 0, 0], null: [1, 1, 0, 0, 0, 0, 1, 0, 0] }],
    ['sub_id_2', 'sub_id_2', { null: [3, 4, 2, 1, 2, 1, 1, 18.5, 23] }],
    [
      'hour',
      'hour',
      {
        '2026-11-20 10:00': [1, 1, 1, 0, 1, 0, 0, 18, 22],
        '2026-11-20 11:00': [0, 1, 0, 0, 0, 0, 0, 0, 0],
        '2026-11-20 12:00': [1, 1, 0, 0, 0, 0, 0, 0, 0],
        '2026-11-20 13:00': [0, 0, 1, 0, 0, 1, 0, 0, 0],
        '2026-11-21 08:00': [0, 0, 0, 1, 1, 0, 0, 0.5, 1],
        '2026-11-21 09:00': [1, 1, 0, 0, 0, 0, 1, 0, 0],
      },
    ],
  ] as const)('by %s', async (group_by, field, expected) => {
    const { status, body } = await summary({ group_by });
    expect(status).toBe(200);
    expect(table(body.rows, field)).toEqual(expected);
    expect(body.total_rows).toBe(Object.keys(expected).length);
  });

  it('names the entities of the key', async () => {
    const { body } = await summary({ group_by: 'offer', sort_field: 'offer_id' });
    expect(body.rows.map((r: any) => r.key)).toEqual([
      { offer_id: 666, offer_name: "Another advertiser's offer" },
      { offer_id: 12345, offer_name: 'Auto Insurance Quote' },
    ]);
    const affiliates = await summary({ group_by: 'affiliate', sort_field: 'affiliate_id' });
    expect(affiliates.body.rows.map((r: any) => r.key)).toEqual([
      { affiliate_id: AFF.second, affiliate_name: 'Second Partner' },
      { affiliate_id: AFF.partner, affiliate_name: 'MediaBridge Partners' },
    ]);
  });

  it('sorts by the entities\' names, which the network holds', async () => {
    // By id the second partner comes first; by name MediaBridge Partners does.
    const byName = await summary({ group_by: 'affiliate', sort_field: 'affiliate_name' });
    expect(byName.body.rows.map((r: any) => r.key.affiliate_id)).toEqual([AFF.partner, AFF.second]);
    const down = await summary({ group_by: 'affiliate', sort_field: 'affiliate_name', sort_descending: 'true' });
    expect(down.body.rows.map((r: any) => r.key.affiliate_id)).toEqual([AFF.second, AFF.partner]);
  });

  it('counts test conversions only when asked', async () => {
    const { body } = await summary({ group_by: 'offer', offer_id: 666, include_tests: 'true' });
    expect(table(body.rows, 'offer_id')).toEqual({ 666: [1, 1, 1, 0, 0, 0, 1, 0, 0] });
  });

  it('filters by offer, affiliate, advertiser, campaign, creative and country', async () => {
    const totals = async (filter: Record<string, string | number>) => counts((await summary({ group_by: 'day', ...filter })).body.totals);
    expect(await totals({ offer_id: 666 })).toEqual([1, 1, 0, 0, 0, 0, 1, 0, 0]);
    expect(await totals({ affiliate_id: AFF.second })).toEqual([1, 1, 1, 0, 0, 1, 0, 0, 0]);
    expect(await totals({ advertiser_id: 6 })).toEqual([1, 1, 0, 0, 0, 0, 1, 0, 0]);
    expect(await totals({ campaign_id: 3870 })).toEqual([1, 2, 1, 1, 2, 0, 0, 18.5, 23]);
    expect(await totals({ creative_id: 6601 })).toEqual([1, 1, 0, 0, 0, 0, 1, 0, 0]);
    expect(await totals({ country: 'de' })).toEqual([1, 1, 1, 0, 0, 1, 0, 0, 0]);
  });

  it('sorts by any metric or the key, either way, and pages; the totals cover every row', async () => {
    const byRevenue = await summary({ group_by: 'sub_id_1', sort_field: 'revenue', sort_descending: 'true' });
    expect(byRevenue.body.rows.map((r: any) => r.key.sub_id_1)).toEqual(['a', null, 'b']);
    const byKey = await summary({ group_by: 'sub_id_1', sort_field: 'sub_id_1' });
    expect(byKey.body.rows.map((r: any) => r.key.sub_id_1)).toEqual([null, 'a', 'b']);
    const paged = await summary({ group_by: 'sub_id_1', sort_field: 'sub_id_1', start_at_row: 1, row_limit: 1 });
    expect(paged.body.rows.map((r: any) => r.key.sub_id_1)).toEqual(['a']);
    expect(paged.body.total_rows).toBe(3);
    expect(paged.body.totals).toEqual(byKey.body.totals);
    // Default: days in time order; other groups by clicks, most first.
    const byDefault = await summary({ group_by: 'affiliate' });
    expect(byDefault.body.rows.map((r: any) => r.key.affiliate_id)).toEqual([AFF.partner, AFF.second]);
  });

  it('answers CSV with the JSON page: the same columns and values', async () => {
    const params = { group_by: 'offer', sort_field: 'offer_id' };
    const json = (await summary(params)).body;
    const res = await t.app.request(`http://track.example.com/api/2/reports/summary.json?${new URLSearchParams({ api_key: API_KEY, start_date: '2026-11-20', end_date: '2026-11-21', format: 'csv', ...params })}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await res.text()).trimEnd().split('\r\n');
    const header = lines[0]!.split(',');
    expect(header).toEqual(['offer_id', 'offer_name', ...Object.keys(json.totals)]);
    const parsed = lines.slice(1).map((line) => parseCsvLine(line));
    const fromJson = json.rows.map((r: any) => header.map((h) => String(h in r.key ? (r.key[h] ?? '') : r[h])));
    expect(parsed).toEqual(fromJson);
  });

  it('writes a text cell a spreadsheet would run as text', async () => {
    const at = Date.UTC(2026, 10, 22, 12);
    await click(t.store, at, { s1: '=HYPERLINK("x")' });
    const res = await t.app.request(`http://track.example.com/api/2/reports/summary.json?${new URLSearchParams({ api_key: API_KEY, start_date: '2026-11-22', end_date: '2026-11-22', group_by: 'sub_id_1', format: 'csv' })}`);
    expect((await res.text()).split('\r\n')[1]).toBe(`"'=HYPERLINK(""x"")",1,1,0,0,0,0,0,0,0,0,0,0,0`);
  });

  it('refuses a range over 366 days, a bad zone, an unknown group or sort field, naming the parameter', async () => {
    const long = await summary({ group_by: 'day', start_date: '2025-01-01', end_date: '2026-01-02' });
    expect(long.status).toBe(400);
    expect(long.body.errors[0].parameter).toBe('end_date');
    const zone = await summary({ group_by: 'day', time_zone: 'Mars/Olympus' });
    expect(zone.body.errors[0].parameter).toBe('time_zone');
    expect((await summary({ group_by: 'week' })).body.errors[0].parameter).toBe('group_by');
    expect((await summary({ group_by: 'day', sort_field: 'nope' })).body.errors[0].parameter).toBe('sort_field');
    expect((await summary({ group_by: 'day', end_date: '2026-11-19' })).body.errors[0].parameter).toBe('end_date');
  });
});

/** One CSV line of RFC 4180 cells. */
function parseCsvLine(line: string): string[] {
  const cells: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let text = '';
      i++;
      while (i < line.length) {
        if (line[i] === '"' && line[i + 1] === '"') (text += '"'), (i += 2);
        else if (line[i] === '"') break;
        else text += line[i++];
      }
      cells.push(text);
      i += 2;
    } else {
      const end = line.indexOf(',', i);
      cells.push(line.slice(i, end < 0 ? line.length : end));
      i = end < 0 ? line.length + 1 : end + 1;
    }
  }
  return cells;
}

describe('the summary report per role', () => {
  it('an affiliate key gets its own rows, payout for cost, and no revenue, profit or margin', async () => {
    const { status, body } = await summary({ group_by: 'offer', sort_field: 'offer_id' }, keys.partner);
    expect(status).toBe(200);
    expect(Object.keys(body.totals)).toEqual(['clicks', 'total_clicks', 'macro_event_conversions', 'micro_events', 'conversion_rate', 'paid', 'pending', 'rejected', 'payout', 'epc']);
    expect(body.rows).toEqual([
      { key: { offer_id: 666, offer_name: "Another advertiser's offer" }, clicks: 1, total_clicks: 1, macro_event_conversions: 0, micro_events: 0, conversion_rate: 0, paid: 0, pending: 0, rejected: 1, payout: 0, epc: 0 },
      { key: { offer_id: 12345, offer_name: 'Auto Insurance Quote' }, clicks: 1, total_clicks: 2, macro_event_conversions: 1, micro_events: 1, conversion_rate: 1, paid: 2, pending: 0, rejected: 0, payout: 18.5, epc: 18.5 },
    ]);
    const second = await summary({ group_by: 'day' }, keys.second);
    expect(counts({ ...second.body.totals, cost: second.body.totals.payout })).toEqual([1, 1, 1, 0, 0, 1, 0, 0, undefined]);
  });

  it("an affiliate key may not ask for another affiliate's rows, the advertisers, or sort by revenue", async () => {
    expect((await summary({ group_by: 'day', affiliate_id: AFF.second }, keys.partner)).status).toBe(403);
    expect((await summary({ group_by: 'advertiser' }, keys.partner)).status).toBe(403);
    expect((await summary({ group_by: 'day', sort_field: 'revenue' }, keys.partner)).status).toBe(400);
  });

  it('an advertiser key gets its offers only', async () => {
    const acme = await summary({ group_by: 'offer' }, keys.acme);
    expect(table(acme.body.rows, 'offer_id')).toEqual({ 12345: [2, 3, 2, 1, 2, 1, 0, 18.5, 23] });
    const other = await summary({ group_by: 'affiliate' }, keys.other);
    expect(table(other.body.rows, 'affiliate_id')).toEqual({ [AFF.partner]: [1, 1, 0, 0, 0, 0, 1, 0, 0] });
    expect((await summary({ group_by: 'day', advertiser_id: ADVERTISER.acme }, keys.other)).status).toBe(403);
    expect((await summary({ group_by: 'day', offer_id: 12345 }, keys.other)).status).toBe(403);
  });
});

describe('time zones', () => {
  it('knows the offsets of whole-hour, half-hour and three-quarter-hour zones', () => {
    expect(offsetAt('Asia/Kolkata', D1) / MINUTE).toBe(330);
    expect(offsetAt('Asia/Kathmandu', D1) / MINUTE).toBe(345);
    expect(offsetAt('Australia/Adelaide', D1) / MINUTE).toBe(630); // daylight time in November
    expect(offsetAt('Australia/Adelaide', Date.UTC(2026, 6, 1)) / MINUTE).toBe(570);
    expect(offsetAt('America/New_York', D1) / MINUTE).toBe(-300);
    expect(offsetAt('UTC', D1)).toBe(0);
  });

  it('finds a 25-hour and a 23-hour day, and each transition to the minute', () => {
    const nov1 = Date.UTC(2026, 10, 1);
    expect((startOfDay('America/New_York', nov1 + 86_400_000) - startOfDay('America/New_York', nov1)) / HOUR).toBe(25);
    const mar8 = Date.UTC(2026, 2, 8);
    expect((startOfDay('America/New_York', mar8 + 86_400_000) - startOfDay('America/New_York', mar8)) / HOUR).toBe(23);
    const oct4 = Date.UTC(2026, 9, 4);
    expect((startOfDay('Australia/Adelaide', oct4 + 86_400_000) - startOfDay('Australia/Adelaide', oct4)) / HOUR).toBe(23);
    expect(offsetPieces('America/New_York', Date.UTC(2026, 0, 1), Date.UTC(2027, 0, 1))).toEqual([
      { since: Date.UTC(2026, 0, 1), offset: -5 * HOUR },
      { since: Date.UTC(2026, 2, 8, 7), offset: -4 * HOUR },
      { since: Date.UTC(2026, 10, 1, 6), offset: -5 * HOUR },
    ]);
  });

  describe('cut days and hours in the report zone', () => {
    let z: TestApp;
    beforeAll(async () => {
      const file = conversionNetworkFile();
      file.network.time_zone = 'America/New_York';
      z = makeApp({ file });
      const at = [
        Date.UTC(2026, 10, 1, 3, 59), // Oct 31 23:59 in New York (EDT)
        Date.UTC(2026, 10, 1, 4, 0), // Nov 1 00:00 EDT
        Date.UTC(2026, 10, 1, 5, 30), // 01:30 EDT
        Date.UTC(2026, 10, 1, 6, 30), // 01:30 EST: the hour that happens twice
        Date.UTC(2026, 10, 2, 4, 30), // Nov 1 23:30 EST: the 25th hour of the day
        Date.UTC(2026, 10, 2, 5, 0), // Nov 2 00:00 EST
        Date.UTC(2026, 2, 9, 3, 30), // Mar 8 23:30 EDT (a 23-hour day)
        Date.UTC(2026, 2, 9, 4, 0), // Mar 9 00:00 EDT
        Date.UTC(2026, 10, 20, 18, 29), // Kolkata Nov 20 23:59; Kathmandu Nov 21 00:14
        Date.UTC(2026, 10, 20, 18, 30), // Kolkata Nov 21 00:00
        Date.UTC(2026, 10, 20, 13, 29), // Adelaide Nov 20 23:59
        Date.UTC(2026, 10, 20, 13, 30), // Adelaide Nov 21 00:00
        Date.UTC(2026, 10, 20, 18, 14), // Kathmandu Nov 20 23:59
      ];
      for (const time of at) await click(z.store, time);
      // Folded into the rollups: the cuts below read them (hourly buckets for New York, quarters
      // for +05:30, +05:45 and +10:30).
      await foldJob(z.store, { lagMs: 0 }).catchUp();
    });
    afterAll(() => z.close());

    const days = async (params: Record<string, string>) => {
      const { status, body } = await call(z, 'GET', 'reports/summary.json', API_KEY, { group_by: 'day', ...params });
      expect(status).toBe(200);
      return { zone: body.time_zone, days: Object.fromEntries(body.rows.map((r: any) => [r.key.date, r.clicks])) };
    };

    it("in the network's zone by default: a 25-hour day at the end of daylight time", async () => {
      expect(await days({ start_date: '2026-10-31', end_date: '2026-11-02' })).toEqual({ zone: 'America/New_York', days: { '2026-10-31': 1, '2026-11-01': 4, '2026-11-02': 1 } });
      const hours = await call(z, 'GET', 'reports/summary.json', API_KEY, { group_by: 'hour', start_date: '2026-11-01', end_date: '2026-11-01' });
      expect(Object.fromEntries(hours.body.rows.map((r: any) => [r.key.hour, r.clicks]))).toEqual({ '2026-11-01 00:00': 1, '2026-11-01 01:00': 2, '2026-11-01 23:00': 1 });
    });

    it('a 23-hour day at the start of daylight time', async () => {
      expect((await days({ start_date: '2026-03-08', end_date: '2026-03-09' })).days).toEqual({ '2026-03-08': 1, '2026-03-09': 1 });
    });

    it('in the zone a call names: UTC, Kolkata (+05:30), Kathmandu (+05:45), Adelaide (+10:30)', async () => {
      const range = { start_date: '2026-11-20', end_date: '2026-11-21' };
      expect(await days({ ...range, time_zone: 'UTC' })).toEqual({ zone: 'UTC', days: { '2026-11-20': 5 } });
      expect((await days({ ...range, time_zone: 'Asia/Kolkata' })).days).toEqual({ '2026-11-20': 4, '2026-11-21': 1 });
      expect((await days({ ...range, time_zone: 'Asia/Kathmandu' })).days).toEqual({ '2026-11-20': 3, '2026-11-21': 2 });
      expect((await days({ ...range, time_zone: 'Australia/Adelaide' })).days).toEqual({ '2026-11-20': 1, '2026-11-21': 4 });
      const hours = await call(z, 'GET', 'reports/summary.json', API_KEY, { group_by: 'hour', ...range, time_zone: 'Asia/Kolkata' });
      expect(hours.body.rows.map((r: any) => [r.key.hour, r.clicks])).toEqual([
        ['2026-11-20 18:00', 1],
        ['2026-11-20 19:00', 1],
        ['2026-11-20 23:00', 2],
        ['2026-11-21 00:00', 1],
      ]);
    });
  });
});

describe('pages of a report with many groups', () => {
  let many: TestApp;
  beforeAll(async () => {
    many = makeApp({ file: conversionNetworkFile() });
    // 90 sub ids, 1 to 5 clicks each: ties in clicks, broken by the key.
    const writes = [];
    for (let i = 0; i < 90; i++) {
      for (let k = 0; k < ((i * 7) % 5) + 1; k++) writes.push(click(many.store, D1 + i * MINUTE + k, { s1: `v${String(i).padStart(2, '0')}` }));
    }
    await Promise.all(writes);
  });
  afterAll(() => many.close());

  it('gives every group once, in the order of the whole list, whatever the page (a short page keeps the best few, a long one sorts all)', async () => {
    const page = async (params: Record<string, string | number>) =>
      (await call(many, 'GET', 'reports/summary.json', API_KEY, { start_date: '2026-11-20', end_date: '2026-11-21', group_by: 'sub_id_1', ...params })).body;
    const expected = Array.from({ length: 90 }, (_, i) => ({ key: `v${String(i).padStart(2, '0')}`, clicks: ((i * 7) % 5) + 1 }))
      .sort((a, b) => b.clicks - a.clicks || (a.key < b.key ? -1 : 1))
      .map((g) => g.key);
    const whole = await page({ row_limit: 1000 });
    expect(whole.rows.map((r: any) => r.key.sub_id_1)).toEqual(expected);
    const paged: string[] = [];
    for (let at = 0; at < 90; at += 4) {
      const p = await page({ start_at_row: at, row_limit: 4 });
      expect(p.total_rows).toBe(90);
      paged.push(...p.rows.map((r: any) => r.key.sub_id_1));
    }
    expect(paged).toEqual(expected);
    // Ascending, first page only: the fewest clicks first.
    const fewest = await page({ sort_field: 'clicks', sort_descending: 'false', row_limit: 5 });
    expect(fewest.rows.map((r: any) => r.key.sub_id_1)).toEqual(
      expected.filter((k) => ((Number(k.slice(1)) * 7) % 5) + 1 === 1).slice(0, 5),
    );
  });
});
