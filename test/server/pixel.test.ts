// The conversion pixel /p.ashx (PROTOCOL.md 5) in its four formats, with the affiliate's browser
// postbacks written into the thank-you page.
import { Window } from 'happy-dom';
import { afterEach, describe, expect, it } from 'vitest';
import { GIF, offerCookie } from '../../server/http.js';
import { makeApp, setCookie, type TestApp } from '../support/app.js';
import { ADVERTISER, AFF, API_KEY, CAMPAIGN, conversionNetworkFile, CREATIVE, EVENTS, OFFER, REPEAT } from '../support/network.js';
import type { NetworkFile } from '../../server/network.js';

let t: TestApp;
let windows: Window[] = [];
afterEach(async () => {
  await t?.close();
  for (const w of windows) await w.happyDOM.close();
  windows = [];
});

const PB_SUCCESS = '<?xml version="1.0" encoding="utf-8"?><result><code>0</code><msg>SUCCESS</msg></result>';

/** Clicks a tracking link; answers the reqid and the Cookie header the browser sends back. */
async function click(affiliate: number, creative: number, offer: number) {
  const res = await t.get(`/?a=${affiliate}&c=${creative}&s1=sub1`);
  const reqid = setCookie(res, offerCookie(offer));
  if (!reqid) throw new Error(`the click on creative ${creative} was not attributed`);
  return { reqid, cookie: `${offerCookie(offer)}=${reqid}` };
}

const pixel = (query: string, init: { cookie?: string; ip?: string } = {}) =>
  t.get(`/p.ashx?${query}`, { ip: init.ip, headers: init.cookie ? { cookie: init.cookie } : {} });

async function stored() {
  return (await t.store.listConversions({ include_tests: true, sort: 'conversion_id', descending: false, offset: 0, limit: 1000 })).rows;
}

async function addPostback(fields: Record<string, string | number>) {
  const res = await t.post('/api/2/affiliate_postback.json', JSON.stringify({ api_key: API_KEY, ...fields }), 'application/json');
  expect(res.status).toBe(200);
}

/** The conversion network with the lead offer changed. */
function withLead(change: Partial<NetworkFile['offers'][number]>): NetworkFile {
  const file = conversionNetworkFile();
  Object.assign(file.offers.find((o) => o.offer_id === OFFER.lead)!, change);
  return file;
}

function browser(): Window {
  const w = new Window({
    url: 'https://advertiser.example/thanks',
    settings: { disableJavaScriptFileLoading: true, disableIframePageLoading: true, disableCSSFileLoading: true },
  });
  windows.push(w);
  return w;
}

/** The elements of a page or of the frames written into it, as a browser parses them: [tag, src],
 * and for the elements inside a sandboxed frame (srcdoc) [tag, src, 'sandboxed']. The frame must
 * be sandboxed to scripts alone, and hold nothing but the affiliate's frames and scripts. */
function elementsOf(elements: Element[], w: Window): string[][] {
  return elements.flatMap((e) => {
    const tag = e.tagName.toLowerCase();
    if (tag !== 'iframe' || !e.hasAttribute('srcdoc')) return [[tag, e.getAttribute('src')!]];
    expect(e.getAttribute('sandbox')).toBe('allow-scripts');
    expect(e.hasAttribute('src')).toBe(false);
    const inner = new w.DOMParser().parseFromString(e.getAttribute('srcdoc')!, 'text/html');
    const nested = [...inner.querySelectorAll('body *, head script')].filter((x) => x.tagName !== 'META');
    return nested.map((x) => {
      expect(['IFRAME', 'SCRIPT']).toContain(x.tagName);
      return [x.tagName.toLowerCase(), x.getAttribute('src')!, 'sandboxed'];
    });
  });
}

/** What an iframe answer puts on its page. */
function parsePage(text: string) {
  const w = browser();
  const doc = new w.DOMParser().parseFromString(text, 'text/html');
  return elementsOf([...doc.body.querySelectorAll('*')] as unknown as Element[], w);
}

/** Runs a JavaScript answer on a thank-you page; answers the elements it added and what it set. */
function runScript(text: string) {
  const w = browser();
  w.document.body.innerHTML = '<p>Thank you</p>';
  new Function('window', 'document', text)(w, w.document);
  const added = elementsOf([...w.document.body.children].slice(1) as unknown as Element[], w);
  return { added, globals: w as unknown as Record<string, unknown> };
}

describe('p.ashx?f=img', () => {
  it('records a conversion for the tracking-domain cookie and answers a 1x1 GIF', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const { reqid, cookie } = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const res = await pixel(`o=${OFFER.lead}&f=img&t=T-1`, { cookie, ip: '192.0.2.44' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/gif');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(GIF);
    const [row] = await stored();
    expect(row).toMatchObject({
      reqid,
      offer_id: OFFER.lead,
      affiliate_id: AFF.partner,
      transaction_id: 'T-1',
      payout_cents: 1800,
      revenue_cents: 2200,
      status: 'approved',
      source: 'pixel',
      ip: '192.0.2.44',
    });
  });

  it('credits the click of r without a cookie', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const { reqid } = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    await pixel(`o=${OFFER.lead}&r=${reqid}&f=img`);
    expect((await stored()).map((r) => r.reqid)).toEqual([reqid]);
  });

  it("credits the browser's cookie when r is forged", async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const { reqid, cookie } = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    await pixel(`o=${OFFER.lead}&r=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&f=img`, { cookie });
    expect((await stored()).map((r) => r.reqid)).toEqual([reqid]);
  });

  it.each([
    ['an unknown offer', `o=999&f=img`, true, 'o names no offer'],
    ['no offer at all', `f=img`, true, 'o is required'],
    ['a malformed offer id', `o=12abc&f=img`, true, 'o must be a whole number'],
    ['a forged reqid and no cookie', `o=${OFFER.lead}&r=forged-reqid&f=img`, false, 'r is not a request id'],
    ['no reqid and no cookie', `o=${OFFER.lead}&f=img`, false, 'r is missing'],
    ['a malformed amount', `o=${OFFER.lead}&p=12,50&f=img`, true, 'p must be an amount'],
    ['a transaction id too long', `o=${OFFER.lead}&t=${'x'.repeat(300)}&f=img`, true, 't must be at most 255'],
  ])('still answers its GIF for %s, and records nothing', async (_, query, withCookie, why) => {
    t = makeApp({ file: conversionNetworkFile() });
    const { cookie } = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const res = await pixel(query, withCookie ? { cookie } : {});
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/gif');
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(GIF);
    expect(res.headers.get('x-crumb-result')).toContain(why);
    expect(await stored()).toEqual([]);
  });

  it.each(['img', 'js', 'pb', ''])('answers HEAD (f=%s) with the status and headers of GET, recording nothing', async (f) => {
    t = makeApp({ file: conversionNetworkFile() });
    const { cookie } = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const head = await t.get(`/p.ashx?o=${OFFER.lead}&f=${f}&t=H-1`, { method: 'HEAD', headers: { cookie } });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect(await stored()).toEqual([]);
    expect(head.headers.get('x-crumb-result')).toBe('not recorded: HEAD');
    const get = await t.get(`/p.ashx?o=${OFFER.lead}&f=${f}&t=H-1`, { headers: { cookie } });
    const names = (r: Response) => [...r.headers.keys()].filter((k) => k !== 'content-length' && k !== 'x-crumb-result');
    expect(names(head)).toEqual(names(get));
    for (const name of names(get)) expect(head.headers.get(name)).toBe(get.headers.get(name));
    expect(await stored()).toHaveLength(1);
  });

  it('answers HEAD f=pb with the error status GET would get', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const res = await t.get(`/p.ashx?o=999&f=pb`, { method: 'HEAD' });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('text/xml; charset=utf-8');
  });
});

describe('p.ashx money and dedupe', () => {
  it('takes p as the revenue and ap as the payout where the offer allows both (pixel_overrides all)', async () => {
    t = makeApp({ file: withLead({ pixel_overrides: 'all' }) });
    const { cookie } = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const res = await pixel(`o=${OFFER.lead}&p=40.10&ap=19.99&f=img`, { cookie });
    expect(res.headers.get('x-crumb-result')).toMatch(/^recorded conversion \d+ \(approved\)$/);
    expect((await stored())[0]).toMatchObject({ payout_cents: 1999, revenue_cents: 4010 });
  });

  it("takes p as the sale amount of a RevShare offer's percentages", async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const { cookie } = await click(AFF.partner, CREATIVE.revshare, OFFER.revshare);
    await pixel(`o=${OFFER.revshare}&p=250&f=img`, { cookie });
    expect((await stored())[0]).toMatchObject({ amount_cents: 25000, payout_cents: 2500, revenue_cents: 3750 });
  });

  it('dedupes on t for the same offer and event, and keeps other events apart', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const { cookie } = await click(AFF.partner, REPEAT.creative, REPEAT.offer);
    await pixel(`o=${REPEAT.offer}&t=ORDER-9&f=img`, { cookie });
    const again = await pixel(`o=${REPEAT.offer}&t=ORDER-9&f=pb`, { cookie });
    expect(await again.text()).toContain('<duplicate>true</duplicate>');
    await pixel(`o=${REPEAT.offer}&t=ORDER-9&e=${EVENTS.issueRead}&f=img`, { cookie });
    await pixel(`o=${REPEAT.offer}&t=ORDER-10&f=img`, { cookie });
    expect((await stored()).map((r) => [r.transaction_id, r.event_id])).toEqual([
      ['ORDER-9', 0],
      ['ORDER-9', EVENTS.issueRead],
      ['ORDER-10', 0],
    ]);
  });

  it('gives one conversion for 50 identical pixels at once', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const { cookie } = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const answers = await Promise.all(Array.from({ length: 50 }, () => pixel(`o=${OFFER.lead}&t=SAME&f=img`, { cookie })));
    expect(answers.every((r) => r.status === 200 && r.headers.get('content-type') === 'image/gif')).toBe(true);
    expect(await stored()).toHaveLength(1);
  });

  it('scrubs a pixel later than the session hours after the click', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const { cookie } = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    t.clock.now += 48 * 3_600_000;
    await pixel(`o=${OFFER.lead}&f=img`, { cookie });
    expect((await stored())[0]).toMatchObject({ status: 'scrubbed', payout_cents: 0 });
  });
});

describe('p.ashx?a= (advertiser)', () => {
  it("credits the offer of the browser's latest click among the advertiser's offers", async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const older = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    t.clock.now += 60_000;
    const latest = await click(AFF.partner, CREATIVE.lastTouch, OFFER.lastTouch);
    t.clock.now += 60_000;
    const otherAdvertiser = await click(AFF.partner, CREATIVE.otherAdvertiser, OFFER.otherAdvertiser);
    const cookie = [older.cookie, latest.cookie, otherAdvertiser.cookie].join('; ');
    const res = await pixel(`a=${ADVERTISER.acme}&f=pb`, { cookie });
    expect(await res.text()).toBe(PB_SUCCESS);
    expect((await stored()).map((r) => [r.offer_id, r.reqid])).toEqual([[OFFER.lastTouch, latest.reqid]]);
  });

  it("credits r's click when it is on one of the advertiser's offers", async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const { reqid } = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    await pixel(`a=${ADVERTISER.acme}&r=${reqid}&f=img`);
    expect((await stored()).map((r) => r.offer_id)).toEqual([OFFER.lead]);
  });

  it("records nothing when the browser holds no click on the advertiser's offers", async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const { cookie } = await click(AFF.partner, CREATIVE.otherAdvertiser, OFFER.otherAdvertiser);
    const res = await pixel(`a=${ADVERTISER.acme}&f=pb`, { cookie });
    expect(res.status).toBe(400);
    const unknown = await pixel(`a=77&f=pb`, { cookie });
    expect(await unknown.text()).toContain('<msg>a names no advertiser of this network (77)</msg>');
    expect(await stored()).toEqual([]);
  });
});

describe('p.ashx?f=pb', () => {
  it("answers the contract's XML success", async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const { reqid } = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const res = await pixel(`o=${OFFER.lead}&r=${reqid}&t=X&f=pb`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/xml; charset=utf-8');
    expect(await res.text()).toBe(PB_SUCCESS);
  });

  it.each([
    [`o=999&r=R`, '<msg>o names no offer of this network (999)</msg>'],
    [`o=${OFFER.lead}&r=not-a-reqid`, '<msg>r is not a request id issued by this network'],
    [`o=${OFFER.lead}&r=RQ&ap=free`, '<msg>ap must be an amount such as 18.50</msg>'],
  ])('answers an XML error naming the parameter for %s', async (query, message) => {
    t = makeApp({ file: conversionNetworkFile() });
    const res = await pixel(`${query}&f=pb`);
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).toMatch(/^<\?xml version="1.0" encoding="utf-8"\?><result><code>1<\/code><msg>/);
    expect(text).toContain(message);
    expect(await stored()).toEqual([]);
  });
});

describe('p.ashx browser formats carry the browser postbacks', () => {
  const INJECTION = `"><script>window.pwned=1</script><img src=x onerror="window.pwned=2">'`;

  /** The affiliate's browser postbacks, on an offer that counts every order (these tests fire
   * several pixels for one click). */
  async function withPostbacks() {
    t = makeApp({ file: withLead({ allow_duplicates: true }) });
    await addPostback({ affiliate_id: AFF.partner, offer_id: OFFER.lead, postback_type_id: 2, postback_url: 'https://aff.example/frame?c=#reqid#&t=#tid#' });
    await addPostback({ affiliate_id: AFF.partner, offer_id: 0, postback_type_id: 3, postback_url: 'https://aff.example/img.gif?p={payout}&t={transaction_id}' });
    await addPostback({ affiliate_id: AFF.partner, offer_id: OFFER.lead, postback_type_id: 4, postback_url: 'https://aff.example/px.js?o=#oid#&s=#s1#' });
    // Another affiliate's, a server one and an inactive one: not on this page.
    await addPostback({ affiliate_id: AFF.second, offer_id: OFFER.lead, postback_type_id: 3, postback_url: 'https://second.example/img' });
    await addPostback({ affiliate_id: AFF.partner, offer_id: OFFER.lead, postback_type_id: 1, postback_url: 'https://aff.example/s2s' });
    await addPostback({ affiliate_id: AFF.partner, offer_id: OFFER.lead, postback_type_id: 3, postback_url: 'https://aff.example/off', postback_status: 'inactive' });
    return click(AFF.partner, CREATIVE.lead, OFFER.lead);
  }

  it('writes them into the iframe page with macros filled and URL-encoded, affiliate code in a sandboxed frame', async () => {
    const { reqid, cookie } = await withPostbacks();
    const res = await pixel(`o=${OFFER.lead}&t=${encodeURIComponent('A&B 1')}`, { cookie });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(parsePage(await res.text())).toEqual([
      ['img', 'https://aff.example/img.gif?p=18.00&t=A%26B%201'],
      ['iframe', `https://aff.example/frame?c=${reqid}&t=A%26B%201`, 'sandboxed'],
      ['script', `https://aff.example/px.js?o=${OFFER.lead}&s=sub1`, 'sandboxed'],
    ]);
  });

  it('lets the iframe page be framed by any site, and sandboxes the page itself', async () => {
    const { cookie } = await withPostbacks();
    const res = await pixel(`o=${OFFER.lead}`, { cookie });
    expect(res.headers.get('x-frame-options')).toBeNull();
    expect(res.headers.get('content-security-policy')).toBe('sandbox allow-scripts');
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
  });

  it('adds them to the page from the JavaScript answer, affiliate code in a sandboxed frame', async () => {
    const { reqid, cookie } = await withPostbacks();
    const res = await pixel(`o=${OFFER.lead}&t=T7&f=js`, { cookie });
    expect(res.headers.get('content-type')).toBe('application/javascript; charset=utf-8');
    expect(runScript(await res.text()).added).toEqual([
      ['img', 'https://aff.example/img.gif?p=18.00&t=T7'],
      ['iframe', `https://aff.example/frame?c=${reqid}&t=T7`, 'sandboxed'],
      ['script', `https://aff.example/px.js?o=${OFFER.lead}&s=sub1`, 'sandboxed'],
    ]);
  });

  it('answers only images, and no frame, when the affiliate has only image postbacks', async () => {
    t = makeApp({ file: withLead({ allow_duplicates: true }) });
    await addPostback({ affiliate_id: AFF.partner, offer_id: OFFER.lead, postback_type_id: 3, postback_url: 'https://aff.example/i.gif?c=#reqid#' });
    const { reqid, cookie } = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    expect(parsePage(await (await pixel(`o=${OFFER.lead}&t=I1`, { cookie })).text())).toEqual([['img', `https://aff.example/i.gif?c=${reqid}`]]);
    const script = await (await pixel(`o=${OFFER.lead}&t=I2&f=js`, { cookie })).text();
    expect(script).not.toContain('iframe');
    expect(runScript(script).added).toEqual([['img', `https://aff.example/i.gif?c=${reqid}`]]);
  });

  it('lets no parameter inject markup or script, in either format', async () => {
    const { cookie } = await withPostbacks();
    const page = await (await pixel(`o=${OFFER.lead}&t=${encodeURIComponent(INJECTION)}`, { cookie })).text();
    expect(page).not.toContain('<script>window');
    expect(parsePage(page).map(([tag]) => tag)).toEqual(['img', 'iframe', 'script']);
    const script = await (await pixel(`o=${OFFER.lead}&t=${encodeURIComponent(INJECTION + '2')}&f=js`, { cookie })).text();
    expect(script).not.toContain('</script>');
    const { added, globals } = runScript(script);
    expect(added.map(([tag]) => tag)).toEqual(['img', 'iframe', 'script']);
    expect(added[0]![1]).toBe(`https://aff.example/img.gif?p=18.00&t=${encodeURIComponent(INJECTION + '2')}`);
    expect(globals.pwned).toBeUndefined();
  });

  it('escapes a postback URL that itself carries markup, in the page, in the sandboxed frame (escaped twice) and in the script', async () => {
    t = makeApp({ file: withLead({ allow_duplicates: true }) });
    const hostile = [INJECTION, `"></iframe><script>parent.pwned=1</script>`, `&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;`, `' srcdoc='<script>alert(1)</script>`, '&amp;amp;'];
    for (const [i, h] of hostile.entries()) {
      await addPostback({ affiliate_id: AFF.partner, offer_id: OFFER.lead, postback_type_id: (i % 3) + 2, postback_url: `https://aff.example/x${i}?q=${h}` });
    }
    const expected = (where: 'page' | 'script') =>
      [...hostile.entries()]
        .sort(([a], [b]) => Number((a % 3) + 2 !== 3) - Number((b % 3) + 2 !== 3) || a - b)
        .map(([i, h]) => ((i % 3) + 2 === 3 ? ['img', `https://aff.example/x${i}?q=${h}`] : [(i % 3) + 2 === 2 ? 'iframe' : 'script', `https://aff.example/x${i}?q=${h}`, 'sandboxed']));
    const { cookie } = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const page = await (await pixel(`o=${OFFER.lead}&t=1`, { cookie })).text();
    expect(page).not.toMatch(/<script/i);
    expect(parsePage(page)).toEqual(expected('page'));
    const script = await (await pixel(`o=${OFFER.lead}&t=2&f=js`, { cookie })).text();
    expect(script).not.toMatch(/<\/script|<!--/i);
    const { added, globals } = runScript(script);
    expect(added).toEqual(expected('script'));
    expect(globals.pwned).toBeUndefined();
  });

  it('carries none for a duplicate, a test or a scrubbed conversion', async () => {
    const { cookie } = await withPostbacks();
    const first = await pixel(`o=${OFFER.lead}&t=ONCE&f=js`, { cookie });
    expect(runScript(await first.text()).added).toHaveLength(3);
    const duplicate = await pixel(`o=${OFFER.lead}&t=ONCE`, { cookie });
    expect(duplicate.headers.get('x-crumb-result')).toContain('duplicate');
    expect(parsePage(await duplicate.text())).toEqual([]);
    const test = await pixel(`o=${OFFER.lead}&t=TEST&ckm_test=1&f=js`, { cookie });
    expect(await test.text()).toBe('');
    const scrubbed = await pixel(`o=${OFFER.lead}&t=SCRUB`, { cookie, ip: '203.0.113.66' });
    expect(parsePage(await scrubbed.text())).toEqual([]);
    expect((await stored()).map((r) => [r.transaction_id, r.status, r.is_test])).toEqual([
      ['ONCE', 'approved', false],
      ['TEST', 'approved', true],
      ['SCRUB', 'scrubbed', false],
    ]);
  });

  it('answers an empty page and an empty script when nothing is recorded', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const page = await pixel(`o=999`);
    expect(page.status).toBe(200);
    expect(parsePage(await page.text())).toEqual([]);
    const script = await pixel(`o=999&f=js`);
    expect(script.status).toBe(200);
    expect(await script.text()).toBe('');
  });
});

describe('p.ashx: money the browser cannot set (pixel_overrides, max_sale_amount)', () => {
  it('takes p but ignores ap by default (pixel_overrides revenue), and says so', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const { cookie } = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const res = await pixel(`o=${OFFER.lead}&p=40.10&ap=500.00&f=img`, { cookie });
    expect(res.headers.get('x-crumb-result')).toMatch(
      new RegExp(`^recorded conversion \\d+ \\(approved\\); ap ignored: offer ${OFFER.lead} takes no payout from the pixel \\(pixel_overrides revenue\\)$`),
    );
    expect((await stored())[0]).toMatchObject({ payout_cents: 1800, revenue_cents: 4010 });
  });

  it('ignores p and ap with pixel_overrides none', async () => {
    t = makeApp({ file: withLead({ pixel_overrides: 'none' }) });
    const { cookie } = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const res = await pixel(`o=${OFFER.lead}&p=40.10&ap=500&f=pb`, { cookie });
    expect(await res.text()).toBe(PB_SUCCESS);
    expect(res.headers.get('x-crumb-result')).toContain('p ignored: offer 12345 takes no amount from the pixel (pixel_overrides none); ap ignored');
    expect((await stored())[0]).toMatchObject({ payout_cents: 1800, revenue_cents: 2200, amount_cents: null });
  });

  it("takes a RevShare offer's sale amount by default, and pays its percentage", async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const { cookie } = await click(AFF.partner, CREATIVE.revshare, OFFER.revshare);
    await pixel(`o=${OFFER.revshare}&p=80.05&ap=70&f=img`, { cookie });
    // 10 % and 15 % of 80.05 (8.005 and 12.0075), half up; ap ignored.
    expect((await stored())[0]).toMatchObject({ amount_cents: 8005, payout_cents: 801, revenue_cents: 1201 });
  });

  it("holds a sale amount above the offer's max_sale_amount pending, keeping it; approved later, it pays in full", async () => {
    const file = conversionNetworkFile();
    file.offers.find((o) => o.offer_id === OFFER.revshare)!.max_sale_amount = 1000;
    t = makeApp({ file });
    const { cookie } = await click(AFF.partner, CREATIVE.revshare, OFFER.revshare);
    const res = await pixel(`o=${OFFER.revshare}&p=5000&f=js`, { cookie });
    expect(res.headers.get('x-crumb-result')).toMatch(/^recorded conversion \d+ \(pending: p 5000\.00 is above the offer's max_sale_amount 1000\.00: held for review\)$/);
    expect(await res.text()).toBe('');
    const [row] = await stored();
    expect(row).toMatchObject({ status: 'pending', amount_cents: 500_000, payout_cents: 0, computed_payout_cents: 50_000, computed_revenue_cents: 75_000 });
    expect((await t.store.listDeliveries({ offset: 0, limit: 10 })).total).toBe(0);
    const put = await t.app.request(`http://track.example.com/api/2/conversion.json?api_key=${API_KEY}&conversion_id=${row!.conversion_id}&conversion_status=approved`, { method: 'PUT' });
    expect((await put.json()).conversion).toMatchObject({ payout: 500, revenue: 750 });
    // At the cap itself, approved at once.
    const other = await click(AFF.partner, CREATIVE.revshare, OFFER.revshare);
    await pixel(`o=${OFFER.revshare}&r=${other.reqid}&p=1000&f=img`);
    expect((await stored())[1]).toMatchObject({ status: 'approved', payout_cents: 10_000 });
  });
});

describe('p.ashx events (e=)', () => {
  it("records an event at the event's money, once per click, beside the base conversion", async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const { cookie } = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const views = [];
    for (let i = 0; i < 4; i++) views.push(await pixel(`o=${OFFER.lead}&e=${EVENTS.viewed}&f=img`, { cookie }));
    expect(views.map((r) => r.headers.get('x-crumb-result')!.replace(/\d+/, 'N'))).toEqual([
      'recorded conversion N (approved)',
      'duplicate of conversion N',
      'duplicate of conversion N',
      'duplicate of conversion N',
    ]);
    await pixel(`o=${OFFER.lead}&e=0&t=ORDER-1&f=img`, { cookie });
    const again = await pixel(`o=${OFFER.lead}&t=ORDER-2&f=img`, { cookie });
    expect(again.headers.get('x-crumb-result')).toMatch(/^duplicate of conversion \d+$/);
    expect((await stored()).map((r) => [r.event_id, r.payout_cents, r.revenue_cents])).toEqual([
      [EVENTS.viewed, 50, 100],
      [0, 1800, 2200],
    ]);
  });

  it.each([
    ['an event the offer does not have', 77, `unknown event: offer ${OFFER.lead} has no event 77; nothing recorded`],
    ['an inactive event', EVENTS.retired, `unknown event: event ${EVENTS.retired} of offer ${OFFER.lead} is inactive; nothing recorded`],
  ])('records nothing for %s, still answering its kind, and says why', async (_, e, result) => {
    t = makeApp({ file: conversionNetworkFile() });
    const { cookie } = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const img = await pixel(`o=${OFFER.lead}&e=${e}&f=img`, { cookie });
    expect(img.status).toBe(200);
    expect(new Uint8Array(await img.arrayBuffer())).toEqual(GIF);
    expect(img.headers.get('x-crumb-result')).toBe(result);
    const pb = await pixel(`o=${OFFER.lead}&e=${e}&f=pb`, { cookie });
    expect(pb.status).toBe(400);
    expect(await pb.text()).toContain('<msg>e ');
    expect(await stored()).toEqual([]);
  });

  it('fires the affiliate postbacks of an event with #eventid#, empty for the base conversion', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    await addPostback({ affiliate_id: AFF.partner, offer_id: OFFER.lead, postback_type_id: 3, postback_url: 'https://aff.example/e.gif?e=#eventid#&p=#price#' });
    const { cookie } = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const event = await pixel(`o=${OFFER.lead}&e=${EVENTS.viewed}`, { cookie });
    expect(parsePage(await event.text())).toEqual([['img', `https://aff.example/e.gif?e=${EVENTS.viewed}&p=0.50`]]);
    const base = await pixel(`o=${OFFER.lead}`, { cookie });
    expect(parsePage(await base.text())).toEqual([['img', 'https://aff.example/e.gif?e=&p=18.00']]);
  });
});

describe('p.ashx: a click whose affiliate or campaign is no longer active', () => {
  it('is credited nothing new: recorded scrubbed with the reason, no browser postbacks', async () => {
    const active = makeApp({ file: conversionNetworkFile() });
    t = active;
    await addPostback({ affiliate_id: AFF.partner, offer_id: OFFER.lead, postback_type_id: 3, postback_url: 'https://aff.example/img.gif' });
    const { cookie } = await click(AFF.partner, CREATIVE.lead, OFFER.lead);
    const file = conversionNetworkFile();
    file.campaigns.find((c) => c.campaign_id === CAMPAIGN.lead)!.status = 'inactive';
    t = makeApp({ file, store: active.store, dbPath: active.dbPath });
    const res = await pixel(`o=${OFFER.lead}`, { cookie });
    expect(res.headers.get('x-crumb-result')).toMatch(new RegExp(`^recorded conversion \\d+ \\(scrubbed: inactive campaign ${CAMPAIGN.lead}\\)$`));
    expect(parsePage(await res.text())).toEqual([]);
    expect((await stored())[0]).toMatchObject({ status: 'scrubbed', payout_cents: 0, revenue_cents: 0, scrub_reason: `inactive campaign ${CAMPAIGN.lead}` });
  });
});
