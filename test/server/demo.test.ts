// The demo's pages (server/demo/pages.ts): what they embed, that everything echoed from the request
// is escaped for where it lands, their CSP, the stand-in for the affiliate's postback endpoint, and
// the demo postback the Node entry creates. The browser side is test/e2e/.
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_API_KEY, demoNetwork } from '../../server/demo/network.js';
import { demoRoutes, QUEUE_STUB, type DemoOptions } from '../../server/demo/pages.js';
import { demoPostbackUrl, ensureDemoPostback } from '../../server/demo/postback.js';
import { loadNetwork } from '../../server/network.js';
import { openSqliteStore } from '../../server/store/sqlite.js';
import type { Store } from '../../server/store/types.js';
import { makeApp, tempDbPath, type TestApp } from '../support/app.js';
import { testNetworkFile } from '../support/network.js';
import { startServer, type ServerProcess } from '../support/process.js';
import { eventually } from '../support/receiver.js';

const TRACK = 'https://track.example.com';
const PAGES = 'https://lp.example.com';

function pages(options: DemoOptions = { tracking: TRACK, api_key: DEMO_API_KEY }, file = demoNetwork(TRACK, PAGES)) {
  const app = demoRoutes(loadNetwork(file), options);
  return (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (!headers.has('host')) headers.set('host', 'lp.example.com');
    return app.request(`http://lp.example.com${path}`, { ...init, headers });
  };
}

/** The page's one inline script, run as a browser would before d.js loads: answers what it queued. */
function queuedCalls(page: string): unknown[][] {
  const script = /<script nonce="[^"]+">\n([\s\S]*?)\n<\/script>/.exec(page)![1]!;
  const context: Record<string, any> = {};
  context.window = context;
  runInNewContext(script, context);
  return (context.ckm.q ?? []).map((args: IArguments) => Array.from(args));
}

const XSS = `"><script>alert(1)</script><img src=x onerror=alert(2)>`;
/** aff, sub and s1 are shown up to 50 characters (s1's length). */
const XSS_50 = XSS.slice(0, 50);

describe('the demo landing page', () => {
  it('embeds the queue stub, d.js and form#ckm_form from the configured tracking origin', async () => {
    const res = await pages()('/demo/landing?reqid=abc&aff=67890&sub=demo');
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain(QUEUE_STUB);
    expect(page).toContain(`<script async src="${TRACK}/d.js"></script>`);
    expect(page).toContain(`<form id="ckm_form" action="${TRACK}/d.ashx" method="post">`);
    expect(page).toContain('<input type="hidden" name="ckm_offer_id" value="12345">');
    expect(page).toContain('<input type="hidden" name="ckm_request_id" value="">');
    expect(page).toContain('<input type="hidden" name="ckm_bp" value="1">');
    // The offer's fields, with their checks as the browser can make them.
    expect(page).toContain('<input id="f-first_name" name="first_name" required autocomplete="given-name" type="text" maxlength="50">');
    // CAKE's standard names, so that integrations written for CAKE post to the demo unchanged.
    expect(page).toContain('<input id="f-email_address" name="email_address" required autocomplete="email" type="email">');
    expect(page).toContain('<input id="f-phone_home" name="phone_home" autocomplete="tel" type="tel">');
    expect(page).toContain('<input id="f-zip_code" name="zip_code" required autocomplete="postal-code" type="text" inputmode="numeric">');
    for (const name of ['last_name', 'address', 'city', 'state']) expect(page).toContain(`name="${name}"`);
    // The engagement event of the page, fired by demo.js on every view.
    expect(page).toContain(`<p class="aside" id="event" data-pixel="${TRACK}/p.ashx?f=img&amp;o=12345&amp;e=1">Engagement event 1 (Quote Form Viewed)`);
    expect(page).toContain('<button type="button" id="ajax-post">');
    expect(page).toContain('<a id="step2" href="/demo/step2">');
    expect(page).toContain('You came through affiliate <b>67890</b>, sub id <b>demo</b>');
  });

  it("fires the second engagement event on the funnel's second page, and none on the organic page", async () => {
    const step2 = await (await pages()('/demo/step2')).text();
    expect(step2).toContain(`data-pixel="${TRACK}/p.ashx?f=img&amp;o=12345&amp;e=2">Engagement event 2 (Details Page Viewed)`);
    expect(await (await pages()('/demo/organic')).text()).not.toContain('data-pixel');
  });

  it('escapes aff and sub', async () => {
    const page = await (await pages()(`/demo/landing?aff=${encodeURIComponent(XSS)}&sub=${encodeURIComponent(XSS)}`)).text();
    expect(page).not.toContain('<script>alert');
    expect(page).not.toContain('<img src=x');
    expect(page).toContain('<b>&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=aler</b>');
    expect(XSS_50.endsWith('aler')).toBe(true);
  });

  it('renders select fields with escaped options', async () => {
    const file = testNetworkFile();
    file.offers[0]!.fields!.push({ name: 'plan', type: 'select', options: ['a<b', 'c"d'] });
    const page = await (await pages({ tracking: TRACK }, file)('/demo/step2')).text();
    expect(page).toContain('<select id="f-plan" name="plan"><option value="">Choose…</option><option>a&lt;b</option><option>c&quot;d</option></select>');
  });

  it('runs under a strict CSP: scripts from itself, the tracking origin and its own nonce', async () => {
    const res = await pages()('/demo/landing');
    const csp = res.headers.get('content-security-policy')!;
    const nonce = /'nonce-([^']+)'/.exec(csp)![1]!;
    expect(csp).toBe(
      `default-src 'none'; script-src 'self' 'nonce-${nonce}' ${TRACK}; connect-src 'self' ${TRACK}; img-src 'self' ${TRACK}; ` +
        `style-src 'self'; form-action 'self' ${TRACK}; base-uri 'none'; frame-ancestors 'none'`,
    );
    expect(await res.text()).toContain(`<script nonce="${nonce}">`);
    // A new nonce every time.
    expect((await pages()('/demo/landing')).headers.get('content-security-policy')).not.toContain(nonce);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
  });

  it('without a configured tracking origin, uses the origin it is asked on (Crumb serving its own demo)', async () => {
    const get = pages({});
    const page = await (await get('/demo/landing', { headers: { host: 'localhost:3000' } })).text();
    expect(page).toContain('<script async src="http://localhost:3000/d.js"></script>');
    expect(page).toContain('action="http://localhost:3000/d.ashx"');
    const https = await get('/demo/landing', { headers: { host: 'crumb.example.com', 'x-forwarded-proto': 'https' } });
    expect(await https.text()).toContain('<script async src="https://crumb.example.com/d.js"></script>');
  });

  it('refuses a Host header that is not a plain host name rather than echo it', async () => {
    const get = pages({});
    for (const host of ['evil.com"><script>', "a'b", 'a b', 'a;script-src *']) {
      const res = await get('/demo/landing', { headers: { host } });
      expect(res.status, host).toBe(400);
      expect(await res.text()).not.toContain('<script>');
    }
  });

  it('refuses a configured tracking origin that is not one', () => {
    const network = loadNetwork(demoNetwork(TRACK));
    expect(() => demoRoutes(network, { tracking: 'javascript:alert(1)' })).toThrow(/tracking must be an http\(s\) origin/);
    expect(() => demoRoutes(network, { tracking: 'not a url' })).toThrow(/tracking must be/);
    expect(() => demoRoutes(network, { tracking: TRACK, offer_id: 999 })).toThrow(/no offer 999/);
  });
});

describe('the organic landing page', () => {
  it('loads the JS click pixel for the internal affiliate by default', async () => {
    const page = await (await pages()('/demo/organic')).text();
    expect(page).toContain(`<script src="${TRACK}/?a=1&amp;c=1057&amp;cp=js&amp;s1=organic"></script>`);
    expect(page).toContain(`<script async src="${TRACK}/d.js"></script>`);
    expect(page).toContain('<form id="ckm_form"');
  });

  it('takes the affiliate (digits only) and the sub id, encoded into the pixel URL and escaped on the page', async () => {
    const page = await (await pages()(`/demo/organic?a=67890&s1=${encodeURIComponent(XSS)}`)).text();
    expect(page).toContain(`<script src="${TRACK}/?a=67890&amp;c=1057&amp;cp=js&amp;s1=${encodeURIComponent(XSS_50)}"></script>`);
    expect(page).not.toContain('<script>alert');
    const junk = await (await pages()(`/demo/organic?a=${encodeURIComponent('1"><script>')}`)).text();
    expect(junk).toContain(`<script src="${TRACK}/?a=1&amp;c=1057`);
    expect(junk).not.toContain('"><script>');
  });
});

describe('the thank-you page', () => {
  it("calls ckm('convert') with the offer and the lead as transaction id, then loads d.js", async () => {
    const page = await (await pages()('/demo/thanks?leadid=0000002A')).text();
    expect(queuedCalls(page)).toEqual([['convert', { offer_id: 12345, transaction_id: '0000002A' }]]);
    expect(page).toContain(`<script async src="${TRACK}/d.js"></script>`);
    expect(page).toContain('lead <b id="lead">0000002A</b>');
    expect(page).toContain(`href="${TRACK}/api/2/leads.json?api_key=demo-api-key&amp;lead_id=0000002A"`);
    expect(page).toContain('<ul id="postbacks"');
  });

  it('without a lead, converts once per click (no transaction id)', async () => {
    const page = await (await pages()('/demo/thanks')).text();
    expect(queuedCalls(page)).toEqual([['convert', { offer_id: 12345 }]]);
  });

  it('keeps any lead value inert: the script converts exactly that text, the page shows it as text', async () => {
    for (const lead of [XSS, '</script><script>alert(1)</script>', '"+alert(1)+"', "'-alert(1)-'", '\u2028x\u2029', '<!--<script>']) {
      const page = await (await pages()(`/demo/thanks?leadid=${encodeURIComponent(lead)}`)).text();
      expect(queuedCalls(page), lead).toEqual([['convert', { offer_id: 12345, transaction_id: lead }]]);
      expect(page.match(/<script/g), lead).toHaveLength(3); // the inline one, d.js, demo.js
      expect(page).not.toContain('<img src=x');
      expect(page).not.toContain(`lead_id=${lead}`);
    }
  });

  it('has no report links without an API key', async () => {
    const page = await (await pages({ tracking: TRACK })('/demo/thanks?leadid=0000002A')).text();
    expect(page).not.toContain('/api/2/');
  });
});

describe("the affiliate's server stand-in", () => {
  it('records what arrives, newest first, and lists it escaped', async () => {
    const get = pages();
    expect(await (await get('/demo/postbacks')).text()).toContain('None yet.');
    expect((await get(`/demo/affiliate/postback?click_id=abc&payout=18.00`)).status).toBe(200);
    expect((await get(`/demo/affiliate/postback?x=${encodeURIComponent(XSS)}`, { method: 'POST' })).status).toBe(200);
    const { received } = await (await get('/demo/postbacks.json')).json();
    expect(received).toHaveLength(2);
    expect(received[0]).toMatchObject({ method: 'POST', query: { x: XSS } });
    expect(received[1]).toMatchObject({ method: 'GET', url: '/demo/affiliate/postback?click_id=abc&payout=18.00', query: { click_id: 'abc', payout: '18.00' } });
    const list = await (await get('/demo/postbacks')).text();
    expect(list).toContain('<code>/demo/affiliate/postback?click_id=abc&amp;payout=18.00</code>');
    expect(list).not.toContain('<script>alert');
    expect(list).toContain(`href="${TRACK}/api/2/postback_deliveries.json?api_key=demo-api-key"`);
  });

  it('keeps the last 100, each URL cut to 2,000 characters', async () => {
    const get = pages();
    for (let i = 0; i < 105; i++) await get(`/demo/affiliate/postback?n=${i}&pad=${'x'.repeat(3000)}`);
    const { received } = await (await get('/demo/postbacks.json')).json();
    expect(received).toHaveLength(100);
    expect(received[0].query.n).toBe('104');
    expect(received[0].url.length).toBe(2000);
  });
});

describe('the demo index', () => {
  it('answers at /demo and /demo/ with the tracking link, the organic page and the posting document', async () => {
    for (const path of ['/demo', '/demo/']) {
      const page = await (await pages()(path)).text();
      expect(page).toContain(`href="${TRACK}/?a=67890&amp;c=1057&amp;s1=demo"`);
      expect(page).toContain('href="/demo/organic"');
      expect(page).toContain(`href="${TRACK}/offers/12345/posting-doc"`);
    }
  });
});

describe('the demo in the app', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('is not served unless asked for (a network given with --config has no /demo/ pages)', async () => {
    t = makeApp();
    expect((await t.get('/demo/landing')).status).toBe(404);
    expect((await t.get('/demo/affiliate/postback?x=1')).status).toBe(404);
  });
});

describe('the demo postback', () => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it('is created once for the demo affiliate and follows the server to a new port', async () => {
    store = openSqliteStore({ path: tempDbPath() });
    const first = await ensureDemoPostback(store, 'http://localhost:3000');
    expect(first).toMatchObject({ affiliate_id: 67890, offer_id: 12345, postback_type_id: 1, postback_status: 'active', fire_on: 'conversion' });
    expect(first.postback_url).toBe(demoPostbackUrl('http://localhost:3000'));
    expect(await ensureDemoPostback(store, 'http://localhost:3000')).toEqual(first);
    const moved = await ensureDemoPostback(store, 'http://localhost:4000');
    expect(moved.postback_id).toBe(first.postback_id);
    expect(moved.postback_url).toBe(demoPostbackUrl('http://localhost:4000'));
    expect(await store.listPostbacks({ affiliate_id: 67890 })).toHaveLength(1);
  });
});

describe('npm start without a network file', () => {
  let server: ServerProcess | undefined;
  afterEach(async () => {
    await server?.stop('SIGKILL');
    server = undefined;
  });

  it('prints the demo pages, serves them, and pays the demo affiliate through its postback', async () => {
    server = await startServer(['--db', tempDbPath()]);
    const out = server.output();
    expect(out).toContain(`  demo pages:     ${server.url}/demo/`);
    expect(out).toContain(`  postbacks:      ${server.url}/demo/postbacks`);
    expect((await fetch(`${server.url}/demo/`)).status).toBe(200);

    // The journey without a browser: click, session post, conversion pixel.
    const click = await fetch(`${server.url}/?a=67890&c=1057&s1=node`, { redirect: 'manual' });
    const reqid = new URL(click.headers.get('location')!).searchParams.get('reqid')!;
    const post = await fetch(`${server.url}/d.ashx`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ckm_offer_id: 12345, ckm_request_id: reqid, first_name: 'Ada', last_name: 'L', email_address: `ada.${Date.now()}@example.com`, zip_code: '90210' }),
    });
    const { leadid } = await post.json();
    const pixel = await fetch(`${server.url}/p.ashx?f=img&o=12345&t=${leadid}&r=${reqid}`);
    expect(pixel.headers.get('x-crumb-result')).toMatch(/^recorded conversion/);
    const received = await eventually(async () => {
      const { received } = await (await fetch(`${server!.url}/demo/postbacks.json`)).json();
      return received.find((r: { query: Record<string, string> }) => r.query.click_id === reqid);
    });
    expect(received.query).toMatchObject({ payout: '18.00', status: 'approved', offer_id: '12345', sub_id: 'node', transaction_id: leadid });
  });
});
