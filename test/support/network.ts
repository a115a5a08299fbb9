// The network most server tests run against: small, and named for what each entity is for.
import type { NetworkFile } from '../../server/network.js';

export const API_KEY = 'test-api-key';
export const SECRET = 'test-secret-that-is-at-least-32-characters';
export const HOST = 'track.example.com';

export const AFF = { internal: 1, partner: 67890, inactive: 555, noCampaign: 777, second: 4242 } as const;
export const OFFER = { lead: 12345, lastTouch: 222, inactive: 333, cpl: 444, revshare: 555, otherAdvertiser: 666 } as const;
export const CREATIVE = { lead: 1057, lastTouch: 2001, inactiveOffer: 3001, inactive: 4001, cpl: 5001, revshare: 6001, otherAdvertiser: 6601 } as const;
export const CAMPAIGN = { lead: 3870, lastTouch: 3871, inactiveOffer: 3872, inactive: 3873, cpl: 3874, revshare: 3875, second: 3876, revshareSecond: 3877, otherAdvertiser: 3878 } as const;
export const ADVERTISER = { acme: 5, other: 6 } as const;
export const POST_KEY = 'Scrfdo7ZpJMNS89tiWtQq';
/** Added for lead posts (issue 4): an offer without a duplicate check, a campaign of a paused affiliate. */
export const LEADS = { noDedupeOffer: 888, pausedAffiliateCampaign: 3890, pausedAffiliateKey: 'paused-affiliate-key' } as const;

export function testNetworkFile(): NetworkFile {
  return {
    network: {
      name: 'Test Network',
      internal_affiliate_id: AFF.internal,
      global_redirect_url: 'https://network.example/inactive',
      reqid_secret: SECRET,
      suppression: { ips: ['203.0.113.66'], emails: ['blocked@example.com'], transaction_ids: ['FRAUD-1'] },
      // The tests' postback receivers listen on 127.0.0.1; the address rules' own tests turn it off.
      postbacks_allow_private: true,
    },
    api_keys: [API_KEY],
    tracking_domains: [
      { tracking_domain_id: 1, domain: HOST, is_default: true },
      { tracking_domain_id: 2, domain: 'old.example.com', domain_status: 'inactive' },
    ],
    affiliates: [
      { affiliate_id: AFF.internal, affiliate_name: 'Internal' },
      { affiliate_id: AFF.partner, affiliate_name: 'MediaBridge Partners' },
      { affiliate_id: AFF.inactive, affiliate_name: 'Paused Partner', status: 'inactive' },
      { affiliate_id: AFF.noCampaign, affiliate_name: 'Partner Without Campaigns' },
      { affiliate_id: AFF.second, affiliate_name: 'Second Partner' },
    ],
    advertisers: [{ advertiser_id: 5, advertiser_name: 'Acme Insurance' }],
    offers: [
      {
        offer_id: OFFER.lead,
        offer_name: 'Auto Insurance Quote',
        advertiser_id: 5,
        offer_url:
          'https://lp.example.com/quote?reqid=#reqid#&aff=#affid#&o=#oid#&camp=#campid#&c=#cid#&sub=#s1#&s2=#s2#&v=#vstid#&x=#unknown#',
        thank_you_url: 'https://lp.example.com/thanks?lead=#leadid#',
        payout: 18,
        revenue: 22,
        session_hours: 24,
        fields: [
          { name: 'first_name', type: 'text', required: true, max_length: 50 },
          { name: 'last_name', type: 'text', required: true, max_length: 50 },
          { name: 'email', type: 'email', required: true },
          { name: 'phone', type: 'phone' },
          { name: 'zip', type: 'zip', required: true },
          { name: 'age', type: 'number' },
          { name: 'birth_date', type: 'date' },
          { name: 'coverage', type: 'select', options: ['basic', 'full'] },
          { name: 'address', type: 'text', max_length: 200 },
          { name: 'comments', type: 'text', max_length: 500 },
        ],
      },
      {
        offer_id: OFFER.lastTouch,
        offer_name: 'Home Loan (last touch)',
        advertiser_id: 5,
        offer_url: 'https://lp.example.com/loan?r=#reqid#',
        attribution: 'last_touch',
        payout: 10,
        revenue: 12,
      },
      {
        offer_id: OFFER.inactive,
        offer_name: 'Retired Offer',
        advertiser_id: 5,
        offer_url: 'https://lp.example.com/old?r=#reqid#',
        status: 'inactive',
      },
      {
        offer_id: OFFER.cpl,
        offer_name: 'Solar Leads (pays per lead)',
        advertiser_id: 5,
        offer_url: 'https://solar.example.com/?reqid=#reqid#',
        thank_you_url: 'https://solar.example.com/thanks?lead=#leadid#&aff=#affid#',
        price_format: 'CPL',
        payout: 25,
        revenue: 30,
        duplicate_days: 30,
        fields: [
          { name: 'first_name', type: 'text', required: true },
          { name: 'email', type: 'email', required: true },
        ],
      },
      {
        offer_id: OFFER.revshare,
        offer_name: 'Shop (revenue share)',
        advertiser_id: 5,
        offer_url: 'https://shop.example.com/?reqid=#reqid#',
        price_format: 'RevShare',
        payout: 10,
        revenue: 15,
      },
    ],
    creatives: [
      { creative_id: CREATIVE.lead, offer_id: OFFER.lead },
      { creative_id: CREATIVE.lastTouch, offer_id: OFFER.lastTouch, offer_url: 'https://lp2.example.com/loan?r=#reqid#&c=#cid#' },
      { creative_id: CREATIVE.inactiveOffer, offer_id: OFFER.inactive },
      { creative_id: CREATIVE.inactive, offer_id: OFFER.lead, status: 'inactive' },
      { creative_id: CREATIVE.cpl, offer_id: OFFER.cpl },
      { creative_id: CREATIVE.revshare, offer_id: OFFER.revshare },
    ],
    campaigns: [
      { campaign_id: CAMPAIGN.lead, affiliate_id: AFF.partner, offer_id: OFFER.lead, ckm_key: POST_KEY },
      { campaign_id: CAMPAIGN.lastTouch, affiliate_id: AFF.partner, offer_id: OFFER.lastTouch, ckm_key: 'last-touch-key' },
      { campaign_id: CAMPAIGN.inactiveOffer, affiliate_id: AFF.partner, offer_id: OFFER.inactive, ckm_key: 'inactive-offer-key' },
      { campaign_id: CAMPAIGN.inactive, affiliate_id: AFF.second, offer_id: OFFER.lastTouch, ckm_key: 'paused-campaign', status: 'inactive' },
      { campaign_id: CAMPAIGN.cpl, affiliate_id: AFF.partner, offer_id: OFFER.cpl, ckm_key: 'solar-post-key', payout: 27.5 },
      { campaign_id: CAMPAIGN.revshare, affiliate_id: AFF.partner, offer_id: OFFER.revshare, ckm_key: 'shop-post-key' },
      { campaign_id: CAMPAIGN.second, affiliate_id: AFF.second, offer_id: OFFER.lead, ckm_key: 'second-post-key' },
    ],
  };
}

/** Events and an offer that counts every conversion (conversionNetworkFile). */
export const EVENTS = {
  /** On OFFER.lead: once per click, 0.50 / 1.00. */
  viewed: 2,
  /** On OFFER.lead: RevShare 5 % / 8 %, every one counted. */
  bought: 3,
  /** On OFFER.lead: inactive. */
  retired: 4,
  /** On OFFER.lead: the largest id there is. */
  far: 2_000_000_000,
  /** On OFFER_REPEAT: every one counted. */
  issueRead: 2,
} as const;
export const REPEAT = { offer: 1212, creative: 7001, campaign: 3879 } as const;

/** The test network plus what the conversion tests need, appended so that testNetworkFile() keeps
 * its shape: a second advertiser with an offer of its own (p.ashx?a=, advertiser filters), a
 * campaign that overrides a RevShare offer's percentages, events on the lead offer, and an offer
 * whose clicks may convert any number of times (allow_duplicates). */
export function conversionNetworkFile(): NetworkFile {
  const file = testNetworkFile();
  file.offers.find((o) => o.offer_id === OFFER.lead)!.events = [
    { event_id: EVENTS.viewed, event_name: 'Quote Viewed', payout: 0.5, revenue: 1, price_format: 'CPE' },
    { event_id: EVENTS.bought, event_name: 'Policy Bought', payout: 5, revenue: 8, price_format: 'RevShare', allow_duplicates: true },
    { event_id: EVENTS.retired, event_name: 'Retired Event', payout: 9, status: 'inactive' },
    { event_id: EVENTS.far, event_name: 'Far Event', payout: 0.01 },
  ];
  file.offers.push({
    offer_id: REPEAT.offer,
    offer_name: 'Magazine (every order counts)',
    advertiser_id: 5,
    offer_url: 'https://mag.example.com/?reqid=#reqid#',
    payout: 2,
    revenue: 3,
    allow_duplicates: true,
    events: [{ event_id: EVENTS.issueRead, event_name: 'Issue Read', payout: 0.1, revenue: 0.2, allow_duplicates: true }],
  });
  file.creatives.push({ creative_id: REPEAT.creative, offer_id: REPEAT.offer });
  file.campaigns.push({ campaign_id: REPEAT.campaign, affiliate_id: AFF.partner, offer_id: REPEAT.offer, ckm_key: 'magazine-key' });
  file.advertisers.push({ advertiser_id: ADVERTISER.other, advertiser_name: 'Other Advertiser' });
  file.offers.push({
    offer_id: OFFER.otherAdvertiser,
    offer_name: "Another advertiser's offer",
    advertiser_id: ADVERTISER.other,
    offer_url: 'https://other.example.com/?reqid=#reqid#',
    payout: 5,
    revenue: 7,
  });
  file.creatives.push({ creative_id: CREATIVE.otherAdvertiser, offer_id: OFFER.otherAdvertiser });
  file.campaigns.push(
    { campaign_id: CAMPAIGN.revshareSecond, affiliate_id: AFF.second, offer_id: OFFER.revshare, ckm_key: 'shop-second-key', payout: 12.5, revenue: 20 },
    { campaign_id: CAMPAIGN.otherAdvertiser, affiliate_id: AFF.partner, offer_id: OFFER.otherAdvertiser, ckm_key: 'other-adv-key' },
  );
  return file;
}

/** The test network plus what the lead post tests need, appended in the same way: an offer without
 * a duplicate check, and a campaign of the paused affiliate. */
export function leadNetworkFile(): NetworkFile {
  const file = testNetworkFile();
  file.offers.push({
    offer_id: LEADS.noDedupeOffer,
    offer_name: 'Newsletter (no duplicate check)',
    advertiser_id: 5,
    offer_url: 'https://news.example.com/?reqid=#reqid#',
    thank_you_url: 'https://news.example.com/thanks',
    duplicate_days: 0,
    fields: [
      { name: 'email', type: 'email', required: true },
      { name: 'first_name', type: 'text' },
    ],
  });
  file.campaigns.push({ campaign_id: LEADS.pausedAffiliateCampaign, affiliate_id: AFF.inactive, offer_id: OFFER.lead, ckm_key: LEADS.pausedAffiliateKey });
  return file;
}
