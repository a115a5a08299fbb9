// The conversion pixel (PROTOCOL.md section 5), fired once per order in this browser.
import { base } from './config.js';
import { fired, keepFired, reqid } from './storage.js';

export interface Conversion {
  offer_id?: string | number;
  event_id?: string | number;
  transaction_id?: string | number;
  /** Sale amount (revenue override; the base of a RevShare payout). */
  amount?: string | number;
  /** Affiliate payout override. */
  payout?: string | number;
}

export const convert = (order: Conversion) => {
  const query = new URLSearchParams('f=img');
  /** Adds a parameter unless its value is empty; true when added. ([value] + '' is '' for
   * undefined and null, and the text of anything else, 0 included.) */
  const add = (name: string, value: unknown) => (value = [value] + '') && !(query.append(name, value as string) as unknown);
  add('o', order.offer_id);
  add('e', order.event_id);
  // An order is (offer, event, transaction), or (offer, event, reqid) without a transaction id,
  // so that a reload of the thank-you page does not fire again. Its key is the query so far:
  // it starts with f=img and ends with `|`, and URL encoding leaves no `|` inside it.
  add('t', order.transaction_id) || add('r', reqid);
  let key: string;
  if (!fired.includes((key = query + '|'))) {
    query.has('r') || add('r', reqid); // the pixel carries the reqid either way
    add('p', order.amount);
    add('ap', order.payout);
    keepFired(key + fired);
    new Image().src = base + '/p.ashx?' + query;
  }
};
