// What each role may call and see (PROTOCOL.md 10), through the v2 API as its key holder would:
// the admin key sees the network; an advertiser key records and reads its own offers'
// conversions, reads their clicks and leads; an affiliate key reads its own clicks, conversions
// (payout only) and campaigns, and manages its own postbacks. Beyond its scope a key gets 403
// naming the scope, and nothing is read or written.
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { offerCookie } from '../../server/http.js';
import { makeApp, setCookie, type TestApp } from '../support/app.js';
import { call, createKey } from '../support/keys.js';
import { ADVERTISER, AFF, API_KEY, CAMPAIGN, conversionNetworkFile, CREATIVE, HOST, OFFER, POST_KEY } from '../support/network.js';

let t: TestApp;
const keys = { affiliate: '', second: '', advertiser: '', other: '' };
/** conversion ids: partner on advertiser 5's offer, partner on advertiser 6's, second partner on 5's. */
const conv = { partnerAcme: 0, partnerOther: 0, secondAcme: 0 };
const postbacks = { partner: 0, second: 0 };

async function convert(affiliate: number, creative: number, offer: number, extra: Record<string, string | number> = {}) {
  const res = await t.get(`/?a=${affiliate}&c=${creative}`);
  const click_id = setCookie(res, offerCookie(offer))!;
  const made = await call(t, 'POST', 'conversion.json', API_KEY, { click_id, offer_id: offer, amount: '100', adv1: 'order-notes', ...extra });
  expect(made.status).toBe(200);
  return { click_id, id: made.body.conversion.conversion_id as number };
}

async function lead(campaign: number, ckm_key: string, email: string) {
  const body = new URLSearchParams({ ckm_campaign_id: String(campaign), ckm_key, first_name: 'Jane', last_name: 'Doe', email, zip: '90210' });
  const res = await t.post('/d.ashx', body.toString(), 'application/x-www-form-urlencoded');
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  t = makeApp({ file: conversionNetworkFile() });
  keys.affiliate = await createKey(t, 'affiliate', AFF.partner, 'MediaBridge reporting');
  keys.second = await createKey(t, 'affiliate', AFF.second);
  keys.advertiser = await createKey(t, 'advertiser', ADVERTISER.acme);
  keys.other = await createKey(t, 'advertiser', ADVERTISER.other);
  for (const [name, affiliate_id] of [['partner', AFF.partner], ['second', AFF.second]] as const) {
    const made = await call(t, 'POST', 'affiliate_postback.json', API_KEY, { affiliate_id, offer_id: 0, postback_url: `https://${name}.example/pb?c=#reqid#` });
    postbacks[name] = made.body.postback.postback_id;
  }
  conv.partnerAcme = (await convert(AFF.partner, CREATIVE.lead, OFFER.lead)).id;
  conv.partnerOther = (await convert(AFF.partner, CREATIVE.otherAdvertiser, OFFER.otherAdvertiser)).id;
  conv.secondAcme = (await convert(AFF.second, CREATIVE.lead, OFFER.lead)).id;
  await lead(CAMPAIGN.lead, POST_KEY, 'jane@example.com');
  await lead(CAMPAIGN.second, 'second-post-key', 'joe@example.com');
});
afterAll(() => t.close());

const clicksOf = async (key: string, params: Record<string, string | number> = {}) => call(t, 'GET', 'click.json', key, params);
const report = (key: string, params: Record<string, string | number> = {}) =>
  call(t, 'GET', 'conversions.json', key, { start_date: '2026-11-01', end_date: '2026-11-30', sort_field: 'conversion_id', ...params });
const ids = (answer: { body: any }) => answer.body.conversions.map((c: any) => c.conversion.conversion_id);

function refused(answer: { status: number; body: any }, message: string) {
  expect(answer.status).toBe(403);
  expect(answer.body).toEqual({ request_status: 'Failure', message });
}

describe('an admin key', () => {
  it('reads every affiliate\'s and advertiser\'s rows, revenue included', async () => {
    const all = await report(API_KEY);
    expect(ids(all)).toEqual([conv.partnerAcme, conv.partnerOther, conv.secondAcme]);
    expect(all.body.conversions[0].conversion).toMatchObject({ payout: 18, revenue: 22, adv1: 'order-notes' });
    expect((await clicksOf(API_KEY)).body.response.total_rows).toBe(3);
  });
});

describe('an affiliate key', () => {
  it('reads its own clicks only, whatever it filters on', async () => {
    const mine = await clicksOf(keys.affiliate);
    expect(mine.status).toBe(200);
    expect(mine.body.response.clicks.map((c: any) => c.affiliate_id)).toEqual([AFF.partner, AFF.partner]);
    expect(mine.body.response.total_rows).toBe(2);
    const theirs = (await clicksOf(API_KEY, { affiliate_id: AFF.second })).body.response.clicks[0].click_id;
    expect((await clicksOf(keys.affiliate, { click_id: theirs })).body.response).toMatchObject({ clicks: [], total_rows: 0 });
    expect((await clicksOf(keys.affiliate, { offer_id: OFFER.otherAdvertiser })).body.response.total_rows).toBe(1);
  });

  it("is refused another affiliate's rows when it asks for them, with the scope named", async () => {
    const message = `affiliate_id ${AFF.second} is outside this key's scope: this key is scoped to affiliate ${AFF.partner}`;
    refused(await clicksOf(keys.affiliate, { affiliate_id: AFF.second }), message);
    refused(await report(keys.affiliate, { affiliate_id: AFF.second }), message);
    refused(await call(t, 'GET', 'affiliate_postback.json', keys.affiliate, { affiliate_id: AFF.second }), message);
  });

  it('reads its own conversions with its payout, never the revenue or the advertiser\'s fields', async () => {
    const mine = await report(keys.affiliate);
    expect(ids(mine)).toEqual([conv.partnerAcme, conv.partnerOther]);
    const row = mine.body.conversions[0].conversion;
    expect(row).toMatchObject({ conversion_id: conv.partnerAcme, payout: 18, offer: { offer_id: OFFER.lead }, affiliate: { affiliate_id: AFF.partner } });
    for (const hidden of ['revenue', 'sale_amount', 'adv1', 'adv2', 'adv3', 'adv4', 'adv5', 'ip_address']) expect(row).not.toHaveProperty(hidden);
    expect(JSON.stringify(mine.body)).not.toContain('order-notes');
  });

  it('may not sort by revenue: the order alone would tell it', async () => {
    refused(await report(keys.affiliate, { sort_field: 'revenue' }), `sort_field revenue sorts by a field this key is not shown: this key is scoped to affiliate ${AFF.partner}`);
    expect((await report(keys.affiliate, { sort_field: 'payout' })).status).toBe(200);
  });

  it('is refused leads.json: leads hold the customers\' personal fields', async () => {
    refused(await call(t, 'GET', 'leads.json', keys.affiliate), `GET /api/2/leads.json needs an admin or advertiser key: this key is scoped to affiliate ${AFF.partner}`);
  });

  it('may neither record conversions nor change their status, and nothing changes', async () => {
    const res = await t.get(`/?a=${AFF.partner}&c=${CREATIVE.lead}`);
    const click_id = setCookie(res, offerCookie(OFFER.lead))!;
    refused(
      await call(t, 'POST', 'conversion.json', keys.affiliate, { click_id, offer_id: OFFER.lead, payout: '500' }),
      `POST /api/2/conversion.json needs an admin or advertiser key: this key is scoped to affiliate ${AFF.partner}`,
    );
    refused(
      await call(t, 'PUT', 'conversion.json', keys.affiliate, { conversion_id: conv.partnerAcme, conversion_status: 'rejected' }),
      `PUT /api/2/conversion.json needs an admin or advertiser key: this key is scoped to affiliate ${AFF.partner}`,
    );
    expect(ids(await report(API_KEY))).toHaveLength(3);
    expect((await t.store.getConversion(conv.partnerAcme))!.status).toBe('approved');
  });

  it('reads its own campaigns (with its own post keys) and no one else\'s', async () => {
    const mine = await call(t, 'GET', 'campaigns.json', keys.affiliate);
    expect(mine.status).toBe(200);
    expect(mine.body.campaigns.map((c: any) => c.affiliate_id)).toEqual(Array(mine.body.total_rows).fill(AFF.partner));
    expect(mine.body.campaigns.map((c: any) => c.campaign_id)).toContain(CAMPAIGN.lead);
    expect(JSON.stringify(mine.body)).not.toContain('second-post-key');
    expect((await call(t, 'GET', 'campaigns.json', keys.affiliate, { campaign_id: CAMPAIGN.lead })).body.campaign.ckm_key).toBe(POST_KEY);
    refused(await call(t, 'GET', 'campaigns.json', keys.affiliate, { campaign_id: CAMPAIGN.second }), `campaign_id ${CAMPAIGN.second} is outside this key's scope: this key is scoped to affiliate ${AFF.partner}`);
    refused(await call(t, 'GET', 'campaigns.json', keys.affiliate, { affiliate_id: AFF.second }), `affiliate_id ${AFF.second} is outside this key's scope: this key is scoped to affiliate ${AFF.partner}`);
  });

  it('creates postbacks as its own, whether it names itself or not, and may not create them for another', async () => {
    const made = await call(t, 'POST', 'affiliate_postback.json', keys.affiliate, { offer_id: OFFER.lead, postback_url: 'https://partner.example/new?c=#reqid#' });
    expect(made.status).toBe(200);
    expect(made.body.postback.affiliate_id).toBe(AFF.partner);
    refused(
      await call(t, 'POST', 'affiliate_postback.json', keys.affiliate, { affiliate_id: AFF.second, offer_id: 0, postback_url: 'https://evil.example/steal' }),
      `affiliate_id ${AFF.second} is outside this key's scope: this key is scoped to affiliate ${AFF.partner}`,
    );
    const listed = await call(t, 'GET', 'affiliate_postback.json', keys.affiliate);
    expect(listed.body.postbacks.map((p: any) => p.affiliate_id)).toEqual([AFF.partner, AFF.partner]);
    expect(JSON.stringify(listed.body)).not.toContain('evil.example');
    await call(t, 'DELETE', 'affiliate_postback.json', keys.affiliate, { postback_id: made.body.postback.postback_id });
  });

  it("may neither change nor delete another affiliate's postback, nor hand its own to another", async () => {
    const message = `postback_id ${postbacks.second} is another affiliate's postback: this key is scoped to affiliate ${AFF.partner}`;
    refused(await call(t, 'PUT', 'affiliate_postback.json', keys.affiliate, { postback_id: postbacks.second, postback_url: 'https://evil.example/steal' }), message);
    refused(await call(t, 'DELETE', 'affiliate_postback.json', keys.affiliate, { postback_id: postbacks.second }), message);
    refused(
      await call(t, 'PUT', 'affiliate_postback.json', keys.affiliate, { postback_id: postbacks.partner, affiliate_id: AFF.second }),
      `affiliate_id ${AFF.second} is outside this key's scope: this key is scoped to affiliate ${AFF.partner}`,
    );
    const [theirs] = await t.store.listPostbacks({ postback_id: postbacks.second });
    expect(theirs).toMatchObject({ affiliate_id: AFF.second, postback_url: 'https://second.example/pb?c=#reqid#' });
    const changed = await call(t, 'PUT', 'affiliate_postback.json', keys.affiliate, { postback_id: postbacks.partner, postback_status: 'active' });
    expect(changed.status).toBe(200);
  });

  it('reads the deliveries of its own conversions only', async () => {
    const mine = await call(t, 'GET', 'postback_deliveries.json', keys.affiliate);
    expect(mine.status).toBe(200);
    expect(mine.body.deliveries.map((d: any) => d.conversion_id).sort()).toEqual([conv.partnerAcme, conv.partnerOther].sort());
    expect((await call(t, 'GET', 'postback_deliveries.json', keys.affiliate, { conversion_id: conv.secondAcme })).body.deliveries).toEqual([]);
    expect((await call(t, 'GET', 'postback_deliveries.json', keys.second)).body.deliveries.map((d: any) => d.conversion_id)).toEqual([conv.secondAcme]);
  });

  it('reads the tracking domains, to build its links', async () => {
    const domains = await call(t, 'GET', 'tracking_domains.json', keys.affiliate);
    expect(domains.status).toBe(200);
    expect(domains.body.tracking_domains.map((d: any) => d.domain)).toContain(HOST);
  });

  it('is refused the management API, naming the scope', async () => {
    for (const [method, path] of [['GET', 'offers.json'], ['GET', 'affiliates.json'], ['GET', 'network.json'], ['GET', 'changes.json'], ['GET', 'api_keys.json'], ['POST', 'api_keys.json'], ['POST', 'campaigns.json'], ['PUT', 'tracking_domains.json']] as const) {
      const answer = await call(t, method, path, keys.affiliate);
      refused(answer, `${method} /api/2/${path} needs an admin key: this key is scoped to affiliate ${AFF.partner}`);
    }
  });
});

describe('an advertiser key', () => {
  it("records conversions for its own offers, and is refused another advertiser's offer (nothing stored)", async () => {
    const mine = await convertWith(keys.advertiser, AFF.second, CREATIVE.lead, OFFER.lead);
    expect(mine.status).toBe(200);
    expect(mine.body.conversion).toMatchObject({ offer_id: OFFER.lead, affiliate_id: AFF.second, payout: 18, revenue: 22 });
    const before = ids(await report(API_KEY)).length;
    refused(
      await convertWith(keys.advertiser, AFF.partner, CREATIVE.otherAdvertiser, OFFER.otherAdvertiser),
      `offer_id ${OFFER.otherAdvertiser} is another advertiser's offer: this key is scoped to advertiser ${ADVERTISER.acme}`,
    );
    expect(ids(await report(API_KEY))).toHaveLength(before);
    await call(t, 'PUT', 'conversion.json', API_KEY, { conversion_id: mine.body.conversion.conversion_id, conversion_status: 'rejected' });
  });

  it("changes the status of its offers' conversions only", async () => {
    const ok = await call(t, 'PUT', 'conversion.json', keys.advertiser, { conversion_id: conv.secondAcme, conversion_status: 'pending' });
    expect(ok.status).toBe(200);
    expect(ok.body.conversion).toMatchObject({ conversion_id: conv.secondAcme, conversion_status: 'pending' });
    await call(t, 'PUT', 'conversion.json', keys.advertiser, { conversion_id: conv.secondAcme, conversion_status: 'approved' });
    refused(
      await call(t, 'PUT', 'conversion.json', keys.advertiser, { conversion_id: conv.partnerOther, conversion_status: 'rejected' }),
      `conversion_id ${conv.partnerOther} is outside this key's scope: this key is scoped to advertiser ${ADVERTISER.acme}`,
    );
    expect((await t.store.getConversion(conv.partnerOther))!.status).toBe('approved');
    expect((await call(t, 'PUT', 'conversion.json', keys.advertiser, { conversion_id: 999999, conversion_status: 'rejected' })).status).toBe(404);
  });

  it("reads its offers' clicks and conversions, revenue included, and no other advertiser's", async () => {
    const clicks = await clicksOf(keys.advertiser);
    expect(new Set(clicks.body.response.clicks.map((c: any) => c.offer_id))).toEqual(new Set([OFFER.lead]));
    const mine = await report(keys.advertiser);
    expect(ids(mine)).toEqual(expect.arrayContaining([conv.partnerAcme, conv.secondAcme]));
    expect(ids(mine)).not.toContain(conv.partnerOther);
    expect(mine.body.conversions[0].conversion).toMatchObject({ revenue: 22, adv1: 'order-notes' });
    expect(ids(await report(keys.other))).toEqual([conv.partnerOther]);
  });

  it("reads its offers' leads with their personal fields, and no other advertiser's", async () => {
    const leads = await call(t, 'GET', 'leads.json', keys.advertiser);
    expect(leads.status).toBe(200);
    expect(leads.body.response.leads.map((l: any) => l.email).sort()).toEqual(['jane@example.com', 'joe@example.com']);
    expect(leads.body.response.leads[0].fields).toMatchObject({ first_name: 'Jane', zip: '90210' });
    expect((await call(t, 'GET', 'leads.json', keys.other)).body.response).toMatchObject({ leads: [], total_rows: 0 });
  });

  it("is refused another advertiser's offer or id when it filters on them", async () => {
    refused(await clicksOf(keys.advertiser, { offer_id: OFFER.otherAdvertiser }), `offer_id ${OFFER.otherAdvertiser} is another advertiser's offer: this key is scoped to advertiser ${ADVERTISER.acme}`);
    refused(await report(keys.advertiser, { advertiser_id: ADVERTISER.other }), `advertiser_id ${ADVERTISER.other} is outside this key's scope: this key is scoped to advertiser ${ADVERTISER.acme}`);
    refused(await call(t, 'GET', 'leads.json', keys.advertiser, { offer_id: OFFER.otherAdvertiser }), `offer_id ${OFFER.otherAdvertiser} is another advertiser's offer: this key is scoped to advertiser ${ADVERTISER.acme}`);
  });

  it("is refused the affiliates' postbacks, deliveries and campaigns", async () => {
    for (const [method, path] of [['GET', 'affiliate_postback.json'], ['POST', 'affiliate_postback.json'], ['GET', 'postback_deliveries.json']] as const) {
      refused(await call(t, method, path, keys.advertiser), `${method} /api/2/${path} needs an admin or affiliate key: this key is scoped to advertiser ${ADVERTISER.acme}`);
    }
    refused(await call(t, 'GET', 'campaigns.json', keys.advertiser), `GET /api/2/campaigns.json needs an admin or affiliate key: this key is scoped to advertiser ${ADVERTISER.acme}`);
    expect((await call(t, 'GET', 'tracking_domains.json', keys.advertiser)).status).toBe(200);
  });
});

async function convertWith(key: string, affiliate: number, creative: number, offer: number) {
  const res = await t.get(`/?a=${affiliate}&c=${creative}`);
  const click_id = setCookie(res, offerCookie(offer))!;
  return call(t, 'POST', 'conversion.json', key, { click_id, offer_id: offer });
}
