// The hot paths the benchmark drives, each as the request a real client sends, how its success is
// recognised, and which id in the answer proves the write (checked against the store after the run).
export const BENCH_API_KEY = 'bench-api-key-0001';
export const OFFER = 12345;
export const AFFILIATE = 67890;
export const CREATIVE = 1057;

export type PathName = 'click' | 'lead' | 'conversion' | 'pixel';

export interface BenchRequest {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface PathSpec {
  name: PathName;
  title: string;
  /** The n-th request (n unique across the whole run, so keys such as emails never repeat). */
  request(n: number, reqids: string[]): BenchRequest;
  /** The id the answer carries when it succeeded, '' when it succeeded without one, null if not. */
  answered(status: number, body: string, headers: Record<string, string>): string | null;
  /** Whether the path needs clicks made beforehand (their reqids). */
  needsClicks: boolean;
}

const FIELDS = ['first_name', 'last_name', 'email', 'phone', 'zip', 'address', 'city', 'state', 'age', 'coverage'];

export const PATHS: Record<PathName, PathSpec> = {
  click: {
    name: 'click',
    title: 'click redirect (GET /?a=&c=, 302)',
    needsClicks: false,
    request: () => ({ method: 'GET', path: `/?a=${AFFILIATE}&c=${CREATIVE}&s1=bench` }),
    answered: (status, _body, headers) => {
      if (status !== 302) return null;
      const location = headers.location ?? headers.Location ?? '';
      return /[?&]reqid=([\w-]+)/.exec(location)?.[1] ?? null;
    },
  },
  lead: {
    name: 'lead',
    title: 'session post (POST /d.ashx, 10 fields, validated)',
    needsClicks: true,
    request: (n, reqids) => {
      const values: Record<string, string> = {
        first_name: 'Ada',
        last_name: 'Lovelace',
        email: `lead${n}@bench.example`,
        phone: '555-867-5309',
        zip: '90210',
        address: '12 Analytical Engine Way',
        city: 'London',
        state: 'CA',
        age: '36',
        coverage: 'full',
      };
      const body = new URLSearchParams({ ckm_offer_id: String(OFFER), ckm_request_id: reqids[n % reqids.length]! });
      for (const name of FIELDS) body.set(name, values[name]!);
      return {
        method: 'POST',
        path: '/d.ashx',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: body.toString(),
      };
    },
    answered: (status, body) => (status === 200 && body.includes('<code>0</code>') ? (/<leadid>(\w+)<\/leadid>/.exec(body)?.[1] ?? null) : null),
  },
  conversion: {
    name: 'conversion',
    title: 'conversion postback (GET /api/2/conversion.json)',
    needsClicks: true,
    request: (n, reqids) => ({
      method: 'GET',
      path: `/api/2/conversion.json?api_key=${BENCH_API_KEY}&click_id=${reqids[n % reqids.length]}&offer_id=${OFFER}&unique_id=u${n}`,
    }),
    answered: (status, body) => (status === 200 && body.includes('"Success"') ? (/"conversion_id":(\d+)/.exec(body)?.[1] ?? null) : null),
  },
  pixel: {
    name: 'pixel',
    title: 'conversion pixel (GET /p.ashx?f=img)',
    needsClicks: true,
    request: (n, reqids) => ({ method: 'GET', path: `/p.ashx?o=${OFFER}&r=${reqids[n % reqids.length]}&t=t${n}&f=img` }),
    answered: (status) => (status === 200 ? '' : null),
  },
};

/** The network the benchmark serves: one offer with ten lead fields, one affiliate with a campaign. */
export function benchNetwork() {
  return {
    network: { name: 'Bench Network', internal_affiliate_id: 1, global_redirect_url: null },
    api_keys: [BENCH_API_KEY],
    tracking_domains: [{ tracking_domain_id: 1, domain: '127.0.0.1', is_default: true }],
    affiliates: [
      { affiliate_id: 1, affiliate_name: 'Internal' },
      { affiliate_id: AFFILIATE, affiliate_name: 'Bench Partner' },
    ],
    advertisers: [{ advertiser_id: 5, advertiser_name: 'Bench Advertiser' }],
    offers: [
      {
        offer_id: OFFER,
        offer_name: 'Bench Offer',
        advertiser_id: 5,
        offer_url: 'https://lp.example.com/quote?reqid=#reqid#&aff=#affid#&sub=#s1#',
        thank_you_url: 'https://lp.example.com/thanks?lead=#leadid#',
        payout: 18,
        revenue: 22,
        session_hours: 87600,
        // The conversion and pixel paths convert each click many times (every request has its own
        // unique_id or t): counted every time, so that they measure the insert, not the duplicate.
        allow_duplicates: true,
        fields: [
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
        ],
      },
    ],
    creatives: [{ creative_id: CREATIVE, offer_id: OFFER }],
    campaigns: [{ campaign_id: 3870, affiliate_id: AFFILIATE, offer_id: OFFER, ckm_key: 'bench-post-key-0001' }],
  };
}
