// The summary methods of reports.asmx (CAKE-CLASSIC-API.md 2.2, 3.6): CampaignSummary,
// DailySummaryExport, AffiliateSummary, SourceAffiliateSummary, OfferSummary, SiteOfferSummary,
// SubIDSummary, and the affiliate API's CampaignSummary. Their numbers are the summary reports'
// (the store's summaryReport, as GET /api/2/reports/summary.json counts them: the same scope, the
// same counting rules, the network's time zone), written in CAKE's shapes. What Crumb does not
// count (views, sellable leads, orders) is 0. Percentages are percent with 6 decimals, money
// amounts with 4. An affiliate key sees its payout as cost and never the network's revenue.
import { REPORT_DAYS } from '../api/reports.js';
import { checkAsked } from '../auth.js';
import type { Network } from '../network.js';
import { EVERY_GROUP, noCounts } from '../reports/page.js';
import { offsetPieces } from '../reports/zone.js';
import type { ReportCounts, ReportGroup, ReportRow } from '../store/types.js';
import { ClassicError, checkUnlimited, dateWindow, flag, idFilter, rows, str, type ClassicCall, type Method } from './call.js';
import { CURRENCY, decimal, group, idName, int, list, listDoc, nil, text } from './doc.js';
import type { Doc, Node } from './envelope.js';
import { MEDIA_TYPE, priceFormat } from './shapes.js';

const DAY = 86_400_000;

interface Counted {
  key: ReportRow['key'];
  row: ReportCounts;
}

/** The summary report's groups for the call, ordered by key (nulls first): CAKE's filters (every
 * version's names) translated, its window in the network's zone, inside the key's scope. */
async function count(call: ClassicCall, group_by: ReportGroup): Promise<Counted[]> {
  const p = call.params;
  const network = call.deps.network;
  const zone = network.time_zone;
  const { from, to } = dateWindow(p, zone);
  if (to - from > REPORT_DAYS * DAY) throw new ClassicError(`A summary covers at most ${REPORT_DAYS} days a call (start_date to end_date): ask for the rest in further calls`);
  const filters = {
    affiliate_id: idFilter(p, 'source_affiliate_id', 'affiliate_id'),
    advertiser_id: idFilter(p, 'brand_advertiser_id', 'advertiser_id'),
    offer_id: idFilter(p, 'site_offer_id', 'offer_id'),
    campaign_id: idFilter(p, 'campaign_id'),
    creative_id: idFilter(p, 'creative_id'),
  };
  checkAsked(call.key, network, filters);
  for (const name of ['affiliate_manager_id', 'source_affiliate_manager_id', 'brand_advertiser_manager_id', 'advertiser_manager_id', 'account_manager_id', 'affiliate_tag_id', 'source_affiliate_tag_id', 'offer_tag_id', 'site_offer_tag_id', 'vertical_id', 'event_id']) {
    if (idFilter(p, name) !== undefined) throw new ClassicError(`${name} is not supported by Crumb's summaries: send 0`);
  }
  const sub = str(p, 'subid_id') ?? str(p, 'sub_id');
  if (sub !== undefined && sub !== '0' && group_by !== 'sub_id_1') throw new ClassicError('subid_id is not supported by Crumb\'s summaries: send it empty (SubIDSummary lists the sub ids)');
  const counted = await call.deps.store.summaryReport(
    {
      from,
      to,
      group_by,
      zone: offsetPieces(zone, from, to),
      ...filters,
      include_tests: flag(p, 'include_tests') ?? false,
      scope: call.scope,
    },
    EVERY_GROUP,
  );
  return counted.rows.map(({ key, ...row }) => ({ key, row }));
}

const percent = (n: number, d: number) => (d === 0 ? 0 : (n / d) * 100);
const per = (cents: number, n: number) => (n === 0 ? 0 : cents / 100 / n);

/** The metrics CAKE's summaries carry, in their order (v5 CampaignSummary's). */
function metrics(r: ReportCounts, revenueShown: boolean): Node[] {
  const conversions = r.macro_event_conversions;
  const profit = r.revenue_cents - r.cost_cents;
  const money = (name: string, cents: number) => decimal(name, cents / 100);
  const hidden = (node: Node) => (revenueShown ? node : nil(node.name));
  return [
    int('views', 0),
    int('clicks', r.clicks),
    decimal('click_thru_percentage', 0, 6),
    int('macro_event_conversions', conversions),
    decimal('macro_event_conversion_percentage', percent(conversions, r.clicks), 6),
    int('micro_events', r.micro_events),
    int('paid', r.paid),
    int('sellable', 0),
    int('pending', r.pending),
    int('rejected', r.rejected),
    int('approved', r.paid),
    int('returned', 0),
    money('cost', r.cost_cents),
    decimal('average_cost', per(r.cost_cents, conversions)),
    hidden(decimal('epc', per(r.revenue_cents, r.clicks))),
    hidden(money('revenue', r.revenue_cents)),
    hidden(decimal('revenue_per_transaction', per(r.revenue_cents, conversions))),
    hidden(decimal('margin', percent(profit, r.revenue_cents), 6)),
    hidden(money('profit', profit)),
    int('orders', 0),
    decimal('order_total', 0),
    money('total_paid', r.cost_cents),
  ];
}

function revenueShown(call: ClassicCall): boolean {
  return call.key.role !== 'affiliate' && call.portal !== 'affiliates';
}

/** Groups with a key (clicks and conversions Crumb could not place under one, such as those of
 * no campaign, are left out of a per-entity summary), ordered by it as counted. */
function keyed(counted: Counted[]): Counted[] {
  return counted.filter((c) => c.key !== null);
}

/** A list answer of the groups' nodes, paged as CAKE pages (start_at_row, row_limit). */
function paged(call: ClassicCall, root: string, container: string, items: Node[], extra: Node[] = []): Doc {
  const paging = rows(call.params);
  checkUnlimited(paging, items.length);
  return listDoc(root, items.length, list(container, items.slice(paging.offset, paging.offset + paging.limit)), extra);
}

function affiliateName(network: Network, id: number) {
  return network.affiliates.get(id)?.affiliate_name;
}

function summaryMethod(root: string, versions: [number, number], run: (call: ClassicCall) => Promise<Doc>): Method {
  return { v2: 'GET /reports/summary.json', root, list: root !== 'ArrayOfDailySummary', versions, run };
}

// ---- the methods ---------------------------------------------------------------------------------

export const campaignSummary = summaryMethod('campaign_summary_response', [1, 6], async (call) => {
  const network = call.deps.network;
  const shown = revenueShown(call);
  const counted = keyed(await count(call, 'campaign'));
  const items = counted.map(({ key, row }) => {
    const campaign = network.campaigns.get(Number(key));
    const offer = campaign ? network.offers.get(campaign.offer_id) : undefined;
    const advertiser = offer ? network.advertisers.get(offer.advertiser_id) : undefined;
    const format = priceFormat(offer?.price_format ?? 'CPA');
    return group('campaign_summary', [
      idName('campaign', 'campaign_id', Number(key), 'campaign_name', offer ? `${affiliateName(network, campaign!.affiliate_id) ?? ''} - ${offer.offer_name}` : null),
      idName('source_affiliate', 'source_affiliate_id', campaign?.affiliate_id, 'source_affiliate_name', campaign ? affiliateName(network, campaign.affiliate_id) : null),
      idName('site_offer', 'site_offer_id', campaign?.offer_id, 'site_offer_name', offer?.offer_name),
      shown ? idName('brand_advertiser', 'brand_advertiser_id', offer?.advertiser_id, 'brand_advertiser_name', advertiser?.advertiser_name) : nil('brand_advertiser'),
      nil('source_affiliate_manager'),
      nil('brand_advertiser_manager'),
      idName('price_format', 'price_format_id', format.id, 'price_format_name', format.name),
      idName('media_type', 'media_type_id', MEDIA_TYPE.media_type_id, 'media_type_name', MEDIA_TYPE.media_type_name),
      ...metrics(row, shown),
    ]);
  });
  // The affiliate API's answer adds the totals (BL reads d.summary.revenue: the affiliate's own).
  if (call.portal === 'affiliates') {
    const total = sum(counted.map((c) => c.row));
    const summary = group('summary', [int('clicks', total.clicks), int('conversions', total.macro_event_conversions), decimal('revenue', total.cost_cents / 100), decimal('epc', per(total.cost_cents, total.clicks)), text('currency_symbol', CURRENCY.currency_symbol)]);
    return paged(call, 'campaign_summary_response', 'campaigns', items, [summary]);
  }
  return paged(call, 'campaign_summary_response', 'campaigns', items);
});

function sum(rows: ReportCounts[]): ReportCounts {
  const total = noCounts();
  for (const r of rows) for (const k of Object.keys(total) as (keyof ReportCounts)[]) total[k] += r[k];
  return total;
}

/** v1: `ArrayOfDailySummary/DailySummary` without an envelope (DA's ArrayOfDailySummary.xsd);
 * v2: the usual list answer. Days are the network zone's, every day of the window listed. */
export const dailySummaryExport = summaryMethod('daily_summary_export_response', [1, 2], async (call) => {
  const shown = revenueShown(call);
  const counted = await count(call, 'day');
  const byDay = new Map(counted.filter((c) => c.key !== null).map((c) => [Number(c.key), c.row]));
  const zone = call.deps.network.time_zone;
  const { from, to } = dateWindow(call.params, zone);
  const empty = noCounts();
  const days: { day: number; row: ReportCounts }[] = [];
  // The window's local days, first to last.
  const pieces = offsetPieces(zone, from, to);
  const localDay = (t: number) => Math.floor((t + [...pieces].reverse().find((p) => p.since <= t)!.offset) / DAY);
  for (let d = localDay(from); d <= localDay(to - 1); d++) days.push({ day: d, row: byDay.get(d) ?? empty });
  const item = (name: string, day: number, r: ReportCounts) => {
    const conversions = r.macro_event_conversions;
    const profit = r.revenue_cents - r.cost_cents;
    const hidden = (node: Node) => (shown ? node : nil(node.name));
    return group(name, [
      text('date', `${new Date(day * DAY).toISOString().slice(0, 10)}T00:00:00`),
      int('views', 0),
      int('clicks', r.clicks),
      decimal('click_thru', 0, 6),
      int('conversions', conversions),
      int('paid', r.paid),
      int('sellable', 0),
      decimal('conversion_rate', percent(conversions, r.clicks), 6),
      decimal('cpl', per(r.cost_cents, conversions)),
      decimal('cost', r.cost_cents / 100),
      hidden(decimal('rpt', per(r.revenue_cents, conversions))),
      hidden(decimal('revenue', r.revenue_cents / 100)),
      hidden(decimal('margin', percent(profit, r.revenue_cents), 6)),
      hidden(decimal('profit', profit / 100)),
      hidden(decimal('epc', per(r.revenue_cents, r.clicks))),
    ]);
  };
  if (call.version === 1) return { kind: 'array', root: 'ArrayOfDailySummary', items: days.map((d) => item('DailySummary', d.day, d.row)) };
  return paged(call, 'daily_summary_export_response', 'days', days.map((d) => item('day', d.day, d.row)));
});

function affiliateSummaryOf(root: string, container: string, itemName: string, prefix: '' | 'source_', versions: [number, number]) {
  return summaryMethod(root, versions, async (call) => {
    const network = call.deps.network;
    const shown = revenueShown(call);
    const items = keyed(await count(call, 'affiliate')).map(({ key, row }) =>
      group(itemName, [idName(`${prefix}affiliate`, `${prefix}affiliate_id`, Number(key), `${prefix}affiliate_name`, affiliateName(network, Number(key))), ...metrics(row, shown)]),
    );
    return paged(call, root, container, items);
  });
}

function offerSummaryOf(root: string, container: string, itemName: string, modern: boolean, versions: [number, number]) {
  return summaryMethod(root, versions, async (call) => {
    const network = call.deps.network;
    const shown = revenueShown(call);
    const [o, a] = modern ? ['site_offer', 'brand_advertiser'] : ['offer', 'advertiser'];
    const items = keyed(await count(call, 'offer')).map(({ key, row }) => {
      const offer = network.offers.get(Number(key));
      return group(itemName, [
        idName(o, `${o}_id`, Number(key), `${o}_name`, offer?.offer_name),
        shown ? idName(a, `${a}_id`, offer?.advertiser_id, `${a}_name`, offer ? network.advertisers.get(offer.advertiser_id)?.advertiser_name : null) : nil(a),
        ...metrics(row, shown),
      ]);
    });
    return paged(call, root, container, items);
  });
}

/** SubIDSummary v1 (WG): one affiliate's sub ids (sub_id_1), source_affiliate_id required. */
export const subIdSummary = summaryMethod('sub_id_summary_response', [1, 2], async (call) => {
  if (idFilter(call.params, 'source_affiliate_id', 'affiliate_id') === undefined) throw new ClassicError('source_affiliate_id is required: sub ids are summarised for one affiliate');
  const offer_id = idFilter(call.params, 'site_offer_id', 'offer_id');
  const counted = await count(call, 'sub_id_1');
  const items = counted.map(({ key, row }) =>
    group('sub_id_summary', [
      text('sub_id', key === null ? '' : String(key)),
      text('sub_id_name', key === null ? '' : String(key)),
      int('site_offer_id', offer_id ?? 0),
      int('clicks', row.clicks),
      decimal('click_thru_percentage', 0, 6),
      int('macro_event_conversions', row.macro_event_conversions),
      int('paid', row.paid),
      decimal('cost', row.cost_cents / 100),
      decimal('average_cost', per(row.cost_cents, row.macro_event_conversions)),
    ]),
  );
  return paged(call, 'sub_id_summary_response', 'sub_ids', items);
});

export const affiliateSummary = affiliateSummaryOf('affiliate_summary_response', 'affiliates', 'affiliate_summary', '', [1, 3]);
export const sourceAffiliateSummary = affiliateSummaryOf('source_affiliate_summary_response', 'source_affiliates', 'source_affiliate_summary', 'source_', [1, 4]);
export const offerSummary = offerSummaryOf('offer_summary_response', 'offers', 'offer_summary', false, [1, 3]);
export const siteOfferSummary = offerSummaryOf('site_offer_summary_response', 'site_offers', 'site_offer_summary', true, [1, 5]);
