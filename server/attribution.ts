// Finding the click behind a reqid, for every door that receives one (session posts, browser posts
// through the cookie, conversion pixels, conversion.json). One rule for all of them.
import type { AppDeps } from './app.js';
import type { Offer } from './network.js';
import type { ClickRecord } from './store/types.js';

export type ClickLookup =
  | { click: ClickRecord }
  /** Why no click: `missing`, `forged` (not a reqid of ours: malformed, mistyped, guessed),
   * `unknown` (ours but not stored), `unattributed` (a refused click), `other_offer`. */
  | { click: null; reason: 'missing' | 'forged' | 'unknown' | 'unattributed' | 'other_offer' };

/** Lead routers copy the click pixel's `"…"` literal with its quotes (PROTOCOL.md 2, 4). */
export function cleanReqid(value: string | undefined | null): string | undefined {
  const trimmed = value?.trim();
  if (!trimmed) return undefined;
  return trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"') ? trimmed.slice(1, -1).trim() : trimmed;
}

/** The attributed click of `reqid` on `offer` (any offer when `offer` is null). The MAC is checked
 * first, so forged ids never reach the store. */
export async function clickForReqid(deps: AppDeps, reqid: string | undefined | null, offer: Offer | null): Promise<ClickLookup> {
  const id = cleanReqid(reqid);
  if (!id) return { click: null, reason: 'missing' };
  if ((await deps.reqids.verify(id)) === null) return { click: null, reason: 'forged' };
  const click = await deps.store.getClick(id);
  if (!click) return { click: null, reason: 'unknown' };
  if (click.offer_id === null || click.affiliate_id === null) return { click: null, reason: 'unattributed' };
  if (offer && click.offer_id !== offer.offer_id) return { click: null, reason: 'other_offer' };
  return { click };
}
