// The network file (PROTOCOL.md section 0): its schema, its validation into one line per bad entry,
// and the lookups the request paths need (creative -> offer, affiliate + offer -> campaign, host ->
// tracking domain). Entities keep the contract's snake_case names.
import { z } from 'zod';

const id = z.number().int().positive().max(2147483647);
const status = z.enum(['active', 'inactive']).default('active');
const money = z.number().min(0).max(1_000_000);
const httpUrl = z.string().refine(isHttpUrl, 'must be an absolute http:// or https:// URL');

export const FIELD_TYPES = ['text', 'number', 'email', 'phone', 'zip', 'date', 'select'] as const;

const field = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'must start with a letter and hold only letters, digits and _')
      .refine((n) => !n.toLowerCase().startsWith('ckm_'), 'ckm_ names are reserved for the post keys'),
    type: z.enum(FIELD_TYPES).default('text'),
    required: z.boolean().default(false),
    options: z.array(z.string().max(200)).min(1).optional(),
    max_length: z.number().int().positive().max(10000).optional(),
  })
  .refine((f) => f.type !== 'select' || f.options, { message: 'a select field needs options', path: ['options'] });

const schema = z.strictObject({
  network: z.strictObject({
    name: z.string().min(1).max(200),
    internal_affiliate_id: id,
    global_redirect_url: httpUrl.nullable().default(null),
    /** The reqid MAC key. Without it one is generated and kept in the database. */
    reqid_secret: z.string().min(32, 'must be at least 32 characters').optional(),
    /** Origins allowed to post leads by AJAX, besides those of the offer and thank-you URLs. */
    cors_origins: z.array(z.string().refine(isOrigin, 'must be an origin such as https://lp.example.com')).default([]),
    /** A credential for GET /metrics only (a scraper needs no API key). */
    metrics_token: z.string().min(16, 'must be at least 16 characters').max(200).optional(),
    suppression: z
      .strictObject({
        ips: z.array(z.string()).default([]),
        emails: z.array(z.string()).default([]),
        transaction_ids: z.array(z.string()).default([]),
      })
      .default({ ips: [], emails: [], transaction_ids: [] }),
  }),
  api_keys: z.array(z.string().min(8, 'must be at least 8 characters')).min(1, 'needs at least one key'),
  tracking_domains: z
    .array(
      z.strictObject({
        tracking_domain_id: id,
        domain: z
          .string()
          .regex(/^[a-z0-9.-]+(:\d+)?$/i, 'must be a host name such as track.example.com')
          .transform((d) => d.toLowerCase()),
        domain_status: status,
        is_default: z.boolean().default(false),
      }),
    )
    .min(1, 'needs at least one tracking domain'),
  affiliates: z.array(z.strictObject({ affiliate_id: id, affiliate_name: z.string().min(1).max(200), status })),
  advertisers: z.array(z.strictObject({ advertiser_id: id, advertiser_name: z.string().min(1).max(200), status })),
  offers: z.array(
    z.strictObject({
      offer_id: id,
      offer_name: z.string().min(1).max(200),
      advertiser_id: id,
      status,
      offer_url: httpUrl,
      thank_you_url: httpUrl.nullable().default(null),
      cookie_days: z.number().int().min(1).max(3650).default(30),
      session_hours: z.number().int().min(1).max(87600).default(720),
      duplicate_days: z.number().int().min(0).max(3650).default(30),
      /** CPA and CPL: payout and revenue are amounts. RevShare: they are percentages of the sale. */
      price_format: z.enum(['CPA', 'CPL', 'RevShare']).default('CPA'),
      payout: money.default(0),
      revenue: money.default(0),
      fields: z.array(field).default([]),
      dedupe_transaction_id: z.boolean().default(true),
      attribution: z.enum(['first_touch', 'last_touch']).default('first_touch'),
    }),
  ),
  creatives: z.array(
    z.strictObject({
      creative_id: id,
      offer_id: id,
      creative_name: z.string().max(200).optional(),
      offer_url: httpUrl.optional(),
      status,
    }),
  ),
  campaigns: z.array(
    z.strictObject({
      campaign_id: id,
      affiliate_id: id,
      offer_id: id,
      ckm_key: z.string().min(8, 'must be at least 8 characters').max(100),
      payout: money.optional(),
      revenue: money.optional(),
      status,
    }),
  ),
});

export type NetworkFile = z.input<typeof schema>;
type Parsed = z.output<typeof schema>;
export type Affiliate = Parsed['affiliates'][number];
export type Advertiser = Parsed['advertisers'][number];
export type Offer = Parsed['offers'][number];
export type OfferField = Offer['fields'][number];
export type Creative = Parsed['creatives'][number];
export type Campaign = Parsed['campaigns'][number];
export type TrackingDomain = Parsed['tracking_domains'][number];

export interface Network {
  name: string;
  internal_affiliate_id: number;
  global_redirect_url: string | null;
  reqid_secret: string | null;
  api_keys: string[];
  /** Accepted by GET /metrics besides the admin API keys. */
  metrics_token: string | null;
  /** Every origin allowed to post leads from a browser. */
  cors_origins: string[];
  suppression: { ips: Set<string>; emails: Set<string>; transaction_ids: Set<string> };
  tracking_domains: TrackingDomain[];
  affiliates: Map<number, Affiliate>;
  advertisers: Map<number, Advertiser>;
  offers: Map<number, Offer>;
  creatives: Map<number, Creative>;
  campaigns: Map<number, Campaign>;
  /** The tracking domain a request's Host names; the default one for any other host. */
  domainFor(host: string | undefined): TrackingDomain;
  /** The campaign through which this affiliate sends traffic to this offer. */
  campaignFor(affiliate_id: number, offer_id: number): Campaign | undefined;
}

export class NetworkError extends Error {
  constructor(readonly problems: string[]) {
    super(`the network file has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.join('\n')}`);
  }
}

/** Validates a parsed network file. Throws NetworkError listing every bad entry, one per line:
 * which entity, which field, what is wrong. */
export function loadNetwork(input: unknown): Network {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new NetworkError(result.error.issues.map((issue) => describeIssue(input, issue)));
  }
  const file = result.data;
  const problems: string[] = [];

  const affiliates = byId(file.affiliates, 'affiliates', 'affiliate_id', problems);
  const advertisers = byId(file.advertisers, 'advertisers', 'advertiser_id', problems);
  const offers = byId(file.offers, 'offers', 'offer_id', problems);
  const creatives = byId(file.creatives, 'creatives', 'creative_id', problems);
  const campaigns = byId(file.campaigns, 'campaigns', 'campaign_id', problems);
  byId(file.tracking_domains, 'tracking_domains', 'tracking_domain_id', problems);

  if (!affiliates.has(file.network.internal_affiliate_id)) {
    problems.push(`network internal_affiliate_id: affiliate ${file.network.internal_affiliate_id} is not in affiliates`);
  }
  for (const [i, o] of file.offers.entries()) {
    const where = `offers[${i}] (offer_id ${o.offer_id})`;
    if (!advertisers.has(o.advertiser_id)) problems.push(`${where} advertiser_id: advertiser ${o.advertiser_id} is not in advertisers`);
    if (o.price_format === 'RevShare' && (o.payout > 100 || o.revenue > 100)) {
      problems.push(`${where} payout: a RevShare offer's payout and revenue are percentages, at most 100`);
    }
    const names = new Set<string>();
    for (const f of o.fields) {
      if (names.has(f.name.toLowerCase())) problems.push(`${where} fields: "${f.name}" is listed twice`);
      names.add(f.name.toLowerCase());
    }
  }
  for (const [i, c] of file.creatives.entries()) {
    if (!offers.has(c.offer_id)) problems.push(`creatives[${i}] (creative_id ${c.creative_id}) offer_id: offer ${c.offer_id} is not in offers`);
  }
  const byPair = new Map<string, Campaign>();
  for (const [i, c] of file.campaigns.entries()) {
    const where = `campaigns[${i}] (campaign_id ${c.campaign_id})`;
    if (!affiliates.has(c.affiliate_id)) problems.push(`${where} affiliate_id: affiliate ${c.affiliate_id} is not in affiliates`);
    if (!offers.has(c.offer_id)) problems.push(`${where} offer_id: offer ${c.offer_id} is not in offers`);
    const pair = `${c.affiliate_id}:${c.offer_id}`;
    if (byPair.has(pair)) {
      problems.push(`${where} offer_id: affiliate ${c.affiliate_id} already has campaign ${byPair.get(pair)!.campaign_id} for offer ${c.offer_id}`);
    }
    byPair.set(pair, c);
  }
  const defaults = file.tracking_domains.filter((d) => d.is_default);
  if (defaults.length > 1) problems.push(`tracking_domains is_default: only one domain may be the default (${defaults.map((d) => d.domain).join(', ')})`);
  const byHost = new Map<string, TrackingDomain>();
  for (const [i, d] of file.tracking_domains.entries()) {
    if (byHost.has(d.domain)) problems.push(`tracking_domains[${i}] (tracking_domain_id ${d.tracking_domain_id}) domain: "${d.domain}" is listed twice`);
    byHost.set(d.domain, d);
  }
  if (problems.length) throw new NetworkError(problems);

  const fallback = defaults[0] ?? file.tracking_domains[0]!;
  const origins = new Set<string>(file.network.cors_origins.map((o) => new URL(o).origin));
  for (const o of file.offers) {
    origins.add(new URL(o.offer_url).origin);
    if (o.thank_you_url) origins.add(new URL(o.thank_you_url).origin);
  }
  for (const c of file.creatives) if (c.offer_url) origins.add(new URL(c.offer_url).origin);

  return {
    name: file.network.name,
    internal_affiliate_id: file.network.internal_affiliate_id,
    global_redirect_url: file.network.global_redirect_url,
    reqid_secret: file.network.reqid_secret ?? null,
    api_keys: file.api_keys,
    metrics_token: file.network.metrics_token ?? null,
    cors_origins: [...origins],
    suppression: {
      ips: new Set(file.network.suppression.ips),
      emails: new Set(file.network.suppression.emails.map((e) => e.trim().toLowerCase())),
      transaction_ids: new Set(file.network.suppression.transaction_ids),
    },
    tracking_domains: file.tracking_domains,
    affiliates,
    advertisers,
    offers,
    creatives,
    campaigns,
    domainFor(host) {
      if (!host) return fallback;
      const name = host.toLowerCase();
      return byHost.get(name) ?? byHost.get(name.replace(/:\d+$/, '')) ?? fallback;
    },
    campaignFor(affiliate_id, offer_id) {
      return byPair.get(`${affiliate_id}:${offer_id}`);
    },
  };
}

function byId<T, K extends keyof T>(rows: T[], entity: string, key: K, problems: string[]): Map<number, T> {
  const map = new Map<number, T>();
  for (const [i, row] of rows.entries()) {
    const value = row[key] as number;
    if (map.has(value)) problems.push(`${entity}[${i}] ${String(key)}: ${value} is used by another entry`);
    map.set(value, row);
  }
  return map;
}

const ID_KEYS: Record<string, string> = {
  affiliates: 'affiliate_id',
  advertisers: 'advertiser_id',
  offers: 'offer_id',
  creatives: 'creative_id',
  campaigns: 'campaign_id',
  tracking_domains: 'tracking_domain_id',
};

/** "offers[0] (offer_id 12345) payout: expected number, received string" */
function describeIssue(input: unknown, issue: z.core.$ZodIssue): string {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? p.toString() : p));
  let where = '';
  let rest = path;
  const [top, index] = path;
  if (typeof top === 'string' && typeof index === 'number') {
    const row = (input as Record<string, unknown[]>)[top]?.[index] as Record<string, unknown> | undefined;
    const idKey = ID_KEYS[top];
    const idValue = idKey && row && typeof row === 'object' ? row[idKey] : undefined;
    where = `${top}[${index}]${idValue !== undefined ? ` (${idKey} ${JSON.stringify(idValue)})` : ''}`;
    rest = path.slice(2);
  } else if (typeof top === 'string') {
    where = top;
    rest = path.slice(1);
  } else {
    where = 'the file';
  }
  let fieldName = rest.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${p}`)).join('');
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    const keys = (issue as { keys: string[] }).keys;
    fieldName = fieldName ? `${fieldName}.${keys.join(', ')}` : keys.join(', ');
    message = `unknown field${keys.length > 1 ? 's' : ''} (a typo?)`;
  } else if (issue.code === 'invalid_type' && message.includes('received undefined')) {
    message = 'is required';
  }
  return `${where}${fieldName ? ` ${fieldName}` : ''}: ${message}`;
}

/** An absolute http(s) URL with a host: what a redirect, a postback or an origin may be. */
export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function isOrigin(value: string): boolean {
  return isHttpUrl(value) && new URL(value).origin === value.replace(/\/$/, '');
}
