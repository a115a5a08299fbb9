// Which click may be credited, for every door that receives one (session and browser lead posts,
// conversion pixels, conversion.json, the reqid a repeat click keeps by first touch). One rule for
// all of them: the click of a reqid is found the same way (the MAC first, then the store), and a
// click whose offer, advertiser, affiliate or campaign is no longer active is credited nothing new.
// What a door does with a refused click is its own answer: a lead goes to the internal affiliate,
// a conversion is recorded scrubbed with the reason, a repeat click keeps its own new reqid.
import type { Network, Offer } from './network.js';
import type { Reqids } from './reqid.js';
import type { ClickRecord, Store } from './store/types.js';

export type ClickLookup =
  /** `refusal`: why the click may be credited nothing new (creditRefusal), null when it may. */
  | { click: ClickRecord; refusal: string | null }
  /** Why no click: `missing`, `forged` (not a reqid of ours: malformed, mistyped, guessed),
   * `unknown` (ours but not stored), `unattributed` (a refused click), `other_offer`. */
  | { click: null; reason: 'missing' | 'forged' | 'unknown' | 'unattributed' | 'other_offer' };

/** What finding a click needs. */
export interface LookupDeps {
  store: Store;
  network: Network;
  reqids: Reqids;
}

/** Lead routers copy the click pixel's `"…"` literal with its quotes (PROTOCOL.md 2, 4). */
export function cleanReqid(value: string | undefined | null): string | undefined {
  const trimmed = value?.trim();
  if (!trimmed) return undefined;
  return trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"') ? trimmed.slice(1, -1).trim() : trimmed;
}

/** The attributed click of `reqid` on `offer` (any offer when `offer` is null), with whether it
 * may be credited. The MAC is checked first, so forged ids never reach the store. */
export async function clickForReqid(deps: LookupDeps, reqid: string | undefined | null, offer: Offer | null): Promise<ClickLookup> {
  const id = cleanReqid(reqid);
  if (!id) return { click: null, reason: 'missing' };
  if ((await deps.reqids.verify(id)) === null) return { click: null, reason: 'forged' };
  const click = await deps.store.getClick(id);
  if (!click) return { click: null, reason: 'unknown' };
  if (click.offer_id === null || click.affiliate_id === null) return { click: null, reason: 'unattributed' };
  if (offer && click.offer_id !== offer.offer_id) return { click: null, reason: 'other_offer' };
  return { click, refusal: creditRefusal(deps.network, click) };
}

/** Why this attributed click may be credited nothing new, or null when it may: its offer, the
 * offer's advertiser, its affiliate or its campaign is no longer active (or no longer exists). */
export function creditRefusal(network: Network, click: ClickRecord): string | null {
  const offer = network.offers.get(click.offer_id!);
  if (offer?.status !== 'active') return `inactive offer ${click.offer_id}`;
  if (network.advertisers.get(offer.advertiser_id)?.status !== 'active') return `inactive advertiser ${offer.advertiser_id}`;
  if (network.affiliates.get(click.affiliate_id!)?.status !== 'active') return `inactive affiliate ${click.affiliate_id}`;
  if (click.campaign_id !== null && network.campaigns.get(click.campaign_id)?.status !== 'active') return `inactive campaign ${click.campaign_id}`;
  return null;
}

/** Whether `click` is still inside the offer's cookie window at `now`: how long a browser (or a
 * first-touch repeat click) keeps crediting it. */
export function withinCookieWindow(click: ClickRecord, offer: Offer, now: number): boolean {
  return now - click.click_time < offer.cookie_days * 86_400_000;
}
