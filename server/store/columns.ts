// The columns each store writes, named as in types.ts: one list for every backend, so that a field
// added to a row is added to both stores' writes at once. Only these are written, whatever else a
// caller's object carries.
import type { Attempt, ClickRecord, LeadRow, NewConversion, NewDelivery, NewLead, NewPostback } from './types.js';

export const CLICK_COLUMNS = [
  'reqid', 'click_time', 'affiliate_id', 'offer_id', 'campaign_id', 'creative_id', 's1', 's2', 's3', 's4', 's5',
  'ip', 'country', 'user_agent', 'referrer', 'tracking_domain_id', 'visitor_id', 'disposition',
] as const satisfies readonly (keyof ClickRecord)[];

export const LEAD_COLUMNS = [
  'offer_id', 'affiliate_id', 'campaign_id', 'creative_id', 'reqid', 'method', 'email', 'fields', 's1', 's2', 's3',
  's4', 's5', 'ip', 'user_agent', 'created_at', 'is_test', 'attributed', 'resell',
] as const satisfies readonly (keyof NewLead)[];

export const CONVERSION_COLUMNS = [
  'offer_id', 'advertiser_id', 'affiliate_id', 'campaign_id', 'creative_id', 'reqid', 'lead_id', 'event_id',
  'conversion_time', 'click_time', 'payout_cents', 'revenue_cents', 'computed_payout_cents', 'computed_revenue_cents',
  'amount_cents', 'status', 'scrub_reason', 'dedupe_key', 'once_per_click', 'transaction_id', 'unique_id', 'order_id', 'adv1', 'adv2', 'adv3', 'adv4', 'adv5', 's1', 's2', 's3', 's4', 's5', 'source', 'ip',
  'is_test',
] as const satisfies readonly (keyof NewConversion)[];

export const POSTBACK_COLUMNS = [
  'affiliate_id', 'offer_id', 'postback_url', 'postback_status', 'postback_type_id', 'fire_on',
] as const satisfies readonly (keyof NewPostback)[];

/** What a new outbox row is given; each store adds the rest (pending, no attempts, due now by the
 * database's clock). */
export const DELIVERY_COLUMNS = ['postback_id', 'conversion_id', 'fire_on', 'url', 'host'] as const satisfies readonly (keyof NewDelivery | 'host')[];

/** A new outbox row with its host, the key of the dispatcher's per-host limit. */
export function withHost(delivery: NewDelivery): NewDelivery & { host: string } {
  return { postback_id: delivery.postback_id, conversion_id: delivery.conversion_id, fire_on: delivery.fire_on, url: delivery.url, host: deliveryHost(delivery.url) };
}

/** host[:port] of a delivery URL, lower case ('' when it has none). */
export function deliveryHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
}

/** The log line of an attempt whose outcome was not applied: its lease was gone when it finished. */
export function notApplied(attempt: Attempt): string {
  return `${attempt.error ?? `HTTP ${attempt.status_code}`} (lease lost: outcome not applied)`;
}

/** last_error of the deliveries a postback change cancels. */
export const CANCELLED = { deactivated: 'cancelled: the postback was deactivated', deleted: 'cancelled: the postback was deleted' } as const;

/** The fields of a change that are given: what an update writes over the current row. */
export function definedOnly<T extends object>(change: T): Partial<T> {
  return Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Thrown inside a lead's transaction when an earlier lead holds its email: rolls it back, carries
 * the earlier lead out. */
export class EarlierLead extends Error {
  constructor(readonly lead: LeadRow) {
    super('an earlier lead holds this email');
  }
}
