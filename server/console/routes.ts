// /console/: the network's web console (README, "The console"). A page and its two built assets,
// and the session: sign in with an API key (POST /console/session), read it (GET), sign out
// (DELETE). Everything else the console shows it reads and writes through the public v2 API, with
// the session cookie and its CSRF header in place of api_key (api/index.ts).
import { Hono, type Context } from 'hono';
import type { AppDeps } from '../app.js';
import { authenticate, sha256Hex } from '../auth.js';
import { html, NO_STORE, readCookie } from '../http.js';
import type { ApiKey } from '../network.js';
import { CSRF_HEADER, SESSION_COOKIE, SESSION_MS, sameMac, sessionCookie, type Sessions } from './session.js';

/** The built console (dist/console/, rollup.config.mjs). */
export interface ConsoleAssets {
  js: string;
  css: string;
}

/** Nothing but this origin's own script, style sheet and API; no inline script or style element,
 * no frame, no form posting elsewhere, no plugin, no base change. uPlot draws on a canvas and sets
 * element styles through the CSSOM, which style-src does not govern. */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const PAGE_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONSOLE_CSP,
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
  'Strict-Transport-Security': 'max-age=15552000; includeSubDomains',
};

export function consoleRoutes(deps: AppDeps, sessions: Sessions, assets: ConsoleAssets | undefined) {
  const app = new Hono();
  app.use('/console/*', async (c, next) => {
    await next();
    for (const name in PAGE_HEADERS) c.res.headers.set(name, PAGE_HEADERS[name]!);
  });

  app.get('/console', (c) => c.redirect('/console/', 301));
  app.get('/console/', (c) => {
    c.header('Cache-Control', NO_STORE);
    if (!assets) return c.text('The console is not built: run `npm run build`', 503);
    return c.html(page(deps.network.name));
  });
  app.get('/console/console.js', (c) => asset(c, assets?.js, 'application/javascript; charset=utf-8'));
  app.get('/console/console.css', (c) => asset(c, assets?.css, 'text/css; charset=utf-8'));

  // Who is signed in, and the CSRF token for the API calls. Read by the console's own script only:
  // another site's page cannot read this answer (no CORS), nor send the cookie (SameSite=Strict).
  app.get('/console/session', async (c) => {
    c.header('Cache-Control', NO_STORE);
    const session = await sessions.verify(deps.network, readCookie(c, SESSION_COOKIE), deps.clock());
    // Not signed in is an answer, not an error: the page asks this on every visit.
    if (!session) return c.json({ signed_in: false });
    return c.json(describe(session.key, session.csrf, session.expires, deps.network.name));
  });

  // Sign-in: a JSON body from the console's own page. JSON and an Origin of this host, both
  // checked: a form on another site can send neither (login CSRF).
  app.post('/console/session', async (c) => {
    c.header('Cache-Control', NO_STORE);
    const refused = crossSite(c);
    if (refused) return c.json({ signed_in: false, message: refused }, 403);
    if (!(c.req.header('content-type') ?? '').includes('application/json')) {
      return c.json({ signed_in: false, message: 'Sign in with a JSON body {"api_key": "…"} (Content-Type: application/json)' }, 415);
    }
    const body = (await c.req.json().catch(() => null)) as { api_key?: unknown } | null;
    const given = typeof body?.api_key === 'string' ? body.api_key.trim() : '';
    if (!given) return c.json({ signed_in: false, errors: [{ parameter: 'api_key', message: 'enter your API key' }] }, 400);
    await deps.live.ready.catch(() => {});
    const key = await authenticate(deps.network, given);
    if (!key) {
      return c.json({ signed_in: false, errors: [{ parameter: 'api_key', message: 'is not an API key of this network: use a key of the network file or one made with api_keys.json' }] }, 401);
    }
    deps.keyUses.note(key, deps.clock());
    const issued = await sessions.issue(key, deps.clock());
    c.header('Set-Cookie', sessionCookie(c, issued.value, SESSION_MS / 1000));
    return c.json(describe(key, issued.csrf, issued.expires, deps.network.name));
  });

  // Sign-out: the session ended in the store (every copy of the cookie refused, on every
  // instance) and the cookie dropped; with the CSRF header, so another site cannot sign anyone out.
  app.delete('/console/session', async (c) => {
    c.header('Cache-Control', NO_STORE);
    const session = await sessions.verify(deps.network, readCookie(c, SESSION_COOKIE), deps.clock());
    if (session && !(await sameMac(c.req.header(CSRF_HEADER) ?? '', session.csrf))) {
      return c.json({ message: `Sign-out needs the ${CSRF_HEADER} header` }, 403);
    }
    if (session) await sessions.end(session, deps.clock());
    c.header('Set-Cookie', sessionCookie(c, '', 0));
    return c.json({ signed_in: false });
  });

  return app;
}

/** Why a sign-in is refused as coming from another site, or null. Browsers send Origin on every
 * POST; a request without one is not a browser's and cannot carry a victim's cookies anyway. */
function crossSite(c: Context): string | null {
  const site = c.req.header('sec-fetch-site');
  if (site && site !== 'same-origin' && site !== 'none') return 'Sign in from the console page of this tracking domain';
  const origin = c.req.header('origin');
  if (origin) {
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      return 'Sign in from the console page of this tracking domain';
    }
    if (host !== (c.req.header('host') ?? new URL(c.req.url).host)) return 'Sign in from the console page of this tracking domain';
  }
  return null;
}

function describe(key: ApiKey, csrf: string, expires: number, network: string) {
  return {
    signed_in: true,
    network,
    role: key.role,
    key_id: key.key_id,
    label: key.label,
    advertiser_id: key.advertiser_id,
    affiliate_id: key.affiliate_id,
    csrf,
    expires_at: new Date(expires).toISOString(),
  };
}

const etags = new Map<string, Promise<string>>();

/** A built asset, revalidated on every load (a new build is seen at once) by its ETag (an
 * unchanged one answers 304 without the body). */
async function asset(c: Context, body: string | undefined, type: string): Promise<Response> {
  if (body === undefined) return c.text('The console is not built: run `npm run build`', 503);
  let etag = etags.get(body);
  if (!etag) etags.set(body, (etag = sha256Hex(body).then((hex) => `"${hex.slice(0, 20)}"`)));
  const headers = { 'Content-Type': type, 'Cache-Control': 'no-cache', ETag: await etag };
  if (c.req.header('if-none-match') === headers.ETag) return new Response(null, { status: 304, headers });
  return new Response(body, { headers });
}

function page(network: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${html(network)} · Crumb console</title>
<link rel="stylesheet" href="/console/console.css">
<script defer src="/console/console.js"></script>
</head>
<body>
<noscript>The Crumb console needs JavaScript.</noscript>
<main id="app"></main>
</body>
</html>
`;
}
