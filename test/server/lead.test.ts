// /d.ashx: the three kinds of post, each answer format, attribution, redirects, CPL conversions.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../server/store/sqlite.js';
import { makeApp, tempDbPath, type TestApp } from '../support/app.js';
import { allLeads, click, form, FORM, JANE, xmlAnswer } from '../support/leads.js';
import { AFF, CAMPAIGN, CREATIVE, LEADS, leadNetworkFile, OFFER, POST_KEY } from '../support/network.js';

let t: TestApp;
beforeEach(() => {
  t = makeApp({ file: leadNetworkFile() });
});
afterEach(() => t.close());

describe('server posts', () => {
  it('credits the campaign when ckm_key matches, and answers XML', async () => {
    const res = await t.post(
      '/d.ashx',
      form({ ckm_campaign_id: CAMPAIGN.lead, ckm_key: POST_KEY, ckm_subid: 'affsub', ckm_subid_3: 'third', ...JANE }),
      FORM,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/xml; charset=utf-8');
    const answer = await xmlAnswer(res);
    expect(answer).toMatchObject({ code: '0', msg: 'success', price: '0.00' });
    expect(answer.leadid).toMatch(/^[0-9A-F]{8}$/);
    expect(answer.redirect).toBe(`https://lp.example.com/thanks?lead=${answer.leadid}&leadid=${answer.leadid}`);

    const [lead] = await allLeads(t);
    expect(lead).toMatchObject({
      method: 'server',
      offer_id: OFFER.lead,
      affiliate_id: AFF.partner,
      campaign_id: CAMPAIGN.lead,
      attributed: true,
      is_test: false,
      email: 'jane@example.com',
      s1: 'affsub',
      s2: null,
      s3: 'third',
      fields: JANE,
    });
    expect(parseInt(answer.leadid!, 16)).toBe(lead!.lead_id);
  });

  it('takes a GET with a query string', async () => {
    const res = await t.get(`/d.ashx?${form({ ckm_campaign_id: CAMPAIGN.lead, ckm_key: POST_KEY, ...JANE })}`);
    expect((await xmlAnswer(res)).code).toBe('0');
    expect(await allLeads(t)).toHaveLength(1);
  });

  it('merges keys in the query string with a form body', async () => {
    const res = await t.post(`/d.ashx?ckm_campaign_id=${CAMPAIGN.lead}&ckm_key=${POST_KEY}`, form(JANE), FORM);
    expect((await xmlAnswer(res)).code).toBe('0');
    expect((await allLeads(t))[0]!.fields).toEqual(JANE);
  });

  it('takes a multipart form', async () => {
    const body = new FormData();
    for (const [k, v] of Object.entries({ ckm_campaign_id: String(CAMPAIGN.lead), ckm_key: POST_KEY, ...JANE })) body.append(k, v);
    const res = await t.app.request('http://track.example.com/d.ashx', { method: 'POST', body });
    expect((await xmlAnswer(res)).code).toBe('0');
    expect((await allLeads(t))[0]!.fields).toEqual(JANE);
  });

  it('does not redirect, unless ckm_bp=1', async () => {
    const plain = await t.post('/d.ashx', form({ ckm_campaign_id: CAMPAIGN.lead, ckm_key: POST_KEY, ...JANE }), FORM);
    expect(plain.status).toBe(200);
    const forced = await t.post(
      '/d.ashx',
      form({ ckm_campaign_id: CAMPAIGN.second, ckm_key: 'second-post-key', ckm_bp: 1, ...JANE, email: 'other@example.com' }),
      FORM,
    );
    expect(forced.status).toBe(302);
    expect(forced.headers.get('location')).toMatch(/^https:\/\/lp\.example\.com\/thanks\?lead=([0-9A-F]{8})&leadid=\1$/);
  });
});

describe('session posts', () => {
  it("credits the click of ckm_request_id, with the click's sub ids", async () => {
    const { reqid } = await click(t);
    const res = await t.post('/d.ashx', form({ ckm_offer_id: OFFER.lead, ckm_request_id: reqid, ...JANE }), FORM);
    expect(res.status).toBe(200);
    expect((await xmlAnswer(res)).code).toBe('0');
    expect((await allLeads(t))[0]).toMatchObject({
      method: 'session',
      affiliate_id: AFF.partner,
      campaign_id: CAMPAIGN.lead,
      creative_id: CREATIVE.lead,
      reqid,
      s1: 'sub-one',
      attributed: true,
    });
  });

  it('accepts a reqid wrapped in double quotes, as scraped from the click pixel', async () => {
    const { reqid } = await click(t);
    const res = await t.post('/d.ashx', form({ ckm_offer_id: OFFER.lead, ckm_request_id: `"${reqid}"`, ...JANE }), FORM);
    expect((await xmlAnswer(res)).code).toBe('0');
    expect((await allLeads(t))[0]).toMatchObject({ reqid, affiliate_id: AFF.partner, attributed: true });
  });

  it('credits the internal affiliate, flagged unattributed, for a tampered reqid', async () => {
    const { reqid } = await click(t);
    const last = reqid.at(-1) === 'A' ? 'B' : 'A';
    const tampered = reqid.slice(0, -1) + last;
    const res = await t.post('/d.ashx', form({ ckm_offer_id: OFFER.lead, ckm_request_id: tampered, ...JANE }), FORM);
    expect((await xmlAnswer(res)).code).toBe('0');
    expect((await allLeads(t))[0]).toMatchObject({ method: 'session', affiliate_id: AFF.internal, reqid: null, attributed: false, campaign_id: null });
  });

  it('credits the internal affiliate for an expired click, and for a click on another offer', async () => {
    const { reqid } = await click(t);
    const other = await click(t, AFF.partner, CREATIVE.cpl, OFFER.cpl);
    t.clock.now += 31 * 86_400_000; // past the offer's 30 cookie days
    await t.post('/d.ashx', form({ ckm_offer_id: OFFER.lead, ckm_request_id: reqid, ...JANE }), FORM);
    await t.post('/d.ashx', form({ ckm_offer_id: OFFER.lead, ckm_request_id: other.reqid, ...JANE, email: 'b@example.com' }), FORM);
    const leads = await allLeads(t);
    expect(leads.map((l) => [l.affiliate_id, l.attributed])).toEqual([
      [AFF.internal, false],
      [AFF.internal, false],
    ]);
  });

  it('does not redirect, unless ckm_bp=1 forces it', async () => {
    const { reqid } = await click(t);
    const plain = await t.post('/d.ashx', form({ ckm_offer_id: OFFER.lead, ckm_request_id: reqid, ...JANE }), FORM);
    expect(plain.status).toBe(200);
    const forced = await t.post(
      '/d.ashx',
      form({ ckm_offer_id: OFFER.lead, ckm_request_id: reqid, ckm_bp: 1, ...JANE, email: 'second@example.com' }),
      FORM,
    );
    expect(forced.status).toBe(302);
    const lead = (await allLeads(t))[1]!;
    const id = lead.lead_id.toString(16).toUpperCase().padStart(8, '0');
    expect(forced.headers.get('location')).toBe(`https://lp.example.com/thanks?lead=${id}&leadid=${id}`);
  });
});

describe('browser posts', () => {
  it("credits the click the tracking-domain cookie holds and redirects to the offer's thank-you page", async () => {
    const { cookie, reqid } = await click(t);
    const res = await t.post('/d.ashx', form({ ckm_offer_id: OFFER.lead, ...JANE }), FORM, { headers: { cookie } });
    expect(res.status).toBe(302);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const [lead] = await allLeads(t);
    expect(lead).toMatchObject({ method: 'browser', affiliate_id: AFF.partner, reqid, attributed: true });
    const id = lead!.lead_id.toString(16).toUpperCase().padStart(8, '0');
    expect(res.headers.get('location')).toBe(`https://lp.example.com/thanks?lead=${id}&leadid=${id}`);
  });

  it('credits the internal affiliate, flagged unattributed, without a cookie', async () => {
    const res = await t.post('/d.ashx', form({ ckm_offer_id: OFFER.lead, ...JANE }), FORM);
    expect(res.status).toBe(302);
    expect((await allLeads(t))[0]).toMatchObject({ method: 'browser', affiliate_id: AFF.internal, attributed: false });
  });

  it('answers XML instead of redirecting with ckm_bp=0', async () => {
    const res = await t.post('/d.ashx', form({ ckm_offer_id: OFFER.lead, ckm_bp: 0, ...JANE }), FORM);
    expect(res.status).toBe(200);
    expect((await xmlAnswer(res)).code).toBe('0');
  });

  it('adds the lead id to a thank-you URL without a token for it, and answers XML for an offer without one', async () => {
    const news = await t.post('/d.ashx', form({ ckm_offer_id: LEADS.noDedupeOffer, email: 'n@example.com' }), FORM);
    expect(news.status).toBe(302);
    expect(news.headers.get('location')).toMatch(/^https:\/\/news\.example\.com\/thanks\?leadid=[0-9A-F]{8}$/);

    const none = await t.post('/d.ashx', form({ ckm_offer_id: OFFER.lastTouch, email: 'n@example.com' }), FORM);
    expect(none.status).toBe(200);
    expect(await xmlAnswer(none)).toMatchObject({ code: '0', redirect: '' });
  });

  it('never redirects to a URL taken from the request', async () => {
    const injected = {
      ckm_offer_id: OFFER.lead,
      ...JANE,
      thank_you_url: 'https://evil.example/',
      ckm_thank_you_url: 'https://evil.example/',
      ckm_redirect: 'https://evil.example/',
      redirect: 'https://evil.example/',
      return_url: 'https://evil.example/',
    };
    const res = await t.post(`/d.ashx?redirect=${encodeURIComponent('https://evil.example/')}`, form(injected), FORM);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toMatch(/^https:\/\/lp\.example\.com\/thanks\?lead=([0-9A-F]{8})&leadid=\1$/);
  });

  it('fills the thank-you tokens of the click it credits', async () => {
    const { cookie } = await click(t, AFF.partner, CREATIVE.cpl, OFFER.cpl);
    const res = await t.post('/d.ashx', form({ ckm_offer_id: OFFER.cpl, first_name: 'Sam', email: 'sam@example.com' }), FORM, { headers: { cookie } });
    expect(res.headers.get('location')).toMatch(new RegExp(`^https://solar\\.example\\.com/thanks\\?lead=([0-9A-F]{8})&aff=${AFF.partner}&leadid=\\1$`));
  });
});

describe('JSON posts', () => {
  it('answers JSON to an application/json post, with the price written as CAKE writes it', async () => {
    const { reqid } = await click(t);
    const res = await t.post('/d.ashx', JSON.stringify({ ckm_offer_id: OFFER.lead, ckm_request_id: reqid, ...JANE }), 'application/json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const text = await res.text();
    expect(text).toMatch(/^\{"code":0,"msg":"success","leadid":"[0-9A-F]{8}","price":0\.00,"redirect":"https:\/\/lp\.example\.com\/thanks\?lead=([0-9A-F]{8})&leadid=\1"\}$/);
    expect((await allLeads(t))[0]).toMatchObject({ method: 'session', reqid, affiliate_id: AFF.partner });
  });

  it('answers JSON to the text/plain JSON body d.js sends, and never a 302 even for a browser post', async () => {
    const { cookie } = await click(t);
    const res = await t.post('/d.ashx', JSON.stringify({ ckm_offer_id: OFFER.lead, ...JANE }), 'text/plain;charset=UTF-8', {
      headers: { cookie, origin: 'https://lp.example.com' },
    });
    expect(res.status).toBe(200);
    const answer = await res.json();
    expect(answer).toMatchObject({ code: 0, msg: 'success', redirect: expect.stringMatching(/^https:\/\/lp\.example\.com\/thanks\?lead=/) });
    expect((await allLeads(t))[0]).toMatchObject({ method: 'browser', affiliate_id: AFF.partner, attributed: true });
  });

  it('reads an empty ckm_request_id (d.js without a reqid) as none: a browser post credited through the cookie', async () => {
    const { cookie } = await click(t);
    const res = await t.post('/d.ashx', JSON.stringify({ ckm_offer_id: OFFER.lead, ckm_request_id: '', ...JANE }), 'text/plain;charset=UTF-8', {
      headers: { cookie, origin: 'https://lp.example.com' },
    });
    expect((await res.json()).code).toBe(0);
    expect((await allLeads(t))[0]).toMatchObject({ method: 'browser', affiliate_id: AFF.partner, attributed: true });
  });

  it('answers a JSON post refused with the JSON error envelope', async () => {
    const res = await t.post('/d.ashx', JSON.stringify({ ckm_offer_id: OFFER.lead, ...JANE, email: 'nope' }), 'application/json');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      code: 1,
      msg: 'error',
      errors: ['Validation Failed'],
      fields: { email: expect.stringMatching(/^is not an email address/) },
    });
  });
});

describe('XML posts', () => {
  it('reads <XML><field>value</field></XML> with the keys in the query string, and answers XML', async () => {
    const { reqid } = await click(t);
    const body = `<?xml version="1.0"?>\n<XML>\n  <first_name>Jane &amp; Co</first_name>\n  <last_name><![CDATA[O'Brien <jr>]]></last_name>\n  <email>jane@example.com</email>\n  <zip>&#57;0210</zip>\n</XML>`;
    const res = await t.post(`/d.ashx?ckm_xml=1&ckm_offer_id=${OFFER.lead}&ckm_request_id=${reqid}`, body, 'text/xml');
    expect(res.status).toBe(200);
    expect((await xmlAnswer(res)).code).toBe('0');
    expect((await allLeads(t))[0]).toMatchObject({
      method: 'session',
      affiliate_id: AFF.partner,
      fields: { first_name: 'Jane & Co', last_name: "O'Brien <jr>", email: 'jane@example.com', zip: '90210' },
    });
  });

  it('reads an XML body whose poster forgot ckm_xml=1', async () => {
    const body = `<XML><first_name>Jane</first_name><last_name>Doe</last_name><email>j@example.com</email><zip>90210</zip></XML>`;
    const res = await t.post(`/d.ashx?ckm_campaign_id=${CAMPAIGN.lead}&ckm_key=${POST_KEY}`, body, 'text/plain');
    expect((await xmlAnswer(res)).code).toBe('0');
  });

  it('reads an XML body sent as a form when ckm_xml=1', async () => {
    const body = `<XML><first_name>Jane</first_name><last_name>Doe</last_name><email>j@example.com</email><zip>90210</zip></XML>`;
    const res = await t.post(`/d.ashx?ckm_xml=1&ckm_campaign_id=${CAMPAIGN.lead}&ckm_key=${POST_KEY}`, body, FORM);
    expect((await xmlAnswer(res)).code).toBe('0');
  });
});

describe('a lead of an offer that pays per lead', () => {
  it('is a conversion, written with the lead, and its price is the payout', async () => {
    const { reqid } = await click(t, AFF.partner, CREATIVE.cpl, OFFER.cpl);
    const res = await t.post('/d.ashx', form({ ckm_offer_id: OFFER.cpl, ckm_request_id: reqid, first_name: 'Sam', email: 'sam@example.com' }), FORM);
    const answer = await xmlAnswer(res);
    expect(answer).toMatchObject({ code: '0', price: '27.50' });

    const [lead] = await allLeads(t);
    expect(lead!.conversion_id).not.toBeNull();
    const conversion = await t.store.getConversion(lead!.conversion_id!);
    expect(conversion).toMatchObject({
      lead_id: lead!.lead_id,
      offer_id: OFFER.cpl,
      affiliate_id: AFF.partner,
      campaign_id: CAMPAIGN.cpl,
      reqid,
      source: 'lead',
      status: 'approved',
      payout_cents: 2750,
      revenue_cents: 3000,
      is_test: false,
    });
  });

  it('queues the affiliate postbacks with the lead, and tells the dispatcher', async () => {
    let told = 0;
    await t.close();
    t = makeApp({ onDeliveries: () => told++ });
    await t.store.createPostback({
      affiliate_id: AFF.partner,
      offer_id: OFFER.cpl,
      postback_url: 'https://aff.example/pb?lead=#leadid#&p=#price#',
      postback_status: 'active',
      postback_type_id: 1,
      fire_on: 'conversion',
    });
    const res = await t.post('/d.ashx', form({ ckm_campaign_id: CAMPAIGN.cpl, ckm_key: 'solar-post-key', first_name: 'Sam', email: 'sam@example.com' }), FORM);
    const answer = await xmlAnswer(res);
    const [lead] = await allLeads(t);
    const deliveries = await t.store.listDeliveries({ conversion_id: lead!.conversion_id!, offset: 0, limit: 10 });
    expect(deliveries.rows.map((d) => d.url)).toEqual([`https://aff.example/pb?lead=${answer.leadid}&p=27.50`]);
    expect(told).toBe(1);
  });

  it('is written in one transaction with its lead: when the conversion cannot be written, neither is the lead', async () => {
    await t.close();
    const real = openSqliteStore({ path: tempDbPath() });
    // A store whose outbox write fails inside the lead's transaction (a full disk, say).
    const failing = {
      ...real,
      insertLead: ((lead, dedupe, conversion) =>
        real.insertLead(lead, dedupe, conversion && { ...conversion, deliveries: () => { throw new Error('disk full'); } })) as typeof real.insertLead,
    };
    t = makeApp({ store: failing });
    const quiet = console.error;
    console.error = () => {};
    try {
      const res = await t.post('/d.ashx', form({ ckm_campaign_id: CAMPAIGN.cpl, ckm_key: 'solar-post-key', first_name: 'Sam', email: 'sam@example.com' }), FORM);
      expect(res.status).toBe(500);
    } finally {
      console.error = quiet;
    }
    expect(await allLeads(t)).toEqual([]);
    expect((await real.listConversions({ include_tests: true, sort: 'conversion_id', descending: false, offset: 0, limit: 10 })).total).toBe(0);
    // And the email was not claimed: the lead posted again is taken.
    t = makeApp({ store: real });
    const again = await t.post('/d.ashx', form({ ckm_campaign_id: CAMPAIGN.cpl, ckm_key: 'solar-post-key', first_name: 'Sam', email: 'sam@example.com' }), FORM);
    expect((await xmlAnswer(again)).code).toBe('0');
  });

  it('writes nothing, conversion included, for a duplicate', async () => {
    const post = () => t.post('/d.ashx', form({ ckm_campaign_id: CAMPAIGN.cpl, ckm_key: 'solar-post-key', first_name: 'Sam', email: 'sam@example.com' }), FORM);
    expect((await xmlAnswer(await post())).code).toBe('0');
    expect((await xmlAnswer(await post())).errors).toEqual(['Duplicate Lead']);
    const conversions = await t.store.listConversions({ include_tests: true, sort: 'conversion_id', descending: false, offset: 0, limit: 10 });
    expect(conversions.total).toBe(1);
  });
});
