// The affiliate API (/affiliates/api/{N}/…, CAKE-CLASSIC-API.md 4) as the affiliate libraries call
// it: an affiliate key plus its affiliate_id on every call, scoped as the v2 API's affiliate role
// (its own campaigns, conversions and postbacks; never the network's revenue).
import { afterEach, describe, expect, it } from 'vitest';
import { offerCookie } from '../../server/http.js';
import { makeApp, setCookie, type TestApp } from '../support/app.js';
import { AFFILIATE_NS, classicJson, classicXml, parseXml } from '../support/classic.js';
import { call, createKey } from '../support/keys.js';
import { AFF, API_KEY, CAMPAIGN, conversionNetworkFile, CREATIVE, OFFER } from '../support/network.js';

let t: TestApp;
let key: string;
afterEach(() => t?.close());

async function app() {
  t = makeApp({ file: conversionNetworkFile() });
  await t.network.ready;
  key = await createKey(t, 'affiliate', AFF.partner);
  return t;
}

const affiliate = (path: string, params: Record<string, string | number> = {}) => classicXml(t, `/affiliates/api${path}`, { api_key: key, affiliate_id: AFF.partner, ...params });

async function conversion(affiliate_id: number, creative: number, offer: number, extra: Record<string, string | number> = {}) {
  const res = await t.get(`/?a=${affiliate_id}&c=${creative}`);
  const reqid = setCookie(res, offerCookie(offer))!;
  const made = await call(t, 'GET', 'conversion.json', API_KEY, { click_id: reqid, offer_id: offer, ...extra });
  return made.body.conversion.conversion_id as number;
}

describe('offers.asmx', () => {
  it('OfferFeed v4: the offers the affiliate has an active campaign for, the list right after row_count (ND), payout a formatted string', async () => {
    await app();
    const root = await affiliate('/4/offers.asmx/OfferFeed', { campaign_name: '', media_type_category_id: 0, vertical_category_id: 0, vertical_id: 0, offer_status_id: 0, tag_id: 0, start_at_row: 1, row_limit: 0 });
    expect(root.name).toBe('offer_feed_response');
    expect(root.attrs.xmlns).toBe(AFFILIATE_NS(4));
    expect(root.names()).toEqual(['success', 'row_count', 'offers']);
    const offers = root.at('offers').children;
    const ids = offers.map((o) => Number(o.get('offer_id')));
    // The partner's campaigns; the one for an inactive offer is not in the feed.
    expect(ids).not.toContain(OFFER.inactive);
    expect(ids).toContain(OFFER.lead);
    expect(root.get('row_count')).toBe(String(offers.length));
    const lead = offers.find((o) => o.get('offer_id') === String(OFFER.lead))!;
    expect(lead.names()).toEqual([
      'offer_id', 'offer_contract_id', 'campaign_id', 'offer_name', 'vertical_name', 'offer_status', 'payout', 'price_format', 'preview_link', 'thumbnail_image_url', 'description',
      'restrictions', 'allowed_countries', 'allowed_media_types', 'expiration_date', 'tags', 'advertiser_extended_terms', 'hidden',
    ]);
    expect(lead.get('campaign_id')).toBe(String(CAMPAIGN.lead));
    expect(lead.get('payout')).toBe('$18.00');
    expect(lead.get('price_format')).toBe('CPA');
    expect(lead.get('offer_status/status_name')).toBe('Active');
    const cpl = offers.find((o) => o.get('offer_id') === String(OFFER.cpl))!;
    expect(cpl.get('payout')).toBe('$27.50');
    const one = await affiliate('/4/offers.asmx/OfferFeed', { campaign_name: 'solar', start_at_row: 1, row_limit: 0 });
    expect(one.get('row_count')).toBe('1');
  });

  it('GetCampaign: the affiliate\'s own campaign with its creatives\' links; another affiliate\'s is an Invalid Campaign', async () => {
    await app();
    const root = await affiliate('/2/offers.asmx/GetCampaign', { campaign_id: CAMPAIGN.lead });
    expect(root.get('success')).toBe('true');
    const creatives = root.at('campaign/creatives').children;
    expect(creatives.map((c) => c.get('unique_link'))).toEqual([`https://track.example.com/?a=${AFF.partner}&c=${CREATIVE.lead}`]);
    expect(creatives[0]!.get('creative_type/type_id')).toBe('1');
    const other = await affiliate('/2/offers.asmx/GetCampaign', { campaign_id: CAMPAIGN.second });
    expect(other.get('success')).toBe('false');
    expect(other.get('message')).toContain('Invalid Campaign');
  });

  it('SetPostbackURL (POST form, as TE sends set* methods) writes the affiliate\'s postback for the campaign\'s offer, as affiliate_postback.json', async () => {
    await app();
    const form = new URLSearchParams({ api_key: key, affiliate_id: String(AFF.partner), campaign_id: String(CAMPAIGN.lead), postback_url: 'https://partner.example/pb?r=#reqid#' });
    const res = await t.post('/affiliates/api/2/offers.asmx/SetPostbackURL', form.toString(), 'application/x-www-form-urlencoded');
    const root = parseXml(await res.text());
    expect(root.get('success')).toBe('true');
    expect(root.get('message')).toBe('Postback URL Updated');
    const listed = await call(t, 'GET', 'affiliate_postback.json', key, {});
    expect(listed.body.postbacks.map((p: any) => [p.offer_id, p.postback_url, p.postback_status])).toEqual([[OFFER.lead, 'https://partner.example/pb?r=#reqid#', 'active']]);
    // Again: the same postback changed, not a second one.
    await affiliate('/2/offers.asmx/SetPostbackURL', { campaign_id: CAMPAIGN.lead, postback_url: 'https://partner.example/v2?r=#reqid#' });
    const again = await call(t, 'GET', 'affiliate_postback.json', key, {});
    expect(again.body.postbacks.map((p: any) => p.postback_url)).toEqual(['https://partner.example/v2?r=#reqid#']);
    const bad = await affiliate('/2/offers.asmx/SetPostbackURL', { campaign_id: CAMPAIGN.lead, postback_url: 'not a url' });
    expect(bad.get('success')).toBe('false');
    const removed = await affiliate('/2/offers.asmx/SetPostbackURL', { campaign_id: CAMPAIGN.lead, postback_url: '' });
    expect(removed.get('message')).toBe('Postback URL Removed');
    const off = await call(t, 'GET', 'affiliate_postback.json', key, {});
    expect(off.body.postbacks[0].postback_status).toBe('inactive');
  });

  it('GetOfferStatuses', async () => {
    await app();
    const root = await affiliate('/2/offers.asmx/GetOfferStatuses');
    expect(root.at('offer_statuses').children.map((s) => [s.get('status_id'), s.get('status_name')])).toEqual([
      ['1', 'Active'],
      ['2', 'Public'],
      ['3', 'Apply To Run'],
    ]);
  });
});

describe('reports.asmx', () => {
  it('Conversions v8: its own conversions, price its payout, a summary of every match, hexadecimal ids, no revenue', async () => {
    await app();
    const a = await conversion(AFF.partner, CREATIVE.lead, OFFER.lead, { payout: '5' });
    await conversion(AFF.partner, CREATIVE.lastTouch, OFFER.lastTouch);
    await conversion(AFF.second, CREATIVE.lead, OFFER.lead);
    const params = { start_date: '11/21/2026', end_date: '11/22/2026', offer_id: 0, currency_id: 0, disposition_type: 'all', conversion_type: 'all', exclude_bot_traffic: 'false', start_at_row: 1, row_limit: 1 };
    const { body } = await (async () => {
      const query = new URLSearchParams(Object.entries({ api_key: key, affiliate_id: AFF.partner, ...params }).map(([k, v]) => [k, String(v)]));
      const res = await t.get(`/affiliates/api/8/reports.asmx/Conversions?${query}`);
      return { body: await res.text() };
    })();
    expect(body).not.toContain('22.00');
    const root = parseXml(body);
    expect(root.name).toBe('conversion_response');
    expect(root.names()).toEqual(['success', 'row_count', 'summary', 'conversions']);
    expect(root.get('row_count')).toBe('2');
    expect(root.get('summary/price')).toBe('15.0000');
    expect(root.at('conversions').children).toHaveLength(1);
    const first = root.at('conversions/conversion');
    expect(first.get('conversion_id')).toBe(a.toString(16).toUpperCase().padStart(8, '0'));
    expect(first.get('price')).toBe('5.0000');
    expect(first.get('disposition')).toBe('Approved');
    expect(first.get('conversion_date')).toBe('2026-11-21T12:00:00.000');
    const v5 = await affiliate('/5/reports.asmx/Conversions', { ...params, row_limit: 0 });
    expect(v5.names()).toEqual(['success', 'row_count', 'conversions']);
  });

  it('CampaignSummary v5: its campaigns with the summary BL reads (d.summary.revenue: its payout)', async () => {
    await app();
    await conversion(AFF.partner, CREATIVE.lead, OFFER.lead, { payout: '5' });
    await conversion(AFF.second, CREATIVE.lead, OFFER.lead);
    const d = await classicJson(t, '/affiliates/api/5/reports.asmx/CampaignSummary', { api_key: key, affiliate_id: AFF.partner, start_date: '11/21/2026', end_date: '11/22/2026', sub_affiliate: '', conversion_type: 'all', start_at_row: 1, row_limit: 0, sort_field: 'offer_id', sort_descending: 'false' });
    expect(d.success).toBe(true);
    expect(d.summary.revenue).toBe(5);
    expect(d.campaigns.map((c: any) => c.campaign.campaign_id)).toEqual([CAMPAIGN.lead]);
    expect(d.campaigns[0].revenue).toBeNull();
    expect(d.campaigns[0].brand_advertiser).toBeNull();
  });
});

describe('keys', () => {
  it('affiliate_id is required and must be the key\'s own; an advertiser key is refused; an admin key acts for the affiliate it names', async () => {
    await app();
    const missing = await classicXml(t, '/affiliates/api/4/offers.asmx/OfferFeed', { api_key: key });
    expect(missing.get('message')).toContain('affiliate_id is required');
    const other = await affiliate('/4/offers.asmx/OfferFeed', { affiliate_id: AFF.second });
    expect(other.get('message')).toBe(`Invalid affiliate_id: this API key belongs to affiliate ${AFF.partner}`);
    expect(other.get('row_count')).toBe('0');
    const bad = await affiliate('/4/offers.asmx/OfferFeed', { api_key: 'nope' });
    expect(bad.get('message')).toBe('Invalid API Key');
    const advertiserKey = await createKey(t, 'advertiser', 5);
    const advertiser = await affiliate('/4/offers.asmx/OfferFeed', { api_key: advertiserKey });
    expect(advertiser.get('success')).toBe('false');
    const asAdmin = await affiliate('/4/offers.asmx/OfferFeed', { api_key: API_KEY, affiliate_id: AFF.second });
    expect(asAdmin.at('offers').children.map((o) => o.get('campaign_id')).sort()).toEqual([String(CAMPAIGN.second), String(CAMPAIGN.revshareSecond)].sort());
  });
});
