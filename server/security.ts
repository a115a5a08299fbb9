// The security headers of the answers other sites load, frame and post to (clicks, click pixels,
// d.js, conversion pixels, lead posts), and the ways those answers get them cheaply: Node writes a
// plain object of headers straight to the socket, and spends about a microsecond on each header.
// The API and our own pages take Hono's secureHeaders() defaults instead (app.ts).
import type { MiddlewareHandler } from 'hono';
import { NO_STORE } from './http.js';

// The three a redirect carries too (redirectHeaders).
const CORP = 'cross-origin';
const REFERRER_POLICY = 'strict-origin-when-cross-origin';
const HSTS = 'max-age=15552000; includeSubDomains';

/** The security headers of what landing pages load, frame and post to from their own sites (clicks,
 * click pixels, d.js, conversion pixels, lead posts): Hono's secureHeaders() defaults, except
 * Cross-Origin-Resource-Policy cross-origin (so other sites may load them), no X-Frame-Options (the
 * iframe conversion pixel is framed by the advertiser's page), no Cross-Origin-Opener-Policy (no
 * documents here), and a Referrer-Policy that lets a landing page see where its click came from.
 * The routes put them in their answers' own headers (redirectHeaders, crossOriginAnswer);
 * crossOriginHeaders adds them to whatever else those routes answer. */
export const CROSS_ORIGIN_SECURITY: Readonly<Record<string, string>> = {
  'Cross-Origin-Resource-Policy': CORP,
  'Origin-Agent-Cluster': '?1',
  'Referrer-Policy': REFERRER_POLICY,
  'Strict-Transport-Security': HSTS,
  'X-Content-Type-Options': 'nosniff',
  'X-DNS-Prefetch-Control': 'off',
  'X-Download-Options': 'noopen',
  'X-Permitted-Cross-Domain-Policies': 'none',
  'X-XSS-Protection': '0',
};

/** A redirect's headers: of those above, what a redirect with no body uses (tracking links, the
 * global redirect). It has no document to sniff, frame, isolate or prefetch for, so the other six
 * would be bytes the browser ignores, and Node spends about a microsecond writing each header of
 * an answer (bench/RESULTS.md, profile finding 7). Referrer-Policy applies to the request the
 * redirect leads to, HSTS is learnt from any answer, and CORP keeps a link loaded as a subresource
 * by a page with COEP loading. */
export function redirectHeaders(location: string, setCookie?: string): Record<string, string> {
  // One literal: the same shape on every click, written straight to the socket (routes/click.ts).
  const headers: Record<string, string> = {
    'Cross-Origin-Resource-Policy': CORP,
    'Referrer-Policy': REFERRER_POLICY,
    'Strict-Transport-Security': HSTS,
    'Cache-Control': NO_STORE,
    Location: location,
  };
  if (setCookie) headers['Set-Cookie'] = setCookie;
  return headers;
}

/** The answers crossOriginAnswer made: they carry the headers already. */
const secured = new WeakSet<Response>();

/** An answer of a route other sites load, frame and post to (click and conversion pixels, lead
 * posts, the 404 of a mistyped one), with the security headers in its own plain headers:
 * @hono/node-server writes it straight to the socket, and crossOriginHeaders leaves it as it is,
 * where setting a header on it would first rebuild it as undici Headers (about 11 µs of a
 * conversion pixel in its profile). */
export function crossOriginAnswer(body: string | Uint8Array<ArrayBuffer> | null, status: number, headers: Record<string, string>): Response {
  const res = new Response(body, { status, headers: { ...CROSS_ORIGIN_SECURITY, ...headers } });
  secured.add(res);
  return res;
}

/** The same headers on whatever else such a route answers (an error, a CORS preflight). */
export const crossOriginHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  if (secured.has(c.res)) return;
  for (const name in CROSS_ORIGIN_SECURITY) c.res.headers.set(name, CROSS_ORIGIN_SECURITY[name]!);
};
