// The whole journey in headless Chromium: ad click, landing page, form, thank-you page, conversion,
// affiliate paid. The tracking server is http://127.0.0.1:PORT (the built entry, a real process);
// the landing and thank-you pages are another site, http://localhost:PORT2. Every journey checks
// what happened where it is recorded (the API, the postback receiver), not only what the page shows.
import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO, DEMO_EVENTS } from '../../server/demo/network.js';
import { eventually, startReceiver, type Receiver } from '../support/receiver.js';
import { api, describeChromium, launchBlockingCookies, launchChromium, startWorld, type World } from './support.js';

let world: World | undefined;
let browser: Browser | undefined;
let receiver: Receiver | undefined;
const contexts: BrowserContext[] = [];
/** What the pages' Content-Security-Policy refused, per test (it must refuse nothing they need). */
const refused: string[] = [];

/** The world's servers, once beforeAll has run. */
const w = () => world!;

describeChromium('browser journeys (Chromium; landing pages on another site than the tracking server)', () => {
  beforeAll(async () => {
    receiver = await startReceiver();
    world = await startWorld();
    browser = await launchChromium();
    // The affiliate's server-to-server postback, to the receiver standing in for its server.
    const res = await fetch(`${w().tracking}/api/2/affiliate_postback.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        api_key: 'demo-api-key',
        affiliate_id: String(DEMO.affiliate),
        offer_id: String(DEMO.offer),
        postback_url: `${receiver.base}/postback?click_id=#reqid#&payout=#price#&tid=#tid#&status=#status#&e=#eventid#`,
        postback_type_id: '1',
      }),
    });
    expect(res.status).toBe(200);
  });

  afterEach(() => {
    expect(refused.splice(0)).toEqual([]);
  });

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close().catch(() => {});
    await world?.close();
    await receiver?.close();
  });

  describe('a. paid traffic, native form post', () => {
    it('tracking link → landing page → form posted with ckm_bp=1 → thank-you page → one conversion pixel → postback → click converted', async () => {
      const { page, pixels } = await newPage();
      const reqid = await clickTrackingLink(page, 'e2e-native');
      expect(await filledReqid(page)).toBe(reqid);

      await fillLead(page, 'native');
      const leadPost = page.waitForRequest((r) => r.url() === `${w().tracking}/d.ashx`);
      const pixel = pixelResponse(page);
      await page.click('#submit');
      const post = await leadPost;
      // A native, top-level form post (not a script's request), as a session post forced to redirect.
      expect(post.method()).toBe('POST');
      expect(post.resourceType()).toBe('document');
      const sent = new URLSearchParams(post.postData() ?? '');
      expect(sent.get('ckm_offer_id')).toBe(String(DEMO.offer));
      expect(sent.get('ckm_request_id')).toBe(reqid);
      expect(sent.get('ckm_bp')).toBe('1');
      // The tracking server answered 302 to the offer's thank-you page on the landing site.
      expect((await post.response())?.status()).toBe(302);

      await page.waitForURL(atPage('/demo/thanks'));
      const lead = new URL(page.url()).searchParams.get('leadid')!;
      await expectPaidOnce(page, pixels, await pixel, reqid, lead, 'session');
    });
  });

  describe("b. paid traffic, AJAX post (ckm('post'))", () => {
    it('posts the form by fetch, follows the answer to the thank-you page, and the affiliate is paid once', async () => {
      const { page, pixels } = await newPage();
      const reqid = await clickTrackingLink(page, 'e2e-ajax');
      expect(await filledReqid(page)).toBe(reqid);

      await fillLead(page, 'ajax');
      const answer = page.waitForResponse((r) => r.url() === `${w().tracking}/d.ashx`);
      const pixel = pixelResponse(page);
      await page.click('#ajax-post');
      const res = await answer;
      // d.js's cross-site fetch: a CORS simple request the tracking server allowed, answered JSON.
      expect(res.request().resourceType()).toBe('fetch');
      expect(res.request().method()).toBe('POST');
      expect(JSON.parse(res.request().postData() ?? '{}')).toMatchObject({ ckm_offer_id: String(DEMO.offer), ckm_request_id: reqid });
      expect(res.status()).toBe(200);
      expect(res.headers()['access-control-allow-origin']).toBe(w().pages);
      expect(res.headers()['content-type']).toMatch(/^application\/json/);

      // The page's callback went to the answer's redirect (it does only for code 0): the thank-you
      // page, with the lead id the post created. (The answer's body is gone once the page has left.)
      await page.waitForURL(atPage('/demo/thanks'));
      const lead = new URL(page.url()).searchParams.get('leadid')!;
      await expectPaidOnce(page, pixels, await pixel, reqid, lead, 'session');
    });
  });

  describe('c. organic traffic', () => {
    it("the landing page opened directly: the JS click pixel's click gets the lead, credited to the pixel's affiliate", async () => {
      const { page } = await newPage();
      await page.goto(`${w().pages}/demo/organic?a=${DEMO.affiliate}&s1=e2e-organic`);
      const reqid = await filledReqid(page);
      // The reqid d.js filled is the one the click pixel defined.
      expect(await page.evaluate(() => (window as any).ckm_request_id)).toBe(reqid);
      const click = (await api(w().tracking, 'click.json', { click_id: reqid })).response.clicks[0];
      expect(click).toMatchObject({ affiliate_id: DEMO.affiliate, offer_id: DEMO.offer, sub_id_1: 'e2e-organic', converted: false });

      await fillLead(page, 'organic');
      await page.click('#submit');
      await page.waitForURL(atPage('/demo/thanks'));
      const lead = new URL(page.url()).searchParams.get('leadid')!;
      const row = (await api(w().tracking, 'leads.json', { lead_id: lead })).response.leads[0];
      expect(row).toMatchObject({ affiliate_id: DEMO.affiliate, click_id: reqid, attributed: true, method: 'session', sub_id_1: 'e2e-organic' });
    });

    it('with the internal affiliate (the pixel as the demo prints it), the lead is credited to that click, not left unattributed', async () => {
      const { page } = await newPage();
      await page.goto(`${w().pages}/demo/organic`);
      const reqid = await filledReqid(page);
      await fillLead(page, 'internal');
      await page.click('#submit');
      await page.waitForURL(atPage('/demo/thanks'));
      const lead = new URL(page.url()).searchParams.get('leadid')!;
      const row = (await api(w().tracking, 'leads.json', { lead_id: lead })).response.leads[0];
      expect(row).toMatchObject({ affiliate_id: DEMO.internal, click_id: reqid, attributed: true });
    });
  });

  describe('d. a browser that blocks cookies and storage', () => {
    it('still attributes the session post: the reqid rides in the landing URL and the form', async () => {
      const context = await launchBlockingCookies();
      contexts.push(context);
      const page = await context.newPage();
      const reqid = await clickTrackingLink(page, 'e2e-blocked');
      // The blocking is real: first-party writes are dropped and localStorage refuses access.
      const storage = await page.evaluate(() => {
        document.cookie = 'probe=1; path=/';
        let localStorageError = '';
        try {
          void window.localStorage;
        } catch (error) {
          localStorageError = (error as Error).name;
        }
        return { cookie: document.cookie, localStorageError };
      });
      expect(storage).toEqual({ cookie: '', localStorageError: 'SecurityError' });
      expect(await filledReqid(page)).toBe(reqid);

      await fillLead(page, 'blocked');
      const leadPost = page.waitForRequest((r) => r.url() === `${w().tracking}/d.ashx`);
      const pixel = pixelResponse(page);
      await page.click('#submit');
      // No tracking-domain cookie reached the lead post: the reqid alone attributes it.
      expect((await (await leadPost).allHeaders()).cookie).toBeUndefined();
      await page.waitForURL(atPage('/demo/thanks'));
      const lead = new URL(page.url()).searchParams.get('leadid')!;
      const row = (await api(w().tracking, 'leads.json', { lead_id: lead })).response.leads[0];
      expect(row).toMatchObject({ affiliate_id: DEMO.affiliate, click_id: reqid, attributed: true, method: 'session' });
      expect(await context.cookies()).toEqual([]);

      // The limit, shown: the thank-you page's URL carries no reqid and nothing could be kept, so
      // its conversion pixel has no click to credit (the thank-you URL would need #reqid#).
      const res = await pixel;
      expect(new URL(res.url()).searchParams.has('r')).toBe(false);
      expect(res.headers()['x-crumb-result']).toMatch(/^not recorded: r is missing/);
    });
  });

  describe('e. a two-page funnel', () => {
    it('keeps the reqid through a page without it in the URL, and the lead is attributed', async () => {
      const { page, context } = await newPage();
      const reqid = await clickTrackingLink(page, 'e2e-funnel');
      expect(await filledReqid(page)).toBe(reqid);

      // d.js's first-party cookie: `domain=` empty made it a host-only cookie of the landing site.
      const cookie = (await context.cookies(w().pages)).find((c) => c.name === 'ckm_request_id');
      expect(cookie).toMatchObject({ domain: 'localhost', path: '/', httpOnly: false, sameSite: 'Lax' });
      expect(cookie!.value.split('/')[0]).toBe(reqid);
      const days = (cookie!.expires * 1000 - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(29);
      expect(days).toBeLessThanOrEqual(30);
      expect(await page.evaluate(() => localStorage.getItem('ckm_request_id'))).toBe(cookie!.value);

      await page.click('#step2');
      await page.waitForURL(atPage('/demo/step2'));
      expect(await filledReqid(page)).toBe(reqid);

      await fillLead(page, 'funnel');
      await page.click('#submit');
      await page.waitForURL(atPage('/demo/thanks'));
      const lead = new URL(page.url()).searchParams.get('leadid')!;
      const row = (await api(w().tracking, 'leads.json', { lead_id: lead })).response.leads[0];
      expect(row).toMatchObject({ affiliate_id: DEMO.affiliate, click_id: reqid, attributed: true, method: 'session' });
    });

    it('the cookie alone carries it (localStorage cleared)', async () => {
      const { page } = await newPage();
      const reqid = await clickTrackingLink(page, 'e2e-funnel-cookie');
      expect(await filledReqid(page)).toBe(reqid);
      await page.evaluate(() => localStorage.clear());
      await page.click('#step2');
      await page.waitForURL(atPage('/demo/step2'));
      expect(await filledReqid(page)).toBe(reqid);
    });

    it('localStorage alone carries it (the first-party cookie cleared)', async () => {
      const { page, context } = await newPage();
      const reqid = await clickTrackingLink(page, 'e2e-funnel-storage');
      expect(await filledReqid(page)).toBe(reqid);
      await context.clearCookies({ name: 'ckm_request_id' });
      await page.click('#step2');
      await page.waitForURL(atPage('/demo/step2'));
      expect(await filledReqid(page)).toBe(reqid);
    });

    it('a host-only cookie and an origin-bound localStorage do not reach a sibling host (what data-domain is for)', async () => {
      const { page } = await newPage();
      const reqid = await clickTrackingLink(page, 'e2e-funnel-www');
      expect(await filledReqid(page)).toBe(reqid);
      // www.localhost is the same machine, another host.
      await page.goto(`${w().pages.replace('//localhost', '//www.localhost')}/demo/step2`);
      await dJsRan(page);
      expect(await page.inputValue('#ckm_form [name=ckm_request_id]')).toBe('');
    });
  });

  describe('f. engagement events on every page view of a two-page funnel', () => {
    it("records each event once per click at the event's money, and the base conversion once", async () => {
      const { page, events } = await newPage();
      const results: string[] = [];
      page.on('response', (r) => {
        if (!r.url().startsWith(`${w().tracking}/p.ashx?`) || r.url().includes('probe=')) return;
        results.push(`${new URL(r.url()).searchParams.get('e') ?? '-'} ${(r.headers()['x-crumb-result'] ?? '').replace(/\d+/, 'N')}`);
      });

      // Landing page, viewed twice; the details page, viewed twice: each view fires its page's event.
      let answered = eventResponse(page);
      const reqid = await clickTrackingLink(page, 'e2e-events');
      await answered;
      for (const view of ['reload landing', 'details', 'reload details']) {
        answered = eventResponse(page);
        if (view === 'details') {
          await page.click('#step2');
          await page.waitForURL(atPage('/demo/step2'));
        } else {
          await page.reload();
        }
        await answered;
      }
      expect(events.map((u) => [new URL(u).searchParams.get('e'), new URL(u).searchParams.get('r')])).toEqual([
        [String(DEMO_EVENTS.landing), reqid],
        [String(DEMO_EVENTS.landing), reqid],
        [String(DEMO_EVENTS.details), reqid],
        [String(DEMO_EVENTS.details), reqid],
      ]);

      // The lead, the thank-you page's conversion pixel; then a second base conversion of the click
      // with another order id (as a misconfigured page or server would send): a duplicate.
      await fillLead(page, 'events');
      const pixel = pixelResponse(page);
      await page.click('#submit');
      await page.waitForURL(atPage('/demo/thanks'));
      const lead = new URL(page.url()).searchParams.get('leadid')!;
      expect((await pixel).headers()['x-crumb-result']).toMatch(/^recorded conversion \d+ \(approved\)$/);
      const again = await fetch(`${w().tracking}/p.ashx?f=pb&o=${DEMO.offer}&r=${reqid}&t=OTHER-ORDER`);
      expect(await again.text()).toContain('<duplicate>true</duplicate>');
      expect(again.headers.get('x-crumb-result')).toMatch(/^duplicate of conversion \d+$/);

      expect(results).toEqual([
        `${DEMO_EVENTS.landing} recorded conversion N (approved)`,
        `${DEMO_EVENTS.landing} duplicate of conversion N`,
        `${DEMO_EVENTS.details} recorded conversion N (approved)`,
        `${DEMO_EVENTS.details} duplicate of conversion N`,
        '- recorded conversion N (approved)',
      ]);

      // What the network reports for this click: each event once at its money, the conversion once.
      const today = new Date().toISOString().slice(0, 10);
      const { conversions } = await api(w().tracking, 'conversions.json', { start_date: today, end_date: today, row_limit: 500 });
      const mine = conversions.map((c: any) => c.conversion).filter((c: any) => c.click_id === reqid);
      expect(mine.map((c: any) => [c.event_id, c.event_name, c.payout, c.revenue, c.conversion_status, c.transaction_id])).toEqual([
        [DEMO_EVENTS.landing, 'Quote Form Viewed', 0.1, 0.25, 'approved', null],
        [DEMO_EVENTS.details, 'Details Page Viewed', 0.2, 0.5, 'approved', null],
        [0, null, 18, 22, 'approved', lead],
      ]);
      // One postback per recorded conversion: the two events and the base one.
      const sent = await eventually(() => {
        const got = receiver!.requests.filter((r) => r.query.click_id === reqid);
        return got.length >= 3 ? got : undefined;
      }, 15_000, 'three postbacks');
      expect(sent.map((r) => [r.query.e, r.query.payout]).sort()).toEqual([
        ['', '18.00'],
        [String(DEMO_EVENTS.landing), '0.10'],
        [String(DEMO_EVENTS.details), '0.20'],
      ].sort());
    });
  });
});

// ---- helpers ------------------------------------------------------------------------------------

/** A fresh context (no cookies, no storage) and a page whose conversion-pixel requests are counted. */
async function newPage(): Promise<{ page: Page; context: BrowserContext; pixels: string[]; events: string[] }> {
  const context = await browser!.newContext({ viewport: { width: 1000, height: 800 } });
  contexts.push(context);
  const page = await context.newPage();
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) refused.push(m.text());
  });
  const pixels: string[] = [];
  const events: string[] = [];
  context.on('request', (r) => {
    if (!r.url().startsWith(`${w().tracking}/p.ashx?`) || r.url().includes('probe=')) return;
    // The funnel pages' engagement events (e=) apart from the thank-you page's conversion pixel.
    (isEvent(r.url()) ? events : pixels).push(r.url());
  });
  return { page, context, pixels, events };
}

/** Opens the affiliate's tracking link; checks its 302 landed on the landing page of the other
 * site with the reqid; answers the reqid. */
async function clickTrackingLink(page: Page, s1: string): Promise<string> {
  const res = await page.goto(`${w().tracking}/?a=${DEMO.affiliate}&c=${DEMO.creative}&s1=${s1}`);
  const redirect = res!.request().redirectedFrom();
  expect(redirect?.url()).toBe(`${w().tracking}/?a=${DEMO.affiliate}&c=${DEMO.creative}&s1=${s1}`);
  expect((await redirect!.response())?.status()).toBe(302);
  const url = new URL(page.url());
  expect(`${url.origin}${url.pathname}`).toBe(`${w().pages}/demo/landing`);
  expect(url.searchParams.get('aff')).toBe(String(DEMO.affiliate));
  expect(url.searchParams.get('sub')).toBe(s1);
  const reqid = url.searchParams.get('reqid')!;
  expect(reqid).toMatch(/^[\w-]{32}$/);
  return reqid;
}

/** A predicate for waitForURL: this path on the landing pages' site. */
const atPage = (path: string) => (url: URL) => url.origin === w().pages && url.pathname === path;

/** Waits until d.js has run: the real `ckm` replaced the page's queue stub. */
async function dJsRan(page: Page) {
  await page.waitForFunction(() => typeof (window as any).ckm === 'function' && !String((window as any).ckm).includes('ckm.q'));
}

/** Waits until d.js filled form#ckm_form's ckm_request_id; answers the value. */
async function filledReqid(page: Page): Promise<string> {
  const handle = await page.waitForFunction(() => (document.querySelector('#ckm_form [name=ckm_request_id]') as HTMLInputElement | null)?.value || false);
  return (await handle.jsonValue()) as string;
}

let leads = 0;
async function fillLead(page: Page, tag: string) {
  await page.fill('#f-first_name', 'Ada');
  await page.fill('#f-last_name', 'Lovelace');
  await page.fill('#f-email_address', `ada.${tag}.${process.pid}.${++leads}.${Date.now()}@example.com`);
  await page.fill('#f-zip_code', '90210');
}

const isEvent = (url: string) => new URL(url).searchParams.has('e');

/** The thank-you page's conversion pixel (not an engagement event of the funnel pages). */
function pixelResponse(page: Page): Promise<Response> {
  return page.waitForResponse((r) => r.url().startsWith(`${w().tracking}/p.ashx?`) && !isEvent(r.url()) && !r.url().includes('probe='));
}

/** The answer of the next engagement-event pixel of the page. */
function eventResponse(page: Page): Promise<Response> {
  return page.waitForResponse((r) => r.url().startsWith(`${w().tracking}/p.ashx?`) && isEvent(r.url()));
}

/** On the thank-you page: the conversion pixel fired once for this order (a reload does not fire
 * it again), the conversion was recorded for the click, the affiliate's server-to-server postback
 * arrived, and click.json shows the click converted. */
async function expectPaidOnce(page: Page, pixels: string[], pixel: Response, reqid: string, lead: string, method: string) {
  const sent = new URL(pixel.url()).searchParams;
  expect(Object.fromEntries(sent)).toEqual({ f: 'img', o: String(DEMO.offer), t: lead, r: reqid });
  const result = pixel.headers()['x-crumb-result'] ?? '';
  expect(result).toMatch(/^recorded conversion \d+ \(approved\)$/);
  const conversion_id = Number(/\d+/.exec(result)![0]);

  // Reload: d.js runs again (the stub's queue replayed by the real ckm), and fires nothing. A probe
  // image requested after it ran shows every request d.js could have made was already seen.
  await page.reload();
  await dJsRan(page);
  await page.evaluate(
    (tracking) =>
      new Promise((resolve) => {
        const probe = new Image();
        probe.onload = probe.onerror = resolve;
        probe.src = `${tracking}/p.ashx?f=img&probe=1`;
      }),
    w().tracking,
  );
  expect(pixels).toEqual([pixel.url()]);

  const lead_row = (await api(w().tracking, 'leads.json', { lead_id: lead })).response.leads[0];
  expect(lead_row).toMatchObject({ affiliate_id: DEMO.affiliate, click_id: reqid, attributed: true, method });

  // The conversion's postback (the funnel's engagement events have their own, with e set).
  const base = (r: { query: Record<string, string> }) => r.query.click_id === reqid && r.query.e === '';
  const postback = await eventually(() => receiver!.requests.find(base), 15_000, `the postback for ${reqid}`);
  expect(postback.query).toEqual({ click_id: reqid, payout: '18.00', tid: lead, status: 'approved', e: '' });
  expect(receiver!.requests.filter(base)).toHaveLength(1);

  const click = (await api(w().tracking, 'click.json', { click_id: reqid })).response.clicks[0];
  expect(click).toMatchObject({ click_id: reqid, affiliate_id: DEMO.affiliate, converted: true, conversion_id });
}
