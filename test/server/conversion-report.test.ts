// Reading conversions back: /api/2/conversions.json, click.json's converted flag, and
// /api/2/tracking_domains.json (PROTOCOL.md 7).
import { afterEach, describe, expect, it } from 'vitest';
import { offerCookie } from '../../server/http.js';
import { makeApp, setCookie, type TestApp } from '../support/app.js';
import { ADVERTISER, AFF, API_KEY, conversionNetworkFile, CREATIVE, OFFER, REPEAT } from '../support/network.js';

let t: TestApp;
afterEach(() => t?.close());

async function api(path: string, params: Record<string, string | number> = {}) {
  const query = new URLSearchParams({ api_key: API_KEY, ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])) });
  const res = await t.get(`/api/2/${path}?${query}`);
  return { status: res.status, body: (await res.json()) as any };
}

/** A click and its conversion at the app's current time. */
async function conversion(affiliate: number, creative: number, offer: number, extra: Record<string, string | number> = {}) {
  const res = await t.get(`/?a=${affiliate}&c=${creative}`);
  const reqid = setCookie(res, offerCookie(offer))!;
  const { body } = await api('conversion.json', { click_id: reqid, offer_id: offer, ...extra });
  return { reqid, id: body.conversion.conversion_id as number };
}

const report = (params: Record<string, string | number> = {}) =>
  api('conversions.json', { start_date: '2026-11-01', end_date: '2026-11-30', ...params });

/** Four conversions over three days (Nov 20, 21, 22), two offers, two affiliates, one rejected. */
async function seed() {
  t.clock.now = Date.UTC(2026, 10, 20, 10);
  const a = await conversion(AFF.partner, CREATIVE.lead, OFFER.lead, { payout: '5' });
  t.clock.now = Date.UTC(2026, 10, 21, 10);
  const b = await conversion(AFF.partner, CREATIVE.lastTouch, OFFER.lastTouch);
  const c = await conversion(AFF.second, CREATIVE.lead, OFFER.lead, { payout: '30' });
  t.clock.now = Date.UTC(2026, 10, 22, 23, 59, 59);
  const d = await conversion(AFF.partner, CREATIVE.otherAdvertiser, OFFER.otherAdvertiser);
  await t.app.request(`http://track.example.com/api/2/conversion.json?api_key=${API_KEY}&conversion_id=${b.id}&conversion_status=rejected`, {
    method: 'PUT',
  });
  return { a, b, c, d };
}

describe('conversions.json', () => {
  it('lists conversions with nested offer and affiliate, and total_rows', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const { a } = await seed();
    const { status, body } = await report();
    expect(status).toBe(200);
    expect(body.request_status).toBe('Success');
    expect(body.total_rows).toBe(4);
    expect(body.conversions[0]).toEqual({
      conversion: expect.objectContaining({
        conversion_id: a.id,
        offer: { offer_id: OFFER.lead, offer_name: 'Auto Insurance Quote' },
        affiliate: { affiliate_id: AFF.partner, affiliate_name: 'MediaBridge Partners' },
        click_id: a.reqid,
        payout: 5,
        revenue: 22,
        conversion_status: 'approved',
        conversion_date: '2026-11-20 10:00:00',
      }),
    });
  });

  it('filters by date range, end_date inclusive', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const { b, c, d } = await seed();
    const ids = async (params: Record<string, string>) => (await report(params)).body.conversions.map((x: any) => x.conversion.conversion_id);
    expect(await ids({ start_date: '2026-11-21', end_date: '2026-11-21' })).toEqual([b.id, c.id]);
    expect(await ids({ start_date: '2026-11-22', end_date: '2026-11-22' })).toEqual([d.id]);
    expect(await ids({ start_date: '2026-11-23', end_date: '2026-12-31' })).toEqual([]);
  });

  it('filters by offer, affiliate, advertiser and status', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const { a, b, c, d } = await seed();
    const ids = async (params: Record<string, string | number>) =>
      (await report(params)).body.conversions.map((x: any) => x.conversion.conversion_id);
    expect(await ids({ offer_id: OFFER.lead })).toEqual([a.id, c.id]);
    expect(await ids({ affiliate_id: AFF.second })).toEqual([c.id]);
    expect(await ids({ advertiser_id: ADVERTISER.other })).toEqual([d.id]);
    expect(await ids({ conversion_status: 'rejected' })).toEqual([b.id]);
    expect(await ids({ conversion_status: 'approved', offer_id: OFFER.lead, affiliate_id: AFF.partner })).toEqual([a.id]);
  });

  it('sorts by a field, ascending or descending', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    await seed();
    const payouts = async (params: Record<string, string>) => (await report(params)).body.conversions.map((x: any) => x.conversion.payout);
    // b was rejected: its payout counts 0 (money follows status).
    expect(await payouts({ sort_field: 'payout' })).toEqual([0, 5, 5, 30]);
    expect(await payouts({ sort_field: 'payout', sort_descending: 'true' })).toEqual([30, 5, 5, 0]);
    const dates = (await report({ sort_field: 'conversion_date', sort_descending: '1' })).body.conversions.map((x: any) => x.conversion.conversion_date);
    expect(dates).toEqual(['2026-11-22 23:59:59', '2026-11-21 10:00:00', '2026-11-21 10:00:00', '2026-11-20 10:00:00']);
  });

  it('pages with start_at_row and row_limit, total_rows counting every match', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const { a, b, c, d } = await seed();
    const page = async (start: number, limit: number) => {
      const { body } = await report({ start_at_row: start, row_limit: limit, sort_field: 'conversion_id' });
      return [body.total_rows, body.conversions.map((x: any) => x.conversion.conversion_id)];
    };
    expect(await page(0, 2)).toEqual([4, [a.id, b.id]]);
    expect(await page(2, 2)).toEqual([4, [c.id, d.id]]);
    expect(await page(4, 2)).toEqual([4, []]);
  });

  it('answers at most 500 rows, 100 unless asked', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    // An offer whose clicks convert any number of times: 520 conversions of one click.
    const res = await t.get(`/?a=${AFF.partner}&c=${REPEAT.creative}`);
    const reqid = setCookie(res, offerCookie(REPEAT.offer))!;
    await Promise.all(Array.from({ length: 520 }, (_, i) => api('conversion.json', { click_id: reqid, offer_id: REPEAT.offer, unique_id: `U${i}` })));
    const plain = await report();
    expect([plain.body.total_rows, plain.body.conversions.length]).toEqual([520, 100]);
    const most = await report({ row_limit: 500 });
    expect(most.body.conversions).toHaveLength(500);
    const tooMany = await report({ row_limit: 501 });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors).toEqual([{ parameter: 'row_limit', message: 'must be between 1 and 500' }]);
  });

  it('leaves test conversions out unless include_tests is set', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    await conversion(AFF.partner, CREATIVE.lead, OFFER.lead, { unique_id: 'REAL' });
    await conversion(AFF.partner, CREATIVE.lead, OFFER.lead, { unique_id: 'TEST', ckm_test: 1 });
    expect((await report()).body.total_rows).toBe(1);
    const all = await report({ include_tests: 'true' });
    expect(all.body.conversions.map((x: any) => [x.conversion.unique_id, x.conversion.test, x.conversion.payout])).toEqual([
      ['REAL', false, 18],
      ['TEST', true, 0],
    ]);
  });

  it.each([
    [{ start_date: undefined }, 'start_date', 'is required'],
    [{ end_date: undefined }, 'end_date', 'is required'],
    [{ start_date: '2026-02-30' }, 'start_date', 'is not a calendar date'],
    [{ end_date: '11/30/2026' }, 'end_date', 'must be a date as YYYY-MM-DD'],
    [{ start_date: '2026-11-30', end_date: '2026-11-01' }, 'end_date', 'must not be before start_date'],
    [{ offer_id: 'twelve' }, 'offer_id', 'must be a whole number'],
    [{ conversion_status: 'paid' }, 'conversion_status', 'must be one of approved, pending, rejected, reversed, scrubbed'],
    [{ sort_field: 'name' }, 'sort_field', 'must be one of'],
    [{ sort_descending: 'yes' }, 'sort_descending', 'must be true or false'],
    [{ start_at_row: '-1' }, 'start_at_row', 'must be a whole number'],
    [{ row_limit: '0' }, 'row_limit', 'must be between 1 and 500'],
  ])('answers a Failure naming the parameter for %j', async (change, parameter, message) => {
    t = makeApp({ file: conversionNetworkFile() });
    const params: Record<string, string> = { api_key: API_KEY, start_date: '2026-11-01', end_date: '2026-11-30' };
    for (const [k, v] of Object.entries(change)) {
      if (v === undefined) delete params[k];
      else params[k] = v;
    }
    const res = await t.get(`/api/2/conversions.json?${new URLSearchParams(params)}`);
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.request_status).toBe('Failure');
    expect(body.errors).toContainEqual({ parameter, message: expect.stringContaining(message) });
  });
});

describe('click.json after a conversion', () => {
  it('shows the click converted, with its conversion_id', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const { reqid, id } = await conversion(AFF.partner, CREATIVE.lead, OFFER.lead);
    const { body } = await api('click.json', { click_id: reqid });
    expect(body.response.clicks[0]).toMatchObject({ click_id: reqid, converted: true, conversion_id: id });
  });
});

describe('tracking_domains.json', () => {
  it('lists every tracking domain of the network', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const { status, body } = await api('tracking_domains.json');
    expect(status).toBe(200);
    expect(body).toEqual({
      request_status: 'Success',
      total_rows: 2,
      tracking_domains: [
        { tracking_domain_id: 1, domain: 'track.example.com', domain_status: 'active', is_default: true },
        { tracking_domain_id: 2, domain: 'old.example.com', domain_status: 'inactive', is_default: false },
      ],
    });
  });

  it('filters by tracking_domain_id and domain_status', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    expect((await api('tracking_domains.json', { tracking_domain_id: 2 })).body.tracking_domains.map((d: any) => d.domain)).toEqual(['old.example.com']);
    expect((await api('tracking_domains.json', { domain_status: 'active' })).body.tracking_domains.map((d: any) => d.domain)).toEqual([
      'track.example.com',
    ]);
    expect((await api('tracking_domains.json', { tracking_domain_id: 99 })).body.tracking_domains).toEqual([]);
  });

  it('answers a Failure naming a malformed filter', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const bad = await api('tracking_domains.json', { domain_status: 'paused' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([{ parameter: 'domain_status', message: 'must be one of active, inactive' }]);
    const id = await api('tracking_domains.json', { tracking_domain_id: 'one' });
    expect(id.body.errors[0].parameter).toBe('tracking_domain_id');
  });
});
