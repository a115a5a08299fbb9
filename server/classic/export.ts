// export.asmx (CAKE-CLASSIC-API.md 2.1): Offers, Affiliates, Campaigns, Advertisers, Creatives,
// read from the network snapshot as GET /api/2/{kind}.json reads it: the same visibility rule
// (visibleEntities: every entity for an admin key, the scoped ones otherwise), then CAKE's filters,
// sorts and 1-based paging, with row_count the total of matches.
import { visibleEntities } from '../api/network.js';
import { checkAsked } from '../auth.js';
import type { Advertiser, Affiliate, Campaign, Creative, EntityKind, Offer } from '../network.js';
import { ClassicError, checkUnlimited, flag, idFilter, rows, sortRows, str, type ClassicCall, type Method } from './call.js';
import { list, listDoc } from './doc.js';
import type { Node } from './envelope.js';
import { ACCOUNT_STATUS, advertiserNode, offerNode, affiliateNode, campaignNode, creativeNode, CREATIVE_STATUS, MEDIA_TYPE, OFFER_STATUS, OFFER_TYPE, VERTICAL } from './shapes.js';

/** The page of `all` the call asks for, in its order, as a list answer. */
function page<T>(call: ClassicCall, root: string, container: string, all: T[], sorts: Record<string, (row: T) => string | number>, node: (row: T) => Node) {
  const p = call.params;
  const sortField = str(p, 'sort_field');
  const by = sortField && sortField !== '0' ? sorts[sortField.toLowerCase()] : Object.values(sorts)[0];
  if (!by) throw new ClassicError(`Invalid sort_field: "${sortField}" is not one of ${Object.keys(sorts).join(', ')}`);
  const sorted = sortRows(all, by, flag(p, 'sort_descending') ?? false);
  const paging = rows(p);
  checkUnlimited(paging, sorted.length);
  return listDoc(root, sorted.length, list(container, sorted.slice(paging.offset, paging.offset + paging.limit).map(node)));
}

function visible<T>(call: ClassicCall, kind: EntityKind): T[] {
  return visibleEntities(call.deps.network, kind, call.key, call.scope) as T[];
}

/** A name filter: CAKE matches part of the name, ignoring case. */
function nameMatches(name: string | undefined, asked: string | undefined): boolean {
  return asked === undefined || (name ?? '').toLowerCase().includes(asked.toLowerCase());
}

/** A filter on something Crumb keeps one of (vertical, offer type, media type): its id matches
 * every entity, another id none. */
function onlyOne(asked: number | undefined, id: number): boolean {
  return asked === undefined || asked === id;
}

const offers: Method = {
  v2: 'GET /offers.json',
  root: 'offer_export_response',
  list: true,
  versions: [1, 6],
  run(call) {
    const p = call.params;
    const offer_id = idFilter(p, 'offer_id');
    const advertiser_id = idFilter(p, 'advertiser_id');
    const status = idFilter(p, 'offer_status_id');
    const name = str(p, 'offer_name');
    const vertical = idFilter(p, 'vertical_id');
    const type = idFilter(p, 'offer_type_id');
    const media = idFilter(p, 'media_type_id');
    const tag = idFilter(p, 'tag_id');
    const all = visible<Offer>(call, 'offers').filter(
      (o) =>
        (offer_id === undefined || o.offer_id === offer_id) &&
        (advertiser_id === undefined || o.advertiser_id === advertiser_id) &&
        (status === undefined || OFFER_STATUS[o.status].id === status) &&
        nameMatches(o.offer_name, name) &&
        onlyOne(vertical, VERTICAL.vertical_id) &&
        onlyOne(type, OFFER_TYPE.offer_type_id) &&
        onlyOne(media, MEDIA_TYPE.media_type_id) &&
        tag === undefined,
    );
    return page(call, 'offer_export_response', 'offers', all, { offer_id: (o) => o.offer_id, offer_name: (o) => o.offer_name.toLowerCase(), date_created: (o) => o.offer_id, expiration_date: (o) => o.offer_id }, (o) =>
      offerNode(call.deps.network, o, call.version),
    );
  },
};

const affiliates: Method = {
  v2: 'GET /affiliates.json',
  root: 'affiliate_export_response',
  list: true,
  versions: [1, 6],
  run(call) {
    const p = call.params;
    const affiliate_id = idFilter(p, 'affiliate_id');
    const name = str(p, 'affiliate_name');
    const manager = idFilter(p, 'account_manager_id');
    const tag = idFilter(p, 'tag_id');
    const status = idFilter(p, 'account_status_id');
    const all = visible<Affiliate>(call, 'affiliates').filter(
      (a) =>
        (affiliate_id === undefined || a.affiliate_id === affiliate_id) &&
        nameMatches(a.affiliate_name, name) &&
        (status === undefined || ACCOUNT_STATUS[a.status].id === status) &&
        manager === undefined &&
        tag === undefined,
    );
    return page(call, 'affiliate_export_response', 'affiliates', all, { affiliate_id: (a) => a.affiliate_id, affiliate_name: (a) => a.affiliate_name.toLowerCase(), date_created: (a) => a.affiliate_id }, affiliateNode);
  },
};

const campaigns: Method = {
  v2: 'GET /campaigns.json',
  root: 'campaign_export_response',
  list: true,
  versions: [1, 8],
  run(call) {
    const p = call.params;
    const campaign_id = idFilter(p, 'campaign_id');
    // v8 renamed offer_id and affiliate_id; either name is read at any version.
    const offer_id = idFilter(p, 'site_offer_id', 'offer_id');
    const affiliate_id = idFilter(p, 'source_affiliate_id', 'affiliate_id');
    const status = idFilter(p, 'account_status_id');
    const media = idFilter(p, 'media_type_id');
    const channel = idFilter(p, 'channel_id');
    checkAsked(call.key, call.deps.network, { affiliate_id, offer_id });
    const all = visible<Campaign>(call, 'campaigns').filter(
      (c) =>
        (campaign_id === undefined || c.campaign_id === campaign_id) &&
        (offer_id === undefined || c.offer_id === offer_id) &&
        (affiliate_id === undefined || c.affiliate_id === affiliate_id) &&
        (status === undefined || ACCOUNT_STATUS[c.status].id === status) &&
        onlyOne(media, MEDIA_TYPE.media_type_id) &&
        channel === undefined,
    );
    // The post key is the campaign's secret: shown to admin keys only.
    const postKey = call.key.role === 'admin';
    return page(call, 'campaign_export_response', 'campaigns', all, { campaign_id: (c) => c.campaign_id, date_created: (c) => c.campaign_id }, (c) =>
      campaignNode(call.deps.network, c, { postKey }),
    );
  },
};

const advertisers: Method = {
  v2: 'GET /advertisers.json',
  root: 'advertiser_export_response',
  list: true,
  versions: [1, 6],
  run(call) {
    const p = call.params;
    const advertiser_id = idFilter(p, 'advertiser_id');
    const name = str(p, 'advertiser_name');
    const manager = idFilter(p, 'account_manager_id');
    const tag = idFilter(p, 'tag_id');
    const all = visible<Advertiser>(call, 'advertisers').filter(
      (a) => (advertiser_id === undefined || a.advertiser_id === advertiser_id) && nameMatches(a.advertiser_name, name) && manager === undefined && tag === undefined,
    );
    return page(call, 'advertiser_export_response', 'advertisers', all, { advertiser_id: (a) => a.advertiser_id, advertiser_name: (a) => a.advertiser_name.toLowerCase(), date_created: (a) => a.advertiser_id }, advertiserNode);
  },
};

const creatives: Method = {
  v2: 'GET /creatives.json',
  root: 'creative_export_response',
  list: true,
  versions: [1, 3],
  run(call) {
    const p = call.params;
    const offer_id = idFilter(p, 'offer_id');
    if (offer_id === undefined) throw new ClassicError('offer_id is required: creatives are exported one offer at a time');
    const creative_id = idFilter(p, 'creative_id');
    const name = str(p, 'creative_name');
    const type = idFilter(p, 'creative_type_id');
    const status = idFilter(p, 'creative_status_id');
    const all = visible<Creative>(call, 'creatives').filter(
      (c) =>
        c.offer_id === offer_id &&
        (creative_id === undefined || c.creative_id === creative_id) &&
        nameMatches(c.creative_name, name) &&
        onlyOne(type, 1) &&
        (status === undefined || CREATIVE_STATUS[c.status].id === status),
    );
    return page(call, 'creative_export_response', 'creatives', all, { creative_id: (c) => c.creative_id, creative_name: (c) => (c.creative_name ?? '').toLowerCase(), date_created: (c) => c.creative_id }, creativeNode);
  },
};

export const exportMethods: Record<string, Method> = { Offers: offers, Affiliates: affiliates, Campaigns: campaigns, Advertisers: advertisers, Creatives: creatives };
