import { afterEach, describe, expect, it } from 'vitest';
import { AFF, API_KEY, CREATIVE, OFFER } from '../support/network.js';
import { makeApp, type TestApp } from '../support/app.js';

let t: TestApp;
afterEach(() => t?.close());

const DAY = 86_400_000;

async function clickJson(query: string) {
  const res = await t.get(`/api/2/click.json?${query}`);
  return { status: res.status, body: (await res.json()) as any };
}

/** Three days of clicks: 2 partner clicks on the lead offer, 1 internal pixel, 1 on the last-touch offer. */
async function seed() {
  t.clock.now = Date.UTC(2026, 0, 14, 10, 0, 0);
  await t.get(`/?a=${AFF.partner}&c=${CREATIVE.lead}&s1=day14`);
  t.clock.now += DAY;
  await t.get(`/?a=${AFF.partner}&c=${CREATIVE.lead}&s1=day15`);
  t.clock.now += 1;
  await t.get(`/?a=${AFF.internal}&c=${CREATIVE.lead}&cp=js`);
  t.clock.now += DAY;
  await t.get(`/?a=${AFF.partner}&c=${CREATIVE.lastTouch}`);
}

describe('GET /api/2/click.json', () => {
  it('lists clicks in the contract shape', async () => {
    t = makeApp();
    await seed();
    const { status, body } = await clickJson(`api_key=${API_KEY}`);
    expect(status).toBe(200);
    expect(body.request_status).toBe('Success');
    expect(body.response.total_rows).toBe(4);
    expect(body.response.clicks[0]).toMatchObject({
      click_id: expect.stringMatching(/^[\w-]{32}$/),
      click_date: '2026-01-14 10:00:00',
      offer_id: OFFER.lead,
      affiliate_id: AFF.partner,
      sub_id_1: 'day14',
      sub_id_2: null,
      ip_address: '198.51.100.7',
      country: null,
      converted: false,
      conversion_id: null,
    });
  });

  it('filters by inclusive dates, offer and affiliate', async () => {
    t = makeApp();
    await seed();
    const day15 = await clickJson(`api_key=${API_KEY}&start_date=2026-01-15&end_date=2026-01-15`);
    expect(day15.body.response.clicks.map((c: any) => c.affiliate_id)).toEqual([AFF.partner, AFF.internal]);
    const offer = await clickJson(`api_key=${API_KEY}&offer_id=${OFFER.lastTouch}`);
    expect(offer.body.response.total_rows).toBe(1);
    const both = await clickJson(`api_key=${API_KEY}&offer_id=${OFFER.lead}&affiliate_id=${AFF.partner}&start_date=2026-01-15`);
    expect(both.body.response.clicks.map((c: any) => c.sub_id_1)).toEqual(['day15']);
  });

  it('lets click_id win over the other filters', async () => {
    t = makeApp();
    await seed();
    const all = await clickJson(`api_key=${API_KEY}`);
    const wanted = all.body.response.clicks[3].click_id;
    const one = await clickJson(`api_key=${API_KEY}&click_id=${wanted}&offer_id=${OFFER.lead}&start_date=2020-01-01&end_date=2020-01-02`);
    expect(one.body.response.total_rows).toBe(1);
    expect(one.body.response.clicks[0].click_id).toBe(wanted);
  });

  it('pages with start_at_row and row_limit, total_rows counting every match', async () => {
    t = makeApp();
    await seed();
    const all = (await clickJson(`api_key=${API_KEY}`)).body.response.clicks.map((c: any) => c.click_id);
    const page = await clickJson(`api_key=${API_KEY}&start_at_row=1&row_limit=2`);
    expect(page.body.response.total_rows).toBe(4);
    expect(page.body.response.clicks.map((c: any) => c.click_id)).toEqual(all.slice(1, 3));
    const past = await clickJson(`api_key=${API_KEY}&start_at_row=10`);
    expect(past.body.response).toEqual({ clicks: [], total_rows: 4, total_rows_capped: false, next_start_after: null });
  });

  it('defaults to 100 rows and allows up to 10000', async () => {
    t = makeApp();
    for (let i = 0; i < 105; i++) await t.get(`/?a=${AFF.partner}&c=${CREATIVE.lead}`);
    expect((await clickJson(`api_key=${API_KEY}`)).body.response.clicks).toHaveLength(100);
    expect((await clickJson(`api_key=${API_KEY}&row_limit=10000`)).body.response.clicks).toHaveLength(105);
  });

  it('sends a long page a slice at a time, the event loop turning between slices, as one JSON answer', async () => {
    t = makeApp();
    for (let i = 0; i < 1_201; i++) await t.get(`/?a=${AFF.partner}&c=${CREATIVE.lead}&s1=n${i}`);
    const res = await t.get(`/api/2/click.json?api_key=${API_KEY}&row_limit=10000`);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    let timerRan = false;
    setTimeout(() => (timerRan = true), 0);
    const reader = res.body!.getReader();
    const chunks: Uint8Array[] = [];
    let ranBeforeLast = false;
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      ranBeforeLast = timerRan;
      chunks.push(r.value);
    }
    // 1,201 rows in slices of 500: three slices and the closing bracket.
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    expect(ranBeforeLast).toBe(true);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    expect(body.request_status).toBe('Success');
    expect(body.response.total_rows).toBe(1_201);
    expect(body.response.next_start_after).toBeNull();
    // Every click once (they share one instant, so their order is the reqids').
    expect(body.response.clicks.map((c: any) => c.sub_id_1).sort()).toEqual(Array.from({ length: 1_201 }, (_, i) => `n${i}`).sort());
    const ids = body.response.clicks.map((c: any) => c.click_id);
    expect(ids).toEqual([...ids].sort());
  });

  it('ignores blank filters, as report tools send them (affiliate_id=&offer_id=)', async () => {
    t = makeApp();
    await t.get(`/?a=${AFF.partner}&c=${CREATIVE.lead}`);
    const res = await clickJson(`api_key=${API_KEY}&affiliate_id=&offer_id=&start_date=&click_id=`);
    expect(res.status).toBe(200);
    expect(res.body.response.clicks).toHaveLength(1);
  });

  it('answers Failure for a missing or wrong api_key', async () => {
    t = makeApp();
    const missing = await clickJson('');
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({ request_status: 'Failure', message: expect.stringContaining('api_key is required') });
    const wrong = await clickJson('api_key=test-api-kez');
    expect(wrong.status).toBe(401);
    expect(wrong.body.message).toContain('not a valid API key');
    const prefix = await clickJson('api_key=test-api');
    expect(prefix.status).toBe(401);
  });

  const bad: [string, string, string][] = [
    ['row_limit=10001', 'row_limit', 'must be between 1 and 10000'],
    ['row_limit=0', 'row_limit', 'must be between 1 and 10000'],
    ['row_limit=ten', 'row_limit', 'must be a whole number between 1 and 10000'],
    ['start_at_row=-1', 'start_at_row', 'must be a whole number'],
    ['start_date=2026-02-30', 'start_date', 'is not a calendar date (2026-02-30)'],
    ['end_date=01/31/2026', 'end_date', 'must be a date as YYYY-MM-DD'],
    ['start_date=2026-02-01&end_date=2026-01-01', 'end_date', 'must not be before start_date'],
    ['offer_id=abc', 'offer_id', 'must be a whole number such as 12345'],
    ['affiliate_id=0', 'affiliate_id', 'must be between 1 and 2147483647'],
    ['click_id=not-a-reqid', 'click_id', 'is not a request id issued by this network'],
  ];
  for (const [query, parameter, message] of bad) {
    it(`answers Failure naming ${parameter} for ${query}`, async () => {
      t = makeApp();
      const { status, body } = await clickJson(`api_key=${API_KEY}&${query}`);
      expect(status).toBe(400);
      expect(body.request_status).toBe('Failure');
      expect(body.message).toContain(parameter);
      expect(body.errors).toContainEqual({ parameter, message: expect.stringContaining(message) });
    });
  }
});

describe('the SQLite store', () => {
  it('keeps clicks when the app is closed and another opens the same file', async () => {
    t = makeApp();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      t.clock.now += 1;
      const res = await t.get(`/?a=${AFF.partner}&c=${CREATIVE.lead}&s1=n${i}`);
      ids.push(new URL(res.headers.get('location')!).searchParams.get('reqid')!);
    }
    await t.close();
    t = makeApp({ dbPath: t.dbPath });
    const { body } = await clickJson(`api_key=${API_KEY}`);
    expect(body.response.clicks.map((c: any) => c.click_id)).toEqual(ids);
    expect(body.response.clicks.map((c: any) => c.sub_id_1)).toEqual(['n0', 'n1', 'n2', 'n3', 'n4']);
  });

  it('commits concurrent clicks before answering them', async () => {
    t = makeApp();
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => t.get(`/?a=${AFF.partner}&c=${CREATIVE.lead}&s1=c${i}`)));
    const given = answers.map((res) => new URL(res.headers.get('location')!).searchParams.get('reqid'));
    const stored = (await t.store.listClicks({ offset: 0, limit: 1000 })).rows.map((c) => c.reqid);
    expect(new Set(stored)).toEqual(new Set(given));
  });
});
