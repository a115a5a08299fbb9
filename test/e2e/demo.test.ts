// The demo as a newcomer meets it: `npm start` with no network file, the printed tracking link
// opened in a browser, the whole journey walked, and the affiliate seen paid. Also takes the
// README's screenshots (docs/screenshots/; see screenshotPath for when they are rewritten).
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tempDbPath } from '../support/app.js';
import { startServer, type ServerProcess } from '../support/process.js';
import { eventually } from '../support/receiver.js';
import { api, describeChromium, launchChromium, screenshotPath, stopProcess } from './support.js';

let server: ServerProcess | undefined;
let browser: Browser | undefined;
let context: BrowserContext | undefined;

describeChromium('the built-in demo in Chromium (npm start without a network file)', () => {
  beforeAll(async () => {
    server = await startServer(['--db', tempDbPath()]);
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1000, height: 760 } });
  });

  afterAll(async () => {
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await stopProcess(server);
  });

  it('walks from the printed tracking link to the thank-you page, where the affiliate is seen paid', async () => {
    const page = await context!.newPage();
    const refused = cspViolations(page);
    const link = /tracking link: +(\S+)/.exec(server!.output())![1]!;
    await page.goto(link);
    const landing = new URL(page.url());
    expect(`${landing.origin}${landing.pathname}`).toBe(`${server!.url}/demo/landing`);
    const reqid = landing.searchParams.get('reqid')!;
    await expect.poll(() => page.textContent('#reqid-status')).toBe(`d.js filled ckm_request_id: ${reqid}`);

    await page.fill('#f-first_name', 'Ada');
    await page.fill('#f-last_name', 'Lovelace');
    await page.fill('#f-email_address', `ada.demo.${Date.now()}@example.com`);
    await page.fill('#f-phone_home', '555 010 0199');
    await page.fill('#f-address', '12 Analytical Engine Way');
    await page.fill('#f-city', 'Springfield');
    await page.fill('#f-state', 'IL');
    await page.fill('#f-zip_code', '90210');
    await page.screenshot({ path: screenshotPath('demo-landing-page.png'), fullPage: true });

    await page.click('#submit');
    await page.waitForURL((url) => url.pathname === '/demo/thanks');
    const lead = new URL(page.url()).searchParams.get('leadid')!;
    expect(await page.textContent('#lead')).toBe(lead);
    // The demo affiliate's postback, delivered by Crumb's dispatcher to the demo's stand-in for the
    // affiliate's server, shown on the thank-you page as it arrives.
    await expect
      .poll(() => page.textContent('#postbacks'), { timeout: 15_000 })
      .toContain(`/demo/affiliate/postback?click_id=${reqid}&payout=18.00&status=approved&offer_id=12345&sub_id=demo`);
    await page.screenshot({ path: screenshotPath('demo-thank-you-page.png'), fullPage: true });

    // The same, as the API and the postbacks page have it.
    const click = (await api(server!.url, 'click.json', { click_id: reqid })).response.clicks[0];
    expect(click).toMatchObject({ affiliate_id: 67890, converted: true });
    const deliveries = await eventually(async () => {
      const rows = (await api(server!.url, 'postback_deliveries.json', { conversion_id: click.conversion_id })).deliveries;
      return rows.length && rows[0].status === 'delivered' ? rows : undefined;
    });
    expect(deliveries).toHaveLength(1);
    await page.goto(`${server!.url}/demo/postbacks`);
    expect(await page.textContent('table')).toContain(`click_id=${reqid}&payout=18.00`);
    expect(refused).toEqual([]);
  });

  it('shows the posting document of the demo offer', async () => {
    const page = await context!.newPage();
    await page.goto(`${server!.url}/offers/12345/posting-doc`);
    expect(await page.textContent('body')).toContain(`${server!.url}/d.ashx`);
    await page.screenshot({ path: screenshotPath('posting-doc.png') });
  });

  it('serves the organic page with the JS click pixel and the demo index, under the pages’ CSP', async () => {
    const page = await context!.newPage();
    const refused = cspViolations(page);
    await page.goto(`${server!.url}/demo/organic`);
    const reqid = await page.waitForFunction(() => (window as any).ckm_request_id || false);
    await expect.poll(() => page.inputValue('#ckm_form [name=ckm_request_id]')).toBe(await reqid.jsonValue());
    await page.goto(`${server!.url}/demo/`);
    await page.click(`a[href="${server!.url}/?a=67890&c=1057&s1=demo"]`);
    await page.waitForURL((url) => url.pathname === '/demo/landing');
    expect(refused).toEqual([]);
  });
});

/** Console messages of resources or scripts the pages' Content-Security-Policy refused. */
function cspViolations(page: Page): string[] {
  const refused: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) refused.push(m.text());
  });
  return refused;
}
