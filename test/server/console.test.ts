// The console's server side (server/console/): the page under its Content-Security-Policy, sign-in
// with an API key for a session cookie (HttpOnly, SameSite=Strict, Secure on https), the API
// answering that cookie only with its CSRF header, sign-out (ending the session in the store, so a
// copied cookie is refused on every instance), and a session ending with its key (revoked) or its
// time (12 hours).
import { afterEach, describe, expect, it } from 'vitest';
import { CSRF_HEADER, SESSION_COOKIE } from '../../server/console/session.js';
import { makeApp, setCookie, type TestApp } from '../support/app.js';
import { call, createKey } from '../support/keys.js';
import { AFF, API_KEY, HOST } from '../support/network.js';

let t: TestApp;
afterEach(() => t?.close());

const assets = { js: 'console.log("console")', css: 'body{}' };
const ORIGIN = `http://${HOST}`;

function open() {
  t = makeApp({ console: assets });
  return t;
}

async function signIn(key: string, headers: Record<string, string> = {}, url = `${ORIGIN}/console/session`) {
  const res = await t.app.request(url, {
    method: 'POST',
    headers: { host: HOST, origin: ORIGIN, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ api_key: key }),
  });
  const body = (await res.json()) as Record<string, unknown>;
  return { res, body, cookie: setCookie(res, SESSION_COOKIE), csrf: body.csrf as string };
}

/** An API call with the session cookie (and the CSRF header when given), no api_key. */
function withSession(path: string, cookie: string, csrf?: string, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  headers.set('host', HOST);
  headers.set('cookie', `${SESSION_COOKIE}=${cookie}`);
  if (csrf !== undefined) headers.set(CSRF_HEADER, csrf);
  return t.app.request(`${ORIGIN}${path}`, { ...init, headers });
}

describe('GET /console/', () => {
  it('answers the page under a strict Content-Security-Policy, with no inline script or style', async () => {
    open();
    const res = await t.get('/console/');
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const page = await res.text();
    expect(page).toContain('<script defer src="/console/console.js"></script>');
    expect(page).not.toMatch(/<script>|<style|\sstyle=|\son\w+=/);
    // Every URL the page names is this origin's own.
    expect(page.match(/(?:src|href)="([^"]+)"/g)!.every((a) => a.includes('"/console/'))).toBe(true);
  });

  it('serves the built script and style sheet', async () => {
    open();
    const js = await t.get('/console/console.js');
    expect(js.headers.get('content-type')).toContain('application/javascript');
    expect(await js.text()).toBe(assets.js);
    expect(await (await t.get('/console/console.css')).text()).toBe(assets.css);
    // Revalidated by its ETag: unchanged, a 304 without the body.
    const etag = js.headers.get('etag')!;
    expect(js.headers.get('cache-control')).toBe('no-cache');
    const again = await t.get('/console/console.js', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });

  it('says to build when the assets are missing', async () => {
    t = makeApp();
    const res = await t.get('/console/');
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('npm run build');
  });
});

describe('GET / in a browser', () => {
  it('links to the console; a tracking link still answers as before', async () => {
    open();
    const res = await t.get('/', { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<a href="/console/">');
    // Without Accept: text/html (a script, a pixel), or with any query, nothing changes.
    expect((await t.get('/')).status).toBe(302);
    expect((await t.get('/?a=1', { headers: { accept: 'text/html' } })).status).toBe(302);
  });
});

describe('sign-in', () => {
  it('exchanges an API key for an HttpOnly, SameSite=Strict session cookie, not Secure over http', async () => {
    open();
    const { res, body, cookie } = await signIn(API_KEY);
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ signed_in: true, role: 'admin' });
    expect(cookie).toBeTruthy();
    expect(cookie).not.toContain(API_KEY);
    const line = res.headers.getSetCookie().find((l) => l.startsWith(`${SESSION_COOKIE}=`))!;
    expect(line).toContain('HttpOnly');
    expect(line).toContain('SameSite=Strict');
    expect(line).toContain('Path=/');
    expect(line).not.toContain('Secure');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('sets Secure over https (directly or behind a proxy that ends TLS)', async () => {
    open();
    const direct = await signIn(API_KEY, { origin: `https://${HOST}` }, `https://${HOST}/console/session`);
    expect(direct.res.headers.getSetCookie().join()).toContain('; Secure');
    const proxied = await signIn(API_KEY, { 'x-forwarded-proto': 'https' });
    expect(proxied.res.headers.getSetCookie().join()).toContain('; Secure');
  });

  it('refuses a wrong key beside the api_key field, and sets no cookie', async () => {
    open();
    const { res, body, cookie } = await signIn('not-a-key-of-this-network');
    expect(res.status).toBe(401);
    expect((body.errors as { parameter: string }[])[0]!.parameter).toBe('api_key');
    expect(cookie).toBeUndefined();
  });

  it('refuses a sign-in posted from another site (login CSRF): by Origin, by Sec-Fetch-Site, or as a form', async () => {
    open();
    expect((await signIn(API_KEY, { origin: 'https://evil.example' })).res.status).toBe(403);
    expect((await signIn(API_KEY, { 'sec-fetch-site': 'cross-site' })).res.status).toBe(403);
    const form = await t.app.request(`${ORIGIN}/console/session`, {
      method: 'POST',
      headers: { host: HOST, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      body: `api_key=${API_KEY}`,
    });
    expect(form.status).toBe(415);
    expect(setCookie(form, SESSION_COOKIE)).toBeUndefined();
  });

  it('GET /console/session tells who is signed in and the CSRF token; nobody without the cookie', async () => {
    open();
    const { cookie, csrf } = await signIn(API_KEY);
    const res = await withSession('/console/session', cookie!);
    expect(await res.json()).toMatchObject({ signed_in: true, role: 'admin', csrf });
    expect(await (await t.get('/console/session')).json()).toEqual({ signed_in: false });
  });
});

describe('the API with a session cookie', () => {
  it('answers with the CSRF header, as the key would', async () => {
    open();
    const { cookie, csrf } = await signIn(API_KEY);
    const res = await withSession('/api/2/offers.json', cookie!, csrf);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { offers: unknown[] };
    expect(body.offers.length).toBeGreaterThan(0);
  });

  it('refuses the cookie without the CSRF header, or with a wrong one (another site\'s request)', async () => {
    open();
    const { cookie, csrf } = await signIn(API_KEY);
    const none = await withSession('/api/2/offers.json', cookie!);
    expect(none.status).toBe(403);
    expect(((await none.json()) as { message: string }).message).toContain(CSRF_HEADER);
    expect((await withSession('/api/2/offers.json', cookie!, `${csrf}x`)).status).toBe(403);
    // A write without the header changes nothing.
    const write = await withSession('/api/2/affiliates.json', cookie!, undefined, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ affiliate_name: 'Forged' }) });
    expect(write.status).toBe(403);
    const list = await call(t, 'GET', 'affiliates.json', API_KEY);
    expect(JSON.stringify(list.body)).not.toContain('Forged');
  });

  it('refuses a cookie that was not issued here (forged or altered)', async () => {
    open();
    const { cookie, csrf } = await signIn(API_KEY);
    const [id, expires, nonce, mac] = cookie!.split('.');
    const later = (parseInt(expires!, 36) + 86400000).toString(36);
    expect((await withSession('/api/2/offers.json', `${id}.${later}.${nonce}.${mac}`, csrf)).status).toBe(401);
    const altered = (mac![0] === 'A' ? 'B' : 'A') + mac!.slice(1);
    expect((await withSession('/api/2/offers.json', `${id}.${expires}.${nonce}.${altered}`, csrf)).status).toBe(401);
    // Another key's id under this session's nonce and MAC.
    expect((await withSession('/api/2/offers.json', `${Number(id) + 1}.${expires}.${nonce}.${mac}`, csrf)).status).toBe(401);
  });

  it('is the key\'s role: an affiliate session reads its own campaigns and cannot manage the network', async () => {
    open();
    const key = await createKey(t, 'affiliate', AFF.partner);
    const { body, cookie, csrf } = await signIn(key);
    expect(body).toMatchObject({ role: 'affiliate', affiliate_id: AFF.partner });
    const campaigns = (await (await withSession('/api/2/campaigns.json', cookie!, csrf)).json()) as { campaigns: { affiliate_id: number }[] };
    expect(campaigns.campaigns.length).toBeGreaterThan(0);
    expect(campaigns.campaigns.every((c) => c.affiliate_id === AFF.partner)).toBe(true);
    expect((await withSession('/api/2/offers.json', cookie!, csrf)).status).toBe(403);
  });

  it('ends when its key is revoked', async () => {
    open();
    const key = await createKey(t, 'affiliate', AFF.partner);
    const { cookie, csrf } = await signIn(key);
    expect((await withSession('/api/2/campaigns.json', cookie!, csrf)).status).toBe(200);
    const listed = await call(t, 'GET', 'api_keys.json', API_KEY);
    const keyId = (listed.body.api_keys as { key_id: number; role: string }[]).find((k) => k.role === 'affiliate')!.key_id;
    expect((await call(t, 'DELETE', 'api_keys.json', API_KEY, { key_id: keyId })).status).toBe(200);
    expect((await withSession('/api/2/campaigns.json', cookie!, csrf)).status).toBe(401);
    expect(await (await withSession('/console/session', cookie!)).json()).toEqual({ signed_in: false });
  });

  it('is answered by every instance of the database, and ends on each when the key is revoked on one', async () => {
    open();
    const other = makeApp({ dbPath: t.dbPath, console: assets });
    try {
      await Promise.all([t.network.ready, other.network.ready]);
      const key = await createKey(t, 'affiliate', AFF.partner);
      await other.network.refresh();
      const { cookie, csrf } = await signIn(key);
      const ask = () =>
        other.app.request(`${ORIGIN}/api/2/campaigns.json`, { headers: { host: HOST, cookie: `${SESSION_COOKIE}=${cookie}`, [CSRF_HEADER]: csrf } });
      expect((await ask()).status).toBe(200);
      const listed = await call(t, 'GET', 'api_keys.json', API_KEY);
      const keyId = (listed.body.api_keys as { key_id: number; role: string }[]).find((k) => k.role === 'affiliate')!.key_id;
      await call(t, 'DELETE', 'api_keys.json', API_KEY, { key_id: keyId });
      // The other instance's next poll of the network version (every 500 ms in a server).
      await other.network.refresh();
      expect((await ask()).status).toBe(401);
    } finally {
      await other.close();
    }
  });

  it('ends 12 hours after sign-in', async () => {
    open();
    const { cookie, csrf } = await signIn(API_KEY);
    t.clock.now += 12 * 3600 * 1000 - 1000;
    expect((await withSession('/api/2/offers.json', cookie!, csrf)).status).toBe(200);
    t.clock.now += 2000;
    expect((await withSession('/api/2/offers.json', cookie!, csrf)).status).toBe(401);
  });

  it('an api_key parameter still works alone, with no cookie and no CSRF header', async () => {
    open();
    expect((await call(t, 'GET', 'offers.json', API_KEY)).status).toBe(200);
  });
});

describe('sign-out', () => {
  it('needs the CSRF header, then clears the cookie', async () => {
    open();
    const { cookie, csrf } = await signIn(API_KEY);
    expect((await withSession('/console/session', cookie!, undefined, { method: 'DELETE' })).status).toBe(403);
    const res = await withSession('/console/session', cookie!, csrf, { method: 'DELETE' });
    expect(res.status).toBe(200);
    const line = res.headers.getSetCookie().find((l) => l.startsWith(`${SESSION_COOKIE}=`))!;
    expect(line).toMatch(new RegExp(`^${SESSION_COOKIE}=;`));
    expect(line).toContain('Max-Age=0');
  });

  it('ends the session server-side: a copy of the cookie is refused afterwards, and another session lives on', async () => {
    open();
    const copied = await signIn(API_KEY);
    const other = await signIn(API_KEY);
    expect((await withSession('/api/2/offers.json', copied.cookie!, copied.csrf)).status).toBe(200);
    expect((await withSession('/console/session', copied.cookie!, copied.csrf, { method: 'DELETE' })).status).toBe(200);
    // The copy still carries the cookie and its CSRF token: both are refused now.
    const refused = await withSession('/api/2/offers.json', copied.cookie!, copied.csrf);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { message: string }).message).toContain('signed out');
    expect(await (await withSession('/console/session', copied.cookie!)).json()).toEqual({ signed_in: false });
    // Signing out again with the copy is harmless, and the other session is untouched.
    expect((await withSession('/console/session', copied.cookie!, copied.csrf, { method: 'DELETE' })).status).toBe(200);
    expect((await withSession('/api/2/offers.json', other.cookie!, other.csrf)).status).toBe(200);
  });

  it('holds on every instance of the database at once', async () => {
    open();
    const other = makeApp({ dbPath: t.dbPath, console: assets });
    try {
      await Promise.all([t.network.ready, other.network.ready]);
      const { cookie, csrf } = await signIn(API_KEY);
      const ask = () => other.app.request(`${ORIGIN}/api/2/offers.json`, { headers: { host: HOST, cookie: `${SESSION_COOKIE}=${cookie}`, [CSRF_HEADER]: csrf } });
      expect((await ask()).status).toBe(200);
      expect((await withSession('/console/session', cookie!, csrf, { method: 'DELETE' })).status).toBe(200);
      expect((await ask()).status).toBe(401);
    } finally {
      await other.close();
    }
  });
});
