// The one store interface. Every backend (sqlite.ts, postgres.ts, d1.ts) implements it and passes the same
// conformance suite (test/store/conformance.ts). Rows use the contract's snake_case names so that a
// backend returns database rows as they are. Times are milliseconds since the epoch (UTC); money is
// integer cents, so that no float rounding ever reaches a payout.

export type Millis = number;

/** Why a click went where it went. `redirect` and `pixel` are attributed; `repeat` kept an earlier
 * reqid (first touch); anything else is the reason the global redirect answered. */
export type Disposition = string;

export interface ClickRecord {
  reqid: string;
  click_time: Millis;
  affiliate_id: number | null;
  offer_id: number | null;
  campaign_id: number | null;
  creative_id: number | null;
  s1: string | null;
  s2: string | null;
  s3: string | null;
  s4: string | null;
  s5: string | null;
  ip: string | null;
  /** Two-letter country from the CDN in front (CF-IPCountry and the like); we ship no geo database. */
  country: string | null;
  user_agent: string | null;
  referrer: string | null;
  tracking_domain_id: number | null;
  visitor_id: string | null;
  disposition: Disposition;
}

/** Whose rows a query may see (PROTOCOL.md 10): an advertiser key sees its offers' rows, an
 * affiliate key its own. Enforced in the store's query itself (a condition of the WHERE clause),
 * never by filtering answers afterwards. Absent: the whole network (an admin key). */
export interface Scope {
  advertiser_id?: number;
  affiliate_id?: number;
}

export interface ClickRow extends ClickRecord {
  /** The first base conversion (not an event, not a test) recorded for this click, if any. */
  conversion_id: number | null;
}

export interface ClickQuery {
  reqid?: string;
  /** Inclusive lower and exclusive upper bound on click_time. */
  from?: Millis;
  to?: Millis;
  offer_id?: number;
  affiliate_id?: number;
  campaign_id?: number;
  creative_id?: number;
  scope?: Scope;
  /** Keyset paging: only clicks after this reqid (the last of the previous page). */
  after?: string;
  offset: number;
  limit: number;
  /** Count at most this many (default COUNT_CAP of list-sql.ts). */
  count_cap?: number;
}

/** One page of a list. */
export interface Page<T, K = number> {
  rows: T[];
  /** The rows of the whole list (the cursor and offset aside), counted up to a cap. */
  total: number;
  /** True when more rows match than `total` says: the count stopped at its cap. */
  capped: boolean;
  /** The key of the page's last row when more rows follow (pass it as `after`); else null. */
  next: K | null;
}

/** A list query's time may run out (PostgreSQL's statement timeout): it is stopped, not left to
 * hold a connection, and the caller says so. */
export class ReadTimeout extends Error {
  constructor(readonly ms: number) {
    super(`the query ran longer than ${ms} ms and was stopped`);
  }
}

export type LeadMethod = 'server' | 'browser' | 'session';

export interface NewLead {
  offer_id: number;
  affiliate_id: number;
  campaign_id: number | null;
  creative_id: number | null;
  reqid: string | null;
  method: LeadMethod;
  email: string | null;
  /** The validated offer fields, as posted (strings). */
  fields: Record<string, string>;
  s1: string | null;
  s2: string | null;
  s3: string | null;
  s4: string | null;
  s5: string | null;
  ip: string | null;
  user_agent: string | null;
  created_at: Millis;
  is_test: boolean;
  /** False when nothing matched and the lead went to the internal affiliate. */
  attributed: boolean;
  /** Flagged for resale (ckm_resell=1). */
  resell: boolean;
}

export interface LeadRow extends NewLead {
  lead_id: number;
  conversion_id: number | null;
  /** When a post with ckm_lead_id last changed it; null when never. */
  updated_at: Millis | null;
  /** When its personal fields were removed (retention or erasure); null while it holds them. */
  erased_at: Millis | null;
}

/** A lead update (ckm_lead_id): the fields sent, merged over the lead's (the others kept, new ones
 * added after them); the email for the duplicate check when the update changes it. */
export interface LeadChange {
  fields: Record<string, string>;
  /** The lead's new email (lower-cased), when the update sends one. */
  email: string | null;
  /** ckm_resell, when sent. */
  resell: boolean | null;
  updated_at: Millis;
}

export type LeadUpdate =
  | { duplicate: false; lead: LeadRow }
  /** The new email is held by this other lead inside the window: nothing changed. */
  | { duplicate: true; lead: LeadRow };

/** Duplicate check for a lead: another accepted lead for the same offer and email at or after
 * `since` makes this one a duplicate. Decided inside the insert's transaction, so it holds for
 * concurrent posts and across server instances. */
export interface LeadDedupe {
  email: string;
  since: Millis;
}

export interface LeadQuery {
  lead_id?: number;
  from?: Millis;
  to?: Millis;
  offer_id?: number;
  affiliate_id?: number;
  include_tests: boolean;
  scope?: Scope;
  /** Keyset paging: only leads after this lead_id. */
  after?: number;
  offset: number;
  limit: number;
  count_cap?: number;
}

export const CONVERSION_STATUSES = ['approved', 'pending', 'rejected', 'reversed', 'scrubbed'] as const;
export type ConversionStatus = (typeof CONVERSION_STATUSES)[number];
export type ConversionSource = 'pixel' | 'api' | 'lead';

export interface NewConversion {
  offer_id: number;
  advertiser_id: number;
  affiliate_id: number;
  campaign_id: number | null;
  creative_id: number | null;
  reqid: string | null;
  lead_id: number | null;
  event_id: number;
  conversion_time: Millis;
  click_time: Millis | null;
  /** The money counted now: the computed money while approved (and not a test), else 0. Reports,
   * #price# and postbacks read these. */
  payout_cents: number;
  revenue_cents: number;
  /** The money the conversion earns when approved, computed when it was recorded. */
  computed_payout_cents: number;
  computed_revenue_cents: number;
  /** Sale amount a RevShare percentage applied to. */
  amount_cents: number | null;
  status: ConversionStatus;
  /** Why it is not approved as it arrived: scrubbed (session expired, suppressed, a click that
   * may be credited nothing new) or held pending (a sale amount above the offer's cap). */
  scrub_reason: string | null;
  /** (offer_id, event_id, dedupe_key) is unique: the store refuses a second one. */
  dedupe_key: string | null;
  /** (reqid, event_id) is unique among conversions with this set: one per click and event. */
  once_per_click: boolean;
  transaction_id: string | null;
  unique_id: string | null;
  order_id: string | null;
  adv1: string | null;
  adv2: string | null;
  adv3: string | null;
  adv4: string | null;
  adv5: string | null;
  /** Its click's sub ids (null without a click), kept so that a report by sub id reads the
   * conversions alone, never joined to their clicks (report-sql.ts). */
  s1: string | null;
  s2: string | null;
  s3: string | null;
  s4: string | null;
  s5: string | null;
  source: ConversionSource;
  ip: string | null;
  is_test: boolean;
}

export interface ConversionRow extends NewConversion {
  conversion_id: number;
}

export interface ConversionQuery {
  conversion_id?: number;
  from?: Millis;
  to?: Millis;
  offer_id?: number;
  affiliate_id?: number;
  advertiser_id?: number;
  status?: ConversionStatus;
  campaign_id?: number;
  creative_id?: number;
  /** One event's conversions (0: the base conversions). */
  event_id?: number;
  /** Base conversions only, or events only (CAKE's conversion_type); absent: both. */
  kind?: 'conversions' | 'events';
  include_tests: boolean;
  sort: ConversionSort;
  descending: boolean;
  scope?: Scope;
  /** Keyset paging: only conversions after this one in the sort order (its conversion_id). */
  after?: number;
  offset: number;
  limit: number;
  count_cap?: number;
}
export const CONVERSION_SORTS = ['conversion_id', 'conversion_date', 'offer_id', 'affiliate_id', 'payout', 'revenue'] as const;
export type ConversionSort = (typeof CONVERSION_SORTS)[number];

export type ConversionResult =
  | { duplicate: false; conversion: ConversionRow }
  | { duplicate: true; conversion: ConversionRow };

export type LeadResult =
  | { duplicate: false; lead: LeadRow; conversion: ConversionRow | null }
  | { duplicate: true; lead: LeadRow };

// ---- affiliate postbacks -------------------------------------------------------------------------

export const POSTBACK_TYPES = { 1: 'Server', 2: 'iFrame', 3: 'Image', 4: 'JavaScript' } as const;
export type PostbackTypeId = 1 | 2 | 3 | 4;
/** When a postback fires (ours: CAKE's docs mix this up with the type). */
export type FireOn = 'conversion' | 'approval' | 'rejection';

export interface NewPostback {
  affiliate_id: number;
  /** 0 means every offer. */
  offer_id: number;
  postback_url: string;
  postback_status: 'active' | 'inactive';
  postback_type_id: PostbackTypeId;
  fire_on: FireOn;
}

export interface PostbackRow extends NewPostback {
  postback_id: number;
}

export interface PostbackQuery {
  postback_id?: number;
  affiliate_id?: number;
  offer_id?: number;
  postback_status?: 'active' | 'inactive';
  scope?: Scope;
  /** Only postbacks after this postback_id, at most `limit` of them. */
  after?: number;
  limit?: number;
}

/** One server-to-server postback to deliver: a row of the outbox, written in the same transaction
 * as the conversion (or status change) that caused it. */
export interface NewDelivery {
  postback_id: number;
  conversion_id: number;
  fire_on: FireOn;
  url: string;
}

/** `cancelled`: its postback was deactivated or deleted before it was delivered. */
export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'cancelled';
export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed', 'cancelled'] as const satisfies readonly DeliveryStatus[];

export interface DeliveryRow extends NewDelivery {
  delivery_id: number;
  /** The URL's host (name:port), for the dispatcher's per-host limit; '' for rows written before
   * the store kept it. */
  host: string;
  status: DeliveryStatus;
  attempts: number;
  created_at: Millis;
  /** When it is due; while it is leased, when the lease runs out. Database time. */
  next_attempt_at: Millis;
  delivered_at: Millis | null;
  last_error: string | null;
  /** The fencing token: raised by every claim, so that only the attempt holding the latest lease
   * can write an outcome. */
  lease: number;
  /** The failed or cancelled delivery this one re-sends. */
  resend_of: number | null;
}

export interface Attempt {
  delivery_id: number;
  attempted_at: Millis;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
}

/** What became of one attempt: delivered, retry after a delay (database time), or given up
 * (`retry_in_ms` null). */
export type AttemptOutcome = { delivered: true } | { delivered: false; retry_in_ms: number | null };

/** A claim of due deliveries (`claimDeliveries`). */
export interface DeliveryClaim {
  /** Most deliveries to take. */
  limit: number;
  /** How long each is leased, from the database's clock. */
  lease_ms: number;
  /** Most deliveries of one host to take, less those of that host already `busy`. Hosts at their
   * limit are skipped, so the deliveries of other hosts behind them are taken. */
  per_host?: number;
  /** Attempts in flight per host, on this dispatcher. */
  busy?: Record<string, number>;
}

/** Re-sending a delivery (`resendDelivery`): the new delivery, or why not. */
export type ResendResult =
  | { resent: true; delivery: DeliveryRow }
  | { resent: false; reason: 'missing' | 'pending' | 'delivered' | 'resent'; delivery?: DeliveryRow; resent_as?: number };

export interface DeliveryQuery {
  delivery_id?: number;
  conversion_id?: number;
  postback_id?: number;
  status?: DeliveryStatus;
  scope?: Scope;
  /** Keyset paging: only deliveries after this delivery_id. */
  after?: number;
  offset: number;
  limit: number;
  count_cap?: number;
}

/** The postback outbox at a moment, for monitoring (GET /metrics). */
export interface OutboxStats {
  /** Deliveries neither delivered nor given up. */
  pending: number;
  /** Of those, the ones due at that moment and not leased to a dispatcher. */
  due: number;
  /** When the oldest pending delivery was written; null when none is pending. */
  oldest_created_at: Millis | null;
}

/** Builds the outbox rows for a conversion once its id is known, inside its transaction. */
export type DeliveriesFor = (conversion: ConversionRow) => NewDelivery[];

// ---- the network (PROTOCOL.md 9) -----------------------------------------------------------------

/** What the network tables hold, as stored: each entity's validated JSON (parsed), the settings,
 * the API keys (hashes only), the version, and the hash of the last network file applied. */
export interface NetworkRows {
  version: number;
  settings: unknown | null;
  entities: Record<NetworkEntity, unknown[]>;
  api_keys: ApiKeyRecord[];
  file_hash: string | null;
  /** Who applied that file: `file NAME`, or `demo` for the built-in demo network. */
  file_source: string | null;
}

export const NETWORK_ENTITIES = ['advertisers', 'affiliates', 'offers', 'creatives', 'campaigns', 'tracking_domains'] as const;
export type NetworkEntity = (typeof NETWORK_ENTITIES)[number];

export interface ApiKeyRecord {
  key_id: number;
  key_hash: string;
  role: 'admin' | 'advertiser' | 'affiliate';
  advertiser_id: number | null;
  affiliate_id: number | null;
  label: string | null;
  source: 'file' | 'api';
  created_at: Millis;
  revoked_at: Millis | null;
}

/** One entity written (or removed: `after` null) by a change. `before` goes to the change log. */
export interface NetworkWrite {
  entity: NetworkEntity | 'network' | 'api_keys';
  /** The entity's id; 1 for the network's settings. */
  id: number;
  before: unknown | null;
  after: unknown | null;
}

export interface NetworkChangeMeta {
  /** Who made the change: `key 3`, `file network.json`, `demo`. */
  source: string;
  at: Millis;
  /** For a file import: its hash, kept so that the same file is not applied twice. */
  file_hash?: string;
}

export interface ChangeRow {
  change_id: number;
  version: number;
  changed_at: Millis;
  source: string;
  entity: string;
  entity_id: string;
  before: unknown | null;
  after: unknown | null;
}

export interface ChangeQuery {
  entity?: string;
  entity_id?: string;
  from?: Millis;
  to?: Millis;
  offset: number;
  limit: number;
}

// ---- retention and erasure (PROTOCOL.md 12) ------------------------------------------------------

/** What the retention job removes: clicks and delivery attempts (with finished deliveries) are
 * deleted; leads keep their row and money but lose their personal fields. */
export type RetentionKind = 'clicks' | 'delivery_attempts' | 'lead_fields';
export const RETENTION_KINDS = ['clicks', 'delivery_attempts', 'lead_fields'] as const satisfies readonly RetentionKind[];

/** Whose data an erasure request names: every lead with this email, or this lead and every lead
 * with its email. */
export type ErasureTarget = { email: string } | { lead_id: number };

/** What an erasure changed. */
export interface Erasure {
  /** Leads whose personal fields were removed. */
  leads: number;
  /** Clicks and conversions of theirs whose address was anonymised. */
  clicks: number;
  conversions: number;
}

// ---- summary reports (PROTOCOL.md 11) -------------------------------------------------------------

export const REPORT_GROUPS = ['day', 'hour', 'offer', 'affiliate', 'campaign', 'creative', 'advertiser', 'country', 'sub_id_1', 'sub_id_2', 'sub_id_3', 'sub_id_4', 'sub_id_5'] as const;
export type ReportGroup = (typeof REPORT_GROUPS)[number];

export interface ReportQuery {
  /** Inclusive lower and exclusive upper bound on each row's own time (click_time, conversion_time). */
  from: Millis;
  to: Millis;
  group_by: ReportGroup;
  /** The report zone's offset from UTC over [from, to), piece by piece (reports/zone.ts): a row's
   * local time is its time plus the offset of its piece. Only day and hour groups read it. */
  zone: { since: Millis; offset: Millis }[];
  offer_id?: number;
  affiliate_id?: number;
  advertiser_id?: number;
  campaign_id?: number;
  creative_id?: number;
  country?: string;
  include_tests: boolean;
  scope?: Scope;
}

/** One group of a summary report, as counted: `key` is the group's value (a local day or hour
 * number for day and hour, an id, a country or a sub id; null where rows have none). */
export interface ReportRow {
  key: number | string | null;
  /** Unique clicks (redirect and pixel); total_clicks adds the repeats first touch kept. */
  clicks: number;
  total_clicks: number;
  /** Base conversions and events that stand (approved or pending). */
  macro_event_conversions: number;
  micro_events: number;
  /** Approved conversions and events that pay the affiliate something. */
  paid: number;
  pending: number;
  rejected: number;
  cost_cents: number;
  revenue_cents: number;
}

/** A report group's sums, or their totals over every group. */
export type ReportCounts = Omit<ReportRow, 'key'>;

/** The summary report's metrics (PROTOCOL.md 11; reports/page.ts metricOf): `payout` is an
 * affiliate's name for `cost`. */
export type ReportMetric =
  | 'clicks'
  | 'total_clicks'
  | 'macro_event_conversions'
  | 'micro_events'
  | 'conversion_rate'
  | 'paid'
  | 'pending'
  | 'rejected'
  | 'cost'
  | 'payout'
  | 'revenue'
  | 'profit'
  | 'margin'
  | 'epc';

/** Which groups of a summary report a caller wants, in which order (reports/page.ts). */
export interface ReportOrder {
  /** `key` (the group's value: a day or hour number, an id, a country or a sub id), `name` (the
   * name `names` gives the group's id), or a metric. Nulls sort below every value (first
   * ascending, last descending); ties go by key, ascending. */
  sort: 'key' | 'name' | ReportMetric;
  descending: boolean;
  /** Metrics as an affiliate sees them (epc over its payout, not the network's revenue). */
  affiliate: boolean;
  /** The entities' names by id, when sorting by name. */
  names?: Record<string, string>;
  /** Groups skipped, and the most answered after them (Infinity for all). */
  offset: number;
  limit: number;
}

/** A summary report's page: its groups in order, how many groups there are, and the totals over
 * all of them. */
export interface ReportPage {
  rows: ReportRow[];
  count: number;
  totals: ReportCounts;
}

/** What a conversion earns, as set by hand (setConversionStatus). */
export interface ConversionMoney {
  payout_cents: number;
  revenue_cents: number;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres' | 'd1';

  /** The reqid MAC key of this database: created once (by `generate`) and shared by every
   * server instance on it. */
  secret(generate: () => string): Promise<string>;

  /** Resolves once the click is committed. */
  recordClick(click: ClickRecord): Promise<void>;
  getClick(reqid: string): Promise<ClickRecord | undefined>;
  /** The list methods apply the query's scope in their SQL, page by key (`after`) or a bounded
   * offset, count up to a cap, and may reject with ReadTimeout. */
  listClicks(query: ClickQuery): Promise<Page<ClickRow, string>>;

  /** Writes the lead and, for offers that pay per lead, its conversion and outbox rows, in one
   * transaction; or nothing, when `dedupe` finds an earlier lead. */
  insertLead(
    lead: NewLead,
    dedupe: LeadDedupe | null,
    conversion: { conversion: Omit<NewConversion, 'lead_id'>; deliveries: DeliveriesFor } | null,
  ): Promise<LeadResult>;
  listLeads(query: LeadQuery): Promise<Page<LeadRow>>;
  getLead(lead_id: number): Promise<LeadRow | undefined>;
  /** Merges `change` into the lead, in one transaction with the claim of its new email (when
   * `dedupe` is given); or changes nothing, when an earlier lead holds that email. Undefined when
   * there is no such lead. */
  updateLead(lead_id: number, change: LeadChange, dedupe: LeadDedupe | null): Promise<LeadUpdate | undefined>;

  /** Writes the conversion and its outbox rows in one transaction, or answers the earlier
   * conversion with the same (offer_id, event_id, dedupe_key), or with the same (reqid, event_id)
   * when both have once_per_click, and writes nothing. Holds for identical requests at once, on
   * every instance. */
  insertConversion(conversion: NewConversion, deliveries: DeliveriesFor): Promise<ConversionResult>;
  getConversion(conversion_id: number): Promise<ConversionRow | undefined>;
  listConversions(query: ConversionQuery): Promise<Page<ConversionRow>>;
  /** Changes the status and writes the outbox rows it causes, in one transaction; the counted
   * money follows: the computed money when it becomes approved (never for a test), 0 otherwise.
   * Answers undefined when there is no such conversion. Setting the status the conversion already
   * has changes nothing and calls no `deliveries` (so identical concurrent changes fire once). */
  setConversionStatus(
    conversion_id: number,
    status: ConversionStatus,
    deliveries: DeliveriesFor,
    /** Only a conversion inside this scope is changed (else: undefined). */
    scope?: Scope,
    /** What it earns from now on (CAKE's UpdateConversion with a payout or revenue), set in the
     * same transaction, before the status: the computed money, counted while approved. */
    money?: ConversionMoney,
  ): Promise<ConversionRow | undefined>;

  createPostback(postback: NewPostback): Promise<PostbackRow>;
  /** Deactivating a postback cancels its pending deliveries, in the same transaction. `scope`:
   * only a postback inside it is changed. */
  updatePostback(postback_id: number, change: Partial<NewPostback>, scope?: Scope): Promise<PostbackRow | undefined>;
  /** Deleting a postback cancels its pending deliveries, in the same transaction (they stay in the
   * log). `scope`: only a postback inside it is deleted. */
  deletePostback(postback_id: number, scope?: Scope): Promise<boolean>;
  listPostbacks(query: PostbackQuery): Promise<PostbackRow[]>;
  /** Active postbacks of this affiliate for this offer or for every offer (offer_id 0). */
  postbacksFor(affiliate_id: number, offer_id: number, fire_on: FireOn): Promise<PostbackRow[]>;

  /** Takes pending deliveries due now (the database's clock), those due longest first, and leases
   * them for `lease_ms`, so that no other dispatcher (in this process or another) takes them
   * meanwhile; each claim raises the delivery's `lease`. A delivery whose lease runs out without
   * an outcome (a crash) is due again. */
  claimDeliveries(claim: DeliveryClaim): Promise<DeliveryRow[]>;
  /** Logs the attempt and applies its outcome, in one transaction, if the attempt still holds the
   * delivery's lease (`lease` is the one it was claimed with, and it is still pending). Otherwise
   * (the lease ran out and another dispatcher claimed it, or the delivery was delivered or
   * cancelled meanwhile) only the log line is written, saying so; answers whether it applied. */
  finishAttempt(attempt: Attempt, lease: number, outcome: AttemptOutcome): Promise<boolean>;
  listDeliveries(query: DeliveryQuery): Promise<Page<DeliveryRow & { attempt_log: Attempt[] }>>;
  /** Queues a failed or cancelled delivery again as a new pending delivery (same postback,
   * conversion and URL; a fresh series of attempts), once: a delivery is re-sent at most once. */
  resendDelivery(delivery_id: number): Promise<ResendResult>;
  /** The database's clock, in milliseconds since the epoch (what leases and due times use). */
  clock(): Promise<Millis>;

  /** The whole network as stored, read in one consistent snapshot. */
  loadNetwork(): Promise<NetworkRows>;
  /** The network's version: bumped by every change. Cheap: every instance polls it. */
  networkVersion(): Promise<number>;
  /** The changes of the versions after `after` up to `upto`, in the order they were made. */
  networkChanges(after: number, upto: number): Promise<ChangeRow[]>;
  /** Writes a change (its entities and their change-log rows) as the next version, in one
   * transaction, if the network is still at `base` (the version the change was checked against);
   * answers the new version, or null when another change came first (check again and retry). */
  writeNetwork(base: number, writes: NetworkWrite[], meta: NetworkChangeMeta): Promise<number | null>;
  listChanges(query: ChangeQuery): Promise<Omit<Page<ChangeRow>, 'capped' | 'next'>>;
  /** Records a use of an API key (`last_used_at`, only ever moved forward). Not a network change:
   * no version, no change log. */
  touchApiKey(key_id: number, at: Millis): Promise<void>;
  /** Every key's last recorded use. */
  apiKeyUses(): Promise<Map<number, Millis>>;

  /** Records that a console session (its id, the cookie's nonce) was signed out, kept until
   * `expires_at`, when its cookie would have expired anyway. Again for the same id: nothing. */
  endSession(session_id: string, expires_at: Millis, ended_at: Millis): Promise<void>;
  /** Whether a console session was signed out (on any instance of this database). */
  sessionEnded(session_id: string): Promise<boolean>;
  /** Removes at most `limit` signed-out sessions whose cookie expired before `now` (the retention
   * job); answers how many. */
  pruneEndedSessions(now: Millis, limit: number): Promise<number>;
  /** Whether any click, lead or conversion names this entity (then it may only be deactivated). */
  hasHistory(entity: NetworkEntity, id: number): Promise<boolean>;

  /** The summary report's groups (PROTOCOL.md 11), computed inside the query's scope, sorted and
   * cut to the page `order` asks for, with their count and totals (the caller names and shows
   * them). May reject with ReadTimeout. */
  summaryReport(query: ReportQuery, order: ReportOrder): Promise<ReportPage>;
  /** Folds the next `chunk` clicks (by key; default: the store's FOLD_CHUNK) of the window being folded, or of
   * the next window (at most `window` ms, ending before `until`), into the report rollups, in one
   * transaction; the watermark moves past the window with its last chunk. Answers the watermark,
   * or null when there was nothing to fold (or another instance folded those clicks first). A store
   * without rollups (D1) answers null: its reports read the raw clicks. */
  foldReports(until: Millis, window: Millis, chunk?: number): Promise<Millis | null>;

  /** The outbox's figures at `now` (operations: cheap, from the pending deliveries' index). */
  outboxStats(now: Millis): Promise<OutboxStats>;

  /** One retention batch: removes (or, for leads, strips) at most `limit` of the oldest rows of
   * `kind` older than `before`, in one transaction; answers how many. The retention job calls it
   * until it answers fewer than `limit`. */
  retain(kind: RetentionKind, before: Millis, limit: number): Promise<number>;
  /** Erases a person (DELETE /api/2/lead.json): their leads' personal fields removed, the
   * addresses of their leads, clicks and conversions anonymised, in one transaction; conversions
   * and their money kept. */
  erase(target: ErasureTarget, at: Millis): Promise<Erasure>;

  /** Resolves once the database has answered a query (readiness checks); rejects when it cannot. */
  ping(): Promise<void>;

  /** Commits what is queued and closes. */
  close(): Promise<void>;
}
