// recordConversion: the one place where a conversion's money, status (scrubbing), dedupe key and
// outbox rows are decided, whichever door it came through: the p.ashx pixel, conversion.json, or a
// lead of an offer that pays per lead (leads/accept.ts uses prepareConversion inside its insert).
import { storedIp } from '../clicks.js';
import { normalAddress } from '../address.js';
import { numberToCents, percentOfCents } from '../money.js';
import type { Network, Offer, OfferEvent } from '../network.js';
import { formatDate, money } from '../params.js';
import type {
  ClickRecord,
  ConversionMoney,
  ConversionRow,
  ConversionSource,
  ConversionStatus,
  DeliveriesFor,
  FireOn,
  NewConversion,
  PostbackRow,
  Scope,
  Store,
} from '../store/types.js';
import { fillTokens } from '../tokens.js';

export interface ConversionDeps {
  store: Store;
  network: Network;
  clock: () => number;
  /** Called after outbox rows were committed, so the dispatcher delivers them at once. */
  onDeliveries: () => void;
}

export interface ConversionInput {
  offer: Offer;
  /** The attributed click. Null only for leads that went to the internal affiliate. */
  click: ClickRecord | null;
  /** Who gets the conversion when there is no click (an unattributed lead). */
  affiliate_id?: number;
  /** The event recorded (an active event of the offer; the route checks it); none: the base
   * conversion. */
  event?: OfferEvent | null;
  /** Why the click may be credited nothing new (attribution.ts creditRefusal): then recorded
   * scrubbed with this reason, not paid, not posted back. */
  refusal?: string | null;
  /** Why it must wait for review (a pixel's sale amount above the offer's cap): recorded pending. */
  hold?: string | null;
  /** When it happened (default now). */
  at?: number;
  /** Per-request overrides, in cents. */
  payout_cents?: number;
  revenue_cents?: number;
  /** The sale amount a RevShare percentage applies to, in cents. */
  amount_cents?: number;
  transaction_id?: string | null;
  unique_id?: string | null;
  order_id?: string | null;
  adv?: (string | null | undefined)[];
  email?: string | null;
  source: ConversionSource;
  ip?: string | null;
  is_test?: boolean;
  /** For a lead's conversion: the lead id the #leadid# macro shows. */
  lead_id?: number | null;
}

const HOUR = 3_600_000;

/** A browser postback (iframe, image, JavaScript) with its macros filled, for the thank-you page. */
export type BrowserPostback = { type: 2 | 3 | 4; url: string };

export interface PreparedConversion {
  conversion: NewConversion;
  /** The outbox rows (server-to-server postbacks) once the conversion's id is known. */
  deliveries: DeliveriesFor;
  /** The browser postbacks once the conversion's id is known. */
  browser: (row: ConversionRow) => BrowserPostback[];
}

/** Builds the conversion row and what renders its postbacks once its id is known. */
export async function prepareConversion(deps: ConversionDeps, input: ConversionInput): Promise<PreparedConversion> {
  const { offer, click } = input;
  const { network } = deps;
  const event = input.event ?? null;
  const at = input.at ?? deps.clock();
  const affiliate_id = click?.affiliate_id ?? input.affiliate_id ?? network.internal_affiliate_id;
  const campaign = click?.campaign_id ? network.campaigns.get(click.campaign_id) : network.campaignFor(affiliate_id, offer.offer_id);

  // An event pays its own money; the base conversion the campaign's terms, else the offer's
  // (campaigns have terms for the base conversion only).
  const terms = event
    ? { payout: event.payout, revenue: event.revenue, percent: event.price_format === 'RevShare' }
    : { payout: campaign?.payout ?? offer.payout, revenue: campaign?.revenue ?? offer.revenue, percent: offer.price_format === 'RevShare' };
  const amount = input.amount_cents ?? null;
  // RevShare: payout and revenue are percentages of the sale amount.
  let payout = terms.percent ? percentOfCents(amount ?? 0, terms.payout) : numberToCents(terms.payout);
  let revenue = terms.percent ? percentOfCents(amount ?? 0, terms.revenue) : numberToCents(terms.revenue);
  if (input.payout_cents !== undefined) payout = input.payout_cents;
  if (input.revenue_cents !== undefined) revenue = input.revenue_cents;

  const is_test = input.is_test ?? false;
  const refusal = input.refusal ?? null;
  const scrub_reason = refusal ?? scrubReason(network, offer, click, at, input);
  const hold = scrub_reason ? null : (input.hold ?? null);
  const status: ConversionStatus = scrub_reason ? 'scrubbed' : hold ? 'pending' : 'approved';
  const counted = status === 'approved' && !is_test;
  const transaction_id = input.transaction_id ?? null;
  const unique_id = input.unique_id ?? null;
  const adv = input.adv ?? [];
  // One per click and event unless allowed: a lead's conversion follows the lead rules instead
  // (each accepted lead of a CPL offer counts), a test never takes the click's slot from a real
  // one, and a refused one (nothing credited) leaves it free.
  const once_per_click =
    click !== null && input.source !== 'lead' && !is_test && refusal === null && !(event ? event.allow_duplicates : offer.allow_duplicates);

  const conversion: NewConversion = {
    offer_id: offer.offer_id,
    advertiser_id: offer.advertiser_id,
    affiliate_id,
    campaign_id: campaign?.campaign_id ?? null,
    creative_id: click?.creative_id ?? null,
    reqid: click?.reqid ?? null,
    lead_id: input.lead_id ?? null,
    event_id: event?.event_id ?? 0,
    conversion_time: at,
    click_time: click?.click_time ?? null,
    // Money follows status: what it earns is kept, and counted only while approved (a scrubbed or
    // pending conversion approved later carries it then); a test is never counted.
    payout_cents: counted ? payout : 0,
    revenue_cents: counted ? revenue : 0,
    computed_payout_cents: payout,
    computed_revenue_cents: revenue,
    amount_cents: amount,
    status,
    scrub_reason: scrub_reason ?? hold,
    dedupe_key: unique_id ?? (offer.dedupe_transaction_id ? transaction_id : null),
    once_per_click,
    transaction_id,
    unique_id,
    order_id: input.order_id ?? null,
    adv1: adv[0] ?? null,
    adv2: adv[1] ?? null,
    adv3: adv[2] ?? null,
    adv4: adv[3] ?? null,
    adv5: adv[4] ?? null,
    s1: click?.s1 ?? null,
    s2: click?.s2 ?? null,
    s3: click?.s3 ?? null,
    s4: click?.s4 ?? null,
    s5: click?.s5 ?? null,
    source: input.source,
    // The suppression check above read the address as it came.
    ip: storedIp(network, input.ip) ?? null,
    is_test,
  };

  // Only an approved, real conversion pays, so only it tells the affiliate: one lookup for the
  // server postbacks (outbox) and the browser ones (thank-you page).
  const postbacks = postsBack(conversion) ? await deps.store.postbacksFor(affiliate_id, offer.offer_id, 'conversion') : [];
  const server = postbacks.filter(SERVER);
  const browser = postbacks.filter(BROWSER);
  return {
    conversion,
    deliveries: (row) => renderDeliveries(server, row, click, 'conversion'),
    browser: (row) => {
      if (!browser.length) return [];
      const macros = postbackMacros(row, click);
      return browser.map((p) => ({ type: p.postback_type_id as 2 | 3 | 4, url: fillTokens(p.postback_url, macros, true) }));
    },
  };
}

/** Whether the affiliate hears of this conversion: approved and real. Duplicates, test and
 * scrubbed conversions fire nothing. */
function postsBack(conversion: NewConversion): boolean {
  return conversion.status === 'approved' && !conversion.is_test;
}

/** The conversion, whether it repeated an earlier one (then nothing fired), and the browser
 * postbacks the p.ashx JavaScript and iframe answers write into the thank-you page. */
export type RecordResult = { duplicate: boolean; conversion: ConversionRow; browser: BrowserPostback[] };

export async function recordConversion(deps: ConversionDeps, input: ConversionInput): Promise<RecordResult> {
  const prepared = await prepareConversion(deps, input);
  let queued = 0;
  const result = await deps.store.insertConversion(prepared.conversion, (row) => {
    const rows = prepared.deliveries(row);
    queued = rows.length;
    return rows;
  });
  if (result.duplicate) return { ...result, browser: [] };
  if (queued) deps.onDeliveries();
  return { ...result, browser: prepared.browser(result.conversion) };
}

/** Changes a conversion's status and queues the postbacks that change fires: approval postbacks
 * on approved, rejection postbacks on rejected or reversed. Setting the status a conversion
 * already has changes nothing and fires nothing (decided inside the store's transaction, so two
 * identical requests at once fire once). Test conversions never fire. The money counted follows
 * the status (the store sets it in the same statement): approval pays what the conversion earns. */
export async function changeStatus(
  deps: ConversionDeps,
  conversion_id: number,
  status: ConversionStatus,
  /** Only a conversion inside this scope is changed (a key's, auth.ts). */
  scope?: Scope,
  /** What it earns from now on, set with the status in one transaction (classic UpdateConversion). */
  money?: ConversionMoney,
): Promise<ConversionRow | undefined> {
  const current = await deps.store.getConversion(conversion_id);
  if (!current) return undefined;
  const fire_on = current.is_test ? null : STATUS_FIRES[status];
  const postbacks = fire_on ? (await deps.store.postbacksFor(current.affiliate_id, current.offer_id, fire_on)).filter(SERVER) : [];
  const click = postbacks.length && current.reqid ? ((await deps.store.getClick(current.reqid)) ?? null) : null;
  let queued = 0;
  const row = await deps.store.setConversionStatus(conversion_id, status, (changed) => {
    const rows = fire_on ? renderDeliveries(postbacks, changed, click, fire_on) : [];
    queued = rows.length;
    return rows;
  }, scope, money);
  if (queued) deps.onDeliveries();
  return row;
}

const STATUS_FIRES: Record<ConversionStatus, FireOn | null> = {
  approved: 'approval',
  rejected: 'rejection',
  reversed: 'rejection',
  pending: null,
  scrubbed: null,
};

function scrubReason(network: Network, offer: Offer, click: ClickRecord | null, at: number, input: ConversionInput): string | null {
  if (click && at - click.click_time > offer.session_hours * HOUR) {
    return `session expired: more than ${offer.session_hours} hours after the click`;
  }
  const { ips, emails, transaction_ids } = network.suppression;
  // The conversion's address, and the click's: a server-to-server conversion comes from the
  // advertiser's server, so the visitor's address is the click's.
  // Clicks recorded before addresses had one form may hold ::ffff:a.b.c.d.
  const ip = normalAddress(input.ip);
  const clickIp = normalAddress(click?.ip);
  if ((ip && ips.has(ip)) || (clickIp && ips.has(clickIp))) return 'suppressed ip';
  if (input.email && emails.has(input.email.trim().toLowerCase())) return 'suppressed email';
  for (const id of [input.transaction_id, input.unique_id, input.order_id]) {
    if (id && transaction_ids.has(id)) return 'suppressed transaction id';
  }
  return null;
}

const SERVER = (p: PostbackRow) => p.postback_type_id === 1;
const BROWSER = (p: PostbackRow) => p.postback_type_id !== 1;

function renderDeliveries(postbacks: PostbackRow[], conversion: ConversionRow, click: ClickRecord | null, fire_on: FireOn) {
  if (!postbacks.length) return [];
  const macros = postbackMacros(conversion, click);
  return postbacks.map((p) => ({ postback_id: p.postback_id, conversion_id: conversion.conversion_id, fire_on, url: fillTokens(p.postback_url, macros, true) }));
}

/** Every macro of PROTOCOL.md 6, by name (lower case), for one conversion. */
export function postbackMacros(conversion: ConversionRow, click: ClickRecord | null): Record<string, string | number | null> {
  const price = money(conversion.payout_cents).toFixed(2);
  const leadid = conversion.lead_id !== null ? formatLeadId(conversion.lead_id) : String(conversion.conversion_id);
  return {
    reqid: conversion.reqid,
    reqsessid: conversion.reqid,
    click_id: conversion.reqid,
    leadid,
    lead_id: leadid,
    conversion_id: conversion.conversion_id,
    affid: conversion.affiliate_id,
    affiliate_id: conversion.affiliate_id,
    oid: conversion.offer_id,
    offer_id: conversion.offer_id,
    campid: conversion.campaign_id,
    campaign_id: conversion.campaign_id,
    cid: conversion.creative_id,
    creative_id: conversion.creative_id,
    tid: conversion.transaction_id ?? conversion.order_id ?? conversion.unique_id,
    transaction_id: conversion.transaction_id ?? conversion.order_id ?? conversion.unique_id,
    unique_id: conversion.unique_id,
    // (ours) The event's id; empty for the base conversion.
    eventid: conversion.event_id || null,
    event_id: conversion.event_id || null,
    s1: click?.s1 ?? null,
    s2: click?.s2 ?? null,
    s3: click?.s3 ?? null,
    s4: click?.s4 ?? null,
    s5: click?.s5 ?? null,
    price,
    payout: price,
    revenue: money(conversion.revenue_cents).toFixed(2),
    status: conversion.status,
    ip: conversion.ip,
    sourceip: click?.ip ?? null,
    source_ip: click?.ip ?? null,
    utcunixtime: Math.floor(conversion.conversion_time / 1000),
    sourcetime: click ? formatDate(click.click_time) : null,
  };
}

/** Lead ids as CAKE shows them: upper-case hex, such as 0000002A. */
export function formatLeadId(lead_id: number): string {
  return lead_id.toString(16).toUpperCase().padStart(8, '0');
}

export function parseLeadId(text: string): number | null {
  return /^[0-9A-Fa-f]{1,8}$/.test(text) ? parseInt(text, 16) : null;
}
