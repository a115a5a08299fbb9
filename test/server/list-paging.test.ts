// No list call can make the server read without bound (issue 14 point 7): click.json, leads.json,
// conversions.json, postback_deliveries.json and affiliate_postback.json page by key
// (start_after, answered as next_start_after), start_at_row skips at most MAX_SKIP rows, each list
// reads a capped date range, and total_rows says when it stopped counting.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { offerCookie } from '../../server/http.js';
import { MAX_SKIP } from '../../server/params.js';
import { makeApp, setCookie, type TestApp } from '../support/app.js';
import { call } from '../support/keys.js';
import { AFF, API_KEY, CAMPAIGN, CREATIVE, OFFER, POST_KEY } from '../support/network.js';

let t: TestApp;
afterEach(() => t?.close());

const DAY = 86_400_000;
const get = (path: string, params: Record<string, string | number> = {}) => call(t, 'GET', path, API_KEY, params);

/** Every page of a list, following next_start_after; answers the pages' rows. */
async function walk(path: string, params: Record<string, string | number>, rows: (body: any) => { list: any[]; next: string | number | null }) {
  const pages: any[][] = [];
  let after: string | number | null = null;
  for (;;) {
    const answer = await get(path, after === null ? params : { ...params, start_after: after });
    expect(answer.status).toBe(200);
    const page = rows(answer.body);
    pages.push(page.list);
    if (page.next === null) return pages;
    after = page.next;
  }
}

describe('click.json', () => {
  async function clicks(n: number) {
    for (let i = 0; i < n; i++) {
      t.clock.now += 1000;
      await t.get(`/?a=${AFF.partner}&c=${CREATIVE.lead}&s1=c${i}`);
    }
  }

  it('pages by key: each next_start_after leads to the next page, the last page answers null', async () => {
    t = makeApp();
    await clicks(7);
    const pages = await walk('click.json', { row_limit: 3 }, (b) => ({ list: b.response.clicks, next: b.response.next_start_after }));
    expect(pages.map((p) => p.map((c: any) => c.sub_id_1))).toEqual([['c0', 'c1', 'c2'], ['c3', 'c4', 'c5'], ['c6']]);
    const first = await get('click.json', { row_limit: 3 });
    expect(first.body.response).toMatchObject({ total_rows: 7, total_rows_capped: false, next_start_after: pages[0]![2].click_id });
  });

  it('refuses a start_after that is no click id of this network', async () => {
    t = makeApp();
    const answer = await get('click.json', { start_after: 'not-a-reqid' });
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([{ parameter: 'start_after', message: 'is not a request id issued by this network' }]);
  });

  it(`skips at most ${MAX_SKIP} rows with start_at_row, and says how to page on`, async () => {
    t = makeApp();
    expect((await get('click.json', { start_at_row: MAX_SKIP })).status).toBe(200);
    const answer = await get('click.json', { start_at_row: MAX_SKIP + 1 });
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([
      { parameter: 'start_at_row', message: `must be at most ${MAX_SKIP}: page on with start_after (the next_start_after of the previous page)` },
    ]);
  });

  it('reads at most 31 days a call, naming the cap; without dates, the last 31 days', async () => {
    t = makeApp();
    const ok = await get('click.json', { start_date: '2026-10-01', end_date: '2026-10-31' });
    expect(ok.status).toBe(200);
    const wide = await get('click.json', { start_date: '2026-10-01', end_date: '2026-11-01' });
    expect(wide.status).toBe(400);
    expect(wide.body.errors).toEqual([
      { parameter: 'end_date', message: 'makes a range of 32 days; click.json covers at most 31 days (start_date to end_date, both included): ask for the rest in further calls' },
    ]);
    expect((await get('click.json', { start_date: '2026-01-01' })).status).toBe(400);
    // Clicks of 31 days ago and of today are in the default range; one of 32 days ago is not.
    const now = t.clock.now;
    for (const daysAgo of [31, 30, 0]) {
      t.clock.now = now - daysAgo * DAY;
      await t.get(`/?a=${AFF.partner}&c=${CREATIVE.lead}&s1=d${daysAgo}`);
    }
    t.clock.now = now;
    expect((await get('click.json')).body.response.clicks.map((c: any) => c.sub_id_1)).toEqual(['d30', 'd0']);
    // click_id wins over the range: a click of any day is found by its id.
    const all = await get('click.json', { start_date: '2026-10-01', end_date: '2026-10-31' });
    expect((await get('click.json', { click_id: all.body.response.clicks[0].click_id })).body.response.total_rows).toBe(1);
  });
});

describe('conversions.json', () => {
  async function conversions(n: number) {
    const made: number[] = [];
    for (let i = 0; i < n; i++) {
      t.clock.now += 1000;
      const res = await t.get(`/?a=${AFF.partner}&c=${CREATIVE.lead}`);
      const click_id = setCookie(res, offerCookie(OFFER.lead))!;
      made.push((await get('conversion.json', { click_id, offer_id: OFFER.lead, payout: String(i % 3) })).body.conversion.conversion_id);
    }
    return made;
  }
  const range = { start_date: '2026-11-01', end_date: '2026-11-30' };

  it('pages by key in any sort order, each row once', async () => {
    t = makeApp();
    const made = await conversions(5);
    for (const sort of [{ sort_field: 'conversion_id' }, { sort_field: 'payout', sort_descending: 'true' }] as Record<string, string>[]) {
      const whole = (await get('conversions.json', { ...range, ...sort })).body.conversions.map((c: any) => c.conversion.conversion_id);
      const pages = await walk('conversions.json', { ...range, ...sort, row_limit: 2 }, (b) => ({ list: b.conversions, next: b.next_start_after }));
      expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
      expect(pages.flat().map((c: any) => c.conversion.conversion_id)).toEqual(whole);
      expect([...whole].sort()).toEqual([...made].sort());
    }
  });

  it('refuses a start_after that names no conversion the key can read', async () => {
    t = makeApp();
    const answer = await get('conversions.json', { ...range, start_after: 12345 });
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([{ parameter: 'start_after', message: 'names no conversion this key can read (12345): pass the next_start_after of the previous page' }]);
  });

  it('reads at most 366 days a call, naming the cap', async () => {
    t = makeApp();
    expect((await get('conversions.json', { start_date: '2025-11-21', end_date: '2026-11-21' })).status).toBe(200);
    const wide = await get('conversions.json', { start_date: '2025-11-20', end_date: '2026-11-21' });
    expect(wide.status).toBe(400);
    expect(wide.body.errors[0]).toEqual({
      parameter: 'end_date',
      message: 'makes a range of 367 days; conversions.json covers at most 366 days (start_date to end_date, both included): ask for the rest in further calls',
    });
  });
});

describe('leads.json', () => {
  it('pages by key with lead ids as the posts answered them, and reads at most 92 days a call', async () => {
    t = makeApp();
    for (let i = 0; i < 3; i++) {
      const body = new URLSearchParams({ ckm_campaign_id: String(CAMPAIGN.lead), ckm_key: POST_KEY, first_name: 'Jane', last_name: 'Doe', email: `j${i}@example.com`, zip: '90210' });
      await t.post('/d.ashx', body.toString(), 'application/x-www-form-urlencoded');
    }
    const pages = await walk('leads.json', { row_limit: 2 }, (b) => ({ list: b.response.leads, next: b.response.next_start_after }));
    expect(pages.map((p) => p.map((l: any) => l.email))).toEqual([['j0@example.com', 'j1@example.com'], ['j2@example.com']]);
    expect((await get('leads.json', { row_limit: 2 })).body.response.next_start_after).toMatch(/^[0-9A-F]{8}$/);
    const wide = await get('leads.json', { start_date: '2026-01-01', end_date: '2026-04-03' });
    expect(wide.status).toBe(400);
    expect(wide.body.errors[0].message).toContain('leads.json covers at most 92 days');
  });
});

describe('postbacks and their deliveries', () => {
  it('page by key', async () => {
    t = makeApp();
    for (let i = 0; i < 3; i++) {
      await call(t, 'POST', 'affiliate_postback.json', API_KEY, { affiliate_id: AFF.partner, offer_id: 0, postback_url: `https://partner.example/pb${i}?c=#reqid#` });
    }
    const postbacks = await walk('affiliate_postback.json', { row_limit: 2 }, (b) => ({ list: b.postbacks, next: b.next_start_after }));
    expect(postbacks.map((p) => p.length)).toEqual([2, 1]);
    const res = await t.get(`/?a=${AFF.partner}&c=${CREATIVE.lead}`);
    const click_id = setCookie(res, offerCookie(OFFER.lead))!;
    await get('conversion.json', { click_id, offer_id: OFFER.lead });
    const deliveries = await walk('postback_deliveries.json', { row_limit: 2 }, (b) => ({ list: b.deliveries, next: b.next_start_after }));
    expect(deliveries.map((p) => p.length)).toEqual([2, 1]);
    expect(new Set(deliveries.flat().map((d: any) => d.delivery_id)).size).toBe(3);
    expect((await get('postback_deliveries.json')).body).toMatchObject({ total_rows: 3, total_rows_capped: false, next_start_after: null });
  });
});

describe('a store that is slow to answer', () => {
  it('answers 504 naming what to do when a list query runs out of time', async () => {
    t = makeApp();
    const { ReadTimeout } = await import('../../server/store/types.js');
    vi.spyOn(t.store, 'listClicks').mockRejectedValueOnce(new ReadTimeout(5000));
    const answer = await get('click.json');
    expect(answer.status).toBe(504);
    expect(answer.body).toEqual({
      request_status: 'Failure',
      message: 'The query took longer than 5 s and was stopped: ask for fewer days (start_date, end_date) or add filters (offer_id, affiliate_id), then retry',
    });
  });
});

describe('log lines', () => {
  it('never carry an api_key or ckm_key', async () => {
    t = makeApp();
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));
    vi.spyOn(t.store, 'listClicks').mockRejectedValueOnce(new Error('disk on fire'));
    vi.spyOn(t.store, 'insertLead').mockRejectedValueOnce(new Error('disk on fire'));
    try {
      expect((await get('click.json')).status).toBe(500);
      const lead = await t.get(`/d.ashx?ckm_campaign_id=${CAMPAIGN.lead}&ckm_key=${POST_KEY}&first_name=Jane&last_name=Doe&email=j@example.com&zip=90210`);
      expect(lead.status).toBe(500);
    } finally {
      spy.mockRestore();
    }
    expect(lines.length).toBeGreaterThanOrEqual(2);
    const logged = lines.join('\n');
    expect(logged).not.toContain(API_KEY);
    expect(logged).not.toContain(POST_KEY);
    // The request log (ops/requests.ts) names the URL with its secrets redacted.
    expect(logged).toContain('/api/2/click.json?api_key=[redacted]');
    expect(logged).toContain('ckm_key=[redacted]');
  });
});
