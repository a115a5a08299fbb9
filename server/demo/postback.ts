// In demo mode the demo affiliate has a server-to-server postback, so a newcomer sees the
// affiliate get paid: it points at the demo's stand-in for the affiliate's server
// (pages.ts, /demo/affiliate/postback), which lists what it received at /demo/postbacks.
import type { PostbackRow, Store } from '../store/types.js';
import { DEMO } from './network.js';
import { DEMO_RECEIVER_PATH } from './pages.js';

/** The postback URL, with the macros an affiliate usually asks for. */
export function demoPostbackUrl(base: string): string {
  return `${base}${DEMO_RECEIVER_PATH}?click_id=#reqid#&payout=#price#&status=#status#&offer_id=#oid#&sub_id=#s1#&conversion_id=#leadid#&transaction_id=#tid#&event_id=#eventid#`;
}

/** Creates the demo postback, or points the one a previous run created at this server (its port
 * may have changed). Its status is left as the operator set it. */
export async function ensureDemoPostback(store: Store, base: string): Promise<PostbackRow> {
  const url = demoPostbackUrl(base);
  const existing = (await store.listPostbacks({ affiliate_id: DEMO.affiliate })).find((p) => p.postback_url.includes(DEMO_RECEIVER_PATH));
  if (!existing) {
    return store.createPostback({
      affiliate_id: DEMO.affiliate,
      offer_id: DEMO.offer,
      postback_url: url,
      postback_status: 'active',
      postback_type_id: 1,
      fire_on: 'conversion',
    });
  }
  if (existing.postback_url === url) return existing;
  return (await store.updatePostback(existing.postback_id, { postback_url: url })) ?? existing;
}
