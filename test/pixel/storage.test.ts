// First-party storage: a cookie on the landing domain and localStorage, both written; either one
// blocked or throwing leaves the script working from memory, and nothing reaches the page.
import { describe, expect, it } from 'vitest';
import { block, fields, LANDING, openPage, REQID, stored } from './page.js';

const FORM = '<form id="ckm_form"></form>';
const DAY = 86400;

describe('what is written', () => {
  it('is a cookie for the whole site, Max-Age the cookie days (default 30), SameSite=Lax', async () => {
    const page = await openPage({ url: `${LANDING}?reqid=${REQID}` });
    expect(page.cookieWrites).toHaveLength(1);
    const [pair, ...attributes] = page.cookieWrites[0]!.split(';');
    expect(pair).toMatch(new RegExp(`^ckm_request_id=${REQID}/\\d+/$`));
    expect(attributes).toEqual([`max-age=${30 * DAY}`, 'path=/', 'samesite=lax', 'domain=']);
    expect(page.doc.cookie).toContain(`ckm_request_id=${REQID}/`);
  });

  it('takes the lifetime and the cookie domain from the script tag', async () => {
    const page = await openPage({ url: `https://www.example.com/?reqid=${REQID}`, config: { days: '7', domain: 'example.com' } });
    expect(page.cookieWrites[0]!.split(';')).toEqual(expect.arrayContaining([`max-age=${7 * DAY}`, 'domain=example.com']));
  });

  it('is the same record in localStorage, with the time it expires', async () => {
    const before = Date.now();
    const page = await openPage({ url: `${LANDING}?reqid=${REQID}`, config: { days: '7' } });
    const [reqid, expires] = stored(page)!.split('/');
    expect(reqid).toBe(REQID);
    expect(Number(expires)).toBeGreaterThanOrEqual(before + 7 * DAY * 1000 - 60_000);
    expect(Number(expires)).toBeLessThanOrEqual(Date.now() + 7 * DAY * 1000);
  });

  it('is not rewritten when the page brings the reqid already kept (the lifetime counts from the click)', async () => {
    const first = await openPage({ url: `${LANDING}?reqid=${REQID}` });
    const again = await first.reload();
    expect(again.cookieWrites).toEqual([]);
    expect(stored(again)).toBe(stored(first));
  });

  it('is read back from localStorage when the cookie is gone', async () => {
    const first = await openPage({ url: `${LANDING}?reqid=${REQID}` });
    const next = await first.reload({
      url: 'https://lp.example.com/step-2',
      html: FORM,
      before: (win) => (win.document.cookie = 'ckm_request_id=; max-age=0; path=/'),
    });
    expect(fields(next)).toEqual([REQID]);
  });
});

describe('a blocked store', () => {
  it('localStorage that throws: the cookie still carries the reqid to the next page', async () => {
    const first = await openPage({ url: `${LANDING}?reqid=${REQID}`, html: FORM, before: (win) => block(win, 'localStorage') });
    expect(fields(first)).toEqual([REQID]);
    const next = await first.reload({ url: 'https://lp.example.com/step-2', before: (win) => block(win, 'localStorage') });
    expect(fields(next)).toEqual([REQID]);
  });

  it('cookies refused (writes ignored, reads empty): localStorage carries the reqid to the next page', async () => {
    const refuse = (win: any) => Object.defineProperty(win.document, 'cookie', { get: () => '', set: () => {} });
    const first = await openPage({ url: `${LANDING}?reqid=${REQID}`, html: FORM, before: refuse });
    expect(fields(first)).toEqual([REQID]);
    const next = await first.reload({ url: 'https://lp.example.com/step-2', before: refuse });
    expect(fields(next)).toEqual([REQID]);
  });

  it('document.cookie that throws (an opaque origin, where localStorage throws too): the page works from memory', async () => {
    const page = await openPage({ url: `${LANDING}?reqid=${REQID}`, html: FORM, before: (win) => block(win.document, 'cookie') });
    expect(fields(page)).toEqual([REQID]);
    page.ckm('reqid', 'x');
    expect(fields(page)).toEqual([REQID]);
  });

  it('both blocked (a sandboxed iframe): the page still works from memory, and nothing throws', async () => {
    const blockBoth = (win: any) => {
      block(win, 'localStorage');
      block(win.document, 'cookie');
    };
    const page = await openPage({ url: `${LANDING}?reqid=${REQID}`, html: FORM, before: blockBoth });
    expect(fields(page)).toEqual([REQID]);
    page.ckm('convert', { offer_id: 12345, transaction_id: 'T-1' });
    page.ckm('convert', { offer_id: 12345, transaction_id: 'T-1' });
    expect(page.images).toHaveLength(1);
    const answer = await new Promise((resolve) => page.ckm('post', { ckm_offer_id: '12345' }, resolve));
    expect(answer).toMatchObject({ code: 0 });
    expect(JSON.parse(page.posts[0]!.init.body as string)).toMatchObject({ ckm_request_id: REQID });
  });

  it('localStorage that is null (some embedded browsers): no exception', async () => {
    const page = await openPage({ url: `${LANDING}?reqid=${REQID}`, html: FORM, before: (win) => Object.defineProperty(win, 'localStorage', { value: null }) });
    expect(fields(page)).toEqual([REQID]);
  });
});
