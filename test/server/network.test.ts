import { describe, expect, it } from 'vitest';
import { demoNetwork } from '../../server/demo/network.js';
import { loadNetwork, NetworkError } from '../../server/network.js';
import { testNetworkFile } from '../support/network.js';

function problems(mutate: (file: any) => void): string[] {
  const file = structuredClone(testNetworkFile()) as any;
  mutate(file);
  try {
    loadNetwork(file);
  } catch (error) {
    if (error instanceof NetworkError) return error.problems;
    throw error;
  }
  return [];
}

describe('the network file', () => {
  it('loads the example of PROTOCOL.md section 0 with its defaults', () => {
    const network = loadNetwork({
      network: { name: 'Demo Network', internal_affiliate_id: 1, global_redirect_url: null },
      api_keys: ['demo-api-key'],
      tracking_domains: [{ tracking_domain_id: 1, domain: 'localhost', is_default: true }],
      affiliates: [
        { affiliate_id: 1, affiliate_name: 'Internal' },
        { affiliate_id: 67890, affiliate_name: 'MediaBridge Partners' },
      ],
      advertisers: [{ advertiser_id: 5, advertiser_name: 'Acme Insurance' }],
      offers: [
        {
          offer_id: 12345,
          offer_name: 'Auto Insurance Quote',
          advertiser_id: 5,
          offer_url: 'https://lp.example.com/quote?reqid=#reqid#&aff=#affid#&sub=#s1#',
          thank_you_url: 'https://lp.example.com/thanks?lead=#leadid#',
          payout: 18.0,
          revenue: 22.0,
          cookie_days: 30,
          session_hours: 720,
          fields: [
            { name: 'first_name', type: 'text', required: true, max_length: 50 },
            { name: 'email', type: 'email', required: true },
            { name: 'zip', type: 'zip' },
          ],
        },
      ],
      creatives: [{ creative_id: 1057, offer_id: 12345 }],
      campaigns: [{ campaign_id: 3870, affiliate_id: 67890, offer_id: 12345, ckm_key: 'Scrfdo7ZpJMNS89tiWtQq' }],
    });
    const offer = network.offers.get(12345)!;
    expect(offer).toMatchObject({
      status: 'active',
      dedupe_transaction_id: true,
      attribution: 'first_touch',
      price_format: 'CPA',
      events: [],
      allow_duplicates: false,
      pixel_overrides: 'revenue',
    });
    expect(offer.max_sale_amount).toBeUndefined();
    expect(network.campaignFor(67890, 12345)?.campaign_id).toBe(3870);
    expect(network.domainFor('LOCALHOST:3000').tracking_domain_id).toBe(1);
    expect(network.cors_origins).toEqual(['https://lp.example.com']);
    // Postbacks go to public addresses on ports 80 and 443 unless the file says otherwise.
    expect(network.postbacks_allow_private).toBe(false);
    expect(network.postback_ports).toEqual([80, 443]);
  });

  it('loads the demo network, whose postback receiver is on this machine', () => {
    const demo = loadNetwork(demoNetwork('http://localhost:3000'));
    expect(demo.offers.size).toBe(1);
    expect(demo.postbacks_allow_private).toBe(true);
  });

  it('takes the postback target settings, and names a bad one', () => {
    const file = structuredClone(testNetworkFile()) as any;
    file.network.postbacks_allow_private = false;
    file.network.postback_ports = [443, 8443];
    const network = loadNetwork(file);
    expect([network.postbacks_allow_private, network.postback_ports]).toEqual([false, [443, 8443]]);
    expect(problems((f) => (f.network.postback_ports = [0, 70000]))).toEqual([
      'network postback_ports[0]: Too small: expected number to be >=1',
      'network postback_ports[1]: Too big: expected number to be <=65535',
    ]);
    expect(problems((f) => (f.network.postbacks_allow_private = 'yes'))).toEqual(['network postbacks_allow_private: Invalid input: expected boolean, received string']);
  });

  it('answers other hosts with the default tracking domain', () => {
    const network = loadNetwork(testNetworkFile());
    expect(network.domainFor('unknown.example').domain).toBe('track.example.com');
    expect(network.domainFor(undefined).domain).toBe('track.example.com');
  });

  it('lists every bad entry on its own line: entity, field, problem', () => {
    const lines = problems((f) => {
      f.offers[0].payout = 'lots';
      f.offers[1].offer_url = 'not a url';
      f.affiliates[1].affiliate_name = '';
      f.campaigns[0].ckm_key = undefined;
    });
    expect(lines).toHaveLength(4);
    expect(lines).toContainEqual(expect.stringMatching(/^offers\[0\] \(offer_id 12345\) payout: .*number/));
    expect(lines).toContainEqual('offers[1] (offer_id 222) offer_url: must be an absolute http:// or https:// URL');
    expect(lines).toContainEqual(expect.stringMatching(/^affiliates\[1\] \(affiliate_id 67890\) affiliate_name: /));
    expect(lines).toContainEqual('campaigns[0] (campaign_id 3870) ckm_key: is required');
  });

  it('names unknown fields, which are usually typos', () => {
    expect(problems((f) => (f.offers[0].cookie_dayz = 10))).toEqual(['offers[0] (offer_id 12345) cookie_dayz: unknown field (a typo?)']);
  });

  it('checks references between entities', () => {
    const lines = problems((f) => {
      f.creatives[0].offer_id = 999;
      f.campaigns[0].affiliate_id = 998;
      f.offers[0].advertiser_id = 997;
      f.network.internal_affiliate_id = 996;
    });
    expect(lines).toEqual(
      expect.arrayContaining([
        'creatives[0] (creative_id 1057) offer_id: offer 999 is not in offers',
        'campaigns[0] (campaign_id 3870) affiliate_id: affiliate 998 is not in affiliates',
        'offers[0] (offer_id 12345) advertiser_id: advertiser 997 is not in advertisers',
        'network internal_affiliate_id: affiliate 996 is not in affiliates',
      ]),
    );
  });

  it('refuses duplicate ids, two campaigns for one affiliate and offer, and two default domains', () => {
    const lines = problems((f) => {
      f.offers.push({ ...f.offers[1] });
      f.campaigns.push({ ...f.campaigns[0], campaign_id: 9999 });
      f.tracking_domains[1].is_default = true;
    });
    expect(lines).toEqual(
      expect.arrayContaining([
        'offers[5] offer_id: 222 is used by another entry',
        'campaigns[7] (campaign_id 9999) offer_id: affiliate 67890 already has campaign 3870 for offer 12345',
        'tracking_domains is_default: only one domain may be the default (track.example.com, old.example.com)',
      ]),
    );
  });

  it('refuses lead fields it cannot validate', () => {
    const lines = problems((f) => {
      f.offers[0].fields.push({ name: 'plan', type: 'select' }, { name: 'ckm_offer_id' });
    });
    expect(lines).toEqual([
      'offers[0] (offer_id 12345) fields[10].options: a select field needs options',
      'offers[0] (offer_id 12345) fields[11].name: ckm_ names are reserved for the post keys',
    ]);
    expect(problems((f) => f.offers[0].fields.push({ name: 'ZIP', type: 'zip' }))).toEqual([
      'offers[0] (offer_id 12345) fields: "ZIP" is listed twice',
    ]);
  });

  it('takes offer events, allow_duplicates, pixel_overrides and max_sale_amount, with their defaults', () => {
    const file = structuredClone(testNetworkFile()) as any;
    Object.assign(file.offers[0], {
      allow_duplicates: true,
      pixel_overrides: 'all',
      max_sale_amount: 2500.5,
      events: [
        { event_id: 2, event_name: 'Quote Viewed', payout: 0.5, revenue: 1 },
        { event_id: 3, event_name: 'Bought', payout: 5, revenue: 8, price_format: 'RevShare', allow_duplicates: true, status: 'inactive' },
      ],
    });
    const offer = loadNetwork(file).offers.get(file.offers[0].offer_id)!;
    expect(offer).toMatchObject({ allow_duplicates: true, pixel_overrides: 'all', max_sale_amount: 2500.5 });
    expect(offer.events).toEqual([
      { event_id: 2, event_name: 'Quote Viewed', payout: 0.5, revenue: 1, price_format: 'CPE', allow_duplicates: false, status: 'active' },
      { event_id: 3, event_name: 'Bought', payout: 5, revenue: 8, price_format: 'RevShare', allow_duplicates: true, status: 'inactive' },
    ]);
  });

  it('refuses bad events and settings, one line per problem', () => {
    expect(
      problems((f) => {
        f.offers[0].pixel_overrides = 'some';
        f.offers[0].max_sale_amount = 0;
        f.offers[0].events = [
          { event_id: 2, event_name: 'A', payout: 1 },
          { event_id: 2, event_name: 'B' },
          { event_id: 0, event_name: 'Zero' },
          { event_id: 5, event_name: 'Cut', price_format: 'RevShare', payout: 150 },
          { event_id: 6, event_name: 'Typo', payuot: 1 },
        ];
      }),
    ).toEqual([
      'offers[0] (offer_id 12345) events[2].event_id: Too small: expected number to be >0',
      'offers[0] (offer_id 12345) events[4].payuot: unknown field (a typo?)',
      'offers[0] (offer_id 12345) pixel_overrides: Invalid option: expected one of "none"|"revenue"|"all"',
      'offers[0] (offer_id 12345) max_sale_amount: Too small: expected number to be >0',
    ]);
    expect(
      problems((f) => {
        f.offers[0].events = [
          { event_id: 2, event_name: 'A', payout: 1 },
          { event_id: 2, event_name: 'B' },
          { event_id: 5, event_name: 'Cut', price_format: 'RevShare', payout: 150 },
        ];
      }),
    ).toEqual([
      'offers[0] (offer_id 12345) events[1] event_id: 2 is listed twice',
      "offers[0] (offer_id 12345) events[2] payout: a RevShare event's payout and revenue are percentages, at most 100",
    ]);
  });

  it('puts the suppression list\'s addresses in the form client addresses take', () => {
    const file = structuredClone(testNetworkFile()) as any;
    file.network.suppression.ips = ['::ffff:198.51.100.20', '2001:DB8::7'];
    expect([...loadNetwork(file).suppression.ips]).toEqual(['198.51.100.20', '2001:db8::7']);
  });
});
