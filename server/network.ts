// The network (PROTOCOL.md sections 0 and 9): the schema of every entity (one schema for the
// network file, the management API and the import), the checks between entities, and the
// in-memory snapshot the request paths read (creative -> offer, affiliate + offer -> campaign,
// host -> tracking domain). The snapshot is built from the store (network/live.ts keeps it
// current) or, for tests and the demo pages, straight from a file. Entities keep the contract's
// snake_case names.
import { z } from 'zod';
import { normalAddress } from './address.js';
import { isTimeZone } from './reports/zone.js';

const id = z.number().int().positive().max(2147483647);
const status = z.enum(['active', 'inactive']).default('active');
const money = z.number().min(0).max(1_000_000);
const name = z.string().min(1).max(200);
const httpUrl = z.string().max(2000).refine(isHttpUrl, 'must be an absolute http:// or https:// URL');

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

/** An event of an offer (PROTOCOL.md 5): p.ashx?e= and conversion.json's event_id record it with
 * its own money. CPE: payout and revenue are amounts; RevShare: percentages of the sale amount. */
const event = z.strictObject({
  event_id: id,
  event_name: z.string().min(1).max(200),
  payout: money.default(0),
  revenue: money.default(0),
  price_format: z.enum(['CPE', 'RevShare']).default('CPE'),
  /** false: a click gets one of this event at most; a second is a duplicate of the first. */
  allow_duplicates: z.boolean().default(false),
  status,
});

export const settingsSchema = z.strictObject({
  name,
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
  /** Server-to-server postbacks may go to private, loopback and other non-public addresses, on
   * any port (PROTOCOL.md 10). Off: affiliates cannot aim the server at its own network. */
  postbacks_allow_private: z.boolean().default(false),
  /** Ports server-to-server postbacks may use on public addresses. */
  postback_ports: z.array(z.number().int().min(1).max(65535)).min(1, 'needs at least one port').max(100).default([80, 443]),
  /** The zone summary reports cut days and hours in unless a call names another (PROTOCOL.md 11). */
  time_zone: z.string().refine(isTimeZone, 'must be an IANA time zone name such as America/New_York or UTC').default('UTC'),
});

export const trackingDomainSchema = z.strictObject({
  tracking_domain_id: id,
  domain: z
    .string()
    .regex(/^[a-z0-9.-]+(:\d+)?$/i, 'must be a host name such as track.example.com')
    .transform((d) => d.toLowerCase()),
  domain_status: status,
  is_default: z.boolean().default(false),
});

export const affiliateSchema = z.strictObject({ affiliate_id: id, affiliate_name: name, status });
export const advertiserSchema = z.strictObject({ advertiser_id: id, advertiser_name: name, status });

export const offerSchema = z.strictObject({
  offer_id: id,
  offer_name: name,
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
  fields: z.array(field).max(200).default([]),
  dedupe_transaction_id: z.boolean().default(true),
  attribution: z.enum(['first_touch', 'last_touch']).default('first_touch'),
  events: z.array(event).max(200).default([]),
  /** false: a click gets one base conversion at most; a second is a duplicate of the first. */
  allow_duplicates: z.boolean().default(false),
  /** What the browser's pixel may set: `p` (revenue, or a RevShare offer's sale amount) with
   * `revenue`, `p` and `ap` (the affiliate's payout) with `all`, neither with `none`. */
  pixel_overrides: z.enum(['none', 'revenue', 'all']).default('revenue'),
  /** A pixel's `p` above this is held pending for review (the amount kept). */
  max_sale_amount: z.number().positive().max(1_000_000_000).optional(),
});

export const creativeSchema = z.strictObject({
  creative_id: id,
  offer_id: id,
  creative_name: z.string().max(200).optional(),
  offer_url: httpUrl.optional(),
  status,
});

export const campaignSchema = z.strictObject({
  campaign_id: id,
  affiliate_id: id,
  offer_id: id,
  ckm_key: z.string().min(8, 'must be at least 8 characters').max(100),
  payout: money.optional(),
  revenue: money.optional(),
  status,
});

/** Every kind of entity, its schema, id and status fields and its names in the API. */
export const ENTITIES = {
  advertisers: { schema: advertiserSchema, key: 'advertiser_id', status: 'status', singular: 'advertiser' },
  affiliates: { schema: affiliateSchema, key: 'affiliate_id', status: 'status', singular: 'affiliate' },
  offers: { schema: offerSchema, key: 'offer_id', status: 'status', singular: 'offer' },
  creatives: { schema: creativeSchema, key: 'creative_id', status: 'status', singular: 'creative' },
  campaigns: { schema: campaignSchema, key: 'campaign_id', status: 'status', singular: 'campaign' },
  tracking_domains: { schema: trackingDomainSchema, key: 'tracking_domain_id', status: 'domain_status', singular: 'tracking_domain' },
} as const;
export type EntityKind = keyof typeof ENTITIES;
export const ENTITY_KINDS = Object.keys(ENTITIES) as EntityKind[];

const fileSchema = z.strictObject({
  network: settingsSchema,
  /** Admin keys. The store keeps them as hashes; a store with none refuses to start. */
  api_keys: z.array(z.string().min(8, 'must be at least 8 characters').max(200)).default([]),
  tracking_domains: z.array(trackingDomainSchema).min(1, 'needs at least one tracking domain'),
  affiliates: z.array(affiliateSchema),
  advertisers: z.array(advertiserSchema),
  offers: z.array(offerSchema),
  creatives: z.array(creativeSchema),
  campaigns: z.array(campaignSchema),
});

export type NetworkFile = z.input<typeof fileSchema>;
export type Settings = z.output<typeof settingsSchema>;
export type Affiliate = z.output<typeof affiliateSchema>;
export type Advertiser = z.output<typeof advertiserSchema>;
export type Offer = z.output<typeof offerSchema>;
export type OfferField = Offer['fields'][number];
export type OfferEvent = Offer['events'][number];
export type Creative = z.output<typeof creativeSchema>;
export type Campaign = z.output<typeof campaignSchema>;
export type TrackingDomain = z.output<typeof trackingDomainSchema>;
export interface EntityTypes {
  advertisers: Advertiser;
  affiliates: Affiliate;
  offers: Offer;
  creatives: Creative;
  campaigns: Campaign;
  tracking_domains: TrackingDomain;
}

export type Role = 'admin' | 'advertiser' | 'affiliate';

/** An API key as the network knows it: never the key itself, only its hash. */
export interface ApiKey {
  key_id: number;
  key_hash: string;
  role: Role;
  advertiser_id: number | null;
  affiliate_id: number | null;
  label: string | null;
  /** `file`: a key of the network file (an admin key); `api`: created through the API. */
  source: 'file' | 'api';
  created_at: number;
  revoked_at: number | null;
}

/** What the store keeps: the settings and every entity by id, and the keys by hash. */
export interface NetworkState {
  settings: Settings;
  advertisers: Map<number, Advertiser>;
  affiliates: Map<number, Affiliate>;
  offers: Map<number, Offer>;
  creatives: Map<number, Creative>;
  campaigns: Map<number, Campaign>;
  tracking_domains: Map<number, TrackingDomain>;
  keys: Map<string, ApiKey>;
}

/** The snapshot every request reads. Immutable: a change builds a new one. */
export interface Network {
  /** The store's network version this snapshot is (0 before the store has one). */
  version: number;
  state: NetworkState;
  name: string;
  internal_affiliate_id: number;
  global_redirect_url: string | null;
  reqid_secret: string | null;
  /** Every origin allowed to post leads from a browser. */
  cors_origins: string[];
  allowsOrigin(origin: string): boolean;
  suppression: { ips: Set<string>; emails: Set<string>; transaction_ids: Set<string> };
  /** The /metrics credential besides admin keys; null when none is set. */
  metrics_token: string | null;
  /** Where server-to-server postbacks may go (postbacks/address.ts). */
  postbacks_allow_private: boolean;
  postback_ports: number[];
  /** The IANA zone of summary reports (default UTC). */
  time_zone: string;
  tracking_domains: TrackingDomain[];
  affiliates: Map<number, Affiliate>;
  advertisers: Map<number, Advertiser>;
  offers: Map<number, Offer>;
  creatives: Map<number, Creative>;
  campaigns: Map<number, Campaign>;
  /** API keys by the hex SHA-256 of the key, revoked ones left out. */
  keys: Map<string, ApiKey>;
  /** The tracking domain a request's Host names; the default one for any other host. */
  domainFor(host: string | undefined): TrackingDomain;
  /** The campaign through which this affiliate sends traffic to this offer. */
  campaignFor(affiliate_id: number, offer_id: number): Campaign | undefined;
  /** The offers of one advertiser. */
  offersOf(advertiser_id: number): Offer[];
}

export class NetworkError extends Error {
  constructor(readonly problems: string[]) {
    super(`the network file has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.join('\n')}`);
  }
}

/** A problem between entities: which one, which field, what is wrong. */
export interface Problem {
  entity: EntityKind | 'network';
  id: number | null;
  field: string;
  message: string;
}

/** A network file, checked: its state (keys not included) and its admin keys in plain text. */
export interface ParsedFile {
  state: NetworkState;
  /** The checks between its entities, as lines of the file (empty when it holds together on its
   * own; an import into a stored network checks the network it makes instead). */
  ownProblems: string[];
  api_keys: string[];
  /** The settings the file names (an import merges only these into the stored settings). */
  namedSettings: (keyof Settings)[];
}

/** Checks a parsed network file. Throws NetworkError listing every bad entry, one per line:
 * which entity, which field, what is wrong. With `alone: false`, references to entities the file
 * does not hold are left for the import to check against the stored network. */
export function parseNetworkFile(input: unknown, options: { alone?: boolean } = {}): ParsedFile {
  const result = fileSchema.safeParse(input);
  if (!result.success) throw new NetworkError(result.error.issues.map((issue) => describeIssue(input, issue)));
  const file = result.data;
  const problems: string[] = [];
  const state: NetworkState = {
    settings: file.network,
    advertisers: byId(file.advertisers, 'advertisers', problems),
    affiliates: byId(file.affiliates, 'affiliates', problems),
    offers: byId(file.offers, 'offers', problems),
    creatives: byId(file.creatives, 'creatives', problems),
    campaigns: byId(file.campaigns, 'campaigns', problems),
    tracking_domains: byId(file.tracking_domains, 'tracking_domains', problems),
    keys: new Map(),
  };
  const ownProblems = checkNetwork(state).map((p) => fileLine(file, p));
  if (options.alone !== false) problems.push(...ownProblems);
  if (problems.length) throw new NetworkError(problems);
  const named = (input as { network?: object }).network ?? {};
  return { state, ownProblems, api_keys: file.api_keys, namedSettings: Object.keys(named) as (keyof Settings)[] };
}

/** A network file as a snapshot, without a store (tests, the demo pages). */
export function loadNetwork(input: unknown): Network {
  return buildNetwork(parseNetworkFile(input).state, 0);
}

/** The checks between entities, over the whole network: references, one campaign per affiliate
 * and offer, one default domain, distinct hosts, the internal affiliate, RevShare percentages,
 * distinct field names. The file, the API and the import all run these. */
export function checkNetwork(state: NetworkState): Problem[] {
  const problems: Problem[] = [];
  const { settings, affiliates, advertisers, offers, creatives, campaigns, tracking_domains } = state;
  if (!affiliates.has(settings.internal_affiliate_id)) {
    problems.push({ entity: 'network', id: null, field: 'internal_affiliate_id', message: `affiliate ${settings.internal_affiliate_id} is not in affiliates` });
  }
  // Plain loops and no string keys: this runs on every change, over networks of 100,000 entities.
  for (const o of offers.values()) {
    if (!advertisers.has(o.advertiser_id)) problems.push({ entity: 'offers', id: o.offer_id, field: 'advertiser_id', message: `advertiser ${o.advertiser_id} is not in advertisers` });
    if (o.price_format === 'RevShare' && (o.payout > 100 || o.revenue > 100)) {
      problems.push({ entity: 'offers', id: o.offer_id, field: 'payout', message: "a RevShare offer's payout and revenue are percentages, at most 100" });
    }
    if (o.events.length) {
      const events = new Set<number>();
      for (const [j, e] of o.events.entries()) {
        if (events.has(e.event_id)) problems.push({ entity: 'offers', id: o.offer_id, field: `events[${j}] event_id`, message: `${e.event_id} is listed twice` });
        events.add(e.event_id);
        if (e.price_format === 'RevShare' && (e.payout > 100 || e.revenue > 100)) {
          problems.push({ entity: 'offers', id: o.offer_id, field: `events[${j}] payout`, message: "a RevShare event's payout and revenue are percentages, at most 100" });
        }
      }
    }
    if (o.fields.length > 1) {
      const names = new Set<string>();
      for (const f of o.fields) {
        const lower = f.name.toLowerCase();
        if (names.has(lower)) problems.push({ entity: 'offers', id: o.offer_id, field: 'fields', message: `"${f.name}" is listed twice` });
        names.add(lower);
      }
    }
  }
  for (const c of creatives.values()) {
    if (!offers.has(c.offer_id)) problems.push({ entity: 'creatives', id: c.creative_id, field: 'offer_id', message: `offer ${c.offer_id} is not in offers` });
  }
  const byPair = new Map<number, Map<number, Campaign>>();
  for (const c of campaigns.values()) {
    if (!affiliates.has(c.affiliate_id)) problems.push({ entity: 'campaigns', id: c.campaign_id, field: 'affiliate_id', message: `affiliate ${c.affiliate_id} is not in affiliates` });
    if (!offers.has(c.offer_id)) problems.push({ entity: 'campaigns', id: c.campaign_id, field: 'offer_id', message: `offer ${c.offer_id} is not in offers` });
    let ofAffiliate = byPair.get(c.affiliate_id);
    if (!ofAffiliate) byPair.set(c.affiliate_id, (ofAffiliate = new Map()));
    const other = ofAffiliate.get(c.offer_id);
    if (other) {
      problems.push({ entity: 'campaigns', id: c.campaign_id, field: 'offer_id', message: `affiliate ${c.affiliate_id} already has campaign ${other.campaign_id} for offer ${c.offer_id}` });
    } else ofAffiliate.set(c.offer_id, c);
  }
  if (!tracking_domains.size) problems.push({ entity: 'tracking_domains', id: null, field: 'tracking_domain_id', message: 'the network needs at least one tracking domain' });
  const defaults = [...tracking_domains.values()].filter((d) => d.is_default);
  if (defaults.length > 1) {
    problems.push({ entity: 'tracking_domains', id: null, field: 'is_default', message: `only one domain may be the default (${defaults.map((d) => d.domain).join(', ')})` });
  }
  const byHost = new Map<string, TrackingDomain>();
  for (const d of tracking_domains.values()) {
    const other = byHost.get(d.domain);
    if (other) problems.push({ entity: 'tracking_domains', id: d.tracking_domain_id, field: 'domain', message: `"${d.domain}" is listed twice (tracking domain ${other.tracking_domain_id} has it)` });
    else byHost.set(d.domain, d);
  }
  return problems;
}

/** The snapshot of a state: the lookups the request paths need, built once. */
export function buildNetwork(state: NetworkState, version: number): Network {
  const { settings } = state;
  const domains = [...state.tracking_domains.values()];
  const fallback = domains.find((d) => d.is_default) ?? domains[0]!;
  const byHost = new Map<string, TrackingDomain>();
  for (const d of domains) byHost.set(d.domain, d);
  // By affiliate, then offer: number keys, so the click path builds no string to find a campaign.
  const byPair = new Map<number, Map<number, Campaign>>();
  for (const c of state.campaigns.values()) {
    const ofAffiliate = byPair.get(c.affiliate_id);
    if (ofAffiliate) ofAffiliate.set(c.offer_id, c);
    else byPair.set(c.affiliate_id, new Map([[c.offer_id, c]]));
  }
  const byAdvertiser = new Map<number, Offer[]>();
  const origins = new Set<string>(settings.cors_origins.map((o) => new URL(o).origin));
  for (const o of state.offers.values()) {
    const list = byAdvertiser.get(o.advertiser_id);
    if (list) list.push(o);
    else byAdvertiser.set(o.advertiser_id, [o]);
    origins.add(originOf(o.offer_url));
    if (o.thank_you_url) origins.add(originOf(o.thank_you_url));
  }
  for (const c of state.creatives.values()) if (c.offer_url) origins.add(originOf(c.offer_url));
  const keys = new Map<string, ApiKey>();
  for (const [hash, key] of state.keys) if (key.revoked_at === null) keys.set(hash, key);

  return {
    version,
    state,
    name: settings.name,
    internal_affiliate_id: settings.internal_affiliate_id,
    global_redirect_url: settings.global_redirect_url,
    reqid_secret: settings.reqid_secret ?? null,
    cors_origins: [...origins],
    allowsOrigin: (origin) => origins.has(origin),
    suppression: {
      ips: new Set(settings.suppression.ips.map((ip) => normalAddress(ip) ?? ip)),
      emails: new Set(settings.suppression.emails.map((e) => e.trim().toLowerCase())),
      transaction_ids: new Set(settings.suppression.transaction_ids),
    },
    metrics_token: settings.metrics_token ?? null,
    postbacks_allow_private: settings.postbacks_allow_private,
    postback_ports: settings.postback_ports,
    time_zone: settings.time_zone,
    tracking_domains: domains,
    affiliates: state.affiliates,
    advertisers: state.advertisers,
    offers: state.offers,
    creatives: state.creatives,
    campaigns: state.campaigns,
    keys,
    domainFor(host) {
      if (!host) return fallback;
      const name = host.toLowerCase();
      return byHost.get(name) ?? byHost.get(name.replace(/:\d+$/, '')) ?? fallback;
    },
    campaignFor(affiliate_id, offer_id) {
      return byPair.get(affiliate_id)?.get(offer_id);
    },
    offersOf(advertiser_id) {
      return byAdvertiser.get(advertiser_id) ?? [];
    },
  };
}

/** The state of a network as the file describes it (ids in order, defaults written out, no
 * secrets): what GET /api/2/network.json answers and what an import reads back. */
export function networkFileOf(state: NetworkState): NetworkFile {
  const sorted = <T>(map: Map<number, T>) => [...map.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
  const { reqid_secret: _secret, metrics_token: _token, ...settings } = state.settings;
  return {
    network: settings,
    tracking_domains: sorted(state.tracking_domains),
    affiliates: sorted(state.affiliates),
    advertisers: sorted(state.advertisers),
    offers: sorted(state.offers),
    creatives: sorted(state.creatives),
    campaigns: sorted(state.campaigns),
  };
}

/** The offer's event of this id, or undefined. */
export function eventOf(offer: Offer, event_id: number): OfferEvent | undefined {
  return offer.events.find((e) => e.event_id === event_id);
}

// Offers and creatives share a few landing sites: parse each URL once, not once per snapshot.
const origins = new Map<string, string>();

function originOf(url: string): string {
  let origin = origins.get(url);
  if (origin === undefined) {
    if (origins.size >= 100_000) origins.clear();
    origins.set(url, (origin = new URL(url).origin));
  }
  return origin;
}

function byId<K extends EntityKind>(rows: EntityTypes[K][], entity: K, problems: string[]): Map<number, EntityTypes[K]> {
  const key = ENTITIES[entity].key as keyof EntityTypes[K];
  const map = new Map<number, EntityTypes[K]>();
  for (const [i, row] of rows.entries()) {
    const value = row[key] as number;
    if (map.has(value)) problems.push(`${entity}[${i}] ${String(key)}: ${value} is used by another entry`);
    map.set(value, row);
  }
  return map;
}

/** A problem as a line of the file: "offers[0] (offer_id 12345) advertiser_id: …". */
function fileLine(file: z.output<typeof fileSchema>, p: Problem): string {
  if (p.entity === 'network') return `network ${p.field}: ${p.message}`;
  if (p.id === null) return `${p.entity} ${p.field}: ${p.message}`;
  const key = ENTITIES[p.entity].key;
  const index = (file[p.entity] as Record<string, unknown>[]).map((row) => row[key]).lastIndexOf(p.id);
  return `${p.entity}[${index}] (${key} ${p.id}) ${p.field}: ${p.message}`;
}

const ID_KEYS: Record<string, string> = Object.fromEntries(ENTITY_KINDS.map((k) => [k, ENTITIES[k].key]));

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
  const { field, message } = describeField(rest, issue);
  return `${where}${field ? ` ${field}` : ''}: ${message}`;
}

/** The field path and message of a zod issue: `fields[2].type`, "is required", "unknown field". */
export function describeField(path: PropertyKey[], issue: z.core.$ZodIssue): { field: string; message: string } {
  let field = path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    const keys = (issue as { keys: string[] }).keys;
    field = field ? `${field}.${keys.join(', ')}` : keys.join(', ');
    message = `unknown field${keys.length > 1 ? 's' : ''} (a typo?)`;
  } else if (issue.code === 'invalid_type' && message.includes('received undefined')) {
    message = 'is required';
  }
  return { field, message };
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
