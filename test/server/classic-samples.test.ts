// One call of every implemented method as a client sends it, each answering success (the error
// sample aside): the samples of docs/classic-api.md. CLASSIC_SAMPLES=path writes them there.
import { writeFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { offerCookie } from '../../server/http.js';
import { makeApp, setCookie } from '../support/app.js';
import { ADMIN_NS, AFFILIATE_NS, parseXml, soap11Body, soap12Body, soapResult, type El } from '../support/classic.js';
import { call, createKey } from '../support/keys.js';
import { AFF, API_KEY, CAMPAIGN, conversionNetworkFile, CREATIVE, OFFER } from '../support/network.js';
it('every method of docs/classic-api.md answers its sample request with success, and the same over SOAP 1.2, SOAP 1.1 and JSON', async () => {
  const t = makeApp({ file: conversionNetworkFile() });
  await t.network.ready;
  const aff = await createKey(t, 'affiliate', AFF.partner);
  const res = await t.get(`/?a=${AFF.partner}&c=${CREATIVE.lead}&s1=fb`);
  const reqid = setCookie(res, offerCookie(OFFER.lead))!;
  const conv = await call(t, 'GET', 'conversion.json', API_KEY, { click_id: reqid, offer_id: OFFER.lead });
  const id = conv.body.conversion.conversion_id;
  const out: string[] = [];
  const pretty = (xml: string) => xml.replace(/></g, '>\n<');
  const calls: [string, string][] = [
    ['Offers', `/api/5/export.asmx/Offers?api_key=KEY&offer_id=${OFFER.lead}&offer_name=&advertiser_id=0&vertical_id=0&offer_type_id=0&media_type_id=0&offer_status_id=0&tag_id=0&start_at_row=1&row_limit=1&sort_field=offer_id&sort_descending=FALSE`],
    ['Affiliates', `/api/5/export.asmx/Affiliates?api_key=KEY&affiliate_id=${AFF.partner}&affiliate_name=&account_manager_id=0&tag_id=0&start_at_row=1&row_limit=0&sort_field=affiliate_id&sort_descending=FALSE`],
    ['Campaigns', `/api/8/export.asmx/Campaigns?api_key=KEY&campaign_id=${CAMPAIGN.lead}&site_offer_id=0&source_affiliate_id=0&channel_id=0&account_status_id=0&media_type_id=0&start_at_row=1&row_limit=0&sort_field=campaign_id&sort_descending=FALSE`],
    ['Advertisers', `/api/6/export.asmx/Advertisers?api_key=KEY&advertiser_id=5&advertiser_name=&account_manager_id=0&tag_id=0&start_at_row=1&row_limit=0&sort_field=advertiser_id&sort_descending=FALSE`],
    ['Creatives', `/api/3/export.asmx/Creatives?api_key=KEY&creative_id=0&creative_name=&offer_id=${OFFER.lead}&creative_type_id=0&creative_status_id=0&start_at_row=1&row_limit=1&sort_field=creative_id&sort_descending=FALSE`],
    ['Clicks', `/api/12/reports.asmx/Clicks?api_key=KEY&start_date=11/21/2026&end_date=11/22/2026&affiliate_id=0&advertiser_id=0&offer_id=0&campaign_id=0&creative_id=0&price_format_id=0&include_tests=false&start_at_row=1&row_limit=1&include_duplicates=false`],
    ['Conversions', `/api/11/reports.asmx/Conversions?api_key=KEY&start_date=11/21/2026&end_date=11/22/2026&affiliate_id=0&advertiser_id=0&offer_id=0&campaign_id=0&creative_id=0&include_tests=false&start_at_row=1&row_limit=1&sort_field=conversion_id&sort_descending=false`],
    ['EventConversions', `/api/17/reports.asmx/EventConversions?api_key=KEY&start_date=11/21/2026&end_date=11/22/2026&source_affiliate_id=0&brand_advertiser_id=0&site_offer_id=0&event_type=all&start_at_row=1&row_limit=1`],
    ['CampaignSummary', `/api/5/reports.asmx/CampaignSummary?api_key=KEY&start_date=11/21/2026&end_date=11/22/2026&campaign_id=0&source_affiliate_id=0&subid_id=&site_offer_id=0&source_affiliate_tag_id=0&site_offer_tag_id=0&source_affiliate_manager_id=0&brand_advertiser_manager_id=0&event_id=0&event_type=all`],
    ['DailySummaryExport', `/api/1/reports.asmx/DailySummaryExport?api_key=KEY&start_date=11/21/2026&end_date=11/22/2026&affiliate_id=0&advertiser_id=0&offer_id=0&vertical_id=0&campaign_id=0&creative_id=0&account_manager_id=0&include_tests=false`],
    ['AffiliateSummary', `/api/2/reports.asmx/AffiliateSummary?api_key=KEY&start_date=11/21/2026&end_date=11/22/2026&affiliate_id=0&affiliate_manager_id=0&affiliate_tag_id=0&offer_tag_id=0&event_id=0&revenue_filter=conversions_and_events`],
    ['SourceAffiliateSummary', `/api/3/reports.asmx/SourceAffiliateSummary?api_key=KEY&start_date=11/21/2026&end_date=11/22/2026&source_affiliate_id=0&source_affiliate_manager_id=0&source_affiliate_tag_id=0&site_offer_tag_id=0&event_id=0&event_type=all`],
    ['OfferSummary', `/api/2/reports.asmx/OfferSummary?api_key=KEY&start_date=11/21/2026&end_date=11/22/2026&advertiser_id=0&affiliate_id=0&advertiser_manager_id=0&offer_id=0&offer_tag_id=0&affiliate_tag_id=0&event_id=0&revenue_filter=conversions_and_events`],
    ['SiteOfferSummary', `/api/4/reports.asmx/SiteOfferSummary?api_key=KEY&start_date=11/21/2026&end_date=11/22/2026&brand_advertiser_id=0&brand_advertiser_manager_id=0&site_offer_id=0&site_offer_tag_id=0&source_affiliate_tag_id=0&event_id=0&event_type=0`],
    ['SubIDSummary', `/api/1/reports.asmx/SubIDSummary?api_key=KEY&start_date=11/21/2026&end_date=11/22/2026&source_affiliate_id=${AFF.partner}&site_offer_id=0&event_id=0&revenue_filter=conversions_and_events`],
    ['UpdateConversion', `/api/4/track.asmx/UpdateConversion?api_key=KEY&offer_id=${OFFER.lead}&conversion_id=${id}&request_session_id=0&transaction_id=&payout=0&add_to_existing_payout=TRUE&received=0&received_option=no_change&disposition_type=pending&disposition_id=0&update_revshare_payout=FALSE&effective_date_option=today&custom_date=&note_to_append=&disallow_on_billing_status=ignore`],
    ['MassConversionInsert', `/api/2/track.asmx/MassConversionInsert?api_key=KEY&conversion_date=11/21/2026%2010:00:00&affiliate_id=${AFF.partner}&campaign_id=${CAMPAIGN.lead}&sub_affiliate=&creative_id=0&total_to_insert=2&payout=18&received=22&note=&transaction_ids=OFF-1,OFF-2`],
    ['Offer', `/api/5/addedit.asmx/Offer?api_key=KEY&offer_id=0&advertiser_id=5&vertical_id=0&offer_name=Pet%20Insurance&offer_status_id=1&offer_type_id=1&currency_id=1&price_format_id=1&payout=7.5&received=9&offer_link=https://pets.example.com/?reqid=%23reqid%23&thankyou_link=&click_cookie_days=30`],
    ['Campaign', `/api/3/addedit.asmx/Campaign?api_key=KEY&campaign_id=0&affiliate_id=${AFF.noCampaign}&offer_id=${OFFER.lastTouch}&offer_contract_id=0&media_type_id=0&account_status_id=1&payout=&payout_update_option=do_not_change&postback_url=&postback_delay_ms=-1`],
    ['Affiliate', `/api/2/addedit.asmx/Affiliate?api_key=KEY&affiliate_id=0&affiliate_name=New%20Partner&account_status_id=1`],
    ['Creative', `/api/1/addedit.asmx/Creative?api_key=KEY&creative_id=0&offer_id=${OFFER.lead}&creative_name=Banner&creative_type_id=1&creative_status_id=1&offer_link=`],
    ['Verticals', `/api/1/get.asmx/Verticals?api_key=KEY`],
    ['Currencies', `/api/1/get.asmx/Currencies?api_key=KEY`],
    ['get Advertisers', `/api/1/get.asmx/Advertisers?api_key=KEY`],
    ['GetAPIKey', `/api/1/get.asmx/GetAPIKey?username=me&password=secret`],
    ['OfferFeed', `/affiliates/api/4/offers.asmx/OfferFeed?api_key=AKEY&affiliate_id=${AFF.partner}&campaign_name=auto&media_type_category_id=0&vertical_category_id=0&vertical_id=0&offer_status_id=0&tag_id=0&start_at_row=1&row_limit=0`],
    ['GetCampaign', `/affiliates/api/2/offers.asmx/GetCampaign?api_key=AKEY&affiliate_id=${AFF.partner}&campaign_id=${CAMPAIGN.lead}`],
    ['GetOfferStatuses', `/affiliates/api/2/offers.asmx/GetOfferStatuses?api_key=AKEY&affiliate_id=${AFF.partner}`],
    ['SetPostbackURL', `/affiliates/api/2/offers.asmx/SetPostbackURL?api_key=AKEY&affiliate_id=${AFF.partner}&campaign_id=${CAMPAIGN.lead}&postback_url=https://partner.example/pb?r=%23reqid%23`],
    ['affiliate Conversions', `/affiliates/api/8/reports.asmx/Conversions?api_key=AKEY&affiliate_id=${AFF.partner}&start_date=11/21/2026&end_date=11/22/2026&offer_id=0&currency_id=0&disposition_type=all&conversion_type=all&exclude_bot_traffic=false&start_at_row=1&row_limit=1`],
    ['affiliate CampaignSummary', `/affiliates/api/5/reports.asmx/CampaignSummary?api_key=AKEY&affiliate_id=${AFF.partner}&start_date=11/21/2026&end_date=11/22/2026&sub_affiliate=&conversion_type=all&start_at_row=1&row_limit=0&sort_field=offer_id&sort_descending=false`],
    ['error', `/api/2/export.asmx/Buyers?api_key=KEY&buyer_id=0&account_status_id=0`],
  ];
  for (const [name, path] of calls) {
    const r = await t.get(path.replace('AKEY', aff).replace('KEY', API_KEY));
    const text = await r.clone().text();
    expect(r.status, name).toBe(200);
    if (name === 'error') expect(text).toContain('<success>false</success>');
    else expect(text, name).not.toContain('<success>false</success>');
    out.push(`### ${name}\n\n\`\`\`\nGET ${path}\n\`\`\`\n\n\`\`\`xml\n${pretty(await r.text())}\n\`\`\`\n`);
  }
  // Every read method over every other transport: SOAP 1.2 and 1.1 carry the XML's tree in
  // {Method}Result, {"d": …} its keys.
  const writes = new Set(['UpdateConversion', 'MassConversionInsert', 'Offer', 'Campaign', 'Affiliate', 'Creative', 'SetPostbackURL']);
  const shape = (el: El): unknown => [el.name, el.children.map(shape)];
  for (const [name, path] of calls) {
    if (writes.has(name)) continue;
    const url = new URL(`http://x${path.replace('AKEY', aff).replace('KEY', API_KEY)}`);
    const params = Object.fromEntries(url.searchParams);
    const method = url.pathname.split('/').pop()!;
    const base = url.pathname.slice(0, -method.length - 1);
    const version = Number(/api\/(\d+)/.exec(url.pathname)![1]);
    const ns = url.pathname.startsWith('/affiliates/') ? AFFILIATE_NS(version) : ADMIN_NS(version);
    const xml = parseXml(await (await t.get(url.pathname + url.search)).text());
    const v12 = await t.post(base, soap12Body(method, ns, params), 'application/soap+xml; charset=utf-8');
    expect(v12.status, name).toBe(200);
    const r12 = soapResult(await v12.text(), method);
    expect(r12.children.map(shape), name).toEqual(xml.children.map(shape));
    const v11 = await t.post(base, soap11Body(method, ns, params), 'text/xml; charset=utf-8', { headers: { SOAPAction: `"${ns}${method}"` } });
    expect(soapResult(await v11.text(), method).children.map(shape), name).toEqual(xml.children.map(shape));
    const json = await t.post(url.pathname, JSON.stringify(params), 'application/json');
    const d = ((await json.json()) as { d: unknown }).d;
    if (xml.name === 'string') expect(typeof d, name).toBe('string');
    else if (xml.name.startsWith('ArrayOf')) expect((d as unknown[]).length, name).toBe(xml.children.length);
    else expect(Object.keys(d as object), name).toEqual(xml.names());
  }
  if (process.env.CLASSIC_SAMPLES) writeFileSync(process.env.CLASSIC_SAMPLES, out.join('\n'));
  await t.close();
});
