// The network `npm start` runs when no --config is given: one advertiser, one offer with a lead
// form (CAKE's standard field names, so that integrations written for CAKE post to it unchanged)
// and two engagement events, an affiliate with a campaign, and the internal affiliate for organic
// traffic. Its landing and thank-you pages are served by this server under /demo/ (pages.ts), or
// by another origin (`pages`), as an advertiser's pages are in real life.
import type { NetworkFile } from '../network.js';

export const DEMO_API_KEY = 'demo-api-key';

/** The ids the demo's links and pages use. */
export const DEMO = { internal: 1, affiliate: 67890, offer: 12345, creative: 1057, campaign: 3870 } as const;
/** The offer's engagement events: each funnel page fires its own on every view; Crumb records
 * each once per click. */
export const DEMO_EVENTS = { landing: 1, details: 2 } as const;

/** `base`: this tracking server's origin (http://localhost:3000). `pages`: the origin serving the
 * demo pages (default: this server). */
export function demoNetwork(base: string, pages: string = base): NetworkFile {
  return {
    // The demo affiliate's postback receiver is this server itself (on localhost).
    network: { name: 'Crumb Demo Network', internal_affiliate_id: DEMO.internal, global_redirect_url: null, postbacks_allow_private: true },
    api_keys: [DEMO_API_KEY],
    // host, not hostname: the posting document names this domain as the post URL, port included.
    tracking_domains: [{ tracking_domain_id: 1, domain: new URL(base).host, is_default: true }],
    affiliates: [
      { affiliate_id: DEMO.internal, affiliate_name: 'Internal' },
      { affiliate_id: DEMO.affiliate, affiliate_name: 'MediaBridge Partners' },
    ],
    advertisers: [{ advertiser_id: 5, advertiser_name: 'Acme Insurance' }],
    offers: [
      {
        offer_id: DEMO.offer,
        offer_name: 'Auto Insurance Quote',
        advertiser_id: 5,
        offer_url: `${pages}/demo/landing?reqid=#reqid#&aff=#affid#&sub=#s1#`,
        thank_you_url: `${pages}/demo/thanks?leadid=#leadid#`,
        payout: 18,
        revenue: 22,
        fields: [
          { name: 'first_name', type: 'text', required: true, max_length: 50 },
          { name: 'last_name', type: 'text', required: true, max_length: 50 },
          { name: 'email_address', type: 'email', required: true },
          { name: 'phone_home', type: 'phone' },
          { name: 'address', type: 'text', max_length: 200 },
          { name: 'city', type: 'text', max_length: 100 },
          { name: 'state', type: 'text', max_length: 2 },
          { name: 'zip_code', type: 'zip', required: true },
        ],
        events: [
          { event_id: DEMO_EVENTS.landing, event_name: 'Quote Form Viewed', payout: 0.1, revenue: 0.25, price_format: 'CPE' },
          { event_id: DEMO_EVENTS.details, event_name: 'Details Page Viewed', payout: 0.2, revenue: 0.5, price_format: 'CPE' },
        ],
      },
    ],
    creatives: [{ creative_id: DEMO.creative, offer_id: DEMO.offer, creative_name: 'Quote banner 300x250' }],
    campaigns: [{ campaign_id: DEMO.campaign, affiliate_id: DEMO.affiliate, offer_id: DEMO.offer, ckm_key: 'Scrfdo7ZpJMNS89tiWtQq' }],
  };
}
