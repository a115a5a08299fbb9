// Recording conversions server to server: /api/2/conversion.json (PROTOCOL.md 5 and 7), its money,
// dedupe, scrubbing and status changes.
import { afterEach, describe, expect, it } from 'vitest';
import { offerCookie } from '../../server/http.js';
import { reqids, webCryptoMac } from '../../server/reqid.js';
import { makeApp, setCookie, type TestApp } from '../support/app.js';
import { AFF, API_KEY, CAMPAIGN, conversionNetworkFile, CREATIVE, OFFER, SECRET } from '../support/network.js';

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
    const form = await t.post(
      '/api/2/conversion.json',
      new URLSearchParams({ api_key: API_KEY, click_id: reqid, offer_id: String(OFFER.lead), unique_id: 'F-1', adv1: 'x' }).toString(),
      'application/x-www-form-urlencoded',
    );
    expect((await form.json()).conversion).toMatchObject({ unique_id: 'F-1', conversion_status: 'approved' });
    const json = await t.post(
      '/api/2/conversion.json',
      JSON.stringify({ api_key: API_KEY, click_id: reqid, offer_id: OFFER.lead, unique_id: 'J-1', order_id: 'O-7', adv5: 'five' }),
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
    const second = await convert({ click_id: reqid, offer_id: OFFER.revshare, amount: '80', payout: '3.00', unique_id: 'B' });
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

  it('keeps conversions with different unique_ids, and the same unique_id on another event', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const reqid = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    await convert({ click_id: reqid, offer_id: OFFER.lead, unique_id: 'A' });
    await convert({ click_id: reqid, offer_id: OFFER.lead, unique_id: 'B' });
    const event = await convert({ click_id: reqid, offer_id: OFFER.lead, unique_id: 'A', event_id: 2 });
    expect(event.body.duplicate).toBe(false);
    expect(await stored()).toHaveLength(3);
  });

  it('records every conversion that carries no unique_id (nothing to dedupe on)', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const reqid = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    await convert({ click_id: reqid, offer_id: OFFER.lead });
    const second = await convert({ click_id: reqid, offer_id: OFFER.lead });
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
    t.clock.now += 23 * HOUR;
    expect((await convert({ click_id: reqid, offer_id: OFFER.lead, unique_id: 'IN' })).body.conversion.conversion_status).toBe('approved');
    t.clock.now += 10 * HOUR;
    const backdated = await convert({ click_id: reqid, offer_id: OFFER.lead, unique_id: 'BACK', conversion_date: '2026-11-21 20:00:00' });
    expect(backdated.body.conversion).toMatchObject({ conversion_status: 'approved', payout: 18 });
  });

  it('scrubs conversions matching the suppression list: transaction id, the click IP or the conversion IP', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const reqid = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const fraudId = await convert({ click_id: reqid, offer_id: OFFER.lead, unique_id: 'FRAUD-1' });
    expect(fraudId.body.conversion).toMatchObject({ conversion_status: 'scrubbed', payout: 0 });
    const fromIp = await convert({ click_id: reqid, offer_id: OFFER.lead, unique_id: 'IP' }, { ip: '203.0.113.66' });
    expect(fromIp.body.conversion.conversion_status).toBe('scrubbed');
    const suspect = await click(AFF.partner, CREATIVE.lastTouch, OFFER.lastTouch, { ip: '203.0.113.66' });
    const byClick = await convert({ click_id: suspect, offer_id: OFFER.lastTouch, unique_id: 'CLICK-IP' });
    expect(byClick.body.conversion.conversion_status).toBe('scrubbed');
    const clean = await convert({ click_id: reqid, offer_id: OFFER.lead, unique_id: 'CLEAN' });
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
