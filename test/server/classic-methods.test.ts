// CAKE's classic admin methods (CAKE-CLASSIC-API.md 2, 3, 5) against the same store and network as
// the v2 API: the element names and order CAKE writes, the sentinels clients send (0 = all,
// start_at_row 1-based, -1 no change), row_count the total, one item vs many vs none, and the
// numbers equal to those of the v2 API on the same data.
import { afterEach, describe, expect, it } from 'vitest';
import { offerCookie } from '../../server/http.js';
import { makeApp, setCookie, type TestApp } from '../support/app.js';
import { ADMIN_NS, classicGet, classicJson, classicXml, parseXml, type El } from '../support/classic.js';
import { call, createKey } from '../support/keys.js';
import { ADVERTISER, AFF, API_KEY, CAMPAIGN, conversionNetworkFile, CREATIVE, EVENTS, OFFER } from '../support/network.js';

let t: TestApp;
afterEach(() => t?.close());

async function app() {
  t = makeApp({ file: conversionNetworkFile() });
  await t.network.ready;
  return t;
}

const admin = (path: string, params: Record<string, string | number> = {}) => classicXml(t, path, { api_key: API_KEY, ...params });

/** A click through the affiliate's tracking link and its conversion, at the app's time. */
async function conversion(affiliate: number, creative: number, offer: number, extra: Record<string, string | number> = {}) {
  const res = await t.get(`/?a=${affiliate}&c=${creative}&s1=sub-one`);
  const reqid = setCookie(res, offerCookie(offer))!;
  const made = await call(t, 'GET', 'conversion.json', API_KEY, { click_id: reqid, offer_id: offer, ...extra });
  expect(made.status).toBe(200);
  return { reqid, id: made.body.conversion.conversion_id as number };
}

/** The text of `leaf` in every item of a list. */
const each = (list: El, leaf: string) => list.children.map((item) => item.get(leaf));

describe('export.asmx', () => {
  it('Offers: one offer in schema order, id/name leaves in API:id_name_store, money with 4 decimals, nil for what Crumb does not keep', async () => {
    await app();
    const root = await admin('/api/5/export.asmx/Offers', { offer_id: OFFER.lead, offer_name: '', advertiser_id: 0, vertical_id: 0, offer_type_id: 0, media_type_id: 0, offer_status_id: 0, tag_id: 0, start_at_row: 1, row_limit: 0, sort_field: 'offer_id', sort_descending: 'FALSE' });
    const offer = root.at('offers/offer');
    expect(offer.names().slice(0, 12)).toEqual([
      'offer_id', 'offer_name', 'advertiser', 'vertical', 'offer_type', 'offer_status', 'hidden', 'offer_image_link', 'default_offer_contract_id', 'offer_contracts', 'tags', 'allowed_media_types',
    ]);
    expect(offer.at('advertiser').names()).toEqual(['advertiser_id', 'advertiser_name']);
    expect(offer.at('advertiser/advertiser_id').attrs.xmlns).toBe('API:id_name_store');
    expect(offer.get('advertiser/advertiser_name')).toBe('Acme Insurance');
    expect(offer.get('offer_type/offer_type_name')).toBe('3rd Party');
    expect(offer.get('vertical/vertical_name')).toBe('Default');
    expect(offer.get('offer_status/offer_status_name')).toBe('Public');
    expect(offer.at('offer_image_link').nil).toBe(true);
    const contract = offer.at('offer_contracts/offer_contract_info');
    expect(contract.get('payout/amount')).toBe('18.0000');
    expect(contract.get('payout/formatted_amount')).toBe('$18.00');
    expect(contract.get('received/amount')).toBe('22.0000');
    expect(contract.get('price_format/price_format_name')).toBe('CPA');
    expect(offer.at('tags').children).toEqual([]);
    expect(offer.get('currency/currency_abbr')).toBe('USD');
  });

  it('Offers: many, none, row_count the total with row_limit=1, start_at_row 1-based, sorted, filtered by status', async () => {
    await app();
    const all = await admin('/api/6/export.asmx/Offers', { offer_id: 0, start_at_row: 0, row_limit: 0, sort_field: 'offer_id', sort_descending: 'false' });
    const ids = each(all.at('offers'), 'offer_id').map(Number);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(Number(all.get('row_count'))).toBe(ids.length);
    const first = await admin('/api/6/export.asmx/Offers', { start_at_row: 1, row_limit: 1 });
    expect(first.get('row_count')).toBe(String(ids.length));
    expect(each(first.at('offers'), 'offer_id')).toEqual([String(ids[0])]);
    const second = await admin('/api/6/export.asmx/Offers', { start_at_row: 2, row_limit: 1 });
    expect(each(second.at('offers'), 'offer_id')).toEqual([String(ids[1])]);
    const descending = await admin('/api/6/export.asmx/Offers', { sort_field: 'offer_id', sort_descending: 'TRUE', row_limit: 1 });
    expect(descending.get('offers/offer/offer_id')).toBe(String(ids.at(-1)));
    const inactive = await admin('/api/6/export.asmx/Offers', { offer_status_id: 4 });
    expect(each(inactive.at('offers'), 'offer_id')).toEqual([String(OFFER.inactive)]);
    const none = await admin('/api/6/export.asmx/Offers', { offer_id: 999999 });
    expect(none.get('row_count')).toBe('0');
    expect(none.at('offers').children).toEqual([]);
    // An empty list is the self-closed container.
    const { body } = await classicGet(t, '/api/6/export.asmx/Offers', { api_key: API_KEY, offer_id: 999999 });
    expect(body).toContain('<offers/>');
    const byName = await admin('/api/6/export.asmx/Offers', { offer_name: 'insurance' });
    expect(each(byName.at('offers'), 'offer_id')).toEqual([String(OFFER.lead)]);
  });

  it('Affiliates: what KS reads (affiliate_id, affiliate_name, api_key, account_status/account_status_name)', async () => {
    await app();
    const root = await admin('/api/5/export.asmx/Affiliates', { affiliate_id: 0, affiliate_name: '', account_manager_id: 0, tag_id: 0, start_at_row: 1, row_limit: 2, sort_field: 'affiliate_id', sort_descending: 'FALSE' });
    expect(root.get('row_count')).toBe('5');
    const [a, b] = root.at('affiliates').children;
    expect(a!.names().slice(0, 6)).toEqual(['affiliate_id', 'affiliate_name', 'tier', 'account_managers', 'account_status', 'inactive_reason']);
    expect(a!.get('affiliate_id')).toBe(String(AFF.internal));
    expect(b!.get('affiliate_name')).toBe('Paused Partner');
    expect(b!.get('account_status/account_status_name')).toBe('Inactive');
    expect(a!.at('api_key').nil).toBe(true);
    expect(a!.get('minimum_payment_threshold')).toBe('0.0000');
    const d = await classicJson(t, '/api/5/export.asmx/Affiliates', { api_key: API_KEY, affiliate_id: AFF.partner });
    expect(d.affiliates[0].hide_offers).toBe(false);
  });

  it('Campaigns: both parameter naming schemes (v6 offer_id/affiliate_id, v8 site_offer_id/source_affiliate_id)', async () => {
    await app();
    const v6 = await admin('/api/6/export.asmx/Campaigns', { campaign_id: 0, offer_id: OFFER.lead, affiliate_id: AFF.partner, account_status_id: 0, media_type_id: 0, start_at_row: 1, row_limit: 0, sort_field: 'campaign_id', sort_descending: 'false' });
    expect(each(v6.at('campaigns'), 'campaign_id')).toEqual([String(CAMPAIGN.lead)]);
    const v8 = await admin('/api/8/export.asmx/Campaigns', { campaign_id: 0, site_offer_id: OFFER.lead, source_affiliate_id: 0, channel_id: 0, account_status_id: 0, media_type_id: 0, start_at_row: 1, row_limit: 0 });
    expect(each(v8.at('campaigns'), 'campaign_id')).toEqual([String(CAMPAIGN.lead), String(CAMPAIGN.second)]);
    const campaign = v6.at('campaigns/campaign');
    expect(campaign.names().slice(0, 7)).toEqual(['campaign_id', 'third_party_name', 'campaign_type', 'affiliate', 'offer', 'offer_contract', 'original']);
    expect(campaign.get('offer_contract/price_format/price_format_name')).toBe('CPA');
    expect(campaign.get('payout/amount')).toBe('18.0000');
    expect(campaign.get('payout/is_percentage')).toBe('false');
    expect(campaign.get('submission_options/post_key')).toBe('Scrfdo7ZpJMNS89tiWtQq');
    expect(campaign.get('test_link')).toBe(`https://track.example.com/?a=${AFF.partner}&c=${CREATIVE.lead}`);
    const d = await classicJson(t, '/api/8/export.asmx/Campaigns', { api_key: API_KEY, campaign_id: CAMPAIGN.cpl });
    expect(d.campaigns[0].original).toBe(true);
    expect(d.campaigns[0].payout.amount).toBe(27.5);
    expect(d.campaigns[0].pixel_info.hash_type.hash_type_name).toBe('None');
  });

  it('Advertisers and Creatives (offer_id required)', async () => {
    await app();
    const advertisers = await admin('/api/6/export.asmx/Advertisers', { advertiser_id: 0, advertiser_name: '', account_manager_id: 0, tag_id: 0, start_at_row: 1, row_limit: 0, sort_field: 'advertiser_name', sort_descending: 'FALSE', affiliate_name: '' });
    expect(each(advertisers.at('advertisers'), 'advertiser_name')).toEqual(['Acme Insurance', 'Other Advertiser']);
    const creatives = await admin('/api/3/export.asmx/Creatives', { creative_id: 0, creative_name: '', offer_id: OFFER.lead, creative_type_id: 0, creative_status_id: 0, start_at_row: 1, row_limit: 0 });
    expect(each(creatives.at('creatives'), 'creative_id')).toEqual([String(CREATIVE.lead), String(CREATIVE.inactive)]);
    expect(creatives.get('creatives/creative/creative_type/creative_type_name')).toBe('Link');
    const noOffer = await admin('/api/3/export.asmx/Creatives', { offer_id: 0 });
    expect(noOffer.get('success')).toBe('false');
    expect(noOffer.get('message')).toContain('offer_id is required');
  });
});

describe('get.asmx', () => {
  it('Verticals v1 is ArrayOfVertical without success; v2 a list answer', async () => {
    await app();
    const v1 = await admin('/api/1/get.asmx/Verticals');
    expect(v1.name).toBe('ArrayOfVertical');
    expect(v1.attrs.xmlns).toBe(ADMIN_NS(1));
    expect(v1.names()).toEqual(['Vertical']);
    expect(v1.at('Vertical').names()).toEqual(['vertical_id', 'vertical_name']);
    const v2 = await admin('/api/2/get.asmx/Verticals', { vertical_category_id: 0 });
    expect(v2.names()).toEqual(['success', 'row_count', 'verticals']);
  });

  it('Currencies: the one currency, leaves in API:id_name_store; Advertisers v1 an array ({"d": […]}); GetAPIKey an empty string', async () => {
    await app();
    const currencies = await admin('/api/1/get.asmx/Currencies');
    expect(currencies.name).toBe('currencies_response');
    expect(currencies.at('currencies/currency').names()).toEqual(['currency_id', 'currency_symbol', 'currency_name', 'currency_abbr']);
    expect(currencies.at('currencies/currency/currency_symbol').attrs.xmlns).toBe('API:id_name_store');
    const advertisers = await admin('/api/1/get.asmx/Advertisers');
    expect(advertisers.name).toBe('ArrayOfAdvertiser');
    expect(advertisers.all('Advertiser').map((a) => a.get('advertiser_id'))).toEqual(['5', '6']);
    expect(await classicJson(t, '/api/1/get.asmx/Advertisers', { api_key: API_KEY })).toEqual([
      { advertiser_id: 5, advertiser_name: 'Acme Insurance' },
      { advertiser_id: 6, advertiser_name: 'Other Advertiser' },
    ]);
    const key = await classicGet(t, '/api/1/get.asmx/GetAPIKey', { username: 'someone', password: 'secret' });
    expect(parseXml(key.body).name).toBe('string');
    expect(await classicJson(t, '/api/1/get.asmx/GetAPIKey', { username: 'someone', password: 'secret' })).toBe('');
  });
});

describe('reports.asmx', () => {
  it('Clicks: the clicks of the window with row_count their total, sources named for the version, dates as CAKE writes them', async () => {
    await app();
    t.clock.now = Date.UTC(2026, 10, 20, 9, 30, 15, 250);
    const a = await conversion(AFF.partner, CREATIVE.lead, OFFER.lead);
    t.clock.now = Date.UTC(2026, 10, 21, 10);
    await conversion(AFF.partner, CREATIVE.lastTouch, OFFER.lastTouch);
    await conversion(AFF.second, CREATIVE.lead, OFFER.lead);
    const params = { start_date: '11/20/2026', end_date: '11/22/2026', affiliate_id: 0, advertiser_id: 0, offer_id: 0, campaign_id: 0, creative_id: 0, price_format_id: 0, include_tests: 'false', start_at_row: 1, row_limit: 1, include_duplicates: 'false' };
    const v12 = await admin('/api/12/reports.asmx/Clicks', params);
    expect(v12.get('row_count')).toBe('3');
    const click = v12.at('clicks/click');
    expect(click.names().slice(0, 10)).toEqual(['click_id', 'visitor_id', 'tracking_id', 'request_session_id', 'click_date', 'source_affiliate', 'brand_advertiser', 'site_offer', 'site_offer_contract', 'campaign']);
    expect(click.at('click_id').nil).toBe(true);
    expect(click.get('request_session_id')).toBe(a.reqid);
    expect(click.get('click_date')).toBe('2026-11-20T09:30:15.250');
    expect(click.get('source_affiliate/source_affiliate_id')).toBe(String(AFF.partner));
    expect(click.get('site_offer/site_offer_name')).toBe('Auto Insurance Quote');
    expect(click.get('campaign/campaign_id')).toBe(String(CAMPAIGN.lead));
    expect(click.get('sub_id_1')).toBe('sub-one');
    const v7 = await admin('/api/7/reports.asmx/Clicks', { ...params, row_limit: 0 });
    expect(v7.at('clicks/click').get('affiliate/affiliate_id')).toBe(String(AFF.partner));
    expect(v7.all('clicks')[0]!.children).toHaveLength(3);
    const byCampaign = await admin('/api/11/reports.asmx/Clicks', { ...params, row_limit: 0, campaign_id: CAMPAIGN.second });
    expect(byCampaign.get('row_count')).toBe('1');
    const byAdvertiser = await admin('/api/11/reports.asmx/Clicks', { ...params, row_limit: 0, advertiser_id: ADVERTISER.other });
    expect(byAdvertiser.get('row_count')).toBe('0');
    // end_date is not included: the 20th alone.
    const oneDay = await admin('/api/11/reports.asmx/Clicks', { ...params, start_date: '2026-11-20T00:00:00', end_date: '2026-11-21 00:00:00', row_limit: 0 });
    expect(oneDay.get('row_count')).toBe('1');
    const tooLong = await admin('/api/11/reports.asmx/Clicks', { ...params, start_date: '01/01/2026', end_date: '12/31/2026' });
    expect(tooLong.get('message')).toContain('at most 31 days');
  });

  it('dates are the network\'s time zone, both ways (America/New_York: 12:00 UTC is 07:00)', async () => {
    const file = conversionNetworkFile();
    file.network.time_zone = 'America/New_York';
    t = makeApp({ file });
    await t.network.ready;
    await conversion(AFF.partner, CREATIVE.lead, OFFER.lead);
    const at = await admin('/api/12/reports.asmx/Clicks', { start_date: '11/21/2026 07:00:00', end_date: '11/21/2026 07:00:01' });
    expect(at.get('row_count')).toBe('1');
    expect(at.get('clicks/click/click_date')).toBe('2026-11-21T07:00:00.000');
    const before = await admin('/api/12/reports.asmx/Clicks', { start_date: '11/21/2026 11:00:00', end_date: '11/21/2026 13:00:00' });
    expect(before.get('row_count')).toBe('0');
    const conversions = await admin('/api/11/reports.asmx/Conversions', { start_date: '2026-11-21', end_date: '2026-11-22' });
    expect(conversions.get('conversions/conversion/conversion_date')).toBe('2026-11-21T07:00:00.000');
  });

  it('Conversions: the numbers of conversions.json on the same data, by every version\'s filter names', async () => {
    await app();
    t.clock.now = Date.UTC(2026, 10, 20, 10);
    const a = await conversion(AFF.partner, CREATIVE.lead, OFFER.lead, { payout: '5' });
    const b = await conversion(AFF.second, CREATIVE.lead, OFFER.lead, { unique_id: 'T-1' });
    await conversion(AFF.partner, CREATIVE.otherAdvertiser, OFFER.otherAdvertiser);
    await call(t, 'PUT', 'conversion.json', API_KEY, { conversion_id: b.id, conversion_status: 'rejected' });
    const v2 = await call(t, 'GET', 'conversions.json', API_KEY, { start_date: '2026-11-20', end_date: '2026-11-20', offer_id: OFFER.lead });
    const v4 = await admin('/api/4/reports.asmx/Conversions', { start_date: '11/20/2026', end_date: '11/21/2026', affiliate_id: 0, advertiser_id: 0, offer_id: OFFER.lead, campaign_id: 0, creative_id: 0, include_tests: 'FALSE', start_at_row: 1, row_limit: 0, sort_field: 'conversion_id', sort_descending: 'FALSE' });
    expect(v4.name).toBe('conversion_report_response');
    expect(Number(v4.get('row_count'))).toBe(v2.body.total_rows);
    const items = v4.at('conversions').children;
    expect(items.map((c) => Number(c.get('conversion_id')))).toEqual(v2.body.conversions.map((c: any) => c.conversion.conversion_id));
    expect(items.map((c) => Number(c.get('paid/amount')))).toEqual(v2.body.conversions.map((c: any) => c.conversion.payout));
    expect(items.map((c) => Number(c.get('received/amount')))).toEqual(v2.body.conversions.map((c: any) => c.conversion.revenue));
    const first = items[0]!;
    expect(first.names().slice(0, 8)).toEqual(['conversion_id', 'visitor_id', 'request_session_id', 'click_id', 'conversion_date', 'last_updated', 'click_date', 'affiliate']);
    expect(first.get('conversion_id')).toBe(String(a.id));
    expect(first.get('request_session_id')).toBe(a.reqid);
    expect(first.get('conversion_date')).toBe('2026-11-20T10:00:00.000');
    expect(first.get('paid/amount')).toBe('5.0000');
    expect(first.get('paid/formatted_amount')).toBe('$5.00');
    expect(first.get('disposition/disposition_name')).toBe('Approved');
    expect(items[1]!.get('disposition/disposition_name')).toBe('Rejected');
    expect(items[1]!.get('transaction_id')).toBe('T-1');
    // v15's names, and disposition_type.
    const v15 = await admin('/api/15/reports.asmx/Conversions', { start_date: '2026-11-20', end_date: '2026-11-21', source_affiliate_id: AFF.second, brand_advertiser_id: 0, site_offer_id: 0, disposition_type: 'rejected', conversion_type: 'all', test_filter: 'non_tests', start_at_row: 0, row_limit: 0 });
    expect(each(v15.at('conversions'), 'conversion_id')).toEqual([String(b.id)]);
    const d = await classicJson(t, '/api/11/reports.asmx/Conversions', { api_key: API_KEY, start_date: '11/20/2026', end_date: '11/21/2026', row_limit: '1' });
    expect(d.row_count).toBe(3);
    expect(d.conversions).toHaveLength(1);
    expect(d.conversions[0].click_id).toBeNull();
  });

  it('EventConversions: events and base conversions, event_info naming the event; conversion_type picks either', async () => {
    await app();
    const a = await conversion(AFF.partner, CREATIVE.lead, OFFER.lead);
    await call(t, 'GET', 'conversion.json', API_KEY, { click_id: a.reqid, offer_id: OFFER.lead, event_id: EVENTS.viewed });
    const params = { start_date: '11/21/2026', end_date: '11/22/2026', start_at_row: 1, row_limit: 0, sort_field: 'event_conversion_date', sort_descending: 'false' };
    const all = await admin('/api/17/reports.asmx/EventConversions', params);
    expect(all.name).toBe('event_conversion_report_response');
    expect(all.get('row_count')).toBe('2');
    expect(all.at('event_conversions').children.map((e) => e.get('event_info/event_name'))).toEqual(['Conversion', 'Quote Viewed']);
    const events = await admin('/api/17/reports.asmx/EventConversions', { ...params, event_type: 'micro_events' });
    expect(events.get('row_count')).toBe('1');
    expect(events.get('event_conversions/event_conversion/event_info/event_id')).toBe(String(EVENTS.viewed));
  });

  /** Conversions over two days and three campaigns, one rejected. */
  async function seedSummary() {
    t.clock.now = Date.UTC(2026, 10, 20, 10);
    await conversion(AFF.partner, CREATIVE.lead, OFFER.lead, { payout: '5' });
    await t.get(`/?a=${AFF.partner}&c=${CREATIVE.lead}`);
    t.clock.now = Date.UTC(2026, 10, 21, 10);
    const b = await conversion(AFF.second, CREATIVE.lead, OFFER.lead);
    await conversion(AFF.partner, CREATIVE.lastTouch, OFFER.lastTouch);
    await call(t, 'PUT', 'conversion.json', API_KEY, { conversion_id: b.id, conversion_status: 'rejected' });
  }

  it('CampaignSummary: the numbers of the v2 summary report grouped by campaign, in CAKE\'s v5 shape', async () => {
    await app();
    await seedSummary();
    const v2 = await call(t, 'GET', 'reports/summary.json', API_KEY, { start_date: '2026-11-20', end_date: '2026-11-21', group_by: 'campaign', sort_field: 'campaign_id' });
    expect(v2.status).toBe(200);
    const root = await admin('/api/5/reports.asmx/CampaignSummary', { start_date: '11/20/2026', end_date: '11/22/2026', campaign_id: 0, source_affiliate_id: 0, subid_id: '', site_offer_id: 0, source_affiliate_tag_id: 0, site_offer_tag_id: 0, source_affiliate_manager_id: 0, brand_advertiser_manager_id: 0, event_id: 0, event_type: 'all' });
    expect(root.name).toBe('campaign_summary_response');
    const items = root.at('campaigns').children;
    const rows = v2.body.rows.filter((r: any) => r.key.campaign_id !== null);
    expect(root.get('row_count')).toBe(String(rows.length));
    expect(items.map((i) => Number(i.get('campaign/campaign_id')))).toEqual(rows.map((r: any) => r.key.campaign_id));
    expect(items.map((i) => Number(i.get('clicks')))).toEqual(rows.map((r: any) => r.clicks));
    expect(items.map((i) => Number(i.get('macro_event_conversions')))).toEqual(rows.map((r: any) => r.macro_event_conversions));
    expect(items.map((i) => Number(i.get('cost')))).toEqual(rows.map((r: any) => r.cost));
    expect(items.map((i) => Number(i.get('revenue')))).toEqual(rows.map((r: any) => r.revenue));
    const lead = items.find((i) => i.get('campaign/campaign_id') === String(CAMPAIGN.lead))!;
    expect(lead.names().slice(0, 10)).toEqual(['campaign', 'source_affiliate', 'site_offer', 'brand_advertiser', 'source_affiliate_manager', 'brand_advertiser_manager', 'price_format', 'media_type', 'views', 'clicks']);
    expect(lead.get('clicks')).toBe('2');
    expect(lead.get('cost')).toBe('5.0000');
    expect(lead.get('macro_event_conversion_percentage')).toBe('50.000000');
    expect(lead.at('campaign/campaign_id').attrs.xmlns).toBe('API:id_name_store');
  });

  it('DailySummaryExport: v1 ArrayOfDailySummary (every day, no success flag) with the v2 report\'s daily numbers; v2 an envelope', async () => {
    await app();
    await seedSummary();
    const v2 = await call(t, 'GET', 'reports/summary.json', API_KEY, { start_date: '2026-11-19', end_date: '2026-11-21', group_by: 'day', sort_field: 'date' });
    const v1 = await admin('/api/1/reports.asmx/DailySummaryExport', { start_date: '11/19/2026', end_date: '11/22/2026', affiliate_id: 0, advertiser_id: 0, offer_id: 0, vertical_id: 0, campaign_id: 0, creative_id: 0, account_manager_id: 0, include_tests: 'false' });
    expect(v1.name).toBe('ArrayOfDailySummary');
    expect(v1.attrs.xmlns).toBe(ADMIN_NS(1));
    const days = v1.all('DailySummary');
    expect(days.map((d) => d.get('date'))).toEqual(['2026-11-19T00:00:00', '2026-11-20T00:00:00', '2026-11-21T00:00:00']);
    expect(days[0]!.names()).toEqual(['date', 'views', 'clicks', 'click_thru', 'conversions', 'paid', 'sellable', 'conversion_rate', 'cpl', 'cost', 'rpt', 'revenue', 'margin', 'profit', 'epc']);
    const byDate = new Map(v2.body.rows.map((r: any) => [r.key.date, r]));
    for (const d of days.slice(1)) {
      const r: any = byDate.get(d.get('date').slice(0, 10));
      expect([Number(d.get('clicks')), Number(d.get('conversions')), Number(d.get('cost')), Number(d.get('revenue'))]).toEqual([r.clicks, r.macro_event_conversions, r.cost, r.revenue]);
    }
    expect(days[0]!.get('clicks')).toBe('0');
    const two = await admin('/api/2/reports.asmx/DailySummaryExport', { start_date: '11/20/2026', end_date: '11/22/2026', source_affiliate_id: AFF.partner, brand_advertiser_id: 0, site_offer_id: 0 });
    expect(two.names()).toEqual(['success', 'row_count', 'days']);
    expect(two.all('days')[0]!.children.map((d) => d.get('clicks'))).toEqual(['2', '1']);
  });

  it('AffiliateSummary, SourceAffiliateSummary, OfferSummary, SiteOfferSummary and SubIDSummary in their shapes', async () => {
    await app();
    await seedSummary();
    const window = { start_date: '11/20/2026', end_date: '11/22/2026' };
    const affiliates = await admin('/api/2/reports.asmx/AffiliateSummary', { ...window, affiliate_id: 0, affiliate_manager_id: 0, affiliate_tag_id: 0, offer_tag_id: 0, event_id: 0, revenue_filter: 'conversions_and_events' });
    expect(affiliates.at('affiliates').children.map((a) => [a.get('affiliate/affiliate_id'), a.get('clicks')])).toEqual([
      [String(AFF.second), '1'],
      [String(AFF.partner), '3'],
    ]);
    const sources = await admin('/api/3/reports.asmx/SourceAffiliateSummary', window);
    expect(sources.get('source_affiliates/source_affiliate_summary/source_affiliate/source_affiliate_name')).toBe('Second Partner');
    const offers = await admin('/api/2/reports.asmx/OfferSummary', window);
    expect(offers.get('offers/offer_summary/advertiser/advertiser_name')).toBe('Acme Insurance');
    const siteOffers = await admin('/api/4/reports.asmx/SiteOfferSummary', { ...window, event_type: 0 });
    expect(siteOffers.at('site_offers').children.map((o) => o.get('site_offer/site_offer_id'))).toEqual([String(OFFER.lastTouch), String(OFFER.lead)]);
    const subIds = await admin('/api/1/reports.asmx/SubIDSummary', { ...window, source_affiliate_id: AFF.partner, site_offer_id: 0, event_id: 0, revenue_filter: 'conversions_and_events' });
    expect(subIds.at('sub_ids/sub_id_summary').names()).toEqual(['sub_id', 'sub_id_name', 'site_offer_id', 'clicks', 'click_thru_percentage', 'macro_event_conversions', 'paid', 'cost', 'average_cost']);
    expect(subIds.at('sub_ids').children.map((s) => [s.get('sub_id'), s.get('clicks'), s.get('cost')])).toEqual([
      ['', '1', '0.0000'],
      ['sub-one', '2', '15.0000'],
    ]);
    const noAffiliate = await admin('/api/1/reports.asmx/SubIDSummary', window);
    expect(noAffiliate.get('message')).toContain('source_affiliate_id is required');
  });
});

describe('track.asmx', () => {
  it('UpdateConversion changes the disposition as PUT conversion.json does, and the payout and revenue with CAKE\'s options', async () => {
    await app();
    const a = await conversion(AFF.partner, CREATIVE.lead, OFFER.lead);
    const update = { offer_id: OFFER.lead, conversion_id: a.id, request_session_id: 0, transaction_id: '', payout: 0, add_to_existing_payout: 'TRUE', received: 0, received_option: 'no_change', disposition_type: 'rejected', disposition_id: 0, update_revshare_payout: 'FALSE', effective_date_option: 'today', custom_date: '', note_to_append: '', disallow_on_billing_status: 'ignore' };
    const listed = async () => (await call(t, 'GET', 'conversions.json', API_KEY, { start_date: '2026-11-21', end_date: '2026-11-21' })).body.conversions[0].conversion;
    const done = await admin('/api/4/track.asmx/UpdateConversion', update);
    expect(done.names()).toEqual(['success', 'message']);
    expect(done.get('success')).toBe('true');
    expect(done.get('message')).toBe('Conversion Updated');
    // Rejected: nothing counted, what it earns kept.
    expect(await listed()).toMatchObject({ conversion_status: 'rejected', payout: 0, revenue: 0, computed_payout: 18, computed_revenue: 22 });
    // A new total payout and revenue, approved in the same call: counted at once.
    await admin('/api/4/track.asmx/UpdateConversion', { ...update, disposition_type: 'approved', payout: '3', add_to_existing_payout: 'FALSE', received: '4', received_option: 'total_revenue' });
    expect(await listed()).toMatchObject({ conversion_status: 'approved', payout: 3, revenue: 4 });
    // Added to: payout 3 + 1.50, revenue 4 + 0.25.
    await admin('/api/4/track.asmx/UpdateConversion', { ...update, disposition_type: 'no_change', payout: '1.5', received: '0.25', received_option: 'additional_revenue' });
    expect(await listed()).toMatchObject({ conversion_status: 'approved', payout: 4.5, revenue: 4.25 });
    // -1 and no_change leave it as it is.
    await admin('/api/4/track.asmx/UpdateConversion', { ...update, disposition_type: 'no_change', payout: '-1', add_to_existing_payout: 'FALSE' });
    expect(await listed()).toMatchObject({ payout: 4.5, revenue: 4.25 });
    // A sale amount is not changed: refused whole.
    const refused = await admin('/api/4/track.asmx/UpdateConversion', { ...update, disposition_type: 'pending', received: '50', received_option: 'total_sale_amount' });
    expect(refused.get('success')).toBe('false');
    expect(refused.get('message')).toContain('does not change a recorded sale amount');
    expect(await listed()).toMatchObject({ conversion_status: 'approved', payout: 4.5 });
    const missing = await admin('/api/4/track.asmx/UpdateConversion', { ...update, conversion_id: 987654 });
    expect(missing.get('message')).toBe('Invalid conversion_id: there is no conversion 987654');
    const affiliateKey = await createKey(t, 'affiliate', AFF.partner);
    const scoped = await classicXml(t, '/api/4/track.asmx/UpdateConversion', { ...update, api_key: affiliateKey });
    expect(scoped.get('message')).toContain('needs an admin or advertiser key');
  });

  it('MassConversionInsert records conversions for the campaign, its transaction ids, once each', async () => {
    await app();
    const params = { conversion_date: '11/20/2026 13:00:00', affiliate_id: AFF.partner, campaign_id: CAMPAIGN.lead, sub_affiliate: '', creative_id: 0, total_to_insert: 3, payout: '2.5', received: '4', note: '', transaction_ids: 'A-1,A-2,A-3' };
    const done = await admin('/api/2/track.asmx/MassConversionInsert', params);
    expect(done.get('message')).toBe('Conversions Inserted');
    const listed = await call(t, 'GET', 'conversions.json', API_KEY, { start_date: '2026-11-20', end_date: '2026-11-20' });
    expect(listed.body.total_rows).toBe(3);
    expect(listed.body.conversions.map((c: any) => [c.conversion.transaction_id, c.conversion.payout, c.conversion.revenue, c.conversion.affiliate.affiliate_id])).toEqual([
      ['A-1', 2.5, 4, AFF.partner],
      ['A-2', 2.5, 4, AFF.partner],
      ['A-3', 2.5, 4, AFF.partner],
    ]);
    const again = await admin('/api/2/track.asmx/MassConversionInsert', { ...params, total_to_insert: 1, transaction_ids: 'A-1' });
    expect(again.get('message')).toContain('1 repeated a transaction id');
    const wrong = await admin('/api/2/track.asmx/MassConversionInsert', { ...params, affiliate_id: AFF.second });
    expect(wrong.get('message')).toContain('Invalid Affiliate');
  });
});

describe('addedit.asmx', () => {
  it('round trip: addedit Offer and Campaign create what export lists, and the campaign\'s tracking link records an attributed click', async () => {
    await app();
    const made = await admin('/api/5/addedit.asmx/Offer', {
      offer_id: 0, advertiser_id: ADVERTISER.acme, vertical_id: 0, offer_name: 'Pet Insurance', third_party_name: '', offer_status_id: 1, offer_type_id: 1, currency_id: 1,
      price_format_id: 1, payout: '7.5', received: '9', offer_link: 'https://pets.example.com/?reqid=#reqid#', thankyou_link: '', click_cookie_days: 30, tags: '', tags_modification_type: 'do_not_change',
    });
    expect(made.get('success')).toBe('true');
    const offer_id = Number(made.get('success_info/offer_id'));
    expect(made.get('message')).toBe(`Offer ${offer_id} Created`);
    expect(made.at('success_info').names()).toEqual(['offer_id', 'offer_contract_id', 'campaign_id', 'creative_id']);
    const creative_id = Number(made.get('success_info/creative_id'));
    expect(creative_id).toBeGreaterThan(0);
    const listed = await admin('/api/5/export.asmx/Offers', { offer_id });
    expect(listed.get('offers/offer/offer_name')).toBe('Pet Insurance');
    expect(listed.get('offers/offer/offer_contracts/offer_contract_info/payout/amount')).toBe('7.5000');

    const campaign = await admin('/api/3/addedit.asmx/Campaign', {
      campaign_id: 0, affiliate_id: AFF.second, offer_id, offer_contract_id: 0, media_type_id: 0, account_status_id: 1, display_link_type_id: 0, payout: '', payout_update_option: 'do_not_change',
      expiration_date: '', expiration_date_modification_type: 'do_not_change', paid: 'on', review: 'no_change', postback_url: '', postback_delay_ms: -1, test_link: '', redirect_domain: '',
    });
    expect(campaign.get('success')).toBe('true');
    const campaign_id = Number(campaign.get('success_info/campaign_id'));
    expect(campaign.at('success_info').names()).toEqual(['campaign_id', 'affiliate_id', 'offer_id', 'offer_contract_id', 'media_type_id', 'original']);
    const campaigns = await admin('/api/6/export.asmx/Campaigns', { campaign_id });
    expect(campaigns.get('campaigns/campaign/offer/offer_id')).toBe(String(offer_id));
    const link = campaigns.get('campaigns/campaign/test_link');
    expect(link).toBe(`https://track.example.com/?a=${AFF.second}&c=${creative_id}`);

    const click = await t.get(new URL(link).pathname + new URL(link).search);
    expect(click.status).toBe(302);
    expect(click.headers.get('location')).toMatch(/^https:\/\/pets\.example\.com\/\?reqid=/);
    const clicks = await admin('/api/12/reports.asmx/Clicks', { start_date: '11/21/2026', end_date: '11/22/2026', campaign_id });
    expect(clicks.get('row_count')).toBe('1');
    expect(clicks.get('clicks/click/source_affiliate/source_affiliate_id')).toBe(String(AFF.second));

    // -1 and empty leave settings as they are; a changed name is the only change.
    const edited = await admin('/api/5/addedit.asmx/Offer', { offer_id, advertiser_id: 0, offer_name: 'Pet Insurance Plus', offer_status_id: -1, price_format_id: 0, payout: '-1', received: '', offer_link: '', click_cookie_days: -1 });
    expect(edited.get('message')).toBe(`Offer ${offer_id} Updated`);
    const after = await admin('/api/5/export.asmx/Offers', { offer_id });
    expect(after.get('offers/offer/offer_name')).toBe('Pet Insurance Plus');
    expect(after.get('offers/offer/offer_contracts/offer_contract_info/payout/amount')).toBe('7.5000');
  });

  it('Campaign: Invalid Affiliate, a second campaign for the same pair refused; Affiliate and Creative create and update', async () => {
    await app();
    const invalid = await admin('/api/3/addedit.asmx/Campaign', { campaign_id: 0, affiliate_id: 424242, offer_id: OFFER.lead });
    expect(invalid.get('message')).toBe('Invalid Affiliate');
    const twice = await admin('/api/3/addedit.asmx/Campaign', { campaign_id: 0, affiliate_id: AFF.partner, offer_id: OFFER.lead });
    expect(twice.get('success')).toBe('false');
    expect(twice.get('message')).toContain(`already has campaign ${CAMPAIGN.lead}`);
    const affiliate = await admin('/api/2/addedit.asmx/Affiliate', { affiliate_id: 0, affiliate_name: 'New Partner', account_status_id: 1 });
    const affiliate_id = Number(affiliate.get('affiliate_id'));
    expect(affiliate.get('message')).toBe(`Affiliate ${affiliate_id} Created`);
    const paused = await admin('/api/2/addedit.asmx/Affiliate', { affiliate_id, affiliate_name: '', account_status_id: 2 });
    expect(paused.get('message')).toBe(`Affiliate ${affiliate_id} Updated`);
    const listed = await admin('/api/5/export.asmx/Affiliates', { affiliate_id });
    expect(listed.get('affiliates/affiliate/affiliate_name')).toBe('New Partner');
    expect(listed.get('affiliates/affiliate/account_status/account_status_name')).toBe('Inactive');
    const creative = await admin('/api/1/addedit.asmx/Creative', { creative_id: 0, offer_id: OFFER.lead, creative_name: 'Banner', creative_type_id: 1, creative_status_id: 1, offer_link: '' });
    expect(creative.get('message')).toMatch(/^Creative \d+ Created$/);
  });
});

describe('roles, as the v2 API decides them', () => {
  it('a scoped key reads what its role may: an affiliate key no offers, its own clicks; an advertiser key its offers\' conversions', async () => {
    await app();
    await conversion(AFF.partner, CREATIVE.lead, OFFER.lead);
    await conversion(AFF.second, CREATIVE.lead, OFFER.lead);
    await conversion(AFF.partner, CREATIVE.otherAdvertiser, OFFER.otherAdvertiser);
    const affiliateKey = await createKey(t, 'affiliate', AFF.partner);
    const offers = await classicXml(t, '/api/5/export.asmx/Offers', { api_key: affiliateKey });
    expect(offers.get('success')).toBe('false');
    expect(offers.get('message')).toContain('needs an admin key: this key is scoped to affiliate 67890');
    const window = { start_date: '11/21/2026', end_date: '11/22/2026' };
    const clicks = await classicXml(t, '/api/12/reports.asmx/Clicks', { api_key: affiliateKey, ...window });
    expect(clicks.get('row_count')).toBe('2');
    const other = await classicXml(t, '/api/12/reports.asmx/Clicks', { api_key: affiliateKey, ...window, affiliate_id: AFF.second });
    expect(other.get('message')).toContain('outside this key\'s scope');
    const own = await classicXml(t, '/api/11/reports.asmx/Conversions', { api_key: affiliateKey, ...window });
    expect(own.get('row_count')).toBe('2');
    // The network's revenue is not shown to an affiliate.
    expect(own.at('conversions/conversion/received').nil).toBe(true);
    const advertiserKey = await createKey(t, 'advertiser', ADVERTISER.other);
    const theirs = await classicXml(t, '/api/11/reports.asmx/Conversions', { api_key: advertiserKey, ...window });
    expect(each(theirs.at('conversions'), 'offer/offer_id')).toEqual([String(OFFER.otherAdvertiser)]);
    const edit = await classicXml(t, '/api/5/addedit.asmx/Offer', { api_key: advertiserKey, offer_id: OFFER.otherAdvertiser, offer_name: 'Mine' });
    expect(edit.get('success')).toBe('false');
  });
});
