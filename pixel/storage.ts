// First-party storage of one small record: this browser's reqid, when it expires, and the orders
// whose conversion already fired. Written to a cookie on the landing domain and to localStorage,
// read from the cookie, else localStorage; the variables below are the memory in front of both,
// so that a blocked or throwing store (Safari private mode, cookies off, a sandboxed iframe)
// leaves the script working for the life of the page. Both stores are tried in one attempt,
// cookie first: where document.cookie throws (an opaque origin), localStorage throws as well;
// where cookies are refused silently, localStorage still keeps the record.
import { config, doc, KEY } from './config.js';
import { clean } from './reqid.js';
import { attempt } from './safe.js';

/** This browser's reqid, '' while there is none (set by load()). */
export let reqid: string;
/** The orders already fired (convert.ts), newest first. */
export let fired: string;
/** When the record expires (ms since the epoch): the reqid's cookie days after it was set. */
let expires: number;
/** Now, when the script started (a page lives minutes, cookie days are days). */
const now = Date.now();
/** Lifetime of the record in ms. */
let lifetime: number;

/** Reads the record: `reqid/expires/fired`. Its parts are cookie-safe and hold no `/` or `;`
 * (a reqid is `[\w-]`; the order keys are URL-encoded), so the cookie's `;` ends the last one. */
export const load = () => {
  lifetime = 864e5 * ((config.days as number) || 30); // data-days is text: * makes it a number
  // A record that is missing or unreadable, or a bare value another script keeps under the same
  // name, has no expiry, so it is reset below. (Only a script of the page itself could write
  // something of the record's shape.)
  // (No local variables: load() is inlined flat into the bundle. expires is text here, compared
  // as a number.)
  [reqid, expires, fired] = (attempt(() => doc.cookie.split(KEY + '=')[1] || localStorage[KEY]) || '').split(
    /[/;]/,
  ) as unknown as [string, number, string];
  if (!(expires > now)) (reqid = fired = ''), (expires = now + lifetime);
};

/** Writes the record to both stores; the cookie for the whole site (path=/), shared with the
 * subdomains of `domain` when given (an empty Domain attribute is ignored by browsers). */
const save = (record = reqid + '/' + expires + '/' + fired) =>
  attempt(() => {
    doc.cookie = `${KEY}=${record};max-age=${lifetime / 1e3};path=/;samesite=lax;domain=${[config.domain]}`;
    localStorage[KEY] = record;
  });

/** Keeps a reqid (from the URL or the JS click pixel) if it is one and new. A new reqid is a new
 * click, so the record lives its full lifetime again. */
export const keepReqid = (value: unknown) =>
  (value = clean(value)) && value != reqid && ((reqid = value as string), (expires = now + lifetime), save());

export const keepFired = (value: string) => ((fired = value), save());
