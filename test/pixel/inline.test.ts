// d.js pasted inline (a <script> without src) and without data-base (issue 12.11): it has no
// server, and never throws into the page for it.
import { afterEach, describe, expect, it } from 'vitest';
import { fields, LANDING, openPage, queueStub, REQID, settle, type Page } from './page.js';

const pages: Page[] = [];
afterEach(async () => {
  for (const p of pages.splice(0)) await p.win.happyDOM.close();
});
const open = async (...args: Parameters<typeof openPage>) => {
  const page = await openPage(...args);
  pages.push(page);
  return page;
};

describe('d.js pasted inline without data-base', () => {
  it('fills the forms from the landing URL and keeps the reqid', async () => {
    const page = await open({ url: `${LANDING}?reqid=${REQID}`, html: '<form id="ckm_form"></form>', inline: true });
    expect(fields(page)).toEqual([REQID]);
    const next = await page.reload({ url: LANDING });
    pages.push(next);
    expect(fields(next)).toEqual([REQID]);
  });

  it('answers a post with an error, sending nothing anywhere', async () => {
    const page = await open({ url: `${LANDING}?reqid=${REQID}`, inline: true });
    const answer = await new Promise((resolve) => page.ckm('post', { ckm_offer_id: '12345' }, resolve));
    expect(answer).toEqual({ code: 1, msg: 'error', errors: ['Network Error'] });
    expect(page.posts).toEqual([]);
  });

  it('loads no conversion pixel from the page\u2019s own site, and replays the queue without throwing', async () => {
    const page = await open({
      url: `${LANDING}?reqid=${REQID}`,
      inline: true,
      config: { offer_id: '12345' },
      before: (win) => queueStub(win)('convert', { offer_id: 12345, transaction_id: 'T-1' }),
    });
    await settle();
    expect(page.images.length).toBeGreaterThan(0);
    for (const src of page.images) expect(src.startsWith('x:/p.ashx?')).toBe(true);
  });

  it('uses data-base when an inline script has it', async () => {
    const page = await open({ url: `${LANDING}?reqid=${REQID}`, inline: true, config: { base: 'https://track.example.com/' } });
    page.ckm('convert', { offer_id: 1 });
    expect(page.images).toEqual([`https://track.example.com/p.ashx?f=img&o=1&r=${REQID}`]);
  });
});
