// The affiliate API (/affiliates/api/{N}/…, CAKE-CLASSIC-API.md 4): an affiliate key plus its
// affiliate_id on every call (route.ts checks both), scoped as the v2 API scopes the affiliate
// role: its own campaigns (GET /api/2/campaigns.json), its own conversions without the network's
// revenue (conversions.json), its own postbacks (affiliate_postback.json, with the same address
// rules). The offer feed is the offers the affiliate has an active campaign for: Crumb has no
// public offers an affiliate applies to.
import { checkPostback } from '../api/postbacks.js';
import { entityInScope } from '../auth.js';
import { isHttpUrl, type Campaign, type Network } from '../network.js';
import type { ConversionQuery, ConversionRow } from '../store/types.js';
import { ClassicError, checkUnlimited, dateWindow, idFilter, rows, str, type ClassicCall, type Method } from './call.js';
import { CURRENCY, bool, date, decimal, formatted, group, int, list, listDoc, nil, plainDoc, text } from './doc.js';
import type { Node } from './envelope.js';
import { DISPOSITION_NAMES } from './reports.js';
import { campaignSummary } from './summary.js';
import { campaignPayout, firstCreative, priceFormat, trackingLink, VERTICAL } from './shapes.js';
import { CONVERSION_DAYS } from '../api/conversions.js';

/** The affiliate's campaigns (inside the call's scope), by id. */
function campaignsOf(call: ClassicCall): Campaign[] {
  const network = call.deps.network;
  return [...network.campaigns.values()].filter((c) => entityInScope(network, 'campaigns', c, call.scope)).sort((a, b) => a.campaign_id - b.campaign_id);
}

/** The campaign named by campaign_id, if it is the affiliate's; else CAKE's "Invalid Campaign". */
function ownCampaign(call: ClassicCall): Campaign {
  const id = idFilter(call.params, 'campaign_id');
  const campaign = id === undefined ? undefined : call.deps.network.campaigns.get(id);
  if (!campaign || !entityInScope(call.deps.network, 'campaigns', campaign, call.scope)) {
    throw new ClassicError(id === undefined ? 'Invalid Campaign: campaign_id is required' : `Invalid Campaign: campaign ${id} is not one of affiliate ${call.scope.affiliate_id}'s`);
  }
  return campaign;
}

/** The statuses of the feed (OA's constants): an offer the affiliate has a campaign for is Active. */
const FEED_STATUSES = [
  { status_id: 1, status_name: 'Active' },
  { status_id: 2, status_name: 'Public' },
  { status_id: 3, status_name: 'Apply To Run' },
] as const;

const offerFeed: Method = {
  v2: 'GET /campaigns.json',
  root: 'offer_feed_response',
  list: true,
  versions: [1, 5],
  run(call) {
    const p = call.params;
    const network = call.deps.network;
    const name = str(p, 'campaign_name')?.toLowerCase();
    const status = idFilter(p, 'offer_status_id');
    const vertical = idFilter(p, 'vertical_id');
    const tag = idFilter(p, 'tag_id');
    const campaigns = campaignsOf(call).filter((c) => {
      const offer = network.offers.get(c.offer_id);
      return (
        offer !== undefined &&
        c.status === 'active' &&
        offer.status === 'active' &&
        (name === undefined || offer.offer_name.toLowerCase().includes(name)) &&
        (status === undefined || status === 1) &&
        (vertical === undefined || vertical === VERTICAL.vertical_id) &&
        tag === undefined
      );
    });
    const paging = rows(p);
    checkUnlimited(paging, campaigns.length);
    const items = campaigns.slice(paging.offset, paging.offset + paging.limit).map((c) => feedOffer(network, c));
    return listDoc('offer_feed_response', campaigns.length, list('offers', items));
  },
};

function feedOffer(network: Network, campaign: Campaign): Node {
  const offer = network.offers.get(campaign.offer_id)!;
  const percent = offer.price_format === 'RevShare';
  return group('offer', [
    int('offer_id', offer.offer_id),
    int('offer_contract_id', offer.offer_id),
    int('campaign_id', campaign.campaign_id),
    text('offer_name', offer.offer_name),
    text('vertical_name', VERTICAL.vertical_name),
    group('offer_status', [int('status_id', FEED_STATUSES[0].status_id), text('status_name', FEED_STATUSES[0].status_name)]),
    // A formatted string here, as CAKE's feed writes it ($2.50).
    text('payout', formatted(campaignPayout(campaign, offer), percent)),
    text('price_format', priceFormat(offer.price_format).name),
    text('preview_link', offer.offer_url),
    nil('thumbnail_image_url'),
    text('description', ''),
    text('restrictions', ''),
    list('allowed_countries', []),
    list('allowed_media_types', []),
    nil('expiration_date'),
    list('tags', []),
    text('advertiser_extended_terms', ''),
    bool('hidden', false),
  ]);
}

const getCampaign: Method = {
  v2: 'GET /campaigns.json',
  root: 'get_campaign_response',
  list: false,
  versions: [1, 3],
  run(call) {
    const network = call.deps.network;
    const campaign = ownCampaign(call);
    const offer = network.offers.get(campaign.offer_id)!;
    const creatives = [...network.creatives.values()].filter((c) => c.offer_id === offer.offer_id && c.status === 'active').sort((a, b) => a.creative_id - b.creative_id);
    const first = firstCreative(network, offer.offer_id);
    return plainDoc('get_campaign_response', null, [
      group('campaign', [
        int('campaign_id', campaign.campaign_id),
        int('offer_id', offer.offer_id),
        text('offer_name', offer.offer_name),
        int('offer_contract_id', offer.offer_id),
        text('payout', formatted(campaignPayout(campaign, offer), offer.price_format === 'RevShare')),
        text('price_format', priceFormat(offer.price_format).name),
        text('status', campaign.status === 'active' ? 'Active' : 'Inactive'),
        text('test_link', trackingLink(network, campaign.affiliate_id, first)),
        list(
          'creatives',
          creatives.map((c) =>
            group('creative_info', [
              int('creative_id', c.creative_id),
              text('creative_name', c.creative_name ?? `Creative ${c.creative_id}`),
              group('creative_type', [int('type_id', 1), text('type_name', 'Link')]),
              text('unique_link', trackingLink(network, campaign.affiliate_id, c)),
            ]),
          ),
        ),
      ]),
    ]);
  },
};

const getOfferStatuses: Method = {
  v2: 'GET /campaigns.json',
  root: 'offer_statuses_response',
  list: true,
  versions: [1, 3],
  run() {
    const items = FEED_STATUSES.map((s) => group('offer_status', [int('status_id', s.status_id), text('status_name', s.status_name)]));
    return listDoc('offer_statuses_response', items.length, list('offer_statuses', items));
  },
};

/** The campaign's postback: the affiliate's server postback for the campaign's offer, created or
 * changed (an empty postback_url switches it off), under the v2 API's address rules. */
const setPostbackUrl: Method = {
  v2: 'POST /affiliate_postback.json',
  root: 'set_postback_url_response',
  list: false,
  versions: [1, 3],
  async run(call) {
    const { deps } = call;
    const campaign = ownCampaign(call);
    const url = str(call.params, 'postback_url')?.trim() ?? '';
    const scope = call.scope;
    const existing = (await deps.store.listPostbacks({ affiliate_id: campaign.affiliate_id, offer_id: campaign.offer_id, scope })).find(
      (p) => p.postback_type_id === 1 && p.fire_on === 'conversion',
    );
    if (!url) {
      if (existing) await deps.store.updatePostback(existing.postback_id, { postback_status: 'inactive' }, scope);
      return plainDoc('set_postback_url_response', 'Postback URL Removed');
    }
    const postback = {
      affiliate_id: campaign.affiliate_id,
      offer_id: campaign.offer_id,
      postback_url: url,
      postback_status: 'active' as const,
      postback_type_id: 1 as const,
      fire_on: 'conversion' as const,
    };
    if (url.length > 2000) throw new ClassicError('Invalid postback_url: at most 2000 characters');
    if (!isHttpUrl(url)) throw new ClassicError('Invalid postback_url: send an absolute http:// or https:// URL, macros such as #reqid# included');
    await checkPostback(deps, postback, true);
    if (existing) await deps.store.updatePostback(existing.postback_id, { postback_url: url, postback_status: 'active' }, scope);
    else await deps.store.createPostback(postback);
    return plainDoc('set_postback_url_response', 'Postback URL Updated');
  },
};

/** The affiliate's conversions report: its own, its payout as `price`, never the network's
 * revenue nor the sale amount (auth.ts HIDDEN). v8 adds the summary of every match. */
const conversions: Method = {
  v2: 'GET /conversions.json',
  root: 'conversion_response',
  list: true,
  versions: [1, 8],
  async run(call) {
    const p = call.params;
    const network = call.deps.network;
    const range = dateWindow(p, network.time_zone);
    if (range.to - range.from > CONVERSION_DAYS * 86_400_000) throw new ClassicError(`Conversions covers at most ${CONVERSION_DAYS} days a call: ask for the rest in further calls`);
    const campaign_id = idFilter(p, 'campaign_id');
    const disposition = (str(p, 'disposition_type') ?? 'all').toLowerCase();
    const statuses: Record<string, ConversionQuery['status'] | 'all'> = { all: 'all', approved: 'approved', pending: 'pending', rejected: 'rejected', returned: 'reversed' };
    if (!(disposition in statuses)) throw new ClassicError(`Invalid disposition_type: "${disposition}" is not one of ${Object.keys(statuses).join(', ')}`);
    const type = (str(p, 'conversion_type') ?? 'all').toLowerCase();
    const kind = type === 'conversions' ? 'conversions' : type === 'events' ? 'events' : undefined;
    const status = statuses[disposition];
    const paging = rows(p);
    const query: ConversionQuery = {
      ...range,
      offer_id: idFilter(p, 'offer_id', 'site_offer_id'),
      campaign_id,
      kind,
      status: status === 'all' ? undefined : status,
      include_tests: false,
      sort: 'conversion_date',
      descending: false,
      scope: call.scope,
      offset: paging.offset,
      limit: paging.limit,
    };
    const page = await call.deps.store.listConversions(query);
    checkUnlimited(paging, page.total);
    const items = list('conversions', page.rows.map((r) => affiliateConversion(network, r)));
    if (call.version < 8) return listDoc('conversion_response', page.total, items);
    const price = await totalPayout(call, query);
    const summary = group('summary', [decimal('price', price / 100), decimal('order_total', 0), text('currency_symbol', CURRENCY.currency_symbol)]);
    return listDoc('conversion_response', page.total, items, [summary]);
  },
};

/** The payout of every match (not only the page): read by key in pages of 1000. */
async function totalPayout(call: ClassicCall, query: ConversionQuery): Promise<number> {
  let cents = 0;
  let after: number | undefined;
  for (;;) {
    const page = await call.deps.store.listConversions({ ...query, sort: 'conversion_id', after, offset: 0, limit: 1000 });
    for (const row of page.rows) cents += row.payout_cents;
    if (page.next === null) return cents;
    after = page.next;
  }
}

/** CAKE's affiliate conversion ids are hexadecimal (74777CA5), as Crumb's lead ids are. */
export function hexId(id: number): string {
  return id.toString(16).toUpperCase().padStart(8, '0');
}

function affiliateConversion(network: Network, row: ConversionRow): Node {
  const offer = network.offers.get(row.offer_id);
  const event = row.event_id ? offer?.events.find((e) => e.event_id === row.event_id) : undefined;
  return group('conversion', [
    text('conversion_id', hexId(row.conversion_id)),
    int('event_id', row.event_id),
    text('event_name', row.event_id === 0 ? 'Conversion' : (event?.event_name ?? '')),
    date('conversion_date', row.conversion_time, network.time_zone),
    int('offer_id', row.offer_id),
    text('offer_name', offer?.offer_name ?? ''),
    int('campaign_id', row.campaign_id),
    int('creative_id', row.creative_id),
    text('subid_1', ''),
    text('subid_2', ''),
    text('subid_3', ''),
    text('subid_4', ''),
    text('subid_5', ''),
    decimal('price', row.payout_cents / 100),
    decimal('order_total', 0),
    text('disposition', DISPOSITION_NAMES[row.status]),
    text('disposition_type', DISPOSITION_NAMES[row.status]),
    bool('test', row.is_test),
    text('currency_symbol', CURRENCY.currency_symbol),
  ]);
}

export const affiliateMethods: Record<string, Method> = {
  'affiliates/offers/offerfeed': offerFeed,
  'affiliates/offers/getcampaign': getCampaign,
  'affiliates/offers/getofferstatuses': getOfferStatuses,
  'affiliates/offers/setpostbackurl': setPostbackUrl,
  'affiliates/reports/conversions': conversions,
  'affiliates/reports/campaignsummary': campaignSummary,
};
