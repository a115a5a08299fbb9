// ckm('convert', order): the conversion pixel p.ashx (PROTOCOL.md section 5), once per order in
// this browser, reloads included; and its declarative form on the script tag.
import { describe, expect, it } from 'vitest';
import { BASE, LANDING, openPage, OTHER_REQID, REQID } from './page.js';

const THANKS = `${LANDING.replace('quote', 'thanks')}`;
const query = (url: string) => Object.fromEntries(new URL(url).searchParams);

describe("ckm('convert')", () => {
  it('fires p.ashx as an image with the order and the reqid', async () => {
    const page = await openPage({ url: `${THANKS}?reqid=${REQID}` });
    page.ckm('convert', { offer_id: 12345, event_id: 3, transaction_id: 'ORDER 1/A', amount: 99.5, payout: 0 });
    expect(page.images).toHaveLength(1);
    const url = new URL(page.images[0]!);
    expect(url.origin + url.pathname).toBe(`${BASE}/p.ashx`);
    expect(query(page.images[0]!)).toEqual({ f: 'img', o: '12345', e: '3', t: 'ORDER 1/A', r: REQID, p: '99.5', ap: '0' });
  });

  it('leaves out what is not given', async () => {
    const page = await openPage();
    page.ckm('convert', { offer_id: '12345', event_id: '', transaction_id: null });
    expect(query(page.images[0]!)).toEqual({ f: 'img', o: '12345' });
  });

  it('fires once per (offer, event, transaction), also across reloads of the thank-you page', async () => {
    const order = { offer_id: 12345, transaction_id: 'T-1', amount: 10 };
    const page = await openPage({ url: `${THANKS}?reqid=${REQID}` });
    page.ckm('convert', order);
    page.ckm('convert', order);
    expect(page.images).toHaveLength(1);
    const reloaded = await page.reload();
    reloaded.ckm('convert', order);
    expect(reloaded.images).toEqual([]);
    reloaded.ckm('convert', { ...order, transaction_id: 'T-2' });
    reloaded.ckm('convert', { ...order, event_id: 7 });
    reloaded.ckm('convert', { ...order, offer_id: 222 });
    expect(reloaded.images).toHaveLength(3);
  });

  it('with a transaction id, does not fire the same order again after a new click', async () => {
    const order = { offer_id: 12345, transaction_id: 'T-1' };
    const page = await openPage({ url: `${THANKS}?reqid=${REQID}` });
    page.ckm('convert', order);
    const newClick = await page.reload({ url: `${THANKS}?reqid=${OTHER_REQID}` });
    newClick.ckm('convert', order);
    expect(newClick.images).toEqual([]);
  });

  it('without a transaction id, fires once per reqid: a reload does not fire again, a new click does', async () => {
    const order = { offer_id: 12345 };
    const page = await openPage({ url: `${THANKS}?reqid=${REQID}` });
    page.ckm('convert', order);
    const reloaded = await page.reload();
    reloaded.ckm('convert', order);
    expect(reloaded.images).toEqual([]);
    const newClick = await reloaded.reload({ url: `${THANKS}?reqid=${OTHER_REQID}` });
    newClick.ckm('convert', order);
    expect(newClick.images.map((url) => query(url).r)).toEqual([OTHER_REQID]);
  });

  it('ignores a call without an order, and nothing reaches the page', async () => {
    const page = await openPage();
    expect(() => page.ckm('convert')).not.toThrow();
    expect(page.images).toEqual([]);
  });
});

describe('the declarative conversion (data attributes on the script tag)', () => {
  const config = { offer_id: '12345', event_id: '2', transaction_id: 'T-9', amount: '25', payout: '5' };

  it('fires on load', async () => {
    const page = await openPage({ url: `${THANKS}?reqid=${REQID}`, config });
    expect(page.images.map(query)).toEqual([{ f: 'img', o: '12345', e: '2', t: 'T-9', r: REQID, p: '25', ap: '5' }]);
  });

  it('does not fire again when the thank-you page is reloaded', async () => {
    const page = await openPage({ url: `${THANKS}?reqid=${REQID}`, config });
    const reloaded = await page.reload();
    expect(reloaded.images).toEqual([]);
  });
});
