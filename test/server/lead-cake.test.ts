// What integrations written for CAKE send to /d.ashx and read back (PROTOCOL.md 4, "The redirect
// body, lead updates, field names"): the ASP.NET redirect body lead routers scrape, lead updates
// with ckm_lead_id, the resale flag, and the duplicate-lead key whatever the field is called.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NetworkFile } from '../../server/network.js';
import { makeApp, type TestApp } from '../support/app.js';
import { allLeads, click, form, FORM, JANE, xmlAnswer } from '../support/leads.js';
import { AFF, API_KEY, CAMPAIGN, CREATIVE, leadNetworkFile, LEADS, OFFER, POST_KEY } from '../support/network.js';

let t: TestApp;
afterEach(() => t?.close());

/** How a lead router that posts ckm_bp=1 from its server reads the answer: the first
 * <a href="…"> of the body, &amp; unescaped. */
function routerTarget(body: string): string | undefined {
  return /<a href="([^"]*)">/.exec(body)?.[1]?.replace(/&amp;/g, '&');
}

describe('the browser-post redirect carries CAKE\u2019s body', () => {
  beforeEach(() => {
    t = makeApp({ file: leadNetworkFile() });
  });

  it('answers a session post with ckm_bp=1 from a lead router with the ASP.NET "Object moved" page, byte for byte', async () => {
    const { reqid } = await click(t, AFF.partner, CREATIVE.cpl, OFFER.cpl);
    const res = await t.post('/d.ashx', form({ ckm_offer_id: OFFER.cpl, ckm_request_id: reqid, ckm_bp: 1, first_name: 'Sam', email: 'sam@example.com' }), FORM);
    expect(res.status).toBe(302);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const location = res.headers.get('location')!;
    const leadid = (await allLeads(t))[0]!.lead_id.toString(16).toUpperCase().padStart(8, '0');
    expect(location).toBe(`https://solar.example.com/thanks?lead=${leadid}&aff=${AFF.partner}&leadid=${leadid}`);
    const body = await res.text();
    expect(body).toBe(
      '<html><head><title>Object moved</title></head><body>\r\n' +
        `<h2>Object moved to <a href="https://solar.example.com/thanks?lead=${leadid}&amp;aff=${AFF.partner}&amp;leadid=${leadid}">here</a>.</h2>\r\n` +
        '</body></html>\r\n',
    );
    expect(routerTarget(body)).toBe(location);
    expect(new URL(routerTarget(body)!).searchParams.get('leadid')).toBe(leadid);
  });

  it('answers every 302 of /d.ashx so: browser posts and server posts with ckm_bp=1 too', async () => {
    const { cookie } = await click(t);
    const browser = await t.post('/d.ashx', form({ ckm_offer_id: OFFER.lead, ...JANE }), FORM, { headers: { cookie } });
    const server = await t.post('/d.ashx', form({ ckm_campaign_id: CAMPAIGN.second, ckm_key: 'second-post-key', ckm_bp: 1, ...JANE, email: 'x@example.com' }), FORM);
    for (const res of [browser, server]) {
      expect(res.status).toBe(302);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(routerTarget(await res.text())).toBe(res.headers.get('location'));
    }
  });

  it('escapes a double quote and markup of the thank-you URL in the href, and adds leadid where the URL names it otherwise', async () => {
    const file = leadNetworkFile();
    file.offers.find((o) => o.offer_id === OFFER.lead)!.thank_you_url = 'https://lp.example.com/thanks?x="<b>"&lead=#leadid#';
    t = makeApp({ file });
    const res = await t.post('/d.ashx', form({ ckm_offer_id: OFFER.lead, ...JANE }), FORM);
    const body = await res.text();
    expect(body).toContain('<a href="https://lp.example.com/thanks?x=&quot;&lt;b&gt;&quot;&amp;lead=');
    expect(body).not.toContain('"<b>"');
    expect(res.headers.get('location')).toMatch(/&lead=([0-9A-F]{8})&leadid=\1$/);
  });
});

describe('lead updates (ckm_lead_id)', () => {
  beforeEach(() => {
    t = makeApp({ file: leadNetworkFile() });
  });

  async function serverLead(extra: Record<string, string | number> = {}) {
    const res = await t.post('/d.ashx', form({ ckm_campaign_id: CAMPAIGN.lead, ckm_key: POST_KEY, ...JANE, ...extra }), FORM);
    return (await xmlAnswer(res)).leadid!;
  }

  it("with the campaign's keys changes only the fields sent, answers the same leadid, and makes no second lead", async () => {
    const leadid = await serverLead({ phone: '555-555-0100' });
    const res = await t.post('/d.ashx', form({ ckm_campaign_id: CAMPAIGN.lead, ckm_key: POST_KEY, ckm_lead_id: leadid, zip: '10001', comments: 'call after 6' }), FORM);
    const answer = await xmlAnswer(res);
    expect(answer).toMatchObject({ code: '0', msg: 'success', leadid, price: '0.00' });
    const leads = await allLeads(t);
    expect(leads).toHaveLength(1);
    expect(leads[0]!.fields).toEqual({ ...JANE, phone: '555-555-0100', zip: '10001', comments: 'call after 6' });
    expect(Object.keys(leads[0]!.fields)).toEqual(['first_name', 'last_name', 'email', 'phone', 'zip', 'comments']);
    expect(leads[0]!.updated_at).toBe(t.clock.now);
  });

  it("with a session post's offer and the reqid of the lead's own click", async () => {
    const { reqid } = await click(t);
    const first = await xmlAnswer(await t.post('/d.ashx', form({ ckm_offer_id: OFFER.lead, ckm_request_id: reqid, ...JANE }), FORM));
    const update = await t.post('/d.ashx', form({ ckm_offer_id: OFFER.lead, ckm_request_id: `"${reqid}"`, ckm_lead_id: first.leadid!, first_name: 'Janet' }), FORM);
    expect(await xmlAnswer(update)).toMatchObject({ code: '0', leadid: first.leadid });
    expect((await allLeads(t)).map((l) => l.fields.first_name)).toEqual(['Janet']);
    // JSON too, answered in JSON.
    const json = await t.post('/d.ashx', JSON.stringify({ ckm_offer_id: OFFER.lead, ckm_request_id: reqid, ckm_lead_id: first.leadid, last_name: 'Roe' }), 'application/json');
    expect(await json.json()).toMatchObject({ code: 0, leadid: first.leadid });
    expect((await allLeads(t))[0]!.fields).toMatchObject({ first_name: 'Janet', last_name: 'Roe' });
  });

  it.each([
    ['an unknown lead id', () => ({ ckm_campaign_id: CAMPAIGN.lead, ckm_key: POST_KEY, ckm_lead_id: '0000FFFF' })],
    ['a lead id that is not one', () => ({ ckm_campaign_id: CAMPAIGN.lead, ckm_key: POST_KEY, ckm_lead_id: 'not-a-lead' })],
    ["another campaign's lead", () => ({ ckm_campaign_id: CAMPAIGN.second, ckm_key: 'second-post-key', ckm_lead_id: 'LEAD' })],
    ["another offer's lead", () => ({ ckm_offer_id: LEADS.noDedupeOffer, ckm_request_id: 'R', ckm_lead_id: 'LEAD' })],
    ['a browser post without the click\u2019s reqid', () => ({ ckm_offer_id: OFFER.lead, ckm_lead_id: 'LEAD' })],
    ['a session post with another click\u2019s reqid', () => ({ ckm_offer_id: OFFER.lead, ckm_request_id: 'OTHER', ckm_lead_id: 'LEAD' })],
  ])('refuses %s with Invalid Lead ID, changing nothing', async (_, keys) => {
    const { reqid } = await click(t);
    const other = await click(t);
    const leadid = (await xmlAnswer(await t.post('/d.ashx', form({ ckm_offer_id: OFFER.lead, ckm_request_id: reqid, ...JANE }), FORM))).leadid!;
    const sent = Object.fromEntries(
      Object.entries(keys()).map(([k, v]) => [k, v === 'LEAD' ? leadid : v === 'R' ? reqid : v === 'OTHER' ? other.reqid : String(v)]),
    );
    const res = await t.post('/d.ashx', form({ ...sent, first_name: 'Mallory' }), FORM);
    const answer = await xmlAnswer(res);
    expect(answer).toMatchObject({ code: '1', errors: ['Invalid Lead ID'] });
    expect(answer.fields.ckm_lead_id).toMatch(/^names no lead/);
    const leads = await allLeads(t);
    expect(leads.map((l) => l.fields.first_name)).toEqual(['Jane']);
  });

  it('validates the fields sent as for a new lead, and changes nothing when one fails', async () => {
    const leadid = await serverLead();
    const res = await t.post('/d.ashx', form({ ckm_campaign_id: CAMPAIGN.lead, ckm_key: POST_KEY, ckm_lead_id: leadid, zip: 'not a zip!', first_name: 'Ok' }), FORM);
    expect(await xmlAnswer(res)).toMatchObject({ code: '1', errors: ['Validation Failed'], fields: { zip: expect.stringContaining('is not a ZIP') } });
    expect((await allLeads(t))[0]!.fields).toEqual(JANE);
  });

  it('of a lead that pays (CPL) fires no second conversion and no postback, and answers its price', async () => {
    const queued: number[] = [];
    t = makeApp({ file: leadNetworkFile(), onDeliveries: () => queued.push(1) });
    await t.post('/api/2/affiliate_postback.json', JSON.stringify({ api_key: API_KEY, affiliate_id: AFF.partner, offer_id: OFFER.cpl, postback_url: 'https://aff.example/pb?l=#leadid#' }), 'application/json');
    const first = await xmlAnswer(await t.post('/d.ashx', form({ ckm_campaign_id: CAMPAIGN.cpl, ckm_key: 'solar-post-key', first_name: 'Sam', email: 'sam@example.com' }), FORM));
    expect(first.price).toBe('27.50');
    const update = await xmlAnswer(await t.post('/d.ashx', form({ ckm_campaign_id: CAMPAIGN.cpl, ckm_key: 'solar-post-key', ckm_lead_id: first.leadid!, first_name: 'Samuel' }), FORM));
    expect(update).toMatchObject({ code: '0', leadid: first.leadid, price: '27.50' });
    expect((await t.store.listConversions({ include_tests: true, sort: 'conversion_id', descending: false, offset: 0, limit: 10 })).total).toBe(1);
    expect((await t.store.listDeliveries({ offset: 0, limit: 10 })).total).toBe(1);
    expect(queued).toHaveLength(1);
  });

  it('with a new email another lead holds answers Duplicate Lead with that lead, changing nothing', async () => {
    const jane = await serverLead();
    const ada = await serverLead({ email: 'ada@example.com', first_name: 'Ada' });
    const res = await t.post('/d.ashx', form({ ckm_campaign_id: CAMPAIGN.lead, ckm_key: POST_KEY, ckm_lead_id: ada, email: 'JANE@example.com' }), FORM);
    expect(await xmlAnswer(res)).toMatchObject({ code: '1', errors: ['Duplicate Lead'], leadid: jane });
    expect((await allLeads(t)).map((l) => l.email)).toEqual(['jane@example.com', 'ada@example.com']);
    // A free one is taken, and the lead is then the duplicate key's holder.
    await t.post('/d.ashx', form({ ckm_campaign_id: CAMPAIGN.lead, ckm_key: POST_KEY, ckm_lead_id: ada, email: 'augusta@example.com' }), FORM);
    const again = await t.post('/d.ashx', form({ ckm_campaign_id: CAMPAIGN.lead, ckm_key: POST_KEY, ...JANE, email: 'augusta@example.com' }), FORM);
    expect(await xmlAnswer(again)).toMatchObject({ errors: ['Duplicate Lead'], leadid: ada });
  });

  it('redirects a browser-post-style update (ckm_bp=1) to the thank-you page with the same leadid', async () => {
    const leadid = await serverLead();
    const res = await t.post('/d.ashx', form({ ckm_campaign_id: CAMPAIGN.lead, ckm_key: POST_KEY, ckm_lead_id: leadid, ckm_bp: 1, zip: '10001' }), FORM);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`https://lp.example.com/thanks?lead=${leadid}&leadid=${leadid}`);
  });
});

describe('ckm_resell', () => {
  it('flags a lead for resale, on the post or on an update, and leads.json shows it', async () => {
    t = makeApp({ file: leadNetworkFile() });
    const flagged = await xmlAnswer(await t.post('/d.ashx', form({ ckm_campaign_id: CAMPAIGN.lead, ckm_key: POST_KEY, ckm_resell: 1, ...JANE }), FORM));
    const plain = await xmlAnswer(await t.post('/d.ashx', form({ ckm_campaign_id: CAMPAIGN.lead, ckm_key: POST_KEY, ...JANE, email: 'p@example.com' }), FORM));
    const leadsJson = async () =>
      ((await (await t.get(`/api/2/leads.json?api_key=${API_KEY}`)).json()).response.leads as { lead_id: string; resell: boolean; updated_date: string | null }[]).map((l) => [
        l.lead_id,
        l.resell,
        l.updated_date,
      ]);
    expect(await leadsJson()).toEqual([
      [flagged.leadid, true, null],
      [plain.leadid, false, null],
    ]);
    await t.post('/d.ashx', form({ ckm_campaign_id: CAMPAIGN.lead, ckm_key: POST_KEY, ckm_lead_id: flagged.leadid!, ckm_resell: 0 }), FORM);
    await t.post('/d.ashx', form({ ckm_campaign_id: CAMPAIGN.lead, ckm_key: POST_KEY, ckm_lead_id: plain.leadid!, ckm_resell: 1 }), FORM);
    expect(await leadsJson()).toEqual([
      [flagged.leadid, false, '2026-11-21 12:00:00'],
      [plain.leadid, true, '2026-11-21 12:00:00'],
    ]);
  });
});

describe("the duplicate-lead key is the offer's email field, whatever its name", () => {
  function withFields(fields: NetworkFile['offers'][number]['fields']): NetworkFile {
    const file = leadNetworkFile();
    file.offers.find((o) => o.offer_id === OFFER.lead)!.fields = fields;
    return file;
  }
  const post = (fields: Record<string, string>) => t.post('/d.ashx', form({ ckm_campaign_id: CAMPAIGN.lead, ckm_key: POST_KEY, ...fields }), FORM);

  it('a field of type email named otherwise (e_mail), even beside a text field named email', async () => {
    t = makeApp({ file: withFields([{ name: 'email', type: 'text' }, { name: 'e_mail', type: 'email', required: true }]) });
    expect((await xmlAnswer(await post({ email: 'same', e_mail: 'Ada@Example.com' }))).code).toBe('0');
    expect((await xmlAnswer(await post({ email: 'same', e_mail: 'grace@example.com' }))).code).toBe('0');
    expect(await xmlAnswer(await post({ email: 'other', e_mail: 'ada@example.com' }))).toMatchObject({ errors: ['Duplicate Lead'] });
  });

  it("CAKE's email_address when no field is of type email", async () => {
    t = makeApp({ file: withFields([{ name: 'first_name' }, { name: 'email_address', type: 'text', required: true }]) });
    expect((await xmlAnswer(await post({ first_name: 'A', email_address: 'ada@example.com' }))).code).toBe('0');
    expect(await xmlAnswer(await post({ first_name: 'B', email_address: 'ADA@example.com' }))).toMatchObject({ errors: ['Duplicate Lead'] });
  });

  it('email_address, else email, on an offer without a field list', async () => {
    t = makeApp({ file: withFields([]) });
    expect((await xmlAnswer(await post({ email_address: 'ada@example.com', email: 'x@example.com' }))).code).toBe('0');
    expect(await xmlAnswer(await post({ email_address: 'ada@example.com', email: 'y@example.com' }))).toMatchObject({ errors: ['Duplicate Lead'] });
    expect(await xmlAnswer(await post({ email_address: 'not an address' }))).toMatchObject({ errors: ['Validation Failed'], fields: { email_address: expect.stringContaining('is not an email address') } });
    expect((await allLeads(t)).map((l) => l.email)).toEqual(['ada@example.com']);
  });
});

describe('the one credit rule at the lead door', () => {
  it.each([
    ['affiliate', (f: NetworkFile) => (f.affiliates.find((a) => a.affiliate_id === AFF.partner)!.status = 'inactive')],
    ['campaign', (f: NetworkFile) => (f.campaigns.find((c) => c.campaign_id === CAMPAIGN.lead)!.status = 'inactive')],
  ])('credits a session post of a click whose %s was paused since to the internal affiliate, unattributed', async (_, pause) => {
    const before = makeApp({ file: leadNetworkFile() });
    t = before;
    const { reqid, cookie } = await click(t);
    const file = leadNetworkFile();
    pause(file);
    t = makeApp({ file, store: before.store, dbPath: before.dbPath });
    const answer = await xmlAnswer(await t.post('/d.ashx', form({ ckm_offer_id: OFFER.lead, ckm_request_id: reqid, ...JANE }), FORM, { headers: { cookie } }));
    expect(answer.code).toBe('0');
    expect((await allLeads(t))[0]).toMatchObject({ affiliate_id: AFF.internal, reqid: null, attributed: false });
  });
});
