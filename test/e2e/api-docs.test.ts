// The API reference in a real browser (PROTOCOL.md 12): /api/docs of the built server renders in
// Chromium, styled, with every call of the OpenAPI document, and not one request leaves
// 127.0.0.1 (no CDN, no font, no script: it must work on a network with no internet).
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tempDbPath } from '../support/app.js';
import { startServer, type ServerProcess } from '../support/process.js';
import { describeChromium, launchChromium, stopProcess } from './support.js';

let server: ServerProcess | undefined;
let browser: Browser | undefined;

describeChromium('the API reference (/api/docs) in Chromium', () => {
  beforeAll(async () => {
    server = await startServer(['--db', tempDbPath()]);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close().catch(() => {});
    await stopProcess(server);
  });

  it('renders every call, styled, with no request leaving 127.0.0.1 and no CSP refusal', async () => {
    const context = await browser!.newContext({ viewport: { width: 1200, height: 900 } });
    const page: Page = await context.newPage();
    const requests: string[] = [];
    const refused: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (/Content Security Policy|Failed to load/i.test(m.text())) refused.push(m.text());
    });
    // The server's banner names it as localhost; ask 127.0.0.1 itself.
    const base = `http://127.0.0.1:${server!.port}`;
    const res = await page.goto(`${base}/api/docs`);
    expect(res!.status()).toBe(200);
    await page.waitForLoadState('networkidle');

    const doc = (await (await fetch(`${base}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const expected = Object.values(doc.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
    expect(await page.locator('main article').count()).toBe(expected);
    await expect.poll(() => page.locator('h3').filter({ hasText: '/api/2/lead.json' }).count()).toBe(1);
    // The stylesheet applied: the navigation is a column beside the calls.
    const layout = await page.evaluate(() => getComputedStyle(document.body).display);
    expect(layout).toBe('grid');

    expect(requests.length).toBeGreaterThanOrEqual(2);
    expect(requests.filter((u) => new URL(u).hostname !== '127.0.0.1')).toEqual([]);
    expect(refused).toEqual([]);
    await context.close();
  });
});
