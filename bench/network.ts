// The networks the benchmark serves, and the traffic spread over them. `small` is demo-sized: one
// offer with ten lead fields, one affiliate with a campaign. `large` is a big network's size:
// 10,000 offers (each with its creative and the same ten fields), 10,000 affiliates and 50,000
// campaigns, five per affiliate; its clicks go to every campaign in turn, in a shuffled order, so
// the lookups see the whole network rather than one hot entry.
import { BENCH_API_KEY } from './paths.js';

export type NetworkSize = 'small' | 'large';

export interface BenchNetwork {
  size: NetworkSize;
  file: object;
  /** Every affiliate and creative with a campaign between them: what a tracking link names. */
  pairs: { a: number; c: number; offer: number }[];
}

const FIELDS = [
  { name: 'first_name', type: 'text', required: true, max_length: 50 },
  { name: 'last_name', type: 'text', required: true, max_length: 50 },
  { name: 'email', type: 'email', required: true },
  { name: 'phone', type: 'phone', required: true },
  { name: 'zip', type: 'zip', required: true },
  { name: 'address', type: 'text', max_length: 200 },
  { name: 'city', type: 'text', max_length: 100 },
  { name: 'state', type: 'text', max_length: 2 },
  { name: 'age', type: 'number' },
  { name: 'coverage', type: 'select', options: ['basic', 'full'] },
];

function offer(offer_id: number, advertiser_id: number) {
  return {
    offer_id,
    offer_name: `Bench Offer ${offer_id}`,
    advertiser_id,
    offer_url: 'https://lp.example.com/quote?reqid=#reqid#&aff=#affid#&sub=#s1#',
    thank_you_url: 'https://lp.example.com/thanks?lead=#leadid#',
    payout: 18,
    revenue: 22,
    session_hours: 87600,
    // The conversion and pixel paths convert each click many times (every request has its own
    // unique_id or t): counted every time, so that they measure the insert, not the duplicate.
    allow_duplicates: true,
    fields: FIELDS,
  };
}

function settings() {
  return {
    network: { name: 'Bench Network', internal_affiliate_id: 1, global_redirect_url: null },
    api_keys: [BENCH_API_KEY],
    tracking_domains: [{ tracking_domain_id: 1, domain: '127.0.0.1', is_default: true }],
  };
}

export function smallNetwork(): BenchNetwork {
  return {
    size: 'small',
    file: {
      ...settings(),
      affiliates: [
        { affiliate_id: 1, affiliate_name: 'Internal' },
        { affiliate_id: 67890, affiliate_name: 'Bench Partner' },
      ],
      advertisers: [{ advertiser_id: 5, advertiser_name: 'Bench Advertiser' }],
      offers: [offer(12345, 5)],
      creatives: [{ creative_id: 1057, offer_id: 12345 }],
      campaigns: [{ campaign_id: 3870, affiliate_id: 67890, offer_id: 12345, ckm_key: 'bench-post-key-0001' }],
    },
    pairs: [{ a: 67890, c: 1057, offer: 12345 }],
  };
}

const OFFERS = 10_000;
const AFFILIATES = 10_000;
const CAMPAIGNS_PER_AFFILIATE = 5;

export function largeNetwork(): BenchNetwork {
  const base = settings();
  const offerId = (i: number) => 100_001 + i;
  const creativeId = (i: number) => 200_001 + i;
  const affiliateId = (i: number) => 300_001 + i;
  const affiliates = Array.from({ length: AFFILIATES }, (_, i) => ({ affiliate_id: affiliateId(i), affiliate_name: `Bench Partner ${i + 1}` }));
  const campaigns: { campaign_id: number; affiliate_id: number; offer_id: number; ckm_key: string }[] = [];
  const pairs: BenchNetwork['pairs'] = [];
  for (let i = 0; i < AFFILIATES; i++) {
    for (let k = 0; k < CAMPAIGNS_PER_AFFILIATE; k++) {
      // Five different offers per affiliate, every offer in five campaigns.
      const o = (i + k * (OFFERS / CAMPAIGNS_PER_AFFILIATE)) % OFFERS;
      const campaign_id = 400_001 + campaigns.length;
      campaigns.push({ campaign_id, affiliate_id: affiliateId(i), offer_id: offerId(o), ckm_key: `bench-key-${campaign_id}` });
      pairs.push({ a: affiliateId(i), c: creativeId(o), offer: offerId(o) });
    }
  }
  return {
    size: 'large',
    file: {
      ...base,
      network: { ...base.network, internal_affiliate_id: affiliateId(0) },
      affiliates,
      advertisers: Array.from({ length: 100 }, (_, i) => ({ advertiser_id: 500 + i, advertiser_name: `Bench Advertiser ${i + 1}` })),
      offers: Array.from({ length: OFFERS }, (_, i) => offer(offerId(i), 500 + (i % 100))),
      creatives: Array.from({ length: OFFERS }, (_, i) => ({ creative_id: creativeId(i), offer_id: offerId(i) })),
      campaigns,
    },
    pairs: shuffled(pairs),
  };
}

export function benchNetwork(size: NetworkSize): BenchNetwork {
  return size === 'small' ? smallNetwork() : largeNetwork();
}

/** The same order on every run (a seeded Fisher-Yates), so that runs are comparable. */
function shuffled<T>(items: T[]): T[] {
  let seed = 20;
  const next = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
