// The network's entities in CAKE's shapes (CAKE-CLASSIC-API.md 3.1-3.3), children in schema order.
// What Crumb does not keep (tiers, contacts, tags, media types, creation dates) is answered as
// CAKE answers an entity without it: an empty list, an empty or nil element. The fixed values
// (one currency, one vertical, one offer contract per offer) are documented in the README.
import type { Advertiser, Affiliate, Campaign, Creative, Network, Offer } from '../network.js';
import { bool, currency, decimal, group, idName, int, list, nil, payoutOf, text } from './doc.js';
import type { Node } from './envelope.js';

/** Crumb's statuses as CAKE's ids (CAKE-CLASSIC-API.md 5). */
export const OFFER_STATUS = { active: { id: 1, name: 'Public' }, inactive: { id: 4, name: 'Inactive' } } as const;
export const ACCOUNT_STATUS = { active: { id: 1, name: 'Active' }, inactive: { id: 2, name: 'Inactive' } } as const;
export const CREATIVE_STATUS = { active: { id: 1, name: 'Active' }, inactive: { id: 2, name: 'Inactive' } } as const;
/** The one vertical of a network without verticals. */
export const VERTICAL = { vertical_id: 1, vertical_name: 'Default' } as const;
export const OFFER_TYPE = { offer_type_id: 1, offer_type_name: '3rd Party' } as const;
/** Media types are not kept: every campaign is of this one. */
export const MEDIA_TYPE = { media_type_id: 1, media_type_name: 'Other' } as const;

/** CAKE's price format of an offer: CPA and CPL are CAKE's CPA (id 1), RevShare id 5. */
export function priceFormat(format: Offer['price_format']): { id: number; name: string } {
  return format === 'RevShare' ? { id: 5, name: 'RevShare' } : { id: 1, name: format };
}

function priceFormatNode(offer: Offer): Node {
  const f = priceFormat(offer.price_format);
  return idName('price_format', 'price_format_id', f.id, 'price_format_name', f.name);
}

/** export Offers: the offer, its one contract (id = offer_id) inside offer_contracts. v5 and
 * later name the contract offer_contract_info, v3 and v4 offer_contract (KS reads the former). */
export function offerNode(network: Network, offer: Offer, version: number): Node {
  const advertiser = network.advertisers.get(offer.advertiser_id);
  const status = OFFER_STATUS[offer.status];
  const percent = offer.price_format === 'RevShare';
  const contract = group(version >= 5 ? 'offer_contract_info' : 'offer_contract', [
    int('offer_contract_id', offer.offer_id),
    text('offer_contract_name', 'Default'),
    priceFormatNode(offer),
    payoutOf('payout', offer.payout, percent),
    payoutOf('received', offer.revenue, percent),
    text('offer_link', offer.offer_url),
    text('thankyou_link', offer.thank_you_url),
    bool('hidden', false),
  ]);
  return group('offer', [
    int('offer_id', offer.offer_id),
    text('offer_name', offer.offer_name),
    idName('advertiser', 'advertiser_id', offer.advertiser_id, 'advertiser_name', advertiser?.advertiser_name),
    idName('vertical', 'vertical_id', VERTICAL.vertical_id, 'vertical_name', VERTICAL.vertical_name),
    idName('offer_type', 'offer_type_id', OFFER_TYPE.offer_type_id, 'offer_type_name', OFFER_TYPE.offer_type_name),
    idName('offer_status', 'offer_status_id', status.id, 'offer_status_name', status.name),
    bool('hidden', false),
    nil('offer_image_link'),
    int('default_offer_contract_id', offer.offer_id),
    list('offer_contracts', [contract]),
    list('tags', []),
    list('allowed_media_types', []),
    currency(),
    bool('ssl', offer.offer_url.startsWith('https:')),
    int('click_cookie_days', offer.cookie_days),
    int('impression_cookie_days', offer.cookie_days),
    text('preview_link', offer.offer_url),
    text('offer_description', ''),
    text('restrictions', ''),
    text('advertiser_extended_terms', ''),
    text('testing_instructions', ''),
    nil('date_created'),
    nil('expiration_date'),
    text('notes', ''),
  ]);
}

export function affiliateNode(affiliate: Affiliate): Node {
  const status = ACCOUNT_STATUS[affiliate.status];
  return group('affiliate', [
    int('affiliate_id', affiliate.affiliate_id),
    text('affiliate_name', affiliate.affiliate_name),
    nil('tier'),
    list('account_managers', []),
    idName('account_status', 'account_status_id', status.id, 'account_status_name', status.name),
    nil('inactive_reason'),
    group('address', [text('street_1', ''), text('street_2', ''), text('city', ''), text('state', ''), text('zip_code', ''), text('country', '')]),
    text('website', ''),
    nil('payment_type'),
    list('contacts', []),
    list('tags', []),
    list('traffic_types', []),
    decimal('minimum_payment_threshold', 0),
    bool('auto_payment_fee', false),
    text('payment_to', 'Company'),
    text('tax_class', ''),
    text('ssn_tax_id', ''),
    bool('pay_vat', false),
    text('swift_iban', ''),
    bool('referrals_enabled', false),
    nil('billing_cycle'),
    group('currency_settings', [currency(), nil('payment_setting')]),
    text('quickbooks_id', ''),
    bool('online_signup', false),
    bool('pay_for_conversions', true),
    bool('review', false),
    bool('suppression', false),
    nil('pixel_info'),
    bool('fire_global_pixel', false),
    list('blacklists', []),
    bool('auto_approve_campaigns', false),
    bool('auto_approve_pixels', false),
    bool('hide_offers', false),
    // Keys are kept as hashes only: there is none to show.
    nil('api_key'),
    nil('date_created'),
    nil('date_last_accepted_terms'),
    text('notes', ''),
  ]);
}

export function advertiserNode(advertiser: Advertiser): Node {
  const status = ACCOUNT_STATUS[advertiser.status];
  return group('advertiser', [
    int('advertiser_id', advertiser.advertiser_id),
    text('advertiser_name', advertiser.advertiser_name),
    list('account_managers', []),
    idName('account_status', 'account_status_id', status.id, 'account_status_name', status.name),
    group('address', [text('street_1', ''), text('street_2', ''), text('city', ''), text('state', ''), text('zip_code', ''), text('country', '')]),
    text('website', ''),
    list('contacts', []),
    list('tags', []),
    list('suppression_lists', []),
    list('blacklists', []),
    nil('billing_cycle'),
    text('quickbooks_id', ''),
    bool('online_signup', false),
    text('signup_ip_address', ''),
    nil('api_key'),
    nil('date_created'),
    text('notes', ''),
  ]);
}

/** The campaign's payout: its own, else its offer's. */
export function campaignPayout(campaign: Campaign, offer: Offer | undefined): number {
  return campaign.payout ?? offer?.payout ?? 0;
}

export function campaignNode(network: Network, campaign: Campaign, options: { postKey: boolean }): Node {
  const offer = network.offers.get(campaign.offer_id);
  const affiliate = network.affiliates.get(campaign.affiliate_id);
  const status = ACCOUNT_STATUS[campaign.status];
  const percent = offer?.price_format === 'RevShare';
  const f = priceFormat(offer?.price_format ?? 'CPA');
  const domain = network.domainFor(undefined).domain;
  return group('campaign', [
    int('campaign_id', campaign.campaign_id),
    text('third_party_name', ''),
    idName('campaign_type', 'campaign_type_id', 1, 'campaign_type_name', 'Standard'),
    idName('affiliate', 'affiliate_id', campaign.affiliate_id, 'affiliate_name', affiliate?.affiliate_name),
    idName('offer', 'offer_id', campaign.offer_id, 'offer_name', offer?.offer_name),
    group('offer_contract', [
      int('offer_contract_id', campaign.offer_id),
      text('offer_contract_name', 'Default'),
      idName('price_format', 'price_format_id', f.id, 'price_format_name', f.name),
    ]),
    bool('original', true),
    group('exceptions', [list('allowed_sub_affiliates', []), list('blocked_sub_affiliates', []), list('allowed_creatives', []), list('blocked_creatives', [])]),
    idName('account_status', 'account_status_id', status.id, 'account_status_name', status.name),
    payoutOf('payout', campaignPayout(campaign, offer), percent),
    currency(),
    idName('media_type', 'media_type_id', MEDIA_TYPE.media_type_id, 'media_type_name', MEDIA_TYPE.media_type_name),
    bool('paid', true),
    bool('paid_redirects', false),
    decimal('suppression_amount', 0),
    text('redirect_domain', domain),
    nil('click_cap'),
    nil('conversion_cap'),
    group('pixel_info', [text('pixel_status', 'Active'), text('pixel_html', ''), idName('hash_type', 'hash_type_id', 1, 'hash_type_name', 'None')]),
    nil('upsell_info'),
    group('submission_options', [options.postKey ? text('post_key', campaign.ckm_key) : nil('post_key')]),
    text('test_link', trackingLink(network, campaign.affiliate_id, firstCreative(network, campaign.offer_id))),
    nil('date_created'),
    nil('expiration_date'),
    text('notes', ''),
  ]);
}

export function creativeNode(creative: Creative): Node {
  const status = CREATIVE_STATUS[creative.status];
  return group('creative', [
    int('creative_id', creative.creative_id),
    text('creative_name', creative.creative_name ?? `Creative ${creative.creative_id}`),
    idName('creative_type', 'creative_type_id', 1, 'creative_type_name', 'Link'),
    idName('creative_status', 'creative_status_id', status.id, 'creative_status_name', status.name),
    text('offer_link_override', creative.offer_url ?? ''),
    nil('width'),
    nil('height'),
    list('creative_files', []),
    nil('date_created'),
    nil('expiration_date'),
    text('notes', ''),
  ]);
}

/** The offer's first active creative (the one a link is built with), else its first. */
export function firstCreative(network: Network, offer_id: number): Creative | undefined {
  const of = [...network.creatives.values()].filter((c) => c.offer_id === offer_id).sort((a, b) => a.creative_id - b.creative_id);
  return of.find((c) => c.status === 'active') ?? of[0];
}

/** The affiliate's tracking link for a creative (PROTOCOL.md 2): https://{domain}/?a=…&c=… */
export function trackingLink(network: Network, affiliate_id: number, creative: Creative | undefined): string {
  const domain = network.domainFor(undefined).domain;
  return creative ? `https://${domain}/?a=${affiliate_id}&c=${creative.creative_id}` : '';
}

