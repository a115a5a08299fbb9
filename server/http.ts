// Small answers and request readers shared by the routes.
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

/** A 1x1 transparent GIF. */
export const GIF = Uint8Array.from(atob('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7'), (ch) => ch.charCodeAt(0));

export const NO_STORE = 'no-store';

/** A JavaScript string literal that cannot end its script: JSON, with `<`, `>`, `&` and the JS
 * line terminators escaped so that `</script>` or `<!--` never appears in the answer. */
export function jsString(value: string): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Text for HTML element content or a double-quoted attribute. */
export function html(value: string | number | null | undefined): string {
  return String(value ?? '').replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!,
  );
}

/** The value of one cookie, or undefined. */
export function readCookie(c: Context, name: string): string | undefined {
  const header = c.req.header('cookie');
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Whether the browser reached us over https, directly or through a proxy that ends TLS. */
export function isHttps(c: Context): boolean {
  return c.req.url.startsWith('https:') || c.req.header('x-forwarded-proto') === 'https';
}

/** Cookies on the tracking domain are read back on cross-site requests (browser posts, conversion
 * pixels on the advertiser's pages), which needs SameSite=None, which needs Secure. Browsers take
 * Secure cookies from https and from localhost; on plain http elsewhere, Lax is the best we can do. */
export function cookieAttributes(c: Context): string {
  const secure = isHttps(c) || /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])[:/]/.test(c.req.url);
  return secure ? '; Path=/; HttpOnly; SameSite=None; Secure' : '; Path=/; HttpOnly; SameSite=Lax';
}

/** The cookie holding the reqid of this browser's click on an offer. */
export function offerCookie(offer_id: number): string {
  return `crumb_o${offer_id}`;
}

/** The visitor this browser is: the random part of the earliest click it holds (reqids sort by
 * time), or undefined for a browser that holds none. It lives as long as that click's cookie, and
 * costs no cookie of its own, so that a click answers with one Set-Cookie at most. Not checked: it
 * only labels clicks (#vstid#), it credits no one. */
export function heldVisitor(c: Context): string | undefined {
  const header = c.req.header('cookie');
  if (!header || header.indexOf('crumb_o') < 0) return undefined;
  let earliest: string | undefined;
  for (const match of header.matchAll(/crumb_o\d+=([A-Za-z0-9_-]{32})/g)) {
    if (earliest === undefined || match[1]! < earliest) earliest = match[1]!;
  }
  return earliest?.slice(8, 20);
}

/** Hono's bodyLimit, without its cost when the request states its length. bodyLimit reads
 * `c.req.raw.body`, which on @hono/node-server turns the request into a full web Request with a
 * stream: a quarter of a lead post's time. A body with a Content-Length is judged by it (the server
 * never reads past it); one without (chunked) goes through bodyLimit, which counts as it reads. */
export function limitBody(maxSize: number, onError: (c: Context) => Response | Promise<Response>): MiddlewareHandler {
  const counting = bodyLimit({ maxSize, onError });
  return async (c, next) => {
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      return Number(length) > maxSize ? onError(c) : next();
    }
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    return counting(c, next);
  };
}

/** A positive id (as CAKE's ids are) from text, or null for anything else. */
export function parseId(value: string | undefined | null): number | null {
  if (!value || value.length > 10 || !/^\d+$/.test(value)) return null;
  const n = Number(value);
  return n > 0 && n <= 2147483647 ? n : null;
}

/** Whether `given` is `expected` (a key), in time that depends only on the length of `expected`:
 * not on where the strings differ, nor on what was given. */
export function sameText(given: string, expected: string): boolean {
  const a = new TextEncoder().encode(given);
  const b = new TextEncoder().encode(expected);
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a[i] ?? 0) ^ b[i]!;
  return diff === 0;
}

/** Cuts text to `max` characters, or null when empty. */
export function clip(value: string | undefined | null, max: number): string | null {
  if (!value) return null;
  return value.length > max ? value.slice(0, max) : value;
}
