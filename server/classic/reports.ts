// reports.asmx (CAKE-CLASSIC-API.md 2.2, 3.4, 3.5): Clicks, Conversions and EventConversions, read
// with the store's list queries inside the key's scope exactly as click.json and conversions.json
// read them (auth.ts decides the scope, checkAsked refuses filters outside it, an affiliate never
// sees the network's revenue), translated into CAKE's parameters and shapes: every version's
// parameter names (affiliate_id / source_affiliate_id, offer_id / site_offer_id, …), start_date
// to end_date (end excluded), start_at_row 1-based, row_count the total of matches.
import { CLICK_DAYS } from '../api/clicks.js';
import { CONVERSION_DAYS } from '../api/conversions.js';
import { checkAsked, sees } from '../auth.js';
import { eventOf, type Network } from '../network.js';
import type { ClickRow, ConversionQuery, ConversionRow, ConversionStatus, Scope } from '../store/types.js';
import { ClassicError, checkUnlimited, dateWindow, flag, idFilter, rows, str, type ClassicCall, type Method } from './call.js';
import { bool, date, group, idName, int, list, listDoc, moneyOf, nil, ns2, text } from './doc.js';
import type { Node } from './envelope.js';
import { priceFormat } from './shapes.js';
import { affiliateSummary, campaignSummary, dailySummaryExport, offerSummary, siteOfferSummary, sourceAffiliateSummary, subIdSummary } from './summary.js';

const DAY = 86_400_000;

function window(call: ClassicCall, maxDays: number, method: string) {
  const w = dateWindow(call.params, call.deps.network.time_zone);
  if (w.to - w.from > maxDays * DAY) {
    throw new ClassicError(`${method} covers at most ${maxDays} days a call (start_date to end_date): ask for the rest in further calls`);
  }
  return w;
}

/** The filters every version's names send, read once: the later names win where both are sent. */
function filters(p: Record<string, string>) {
  return {
    affiliate_id: idFilter(p, 'source_affiliate_id', 'affiliate_id'),
    advertiser_id: idFilter(p, 'brand_advertiser_id', 'advertiser_id'),
    offer_id: idFilter(p, 'site_offer_id', 'offer_id'),
    campaign_id: idFilter(p, 'campaign_id'),
    creative_id: idFilter(p, 'creative_id'),
  };
}

/** Filters Crumb keeps nothing for (tags, managers, price formats other than the offer's, billing
 * statuses, channels): 0 or absent is every row; another id names nothing Crumb has. */
function refuseUnkept(p: Record<string, string>, names: string[]) {
  for (const name of names) {
    if (idFilter(p, name) !== undefined) throw new ClassicError(`${name} is not supported by Crumb (it keeps no ${name.replace(/_id$/, '').replace(/_/g, ' ')}s): send 0`);
  }
}

// ---- Clicks ----------------------------------------------------------------------------------------

const clicks: Method = {
  v2: 'GET /click.json',
  root: 'click_report_response',
  list: true,
  versions: [1, 12],
  async run(call) {
    const p = call.params;
    const { deps } = call;
    const f = filters(p);
    checkAsked(call.key, deps.network, f);
    refuseUnkept(p, ['price_format_id']);
    const range = window(call, CLICK_DAYS, 'Clicks');
    const paging = rows(p);
    // An advertiser filter is a condition of the scope's kind: the offers of that advertiser.
    const scope: Scope = f.advertiser_id === undefined ? call.scope : { ...call.scope, advertiser_id: f.advertiser_id };
    const page = await deps.store.listClicks({
      ...range,
      offer_id: f.offer_id,
      affiliate_id: f.affiliate_id,
      campaign_id: f.campaign_id,
      creative_id: f.creative_id,
      scope,
      offset: paging.offset,
      limit: paging.limit,
    });
    checkUnlimited(paging, page.total);
    return listDoc('click_report_response', page.total, list('clicks', page.rows.map((r) => clickNode(deps.network, r, call.version))));
  },
};

/** A click (v11's recorded shape; v7 and earlier name the parties affiliate/advertiser/offer).
 * Crumb's click id is the request id: click_id is nil (DA rewrites a nil click_id to 0) and the id
 * is in request_session_id, where conversions and lead posts name it. */
function clickNode(network: Network, row: ClickRow, version: number): Node {
  const offer = row.offer_id === null ? undefined : network.offers.get(row.offer_id);
  const affiliate = row.affiliate_id === null ? undefined : network.affiliates.get(row.affiliate_id);
  const advertiser = offer ? network.advertisers.get(offer.advertiser_id) : undefined;
  const creative = row.creative_id === null ? undefined : network.creatives.get(row.creative_id);
  const modern = version >= 8;
  const zone = network.time_zone;
  const party = (kind: 'affiliate' | 'advertiser' | 'offer', id: number | null | undefined, name: string | undefined) => {
    const prefix = modern ? { affiliate: 'source_', advertiser: 'brand_', offer: 'site_' }[kind] : '';
    return idName(`${prefix}${kind}`, `${prefix}${kind}_id`, id, `${prefix}${kind}_name`, name);
  };
  return group('click', [
    nil('click_id'),
    text('visitor_id', row.visitor_id),
    nil('tracking_id'),
    text('request_session_id', row.reqid),
    date('click_date', row.click_time, zone),
    party('affiliate', row.affiliate_id, affiliate?.affiliate_name),
    party('advertiser', offer?.advertiser_id, advertiser?.advertiser_name),
    party('offer', row.offer_id, offer?.offer_name),
    ...(modern ? [idName('site_offer_contract', 'site_offer_contract_id', row.offer_id, 'site_offer_contract_name', offer ? 'Default' : undefined)] : []),
    group('campaign', [int('campaign_id', row.campaign_id), idName('campaign_type', 'campaign_type_id', 1, 'campaign_type_name', 'Standard')]),
    idName('creative', 'creative_id', row.creative_id, 'creative_name', creative?.creative_name ?? (creative ? `Creative ${creative.creative_id}` : undefined)),
    text('sub_id_1', row.s1 ?? ''),
    text('sub_id_2', row.s2 ?? ''),
    text('sub_id_3', row.s3 ?? ''),
    text('sub_id_4', row.s4 ?? ''),
    text('sub_id_5', row.s5 ?? ''),
    text('ip_address', row.ip),
    // CAKE's recorded answers carry the user agent URL-encoded.
    text('user_agent', row.user_agent === null ? null : encodeURIComponent(row.user_agent)),
    text('referrer_url', row.referrer ?? ''),
    text('search_term', ''),
    nil('request_url'),
    nil('redirect_url'),
    // The CDN's two-letter country; Crumb ships no country names.
    row.country ? group('country', [ns2(text('country_code', row.country)), ns2(text('country_name', row.country))]) : nil('country'),
    nil('region'),
    nil('language'),
    nil('isp'),
    nil('operating_system'),
    nil('browser'),
    text('disposition', row.disposition),
    bool('duplicate', row.disposition === 'repeat'),
    int('duplicate_clicks', 0),
    int('total_clicks', 1),
  ]);
}

// ---- Conversions and EventConversions -----------------------------------------------------------------

/** disposition_type as a status: CAKE's returned is Crumb's reversed. */
const DISPOSITIONS: Record<string, ConversionStatus | undefined> = {
  all: undefined,
  approved: 'approved',
  pending: 'pending',
  rejected: 'rejected',
  returned: 'reversed',
};

/** CAKE's disposition name for a status. */
export const DISPOSITION_NAMES: Record<ConversionStatus, string> = {
  approved: 'Approved',
  pending: 'Pending',
  rejected: 'Rejected',
  reversed: 'Returned',
  scrubbed: 'Scrubbed',
};

const SORTS: Record<string, ConversionQuery['sort']> = {
  conversion_id: 'conversion_id',
  event_conversion_id: 'conversion_id',
  conversion_date: 'conversion_date',
  event_conversion_date: 'conversion_date',
};

/** The store query of a Conversions or EventConversions call, its scope and filters checked. */
function conversionQuery(call: ClassicCall, method: string): { query: ConversionQuery; paging: ReturnType<typeof rows> } {
  const p = call.params;
  const f = filters(p);
  checkAsked(call.key, call.deps.network, f);
  refuseUnkept(p, ['affiliate_tag_id', 'source_affiliate_tag_id', 'advertiser_tag_id', 'brand_advertiser_tag_id', 'offer_tag_id', 'site_offer_tag_id', 'channel_id', 'price_format_id', 'disposition_id', 'site_offer_contract_id']);
  const range = window(call, CONVERSION_DAYS, method);
  const disposition = (str(p, 'disposition_type') ?? 'all').toLowerCase();
  if (!(disposition in DISPOSITIONS)) throw new ClassicError(`Invalid disposition_type: "${disposition}" is not one of ${Object.keys(DISPOSITIONS).join(', ')}`);
  const type = (str(p, 'conversion_type') ?? str(p, 'event_type') ?? 'all').toLowerCase();
  const kind = type === 'conversions' || type === 'macro_event_conversions' ? 'conversions' : type === 'events' || type === 'micro_events' ? 'events' : undefined;
  if (kind === undefined && type !== 'all') throw new ClassicError(`Invalid conversion_type: "${type}" is not one of all, conversions, events`);
  const testFilter = (str(p, 'test_filter') ?? '').toLowerCase();
  const include_tests = testFilter ? testFilter !== 'non_tests' : (flag(p, 'include_tests') ?? false);
  const sortField = (str(p, 'sort_field') ?? 'conversion_date').toLowerCase();
  const sort = sortField === '0' ? 'conversion_date' : SORTS[sortField];
  if (!sort) throw new ClassicError(`Invalid sort_field: "${sortField}" is not one of ${Object.keys(SORTS).join(', ')} (Crumb sorts conversions by these only)`);
  const event_id = idFilter(p, 'event_id');
  const paging = rows(p);
  return {
    query: {
      ...range,
      ...f,
      event_id,
      kind,
      status: DISPOSITIONS[disposition],
      include_tests,
      sort,
      descending: flag(p, 'sort_descending') ?? false,
      scope: call.scope,
      offset: paging.offset,
      limit: paging.limit,
    },
    paging,
  };
}

/** Conversions and EventConversions: the same list query, each in its own shape. */
function conversionReport(
  method: 'Conversions' | 'EventConversions',
  root: string,
  items: string,
  versions: [number, number],
  node: (network: Network, row: ConversionRow, revenue: boolean) => Node,
): Method {
  return {
    v2: 'GET /conversions.json',
    root,
    list: true,
    versions,
    async run(call) {
      const { query, paging } = conversionQuery(call, method);
      const page = await call.deps.store.listConversions(query);
      checkUnlimited(paging, page.total);
      const revenue = sees(call.key, 'conversion', 'revenue');
      return listDoc(root, page.total, list(items, page.rows.map((r) => node(call.deps.network, r, revenue))));
    },
  };
}

const conversions = conversionReport('Conversions', 'conversion_report_response', 'conversions', [1, 16], conversionNode);

/** A conversion (v4/v5 shape). Crumb's conversions keep the click's request id, not a numeric
 * click id: click_id is nil, as in CAKE's answers for a conversion without one. */
function conversionNode(network: Network, row: ConversionRow, revenue: boolean): Node {
  const zone = network.time_zone;
  const offer = network.offers.get(row.offer_id);
  const creative = row.creative_id === null ? undefined : network.creatives.get(row.creative_id);
  return group('conversion', [
    text('conversion_id', String(row.conversion_id)),
    nil('visitor_id'),
    text('request_session_id', row.reqid),
    nil('click_id'),
    date('conversion_date', row.conversion_time, zone),
    date('last_updated', row.conversion_time, zone),
    date('click_date', row.click_time, zone),
    idName('affiliate', 'affiliate_id', row.affiliate_id, 'affiliate_name', network.affiliates.get(row.affiliate_id)?.affiliate_name),
    idName('advertiser', 'advertiser_id', row.advertiser_id, 'advertiser_name', network.advertisers.get(row.advertiser_id)?.advertiser_name),
    idName('offer', 'offer_id', row.offer_id, 'offer_name', offer?.offer_name),
    int('campaign_id', row.campaign_id),
    idName('creative', 'creative_id', row.creative_id, 'creative_name', creative ? (creative.creative_name ?? `Creative ${creative.creative_id}`) : undefined),
    text('sub_id_1', ''),
    text('sub_id_2', ''),
    text('sub_id_3', ''),
    text('sub_id_4', ''),
    text('sub_id_5', ''),
    text('conversion_type', row.event_id === 0 ? 'Conversion' : 'Event'),
    moneyOf('paid', row.payout_cents),
    revenue ? moneyOf('received', row.revenue_cents) : nil('received'),
    text('step_reached', row.event_id === 0 ? '' : (eventName(network, row) ?? '')),
    bool('pixel_dropped', row.source === 'pixel'),
    bool('suppressed', row.status === 'scrubbed'),
    bool('returned', row.status === 'reversed'),
    bool('test', row.is_test),
    text('transaction_id', transactionOf(row)),
    text('conversion_ip_address', revenue ? row.ip : null),
    text('country', ''),
    disposition(row),
    text('note', row.scrub_reason ?? ''),
  ]);
}

/** The advertiser's id for the conversion: the pixel's transaction id, else the unique id a
 * server-to-server conversion was recorded with. */
function transactionOf(row: ConversionRow): string {
  return row.transaction_id ?? row.unique_id ?? '';
}

function eventName(network: Network, row: ConversionRow): string | undefined {
  const offer = network.offers.get(row.offer_id);
  return offer && row.event_id ? eventOf(offer, row.event_id)?.event_name : undefined;
}

function disposition(row: ConversionRow): Node {
  return group('disposition', [
    bool('approved', row.status === 'approved'),
    text('disposition_name', DISPOSITION_NAMES[row.status]),
    text('contact', ''),
    nil('disposition_date'),
  ]);
}

const eventConversions = conversionReport('EventConversions', 'event_conversion_report_response', 'event_conversions', [1, 17], eventConversionNode);

/** An event conversion (v17's recorded shape): the base conversion is event 0. */
function eventConversionNode(network: Network, row: ConversionRow, revenue: boolean): Node {
  const zone = network.time_zone;
  const offer = network.offers.get(row.offer_id);
  const creative = row.creative_id === null ? undefined : network.creatives.get(row.creative_id);
  const format = priceFormat(offer?.price_format ?? 'CPA');
  return group('event_conversion', [
    text('event_conversion_id', String(row.conversion_id)),
    nil('visitor_id'),
    nil('original_visitor_id'),
    nil('tracking_id'),
    nil('original_tracking_id'),
    text('request_session_id', row.reqid),
    date('event_conversion_date', row.conversion_time, zone),
    date('last_updated', row.conversion_time, zone),
    date('click_date', row.click_time, zone),
    date('source_date', row.click_time ?? row.conversion_time, zone),
    idName('event_info', 'event_id', row.event_id, 'event_name', row.event_id === 0 ? 'Conversion' : eventName(network, row)),
    idName('source_affiliate', 'source_affiliate_id', row.affiliate_id, 'source_affiliate_name', network.affiliates.get(row.affiliate_id)?.affiliate_name),
    idName('brand_advertiser', 'brand_advertiser_id', row.advertiser_id, 'brand_advertiser_name', network.advertisers.get(row.advertiser_id)?.advertiser_name),
    idName('site_offer', 'site_offer_id', row.offer_id, 'site_offer_name', offer?.offer_name),
    idName('site_offer_contract', 'site_offer_contract_id', row.offer_id, 'site_offer_contract_name', 'Default'),
    group('campaign', [int('campaign_id', row.campaign_id), idName('campaign_type', 'campaign_type_id', 1, 'campaign_type_name', 'Standard')]),
    idName('creative', 'creative_id', row.creative_id, 'creative_name', creative ? (creative.creative_name ?? `Creative ${creative.creative_id}`) : undefined),
    text('sub_id_1', ''),
    text('sub_id_2', ''),
    text('sub_id_3', ''),
    text('sub_id_4', ''),
    text('sub_id_5', ''),
    text('event_conversion_ip_address', revenue ? row.ip : null),
    text('event_conversion_referrer_url', ''),
    text('event_conversion_user_agent', ''),
    text('source_type', row.source === 'pixel' ? 'Pixel' : row.source === 'lead' ? 'Lead' : 'Server Postback'),
    idName('price_format', 'price_format_id', format.id, 'price_format_name', format.name),
    moneyOf('paid', row.payout_cents),
    moneyOf('paid_unbilled', row.payout_cents),
    revenue ? moneyOf('received', row.revenue_cents) : nil('received'),
    revenue ? moneyOf('received_unbilled', row.revenue_cents) : nil('received_unbilled'),
    nil('site_offer_credit_percentage'),
    nil('site_offer_payment_percentage'),
    nil('program_credit_percentage'),
    bool('pixel_dropped', row.source === 'pixel'),
    bool('suppressed', row.status === 'scrubbed'),
    bool('returned', row.status === 'reversed'),
    bool('test', row.is_test),
    text('transaction_id', transactionOf(row)),
    row.amount_cents === null || !revenue ? nil('order_total') : moneyOf('order_total', row.amount_cents),
    nil('event_conversion_score'),
    text('note', row.scrub_reason ?? ''),
    group('current_disposition', [text('disposition_name', DISPOSITION_NAMES[row.status])]),
  ]);
}

export const reportMethods: Record<string, Method> = {
  Clicks: clicks,
  Conversions: conversions,
  EventConversions: eventConversions,
  CampaignSummary: campaignSummary,
  DailySummaryExport: dailySummaryExport,
  AffiliateSummary: affiliateSummary,
  OfferSummary: offerSummary,
  SourceAffiliateSummary: sourceAffiliateSummary,
  SiteOfferSummary: siteOfferSummary,
  SubIDSummary: subIdSummary,
};
