// Recording conversions server to server: /api/2/conversion.json (PROTOCOL.md 5 and 7), its money,
// dedupe, scrubbing and status changes.
import { afterEach, describe, expect, it } from 'vitest';
import { offerCookie } from '../../server/http.js';
import { reqids, webCryptoMac } from '../../server/reqid.js';
import { makeApp, setCookie, type TestApp } from '../support/app.js';
import { AFF, API_KEY, CAMPAIGN, conversionNetworkFile, CREATIVE, EVENTS, OFFER, REPEAT, SECRET } from '../support/network.js';

let t: TestApp;
afterEach(() => t?.close());

const HOUR = 3_600_000;

/** Clicks a tracking link; answers the reqid the browser got. */
async function click(affiliate: number, creative: number, offer: number, init?: { ip?: string }): Promise<string> {
  const res = await t.get(`/?a=${affiliate}&c=${creative}&s1=sub1`, init);
  const reqid = setCookie(res, offerCookie(offer));
  if (!reqid) throw new Error(`the click on creative ${creative} was not attributed`);
  return reqid;
}

async function convert(params: Record<string, string | number>, init?: { ip?: string }) {
  const query = new URLSearchParams({ api_key: API_KEY, ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])) });
  const res = await t.get(`/api/2/conversion.json?${query}`, init);
  return { status: res.status, body: (await res.json()) as any };
}

async function stored() {
  return (await t.store.listConversions({ include_tests: true, sort: 'conversion_id', descending: false, offset: 0, limit: 1000 })).rows;
}

describe('conversion.json records a conversion', () => {
  it('answers the contract shape for a click, with the offer payout and revenue', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const reqid = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const { status, body } = await convert({ click_id: reqid, offer_id: OFFER.lead, unique_id: 'ORD-98765' });
    expect(status).toBe(200);
    expect(body).toEqual({
      request_status: 'Success',
      duplicate: false,
      conversion: {
        conversion_id: expect.any(Number),
        offer_id: OFFER.lead,
        affiliate_id: AFF.partner,
        click_id: reqid,
        payout: 18,
        revenue: 22,
        unique_id: 'ORD-98765',
        order_id: null,
        conversion_date: '2026-11-21 12:00:00',
        conversion_status: 'approved',
      },
    });
    const [row] = await stored();
    expect(row).toMatchObject({ conversion_id: body.conversion.conversion_id, campaign_id: CAMPAIGN.lead, creative_id: CREATIVE.lead, source: 'api' });
  });

  it('takes its parameters by POST, form-encoded or JSON, as well as GET', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const reqid = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const second = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const form = await t.post(
      '/api/2/conversion.json',
      new URLSearchParams({ api_key: API_KEY, click_id: reqid, offer_id: String(OFFER.lead), unique_id: 'F-1', adv1: 'x' }).toString(),
      'application/x-www-form-urlencoded',
    );
    expect((await form.json()).conversion).toMatchObject({ unique_id: 'F-1', conversion_status: 'approved' });
    const json = await t.post(
      '/api/2/conversion.json',
      JSON.stringify({ api_key: API_KEY, click_id: second, offer_id: OFFER.lead, unique_id: 'J-1', order_id: 'O-7', adv5: 'five' }),
      'application/json',
    );
    expect((await json.json()).conversion).toMatchObject({ unique_id: 'J-1', order_id: 'O-7' });
    const rows = await stored();
    expect(rows.map((r) => [r.unique_id, r.adv1, r.adv5])).toEqual([
      ['F-1', 'x', null],
      ['J-1', null, 'five'],
    ]);
  });

  it('keeps conversion_date, order_id and adv1..adv5 as sent', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const reqid = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const { body } = await convert({
      click_id: reqid,
      offer_id: OFFER.lead,
      conversion_date: '2026-11-21 13:30:15',
      order_id: 'ORDER-1',
      adv1: 'a1',
      adv2: 'a2',
      adv3: 'a3',
      adv4: 'a4',
      adv5: 'a5',
    });
    expect(body.conversion.conversion_date).toBe('2026-11-21 13:30:15');
    expect((await stored())[0]).toMatchObject({ order_id: 'ORDER-1', adv1: 'a1', adv2: 'a2', adv3: 'a3', adv4: 'a4', adv5: 'a5' });
  });

  it('treats parameters sent empty as not sent', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const reqid = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const { status, body } = await convert({ click_id: reqid, offer_id: OFFER.lead, payout: '', revenue: '', unique_id: '' });
    expect(status).toBe(200);
    expect(body.conversion).toMatchObject({ payout: 18, revenue: 22, unique_id: null });
  });
});

describe('conversion.json money', () => {
  it('uses the request overrides of payout and revenue, to the cent', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const reqid = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const { body } = await convert({ click_id: reqid, offer_id: OFFER.lead, payout: '12.34', revenue: '20.10' });
    expect(body.conversion).toMatchObject({ payout: 12.34, revenue: 20.1 });
    expect((await stored())[0]).toMatchObject({ payout_cents: 1234, revenue_cents: 2010 });
  });

  it("uses the campaign's payout override over the offer's", async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const reqid = await click(AFF.partner, CREATIVE.cpl, OFFER.cpl);
    const { body } = await convert({ click_id: reqid, offer_id: OFFER.cpl });
    expect(body.conversion).toMatchObject({ payout: 27.5, revenue: 30 });
  });

  it('pays a RevShare offer its percentages of amount, rounded to the cent', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const reqid = await click(AFF.partner, CREATIVE.revshare, OFFER.revshare);
    const { body } = await convert({ click_id: reqid, offer_id: OFFER.revshare, amount: '123.45' });
    // 10% and 15% of 123.45
    expect(body.conversion).toMatchObject({ payout: 12.35, revenue: 18.52 });
    expect((await stored())[0]).toMatchObject({ payout_cents: 1235, revenue_cents: 1852, amount_cents: 12345 });
  });

  it("applies a campaign's RevShare percentages, and a request's payout over them", async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const reqid = await click(AFF.second, CREATIVE.revshare, OFFER.revshare);
    const first = await convert({ click_id: reqid, offer_id: OFFER.revshare, amount: '80', unique_id: 'A' });
    // the campaign's 12.5% and 20% of 80
    expect(first.body.conversion).toMatchObject({ payout: 10, revenue: 16 });
    const other = await click(AFF.second, CREATIVE.revshare, OFFER.revshare);
    const second = await convert({ click_id: other, offer_id: OFFER.revshare, amount: '80', payout: '3.00', unique_id: 'B' });
    expect(second.body.conversion).toMatchObject({ payout: 3, revenue: 16 });
  });
});

describe('conversion.json event ids', () => {
  it('takes every event id up to 2147483647', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const reqid = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const { status } = await convert({ click_id: reqid, offer_id: OFFER.lead, event_id: 2_000_000_000 });
    expect(status).toBe(200);
    expect((await stored())[0]!.event_id).toBe(2_000_000_000);
    expect((await convert({ click_id: reqid, offer_id: OFFER.lead, event_id: 2_147_483_648 })).body.errors[0].parameter).toBe('event_id');
  });
});

describe('conversion.json refuses what it cannot credit', () => {
  it('answers HEAD with 405 and records nothing (link checkers send it)', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const reqid = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const query = new URLSearchParams({ api_key: API_KEY, click_id: reqid, offer_id: String(OFFER.lead) });
    const res = await t.get(`/api/2/conversion.json?${query}`, { method: 'HEAD' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, POST, PUT');
    expect(await stored()).toEqual([]);
  });

  it('answers a clear Failure for a forged click_id and stores nothing', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const reqid = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const forged = reqid.slice(0, -1) + (reqid.endsWith('A') ? 'B' : 'A');
    const { status, body } = await convert({ click_id: forged, offer_id: OFFER.lead, payout: '500' });
    expect(status).toBe(400);
    expect(body.request_status).toBe('Failure');
    expect(body.errors).toEqual([{ parameter: 'click_id', message: expect.stringContaining('not a click id issued by this network') }]);
    expect(await stored()).toEqual([]);
  });

  it('answers a clear Failure for a well-formed click_id that was never recorded, and stores nothing', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const unknown = await reqids(webCryptoMac(SECRET)).mint(t.clock.now);
    const { status, body } = await convert({ click_id: unknown, offer_id: OFFER.lead });
    expect(status).toBe(400);
    expect(body.errors).toEqual([{ parameter: 'click_id', message: 'names no recorded click: pass the reqid the tracking link gave the landing page' }]);
    expect(await stored()).toEqual([]);
  });

  it("refuses a click on another offer and a refused click's id", async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const reqid = await click(AFF.partner, CREATIVE.lastTouch, OFFER.lastTouch);
    const other = await convert({ click_id: reqid, offer_id: OFFER.lead });
    expect(other.status).toBe(400);
    expect(other.body.errors[0]).toEqual({ parameter: 'click_id', message: `names a click on another offer, not on offer_id ${OFFER.lead}` });

    await t.get(`/?a=${AFF.noCampaign}&c=${CREATIVE.lead}`);
    const refused = (await t.store.listClicks({ offset: 0, limit: 10 })).rows.find((r) => r.offer_id === null)!;
    const res = await convert({ click_id: refused.reqid, offer_id: OFFER.lead });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].message).toContain('refused');
    expect(await stored()).toEqual([]);
  });

  it.each([
    ['offer_id', { offer_id: 'abc' }, 'must be a whole number'],
    ['offer_id', { offer_id: '999' }, 'names no offer of this network (999)'],
    ['click_id', { click_id: undefined }, 'is required'],
    ['payout', { payout: 'ten' }, 'must be an amount'],
    ['revenue', { revenue: '1,50' }, 'must be an amount'],
    ['amount', { amount: '-3' }, 'must be an amount'],
    ['conversion_date', { conversion_date: '2026-02-30 10:00:00' }, 'is not a real date'],
    ['conversion_date', { conversion_date: 'yesterday' }, 'must be a date and time'],
    ['conversion_date', { conversion_date: '2026-11-30 00:00:00' }, 'is in the future'],
    ['unique_id', { unique_id: 'x'.repeat(256) }, 'at most 255'],
    ['ckm_test', { ckm_test: 'maybe' }, 'true or false'],
  ])('names %s when it is malformed (%j)', async (parameter, change, message) => {
    t = makeApp({ file: conversionNetworkFile() });
    const reqid = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const params: Record<string, string | number> = { click_id: reqid, offer_id: OFFER.lead };
    for (const [k, v] of Object.entries(change)) {
      if (v === undefined) delete params[k];
      else params[k] = v;
    }
    const { status, body } = await convert(params);
    expect(status).toBe(400);
    expect(body.request_status).toBe('Failure');
    expect(body.message).toContain(parameter);
    expect(body.errors).toContainEqual({ parameter, message: expect.stringContaining(message) });
    expect(await stored()).toEqual([]);
  });

  it('answers 401 without a valid api_key', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const res = await t.get(`/api/2/conversion.json?offer_id=${OFFER.lead}&click_id=x`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ request_status: 'Failure', message: expect.stringContaining('api_key') });
  });
});

describe('conversion.json dedupe', () => {
  it('answers a second conversion with the same unique_id as a duplicate of the first', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const reqid = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const first = await convert({ click_id: reqid, offer_id: OFFER.lead, unique_id: 'ORD-1' });
    const again = await convert({ click_id: reqid, offer_id: OFFER.lead, unique_id: 'ORD-1', payout: '99' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ request_status: 'Success', duplicate: true, message: expect.stringContaining('Duplicate') });
    expect(again.body.conversion).toEqual(first.body.conversion);
    expect(await stored()).toHaveLength(1);
  });

  it('gives one conversion for 50 identical requests at once', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const reqid = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => convert({ click_id: reqid, offer_id: OFFER.lead, unique_id: 'ORD-RACE' })),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(new Set(answers.map((a) => a.body.conversion.conversion_id)).size).toBe(1);
    expect(answers.filter((a) => !a.body.duplicate)).toHaveLength(1);
    expect(await stored()).toHaveLength(1);
  });

  it('keeps, where the offer allows duplicates, conversions with different unique_ids, and the same unique_id on another event', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const reqid = await click(AFF.partner, REPEAT.creative, REPEAT.offer);
    await convert({ click_id: reqid, offer_id: REPEAT.offer, unique_id: 'A' });
    expect((await convert({ click_id: reqid, offer_id: REPEAT.offer, unique_id: 'B' })).body.duplicate).toBe(false);
    expect((await convert({ click_id: reqid, offer_id: REPEAT.offer, unique_id: 'A' })).body.duplicate).toBe(true);
    const event = await convert({ click_id: reqid, offer_id: REPEAT.offer, unique_id: 'A', event_id: EVENTS.issueRead });
    expect(event.body.duplicate).toBe(false);
    expect(await stored()).toHaveLength(3);
  });

  it('records every conversion that carries no unique_id where the offer allows duplicates (nothing to dedupe on)', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const reqid = await click(AFF.partner, REPEAT.creative, REPEAT.offer);
    await convert({ click_id: reqid, offer_id: REPEAT.offer });
    const second = await convert({ click_id: reqid, offer_id: REPEAT.offer });
    expect(second.body.duplicate).toBe(false);
    expect(await stored()).toHaveLength(2);
  });
});

describe('conversion.json scrubbing', () => {
  it("stores a conversion later than the offer's session hours as scrubbed, not paid", async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const reqid = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    t.clock.now += 25 * HOUR; // the offer's session_hours is 24
    const { status, body } = await convert({ click_id: reqid, offer_id: OFFER.lead, unique_id: 'LATE' });
    expect(status).toBe(200);
    expect(body.conversion).toMatchObject({ conversion_status: 'scrubbed', payout: 0 });
    expect((await stored())[0]).toMatchObject({ status: 'scrubbed', payout_cents: 0, scrub_reason: expect.stringContaining('24 hours') });
  });

  it('accepts a conversion inside the session hours, judged by its conversion_date', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const reqid = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const other = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    t.clock.now += 23 * HOUR;
    expect((await convert({ click_id: reqid, offer_id: OFFER.lead, unique_id: 'IN' })).body.conversion.conversion_status).toBe('approved');
    t.clock.now += 10 * HOUR;
    const backdated = await convert({ click_id: other, offer_id: OFFER.lead, unique_id: 'BACK', conversion_date: '2026-11-21 20:00:00' });
    expect(backdated.body.duplicate).toBe(false);
    expect(backdated.body.conversion).toMatchObject({ conversion_status: 'approved', payout: 18 });
  });

  it('scrubs conversions matching the suppression list: transaction id, the click IP or the conversion IP', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const reqid = await click(AFF.partner, REPEAT.creative, REPEAT.offer);
    const fraudId = await convert({ click_id: reqid, offer_id: REPEAT.offer, unique_id: 'FRAUD-1' });
    expect(fraudId.body.conversion).toMatchObject({ conversion_status: 'scrubbed', payout: 0 });
    const fromIp = await convert({ click_id: reqid, offer_id: REPEAT.offer, unique_id: 'IP' }, { ip: '203.0.113.66' });
    expect(fromIp.body.conversion.conversion_status).toBe('scrubbed');
    const suspect = await click(AFF.partner, CREATIVE.lastTouch, OFFER.lastTouch, { ip: '203.0.113.66' });
    const byClick = await convert({ click_id: suspect, offer_id: OFFER.lastTouch, unique_id: 'CLICK-IP' });
    expect(byClick.body.conversion.conversion_status).toBe('scrubbed');
    const clean = await convert({ click_id: reqid, offer_id: REPEAT.offer, unique_id: 'CLEAN' });
    expect(clean.body.conversion.conversion_status).toBe('approved');
    expect((await stored()).map((r) => r.scrub_reason)).toEqual(['suppressed transaction id', 'suppressed ip', 'suppressed ip', null]);
  });
});

describe('PUT conversion.json changes a status', () => {
  async function recorded() {
    const reqid = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    return (await convert({ click_id: reqid, offer_id: OFFER.lead, unique_id: 'S-1' })).body.conversion.conversion_id as number;
  }

  it('sets any of approved, pending, rejected, reversed, by form or JSON body', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const id = await recorded();
    for (const status of ['pending', 'rejected', 'reversed', 'approved']) {
      const res = await t.app.request('http://track.example.com/api/2/conversion.json', {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ api_key: API_KEY, conversion_id: id, conversion_status: status }),
      });
      expect(res.status).toBe(200);
      expect((await res.json()).conversion).toMatchObject({ conversion_id: id, conversion_status: status });
    }
    const form = await t.app.request('http://track.example.com/api/2/conversion.json', {
      method: 'PUT',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `api_key=${API_KEY}&conversion_id=${id}&conversion_status=rejected`,
    });
    expect((await form.json()).conversion.conversion_status).toBe('rejected');
    expect((await stored())[0]!.status).toBe('rejected');
  });

  it.each([
    [{ conversion_status: 'paid' }, 400, 'conversion_status', 'must be one of approved, pending, rejected, reversed'],
    [{ conversion_status: 'scrubbed' }, 400, 'conversion_status', 'must be one of'],
    [{ conversion_status: undefined }, 400, 'conversion_status', 'is required'],
    [{ conversion_id: 'abc' }, 400, 'conversion_id', 'must be a whole number'],
  ])('answers a Failure naming the parameter for %j', async (change, status, parameter, message) => {
    t = makeApp({ file: conversionNetworkFile() });
    const id = await recorded();
    const params: Record<string, string> = { api_key: API_KEY, conversion_id: String(id), conversion_status: 'rejected' };
    for (const [k, v] of Object.entries(change)) {
      if (v === undefined) delete params[k];
      else params[k] = v;
    }
    const res = await t.app.request(`http://track.example.com/api/2/conversion.json?${new URLSearchParams(params)}`, { method: 'PUT' });
    expect(res.status).toBe(status);
    expect((await res.json()).errors).toContainEqual({ parameter, message: expect.stringContaining(message) });
    expect((await stored())[0]!.status).toBe('approved');
  });

  it('answers 404 for a conversion that does not exist', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const res = await t.app.request(`http://track.example.com/api/2/conversion.json?api_key=${API_KEY}&conversion_id=4711&conversion_status=approved`, {
      method: 'PUT',
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ request_status: 'Failure', message: 'conversion_id 4711: no such conversion' });
  });
});

describe('conversion.json events (PROTOCOL.md 5)', () => {
  it("records an event with the event's money, beside the base conversion of the same click", async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const reqid = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const event = await convert({ click_id: reqid, offer_id: OFFER.lead, event_id: EVENTS.viewed });
    expect(event.body).toMatchObject({ duplicate: false, conversion: { payout: 0.5, revenue: 1, conversion_status: 'approved' } });
    const base = await convert({ click_id: reqid, offer_id: OFFER.lead, event_id: 0 });
    expect(base.body).toMatchObject({ duplicate: false, conversion: { payout: 18, revenue: 22 } });
    expect((await stored()).map((r) => [r.event_id, r.payout_cents, r.revenue_cents])).toEqual([
      [EVENTS.viewed, 50, 100],
      [0, 1800, 2200],
    ]);
    const report = await t.get(`/api/2/conversions.json?api_key=${API_KEY}&start_date=2026-11-21&end_date=2026-11-21`);
    const rows = (await report.json()).conversions.map((c: any) => c.conversion);
    expect(rows.map((c: any) => [c.event_id, c.event_name, c.payout])).toEqual([
      [EVENTS.viewed, 'Quote Viewed', 0.5],
      [0, null, 18],
    ]);
  });

  it("pays a RevShare event its percentages of amount, and a request's payout over them", async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const reqid = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const { body } = await convert({ click_id: reqid, offer_id: OFFER.lead, event_id: EVENTS.bought, amount: '200.10' });
    // 5 % and 8 % of 200.10: 10.005 and 16.008, half up.
    expect(body.conversion).toMatchObject({ payout: 10.01, revenue: 16.01 });
    const over = await convert({ click_id: reqid, offer_id: OFFER.lead, event_id: EVENTS.bought, amount: '100', payout: '1.00', revenue: '2.00' });
    expect(over.body.conversion).toMatchObject({ payout: 1, revenue: 2 });
  });

  it.each([
    ['an event the offer does not have', 77, 'names no event of offer 12345 (77)'],
    ['an inactive event', EVENTS.retired, 'names an inactive event of offer 12345 (4)'],
  ])('answers a Failure naming event_id for %s, and records nothing', async (_, event_id, message) => {
    t = makeApp({ file: conversionNetworkFile() });
    const reqid = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const { status, body } = await convert({ click_id: reqid, offer_id: OFFER.lead, event_id });
    expect(status).toBe(400);
    expect(body).toMatchObject({ request_status: 'Failure', errors: [{ parameter: 'event_id', message: `${message}: nothing was recorded` }] });
    expect(await stored()).toEqual([]);
  });
});

describe('conversion.json: one conversion per click and event, unless allowed', () => {
  it('answers a second base conversion of a click as a duplicate of the first, whatever its unique_id, and fires nothing', async () => {
    const deliveries: number[] = [];
    t = makeApp({ file: conversionNetworkFile(), onDeliveries: () => deliveries.push(1) });
    await t.post('/api/2/affiliate_postback.json', JSON.stringify({ api_key: API_KEY, affiliate_id: AFF.partner, offer_id: OFFER.lead, postback_url: 'https://aff.example/pb?c=#reqid#&e=#eventid#' }), 'application/json');
    const reqid = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const first = await convert({ click_id: reqid, offer_id: OFFER.lead, unique_id: 'ORDER-1' });
    const second = await convert({ click_id: reqid, offer_id: OFFER.lead, unique_id: 'ORDER-2' });
    expect(second.body).toMatchObject({ duplicate: true, message: expect.stringContaining(`conversion ${first.body.conversion.conversion_id}`) });
    expect(second.body.conversion).toEqual(first.body.conversion);
    // The event once, too; an event that allows duplicates every time.
    const viewed = [await convert({ click_id: reqid, offer_id: OFFER.lead, event_id: EVENTS.viewed }), await convert({ click_id: reqid, offer_id: OFFER.lead, event_id: EVENTS.viewed })];
    expect(viewed.map((v) => v.body.duplicate)).toEqual([false, true]);
    const bought = [1, 2].map(() => convert({ click_id: reqid, offer_id: OFFER.lead, event_id: EVENTS.bought, amount: '10' }));
    expect((await Promise.all(bought)).map((b) => b.body.duplicate)).toEqual([false, false]);
    expect((await stored()).map((r) => r.event_id)).toEqual([0, EVENTS.viewed, EVENTS.bought, EVENTS.bought]);
    const outbox = await t.store.listDeliveries({ offset: 0, limit: 100 });
    expect(outbox.rows.map((d) => new URL(d.url).searchParams.get('e'))).toEqual(['', String(EVENTS.viewed), String(EVENTS.bought), String(EVENTS.bought)]);
    expect(deliveries).toHaveLength(4);
  });

  it('gives one base conversion for 30 requests at once on one click, each with its own unique_id', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const reqid = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => convert({ click_id: reqid, offer_id: OFFER.lead, unique_id: `U-${i}` })));
    expect(answers.filter((a) => !a.body.duplicate)).toHaveLength(1);
    expect(new Set(answers.map((a) => a.body.conversion.conversion_id)).size).toBe(1);
    expect(await stored()).toHaveLength(1);
  });

  it('lets a test conversion leave the click to a real one', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const reqid = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const test = await convert({ click_id: reqid, offer_id: OFFER.lead, ckm_test: 1 });
    const real = await convert({ click_id: reqid, offer_id: OFFER.lead });
    expect([test.body.duplicate, real.body.duplicate]).toEqual([false, false]);
    expect(real.body.conversion).toMatchObject({ payout: 18 });
  });
});

describe('conversion.json: a click whose offer, advertiser, affiliate or campaign is no longer active', () => {
  const paused = (change: (file: ReturnType<typeof conversionNetworkFile>) => void) => {
    const file = conversionNetworkFile();
    change(file);
    return file;
  };
  it.each([
    ['affiliate', (f: ReturnType<typeof conversionNetworkFile>) => (f.affiliates.find((a) => a.affiliate_id === AFF.partner)!.status = 'inactive'), `inactive affiliate ${AFF.partner}`],
    ['campaign', (f: ReturnType<typeof conversionNetworkFile>) => (f.campaigns.find((c) => c.campaign_id === CAMPAIGN.lead)!.status = 'inactive'), `inactive campaign ${CAMPAIGN.lead}`],
    ['offer', (f: ReturnType<typeof conversionNetworkFile>) => (f.offers.find((o) => o.offer_id === OFFER.lead)!.status = 'inactive'), `inactive offer ${OFFER.lead}`],
    ['advertiser', (f: ReturnType<typeof conversionNetworkFile>) => (f.advertisers.find((a) => a.advertiser_id === 5)!.status = 'inactive'), 'inactive advertiser 5'],
  ])('is credited nothing new when its %s is paused: recorded scrubbed with the reason, not paid, no postback', async (_, pause, reason) => {
    // The click made while everything was active, in the store; the network paused since.
    const before = makeApp({ file: conversionNetworkFile() });
    t = before;
    const reqid = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    await t.post('/api/2/affiliate_postback.json', JSON.stringify({ api_key: API_KEY, affiliate_id: AFF.partner, offer_id: 0, postback_url: 'https://aff.example/pb?c=#reqid#' }), 'application/json');
    t = makeApp({ file: paused(pause), store: before.store, dbPath: before.dbPath });
    const { status, body } = await convert({ click_id: reqid, offer_id: OFFER.lead, unique_id: 'AFTER-PAUSE' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ duplicate: false, message: expect.stringContaining(reason), conversion: { conversion_status: 'scrubbed', payout: 0, revenue: 0 } });
    expect((await stored())[0]).toMatchObject({ status: 'scrubbed', scrub_reason: reason, payout_cents: 0, once_per_click: false });
    expect((await t.store.listDeliveries({ offset: 0, limit: 10 })).total).toBe(0);
  });
});

describe('conversion.json money follows status', () => {
  it('keeps what a scrubbed conversion earns, and pays it once an admin approves it', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const reqid = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    t.clock.now += 25 * HOUR;
    const { body } = await convert({ click_id: reqid, offer_id: OFFER.lead, unique_id: 'LATE' });
    expect(body.conversion).toMatchObject({ conversion_status: 'scrubbed', payout: 0, revenue: 0 });
    const put = (status: string) =>
      t.app.request(`http://track.example.com/api/2/conversion.json?api_key=${API_KEY}&conversion_id=${body.conversion.conversion_id}&conversion_status=${status}`, { method: 'PUT' });
    expect((await (await put('approved')).json()).conversion).toMatchObject({ conversion_status: 'approved', payout: 18, revenue: 22 });
    expect((await (await put('reversed')).json()).conversion).toMatchObject({ conversion_status: 'reversed', payout: 0, revenue: 0 });
    const report = await t.get(`/api/2/conversions.json?api_key=${API_KEY}&start_date=2026-11-21&end_date=2026-11-22`);
    expect((await report.json()).conversions[0].conversion).toMatchObject({ payout: 0, revenue: 0, computed_payout: 18, computed_revenue: 22 });
  });

  it("fires the approval postback of a conversion approved later with its money in #price#", async () => {
    t = makeApp({ file: conversionNetworkFile() });
    await t.post('/api/2/affiliate_postback.json', JSON.stringify({ api_key: API_KEY, affiliate_id: AFF.partner, offer_id: 0, fire_on: 'approval', postback_url: 'https://aff.example/ok?p=#price#&s=#status#' }), 'application/json');
    const reqid = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    t.clock.now += 25 * HOUR;
    const { body } = await convert({ click_id: reqid, offer_id: OFFER.lead });
    await t.app.request(`http://track.example.com/api/2/conversion.json?api_key=${API_KEY}&conversion_id=${body.conversion.conversion_id}&conversion_status=approved`, { method: 'PUT' });
    const { rows } = await t.store.listDeliveries({ offset: 0, limit: 10 });
    expect(rows.map((d) => [d.fire_on, d.url])).toEqual([['approval', 'https://aff.example/ok?p=18.00&s=approved']]);
  });

  it('never pays a test conversion, even approved', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const reqid = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const { body } = await convert({ click_id: reqid, offer_id: OFFER.lead, ckm_test: 1 });
    expect(body.conversion).toMatchObject({ payout: 0, revenue: 0 });
    const res = await t.app.request(`http://track.example.com/api/2/conversion.json?api_key=${API_KEY}&conversion_id=${body.conversion.conversion_id}&conversion_status=approved`, { method: 'PUT' });
    expect((await res.json()).conversion).toMatchObject({ conversion_status: 'approved', payout: 0, revenue: 0 });
  });

  it('takes decimal text exactly: 8.675 and 1.005 round half up to the cent', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const first = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const second = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    expect((await convert({ click_id: first, offer_id: OFFER.lead, payout: '8.675', revenue: '1.005' })).body.conversion).toMatchObject({ payout: 8.68, revenue: 1.01 });
    expect((await convert({ click_id: second, offer_id: OFFER.lead, payout: '0.0049', revenue: '0.0050' })).body.conversion).toMatchObject({ payout: 0, revenue: 0.01 });
  });

  it("pays the network file's 8.675 and 1.005 as 8.68 and 1.01 (its decimals, not the nearest doubles)", async () => {
    const file = conversionNetworkFile();
    Object.assign(file.offers.find((o) => o.offer_id === OFFER.lead)!, JSON.parse('{"payout": 8.675, "revenue": 1.005}'));
    t = makeApp({ file });
    const reqid = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    expect((await convert({ click_id: reqid, offer_id: OFFER.lead })).body.conversion).toMatchObject({ payout: 8.68, revenue: 1.01 });
    expect((await stored())[0]).toMatchObject({ payout_cents: 868, revenue_cents: 101 });
  });

  it('scrubs a conversion from a suppressed IPv4 address reached as ::ffff:', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const reqid = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const { body } = await convert({ click_id: reqid, offer_id: OFFER.lead }, { ip: '::ffff:203.0.113.66' });
    expect(body.conversion.conversion_status).toBe('scrubbed');
    expect((await stored())[0]).toMatchObject({ ip: '203.0.113.66', scrub_reason: 'suppressed ip' });
  });
});
