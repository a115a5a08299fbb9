// The network `npm start` runs when no --config is given: one advertiser, one offer with a lead
// form, an affiliate with a campaign, and the internal affiliate for organic traffic. Its landing
// and thank-you pages are served by this server under /demo/ (pages.ts), or by another origin
// (`pages`), as an advertiser's pages are in real life.
import type { NetworkFile } from '../network.js';

export const DEMO_API_KEY = 'demo-api-key';

/** The ids the demo's links and pages use. */
export const DEMO = { internal: 1, affiliate: 67890, offer: 12345, creative: 1057, campaign: 3870 } as const;

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
        thank_you_url: `${pages}/demo/thanks?lead=#leadid#`,
        payout: 18,
        revenue: 22,
        fields: [
          { name: 'first_name', type: 'text', required: true, max_length: 50 },
          { name: 'last_name', type: 'text', required: true, max_length: 50 },
          { name: 'email', type: 'email', required: true },
          { name: 'phone', type: 'phone' },
          { name: 'zip', type: 'zip', required: true },
        ],
      },
    ],
    creatives: [{ creative_id: DEMO.creative, offer_id: DEMO.offer, creative_name: 'Quote banner 300x250' }],
    campaigns: [{ campaign_id: DEMO.campaign, affiliate_id: DEMO.affiliate, offer_id: DEMO.offer, ckm_key: 'Scrfdo7ZpJMNS89tiWtQq' }],
  };
}
