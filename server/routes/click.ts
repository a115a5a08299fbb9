// GET / : tracking links (302 to the landing page) and click pixels (cp=js, cp=img). PROTOCOL.md 2.
// HEAD (link checkers, chat-app previews) answers the same status and headers, recording nothing
// and setting no cookie.
import { Hono } from 'hono';
import { previewClick, recordClick, type ClickDeps, type ClickRequest } from '../clicks.js';
import { cookieAttributes, GIF, heldVisitor, html, jsString, NO_STORE, offerCookie, readCookie } from '../http.js';
import type { AppDeps } from '../app.js';
import { crossOriginAnswer, redirectHeaders } from '../security.js';
import { StoreOverloaded } from '../store/errors.js';

const JS = 'application/javascript; charset=utf-8';

export function clickRoutes(deps: AppDeps & ClickDeps) {
  const app = new Hono();

  app.get('/', async (c) => {
    const q = c.req.query();
    const cp = q.cp;
    const pixel = cp === 'js' || cp === 'img' ? cp : undefined;
    if (q.a === undefined && q.c === undefined) {
      // A person who typed the tracking domain: the way to the console. Anything with a query (a
      // broken link, a pixel) answers as before.
      if (!c.req.url.includes('?') && (c.req.header('accept') ?? '').includes('text/html')) return consoleLink(deps);
      return globalRedirect(deps, cp);
    }

    const req: ClickRequest = {
      a: q.a,
      c: q.c,
      subIds: [q.s1, q.s2, q.s3, q.s4, q.s5],
      reqid: pixel ? (q.reqid ?? q.ckm_request_id) : undefined,
      pixel: pixel !== undefined,
      host: c.req.header('host'),
      ip: deps.clientIp(c),
      country: deps.country(c),
      userAgent: c.req.header('user-agent'),
      referrer: c.req.header('referer'),
      visitorId: heldVisitor(c),
      heldReqid: (offer_id) => readCookie(c, offerCookie(offer_id)),
    };
    // Hono runs this handler for HEAD too (and drops the body it answers).
    const result =
      c.req.method === 'HEAD'
        ? previewClick(deps.network, req)
        : await recordClick(deps, req).catch((error: unknown) => {
            // The store cannot take the click now: a pixel still answers its own kind (503,
            // Retry-After); a tracking link gets the app's 503.
            if (pixel && error instanceof StoreOverloaded) return busyPixel(pixel, error);
            throw error;
          });
    if (result instanceof Response) return result;
    if (!result.attributed) return globalRedirect(deps, cp);

    // Plain objects of single values (redirectHeaders, crossOriginAnswer): @hono/node-server
    // writes them straight to the socket, where a list (or a Headers) would be turned into undici
    // Headers first: a sixth of a click's time.
    const cookie = result.setCookie
      ? `${offerCookie(result.offer.offer_id)}=${result.reqid}; Max-Age=${result.offer.cookie_days * 86400}${cookieAttributes(c)}`
      : undefined;
    if (!pixel) return new Response(null, { status: 302, headers: redirectHeaders(result.location, cookie) });
    return pixelAnswer(pixel, result.reqid, 200, cookie ? { 'Set-Cookie': cookie } : undefined);
  });

  return app;
}

/** The JS click pixel. Lead routers scrape it server-side with /var ckm_request_id = (.*);/ so that
 * statement stands alone on the first line with nothing after its semicolon. The second line hands
 * the reqid to d.js (or to its queue stub) when the page has it. */
export function clickPixelScript(reqid: string): string {
  return `var ckm_request_id = ${jsString(reqid)};\nif (typeof ckm == "function") ckm("reqid", ckm_request_id)\n`;
}

/** A click pixel's answer of its own kind: the script (with `reqid`, or empty) or the GIF. */
function pixelAnswer(cp: 'js' | 'img', reqid: string, status = 200, more?: Record<string, string>): Response {
  return crossOriginAnswer(cp === 'js' ? clickPixelScript(reqid) : GIF, status, {
    'Cache-Control': NO_STORE,
    'Content-Type': cp === 'js' ? JS : 'image/gif',
    ...more,
  });
}

function busyPixel(cp: 'js' | 'img', error: StoreOverloaded): Response {
  return pixelAnswer(cp, '', 503, { 'Retry-After': String(error.retryAfter) });
}

/** The bare tracking domain in a browser: a page linking to the console (server/console/). */
function consoleLink(deps: AppDeps): Response {
  return crossOriginAnswer(
    `<!doctype html><meta charset="utf-8"><title>${html(deps.network.name)}</title><p>This is the tracking domain of ${html(deps.network.name)}.</p><p><a href="/console/">Sign in to the console</a></p>\n`,
    200,
    { 'Cache-Control': NO_STORE, 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'" },
  );
}

/** Unknown or inactive anything: the network's global redirect, or a plain 404 page. Pixels still
 * answer their own kind, so that a page never shows a broken image or a script error. */
function globalRedirect(deps: AppDeps, cp: string | undefined): Response {
  if (cp === 'js' || cp === 'img') return pixelAnswer(cp, '');
  const target = deps.network.global_redirect_url;
  if (target) return new Response(null, { status: 302, headers: redirectHeaders(target) });
  return crossOriginAnswer('<!doctype html><meta charset="utf-8"><title>Not found</title><p>This link is not active.</p>\n', 404, {
    'Cache-Control': NO_STORE,
    'Content-Type': 'text/html; charset=utf-8',
  });
}
