// The console in Chromium, on the built server with the demo network (npm start): sign in with the
// admin key, read the dashboard (numbers checked against the API), create an advertiser's offer,
// its creative, an affiliate and a campaign, generate the tracking link and follow it (the click
// appears in the click list), change a conversion's status, sign out (a copy of the cookie refused
// afterwards); sign in with an affiliate key and see only its own rows, send a test of its postback
// to a local receiver, and with an advertiser key its own pages. No console error, no CSP
// violation, no request leaving the server.
// Takes the README's screenshots (docs/screenshots/console-*.png; see screenshotPath).
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEMO_API_KEY } from '../../server/demo/network.js';
import { tempDbPath } from '../support/app.js';
import { startServer, type ServerProcess } from '../support/process.js';
import { api, describeChromium, launchChromium, screenshotPath, stopProcess } from './support.js';

let server: ServerProcess | undefined;
let browser: Browser | undefined;
let context: BrowserContext | undefined;
/** An affiliate's server on 127.0.0.1: the URLs of the postbacks it was sent. */
let receiver: Server | undefined;
let receiverUrl = '';
const received: string[] = [];
/** Every request any page made, and every console error or CSP report. */
const requests: string[] = [];
const problems: string[] = [];

function watch(page: Page): Page {
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  return page;
}

async function apiPost(call: string, params: Record<string, string | number>): Promise<any> {
  const res = await fetch(`${server!.url}/api/2/${call}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ api_key: DEMO_API_KEY, ...params }) });
  return res.json();
}

/** conversions.json's dates: from yesterday to tomorrow in UTC, whatever the time of the run. */
function around(): { start_date: string; end_date: string } {
  const day = (offset: number) => new Date(Date.now() + offset * 86400000).toISOString().slice(0, 10);
  return { start_date: day(-1), end_date: day(1) };
}

async function signIn(page: Page, key: string): Promise<void> {
  await page.goto(`${server!.url}/console/`);
  await page.fill('#api-key', key);
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-page="dashboard"] .tiles');
}

describeChromium('the console in Chromium', () => {
  beforeAll(async () => {
    server = await startServer(['--db', tempDbPath()]);
    receiver = createServer((req, res) => {
      received.push(req.url ?? '');
      res.end('ok');
    });
    await new Promise<void>((resolve) => receiver!.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    // A day's traffic: clicks on the demo link, one of them converted.
    for (const s1 of ['alpha', 'beta', 'gamma']) await fetch(`${server.url}/?a=67890&c=1057&s1=${s1}`, { redirect: 'manual' });
    const click = (await api(server.url, 'click.json', { row_limit: 1 })).response.clicks[0];
    await apiPost('conversion.json', { click_id: click.click_id, offer_id: 12345, unique_id: 'e2e-order-1' });
  }, 60_000);

  afterAll(async () => {
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await stopProcess(server);
    receiver?.closeAllConnections();
    await new Promise((resolve) => receiver?.close(resolve) ?? resolve(undefined));
  });

  it('is linked from / in a browser, and signs in with an API key for an HttpOnly, SameSite=Strict cookie', async () => {
    const page = watch(await context!.newPage());
    await page.goto(`${server!.url}/`);
    await page.click('a[href="/console/"]');
    await page.waitForSelector('#api-key');
    await page.fill('#api-key', 'wrong-key');
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('.sign-in .notice')).toContain('is not an API key of this network');
    problems.length = 0; // the 401 of the wrong key is Chromium's own console line, expected here
    await page.fill('#api-key', DEMO_API_KEY);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-page="dashboard"] .tiles');
    const cookie = (await context!.cookies()).find((c) => c.name === 'crumb_console')!;
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe('Strict');
    expect(cookie.value).not.toContain(DEMO_API_KEY);
    expect(await page.evaluate(() => document.cookie)).not.toContain('crumb_console');
    expect(await page.textContent('[data-testid=who]')).toContain('admin');
    await page.close();
  });

  it('shows the dashboard with the numbers the API answers, and a chart', async () => {
    const page = watch(await context!.newPage());
    await page.goto(`${server!.url}/console/#/dashboard`);
    await page.waitForSelector('.tiles [data-metric=clicks]');
    await page.waitForSelector('.chart canvas');
    const zone = (await api(server!.url, 'reports/summary.json', { group_by: 'day', start_date: '2026-01-01', end_date: '2026-01-01' })).time_zone;
    const day = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
    const report = await api(server!.url, 'reports/summary.json', { group_by: 'hour', start_date: day, end_date: day });
    expect(report.totals.clicks).toBe(3);
    expect(await page.textContent('[data-metric=clicks] strong')).toBe(String(report.totals.clicks));
    expect(await page.textContent('[data-metric=macro_event_conversions] strong')).toBe(String(report.totals.macro_event_conversions));
    expect(await page.textContent('[data-metric=revenue] strong')).toBe(report.totals.revenue.toFixed(2));
    expect(await page.textContent('.top-list')).toContain('Auto Insurance Quote');
    await page.screenshot({ path: screenshotPath('console-dashboard.png'), fullPage: true });
    await page.click('[data-preset="30d"]');
    await page.waitForSelector('[data-preset="30d"][aria-pressed="true"]');
    await page.close();
  });

  it('creates an offer (the API\'s message beside the field first), its creative, an affiliate and a campaign', async () => {
    const page = watch(await context!.newPage());
    await page.goto(`${server!.url}/console/#/offers`);
    await page.click('[data-testid=new-offer]');
    const form = '[data-testid=offer-form]';
    await page.fill(`${form} [name=offer_name]`, 'E2E Solar Quotes');
    await page.fill(`${form} [name=advertiser_id]`, '5');
    await page.fill(`${form} [name=offer_url]`, 'not a url');
    await page.fill(`${form} [name=payout]`, '7.5');
    await page.fill(`${form} [name=revenue]`, '12');
    await page.fill(`${form} [name=events]`, '[{"event_id":2,"event_name":"Quote Viewed","payout":0.5,"revenue":1}]');
    await page.click(`${form} button[type=submit]`);
    await expect.poll(() => page.textContent(`${form} [data-field=offer_url] .error`)).toContain('http');
    problems.length = 0; // Chromium's own console line for that 400, expected here
    await page.fill(`${form} [name=offer_url]`, `${server!.url}/demo/landing?reqid=#reqid#&s1=#s1#`);
    await page.click(`${form} button[type=submit]`);
    await page.waitForSelector('.notice.ok');
    const offer = (await api(server!.url, 'offers.json')).offers.find((o: any) => o.offer_name === 'E2E Solar Quotes');
    expect(offer).toMatchObject({ advertiser_id: 5, payout: 7.5, revenue: 12, events: [{ event_id: 2, event_name: 'Quote Viewed' }] });

    await page.goto(`${server!.url}/console/#/creatives`);
    await page.click('[data-testid=new-creative]');
    await page.fill('[data-testid=creative-form] [name=offer_id]', String(offer.offer_id));
    await page.fill('[data-testid=creative-form] [name=creative_name]', 'E2E banner');
    await page.click('[data-testid=creative-form] button[type=submit]');
    await page.waitForSelector('.notice.ok');

    await page.goto(`${server!.url}/console/#/affiliates`);
    await page.click('[data-testid=new-affiliate]');
    await page.fill('[data-testid=affiliate-form] [name=affiliate_name]', 'E2E Media');
    await page.click('[data-testid=affiliate-form] button[type=submit]');
    await page.waitForSelector('.notice.ok');
    const affiliate = (await api(server!.url, 'affiliates.json')).affiliates.find((a: any) => a.affiliate_name === 'E2E Media');
    expect(affiliate.status).toBe('active');

    await page.goto(`${server!.url}/console/#/campaigns`);
    await page.click('[data-testid=new-campaign]');
    await page.fill('[data-testid=campaign-form] [name=affiliate_id]', String(affiliate.affiliate_id));
    await page.fill('[data-testid=campaign-form] [name=offer_id]', String(offer.offer_id));
    await page.click('[data-testid=campaign-form] button[type=submit]');
    await page.waitForSelector('.notice.ok');
    const campaign = (await api(server!.url, 'campaigns.json')).campaigns.find((c: any) => c.offer_id === offer.offer_id);
    expect(campaign).toMatchObject({ affiliate_id: affiliate.affiliate_id, status: 'active' });
    expect(campaign.ckm_key.length).toBeGreaterThanOrEqual(20);
    await page.close();
  });

  it('generates the tracking link and pixels; the link followed is a click in the click list', async () => {
    const page = watch(await context!.newPage());
    const offer = (await api(server!.url, 'offers.json')).offers.find((o: any) => o.offer_name === 'E2E Solar Quotes');
    const creative = (await api(server!.url, 'creatives.json', { offer_id: offer.offer_id })).creatives[0];
    const affiliate = (await api(server!.url, 'affiliates.json')).affiliates.find((a: any) => a.affiliate_name === 'E2E Media');
    await page.goto(`${server!.url}/console/#/generator`);
    await page.waitForSelector('[data-testid=gen-affiliate]');
    await page.selectOption('[data-testid=gen-affiliate]', String(affiliate.affiliate_id));
    await page.selectOption('[data-testid=gen-creative]', String(creative.creative_id));
    await page.fill('[aria-label="Sub id 1"]', 'e2e-banner');
    await page.dispatchEvent('[aria-label="Sub id 1"]', 'input');
    const link = await page.inputValue('[data-testid=tracking-link]');
    expect(link).toBe(`${server!.url}/?a=${affiliate.affiliate_id}&c=${creative.creative_id}&s1=e2e-banner`);
    expect(await page.inputValue('[data-testid=js-click-pixel]')).toBe(`<script type="text/javascript" src="${link}&cp=js"></script>`);
    expect(await page.inputValue('[data-testid=conversion-img]')).toContain(`/p.ashx?o=${offer.offer_id}&t=TRANSACTION_ID&f=img`);
    expect(await page.inputValue('[data-testid=conversion-img-e2]')).toContain(`/p.ashx?o=${offer.offer_id}&e=2&t=TRANSACTION_ID&f=img`);
    expect(await page.inputValue('[data-testid=conversion-postback]')).toContain(`/api/2/conversion.json?api_key=ADVERTISER_API_KEY&offer_id=${offer.offer_id}`);
    expect(await page.textContent('.hint')).toContain(`affiliate ${affiliate.affiliate_id}, offer ${offer.offer_id}`);
    await page.screenshot({ path: screenshotPath('console-generator.png'), fullPage: true });

    // Followed in the browser: the offer's landing page, with the click's reqid.
    const visitor = watch(await context!.newPage());
    await visitor.goto(link);
    const reqid = new URL(visitor.url()).searchParams.get('reqid')!;
    expect(new URL(visitor.url()).pathname).toBe('/demo/landing');
    await visitor.close();

    await page.goto(`${server!.url}/console/#/clicks`);
    await page.fill('.filters [name=offer_id]', String(offer.offer_id));
    await page.click('.filters button[type=submit]');
    await expect.poll(() => page.textContent('[data-testid=clicks-list]')).toContain(reqid);
    expect(await page.textContent('[data-testid=clicks-list]')).toContain('e2e-banner');

    // Past a page: 100 rows, then the next ones by the list's cursor.
    for (let i = 0; i < 101; i++) await fetch(`${link}-${i}`, { redirect: 'manual' });
    await page.click('.filters button[type=submit]');
    await expect.poll(() => page.$$eval('[data-testid=clicks-list] tbody tr', (rows) => rows.length)).toBe(100);
    expect(await page.textContent('[data-testid=clicks-list] .count')).toBe('102 clicks (100 shown)');
    await page.click('[data-testid=clicks-list] button.more');
    await expect.poll(() => page.$$eval('[data-testid=clicks-list] tbody tr', (rows) => rows.length)).toBe(102);
    expect(await page.$('[data-testid=clicks-list] button.more')).toBeNull();
    await page.close();
  });

  it('reads the conversion list and changes a conversion\'s status; the report by offer sorts and totals', async () => {
    const page = watch(await context!.newPage());
    await page.goto(`${server!.url}/console/#/conversions`);
    const select = '[data-testid=conversions-list] select';
    await page.waitForSelector(select);
    const id = await page.getAttribute(select, 'data-conversion');
    await page.selectOption(select, 'rejected');
    await expect
      .poll(async () => (await api(server!.url, 'conversions.json', around())).conversions.find((c: any) => String(c.conversion.conversion_id) === id).conversion.conversion_status)
      .toBe('rejected');
    await page.selectOption(select, 'approved');
    await page.waitForFunction(() => (document.querySelector('[data-testid=conversions-list] select') as HTMLSelectElement | null)?.value === 'approved');

    await page.goto(`${server!.url}/console/#/reports`);
    await page.selectOption('[data-testid=group-by]', 'offer');
    await page.click('.filters button[type=submit]');
    await expect.poll(() => page.textContent('[data-testid=report] tbody')).toContain('Auto Insurance Quote');
    await page.click('[data-testid=report] th button:has-text("Clicks")');
    await page.waitForSelector('[data-testid=report] th button:has-text("Clicks ▼")');
    expect(await page.textContent('[data-testid=report] tfoot')).toContain('Total');
    await page.screenshot({ path: screenshotPath('console-report.png'), fullPage: true });
    // The CSV export: the same report as a file, fetched with the session and saved by the browser.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=csv]')]);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv.split('\n')[0]).toContain('offer_id');
    expect(csv).toContain('Auto Insurance Quote');

    // The deliveries: the demo affiliate's postback for the seeded conversion, delivered.
    await page.goto(`${server!.url}/console/#/deliveries`);
    await expect.poll(() => page.textContent('[data-testid=deliveries-list]'), { timeout: 15_000 }).toContain('delivered');
    await page.close();
  });

  it('signs out: the cookie is gone, and neither the browser nor a copy of its cookie is answered', async () => {
    const page = watch(await context!.newPage());
    await page.goto(`${server!.url}/console/#/dashboard`);
    await page.waitForSelector('[data-testid=sign-out]');
    // A copy of the session taken before sign-out: the cookie and its CSRF token.
    const copied = (await context!.cookies()).find((c) => c.name === 'crumb_console')!.value;
    const { csrf } = await (await context!.request.get(`${server!.url}/console/session`)).json();
    const withCopy = () => fetch(`${server!.url}/api/2/offers.json`, { headers: { cookie: `crumb_console=${copied}`, 'x-crumb-csrf': csrf } });
    expect((await withCopy()).status).toBe(200);
    await page.click('[data-testid=sign-out]');
    await page.waitForSelector('#api-key');
    expect((await context!.cookies()).find((c) => c.name === 'crumb_console')).toBeUndefined();
    // The browser's own request context (its cookie jar): the API answers it no more.
    expect((await context!.request.get(`${server!.url}/api/2/offers.json`)).status()).toBe(401);
    // The copy is refused too: sign-out ended the session on the server.
    expect((await withCopy()).status).toBe(401);
    await page.close();
  });

  it('shows an affiliate key its own rows, payout and no network revenue, and no management page', async () => {
    const made = await apiPost('api_keys.json', { role: 'affiliate', affiliate_id: 67890, label: 'MediaBridge portal' });
    const affiliateContext = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    const page = watch(await affiliateContext.newPage());
    await signIn(page, made.api_key.key);
    expect(await page.textContent('[data-testid=who]')).toContain('affiliate 67890');
    const nav = await page.textContent('nav');
    expect(nav).not.toContain('Offers');
    expect(nav).not.toContain('Leads');
    expect(await page.$('[data-metric=revenue]')).toBeNull();
    expect(await page.$('[data-metric=payout]')).not.toBeNull();
    await page.screenshot({ path: screenshotPath('console-affiliate.png'), fullPage: true });
    await page.goto(`${server!.url}/console/#/clicks`);
    await page.waitForSelector('[data-testid=clicks-list] tbody tr');
    const affiliates = await page.$$eval('[data-testid=clicks-list] tbody tr', (rows) => rows.map((r) => r.children[3]?.textContent));
    expect(affiliates.length).toBeGreaterThan(0);
    expect(new Set(affiliates)).toEqual(new Set(['67890']));

    // Its own postback: created on the Postbacks page, its affiliate_id forced to its own.
    await page.goto(`${server!.url}/console/#/postbacks`);
    await page.fill('[name=postback_url]', `${server!.url}/demo/affiliate/postback?click_id=#reqid#&from=console`);
    await page.click('.entity-form button[type=submit]');
    await expect.poll(() => page.textContent('[data-testid=postbacks-list]')).toContain('from=console');
    const listed = (await api(server!.url, 'affiliate_postback.json')).postbacks.find((p: any) => p.postback_url.includes('from=console'));
    expect(listed).toMatchObject({ affiliate_id: 67890, postback_status: 'active' });
    // Sent as a test to the affiliate's server (a local receiver): once, with sample macros, the
    // outcome shown in its row; no delivery logged.
    await page.fill('[name=postback_url]', `${receiverUrl}/pb?click_id=#reqid#&payout=#price#&aff=#affid#`);
    await page.click('.entity-form button[type=submit]');
    await expect.poll(() => page.textContent('[data-testid=postbacks-list]')).toContain(receiverUrl);
    const tested = (await api(server!.url, 'affiliate_postback.json')).postbacks.find((p: any) => p.postback_url.startsWith(receiverUrl));
    await page.click(`[data-testid=postbacks-list] tr:has-text("${receiverUrl}") button:has-text("Send test")`);
    await expect.poll(() => page.textContent(`[data-testid=postback-test-${tested.postback_id}]`)).toMatch(/^delivered: HTTP 200 in \d+ ms$/);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatch(/^\/pb\?click_id=TEST[A-Za-z0-9]{28}&payout=0\.00&aff=67890$/);
    expect((await api(server!.url, 'postback_deliveries.json', { postback_id: tested.postback_id })).total_rows).toBe(0);
    // Edited, then deactivated.
    await page.click(`[data-testid=postbacks-list] tr:has-text("from=console") button:has-text("Edit")`);
    await page.fill('[name=postback_url]', `${server!.url}/demo/affiliate/postback?click_id=#reqid#&from=console-edited`);
    await page.click('.entity-form button[type=submit]');
    await expect.poll(() => page.textContent('[data-testid=postbacks-list]')).toContain('from=console-edited');
    await page.click(`[data-testid=postbacks-list] tr:has-text("from=console-edited") button:has-text("Deactivate")`);
    await expect
      .poll(async () => (await api(server!.url, 'affiliate_postback.json', { postback_id: listed.postback_id })).postbacks[0].postback_status)
      .toBe('inactive');
    await affiliateContext.close();
  });

  it('shows an advertiser key its offers\' leads and conversions, with their status to change, and no management page', async () => {
    const made = await apiPost('api_keys.json', { role: 'advertiser', advertiser_id: 5, label: 'Acme' });
    const advertiserContext = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    const page = watch(await advertiserContext.newPage());
    await signIn(page, made.api_key.key);
    expect(await page.textContent('[data-testid=who]')).toContain('advertiser 5');
    const nav = (await page.$$eval('nav a', (links) => links.map((a) => a.textContent))).join(',');
    expect(nav).toBe('Dashboard,Reports,Clicks,Leads,Conversions');
    await page.goto(`${server!.url}/console/#/conversions`);
    await page.waitForSelector('[data-testid=conversions-list] select');
    await advertiserContext.close();
  });

  it('made no request outside the server, and logged no console error or CSP violation', () => {
    expect(requests.length).toBeGreaterThan(20);
    const outside = requests.filter((url) => !url.startsWith(`${server!.url}/`) && !url.startsWith('blob:') && !url.startsWith('data:'));
    expect(outside).toEqual([]);
    expect(new URL(server!.url).hostname).toBe('127.0.0.1');
    expect(problems).toEqual([]);
  });
});
