import { afterEach, describe, expect, it } from 'vitest';
import { CROSS_ORIGIN_SECURITY } from '../../server/security.js';
import { GIF } from '../../server/http.js';
import { AFF, CAMPAIGN, CREATIVE, OFFER, testNetworkFile } from '../support/network.js';
import { makeApp, setCookie, type TestApp } from '../support/app.js';

let t: TestApp;
afterEach(() => t?.close());

const DAY = 86_400_000;
const link = (query: string) => `/?${query}`;

async function clicks() {
  return (await t.store.listClicks({ offset: 0, limit: 1000 })).rows;
}

describe('tracking links', () => {
  it('redirect 302 to the landing page with every token replaced and URL-encoded', async () => {
    t = makeApp();
    const res = await t.get(link(`a=${AFF.partner}&c=${CREATIVE.lead}&s1=spring sale&s2=a%26b%3Dc`));
    expect(res.status).toBe(302);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const location = new URL(res.headers.get('location')!);
    const [click] = await clicks();
    expect(location.origin + location.pathname).toBe('https://lp.example.com/quote');
    expect(Object.fromEntries(location.searchParams)).toEqual({
      reqid: click!.reqid,
      aff: String(AFF.partner),
      o: String(OFFER.lead),
      camp: String(CAMPAIGN.lead),
      c: String(CREATIVE.lead),
      sub: 'spring sale',
      s2: 'a&b=c',
      v: click!.visitor_id,
      x: '',
    });
    expect(res.headers.get('location')).toContain('sub=spring%20sale&s2=a%26b%3Dc');
  });

  it('records the click, committed, with everything the contract lists', async () => {
    t = makeApp();
    await t.get(link(`a=${AFF.partner}&c=${CREATIVE.lead}&s1=x1&s3=x3&s5=x5`), {
      ip: '203.0.113.9',
      headers: { 'user-agent': 'Mozilla/5.0 Test', referer: 'https://publisher.example/page', 'cf-ipcountry': 'de' },
    });
    const [click] = await clicks();
    expect(click).toMatchObject({
      click_time: t.clock.now,
      affiliate_id: AFF.partner,
      offer_id: OFFER.lead,
      campaign_id: CAMPAIGN.lead,
      creative_id: CREATIVE.lead,
      s1: 'x1',
      s2: null,
      s3: 'x3',
      s4: null,
      s5: 'x5',
      ip: '203.0.113.9',
      country: 'DE',
      user_agent: 'Mozilla/5.0 Test',
      referrer: 'https://publisher.example/page',
      tracking_domain_id: 1,
      disposition: 'redirect',
    });
  });

  it("uses the creative's own landing URL when it has one", async () => {
    t = makeApp();
    const res = await t.get(link(`a=${AFF.partner}&c=${CREATIVE.lastTouch}`));
    expect(res.headers.get('location')).toMatch(/^https:\/\/lp2\.example\.com\/loan\?r=[\w-]{32}&c=2001$/);
  });

  it('sets one cookie: the offer cookie, holding the reqid for the offer cookie days', async () => {
    t = makeApp();
    const res = await t.get(link(`a=${AFF.partner}&c=${CREATIVE.lead}`));
    const [click] = await clicks();
    expect(res.headers.getSetCookie()).toHaveLength(1);
    expect(setCookie(res, `crumb_o${OFFER.lead}`)).toBe(click!.reqid);
    const line = res.headers.getSetCookie()[0]!;
    expect(line).toContain(`Max-Age=${30 * 86400}`);
    expect(line).toContain('HttpOnly');
  });

  it("keeps a browser's visitor id across its clicks on other offers (from the earliest click it holds)", async () => {
    t = makeApp();
    const first = await t.get(link(`a=${AFF.partner}&c=${CREATIVE.lead}`));
    const reqid = setCookie(first, `crumb_o${OFFER.lead}`)!;
    t.clock.now += 60_000;
    const second = await t.get(link(`a=${AFF.partner}&c=${CREATIVE.lastTouch}`), { headers: { cookie: `crumb_o${OFFER.lead}=${reqid}` } });
    expect(second.status).toBe(302);
    const [a, b] = await clicks();
    expect(a!.visitor_id).toBe(reqid.slice(8, 20));
    expect(b!.visitor_id).toBe(a!.visitor_id);
    // A new browser is a new visitor. (Found by its reqid: clicks minted in the same millisecond sort
    // by their random bytes, not by arrival.)
    const third = setCookie(await t.get(link(`a=${AFF.partner}&c=${CREATIVE.lastTouch}`)), `crumb_o${OFFER.lastTouch}`);
    const fresh = (await clicks()).find((click) => click.reqid === third);
    expect(fresh!.visitor_id).toBe(third!.slice(8, 20));
    expect(fresh!.visitor_id).not.toBe(a!.visitor_id);
  });

  it('marks cookies SameSite=None; Secure on https, so cross-site posts and pixels carry them', async () => {
    t = makeApp();
    const res = await t.app.request(`https://track.example.com/?a=${AFF.partner}&c=${CREATIVE.lead}`);
    expect(res.headers.getSetCookie()[0]).toMatch(/SameSite=None; Secure$/);
    const plain = await t.get(link(`a=${AFF.partner}&c=${CREATIVE.lead}`));
    expect(plain.headers.getSetCookie()[0]).toMatch(/SameSite=Lax$/);
  });

  it('lets the internal affiliate send traffic to any offer without a campaign', async () => {
    t = makeApp();
    const res = await t.get(link(`a=${AFF.internal}&c=${CREATIVE.lead}`));
    expect(res.status).toBe(302);
    expect((await clicks())[0]).toMatchObject({ affiliate_id: AFF.internal, campaign_id: null, disposition: 'redirect' });
  });
});

describe('the global redirect', () => {
  const refused: [string, string, string][] = [
    ['an unknown creative', `a=${AFF.partner}&c=999`, 'unknown_creative 999'],
    ['an unknown affiliate', `a=424242&c=${CREATIVE.lead}`, 'unknown_affiliate 424242'],
    ['an inactive affiliate', `a=${AFF.inactive}&c=${CREATIVE.lead}`, `inactive_affiliate ${AFF.inactive}`],
    ['an inactive creative', `a=${AFF.partner}&c=${CREATIVE.inactive}`, `inactive_creative ${CREATIVE.inactive}`],
    ['an inactive offer', `a=${AFF.partner}&c=${CREATIVE.inactiveOffer}`, `inactive_offer ${OFFER.inactive}`],
    ['an inactive campaign', `a=${AFF.second}&c=${CREATIVE.lastTouch}`, `inactive_campaign ${CAMPAIGN.inactive}`],
    ['an affiliate without a campaign', `a=${AFF.noCampaign}&c=${CREATIVE.lead}`, `no_campaign affiliate ${AFF.noCampaign} offer ${OFFER.lead}`],
    ['a non-numeric affiliate id', `a=abc&c=${CREATIVE.lead}`, 'bad_affiliate_id'],
    ['a missing creative id', `a=${AFF.partner}`, 'missing_creative_id'],
  ];
  for (const [what, query, disposition] of refused) {
    it(`answers ${what} with no attributed click, recording why`, async () => {
      t = makeApp();
      const res = await t.get(link(query));
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe('https://network.example/inactive');
      expect(setCookie(res, `crumb_o${OFFER.lead}`)).toBeUndefined();
      const rows = await clicks();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ disposition, affiliate_id: null, offer_id: null, campaign_id: null });
    });
  }

  it('answers requests on an inactive tracking domain', async () => {
    t = makeApp();
    const res = await t.get(link(`a=${AFF.partner}&c=${CREATIVE.lead}`), { headers: { host: 'old.example.com' } });
    expect(res.headers.get('location')).toBe('https://network.example/inactive');
    expect((await clicks())[0]!.disposition).toBe('inactive_domain old.example.com');
  });

  it('serves an unknown host as the default tracking domain', async () => {
    t = makeApp();
    const res = await t.get(link(`a=${AFF.partner}&c=${CREATIVE.lead}`), { headers: { host: 'elsewhere.example' } });
    expect(res.status).toBe(302);
    expect((await clicks())[0]!.tracking_domain_id).toBe(1);
  });

  it('is a plain 404 page when the network has no global redirect URL', async () => {
    const file = testNetworkFile();
    file.network.global_redirect_url = null;
    t = makeApp({ file });
    const res = await t.get(link(`a=${AFF.partner}&c=999`));
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toContain('not active');
  });

  it("answers a redirect with the security headers a redirect uses, a pixel and the 404 page with them all", async () => {
    t = makeApp();
    const names = (res: Response) => [...res.headers.keys()].sort();
    const redirect = ['cache-control', 'cross-origin-resource-policy', 'location', 'referrer-policy', 'strict-transport-security'];
    const link302 = await t.get(link(`a=${AFF.partner}&c=${CREATIVE.lead}`));
    expect(names(link302)).toEqual([...redirect, 'set-cookie'].sort());
    for (const name of ['cross-origin-resource-policy', 'referrer-policy', 'strict-transport-security']) {
      const [, value] = Object.entries(CROSS_ORIGIN_SECURITY).find(([key]) => key.toLowerCase() === name)!;
      expect(link302.headers.get(name)).toBe(value);
    }
    expect(names(await t.get(link(`a=${AFF.partner}&c=999`)))).toEqual(redirect);
    // Anything with a body can be sniffed, framed or isolated: every one of security.ts's headers.
    const pixel = await t.get(link(`a=${AFF.partner}&c=${CREATIVE.lead}&cp=img`));
    expect(pixel.headers.get('x-content-type-options')).toBe('nosniff');
    expect(pixel.headers.get('x-permitted-cross-domain-policies')).toBe('none');
    const file = testNetworkFile();
    file.network.global_redirect_url = null;
    await t.close();
    t = makeApp({ file });
    const page = await t.get(link(`a=${AFF.partner}&c=999`));
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('origin-agent-cluster')).toBe('?1');
  });

  it('records nothing for a request without a or c', async () => {
    t = makeApp();
    expect((await t.get('/')).status).toBe(302);
    expect(await clicks()).toHaveLength(0);
  });
});

describe('first and last touch', () => {
  async function clickWith(query: string, cookie?: string) {
    return t.get(link(query), cookie ? { headers: { cookie } } : undefined);
  }

  it('keeps the first reqid for a second click on the same offer inside the cookie window', async () => {
    t = makeApp();
    const first = await clickWith(`a=${AFF.partner}&c=${CREATIVE.lead}`);
    const reqid = setCookie(first, `crumb_o${OFFER.lead}`)!;
    t.clock.now += 29 * DAY;
    const second = await clickWith(`a=${AFF.second}&c=${CREATIVE.lead}`, `crumb_o${OFFER.lead}=${reqid}`);
    expect(new URL(second.headers.get('location')!).searchParams.get('reqid')).toBe(reqid);
    expect(setCookie(second, `crumb_o${OFFER.lead}`)).toBeUndefined();
    const rows = await clicks();
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatchObject({ affiliate_id: AFF.second, disposition: `repeat ${reqid}` });
  });

  it('issues a new reqid once the cookie window has passed', async () => {
    t = makeApp();
    const reqid = setCookie(await clickWith(`a=${AFF.partner}&c=${CREATIVE.lead}`), `crumb_o${OFFER.lead}`)!;
    t.clock.now += 31 * DAY;
    const second = await clickWith(`a=${AFF.partner}&c=${CREATIVE.lead}`, `crumb_o${OFFER.lead}=${reqid}`);
    const next = setCookie(second, `crumb_o${OFFER.lead}`)!;
    expect(next).not.toBe(reqid);
    expect(new URL(second.headers.get('location')!).searchParams.get('reqid')).toBe(next);
  });

  it('replaces the reqid on every click of a last-touch offer', async () => {
    t = makeApp();
    const reqid = setCookie(await clickWith(`a=${AFF.partner}&c=${CREATIVE.lastTouch}`), `crumb_o${OFFER.lastTouch}`)!;
    const second = await clickWith(`a=${AFF.partner}&c=${CREATIVE.lastTouch}`, `crumb_o${OFFER.lastTouch}=${reqid}`);
    const next = setCookie(second, `crumb_o${OFFER.lastTouch}`)!;
    expect(next).toMatch(/^[\w-]{32}$/);
    expect(next).not.toBe(reqid);
    expect((await clicks()).map((c) => c.disposition)).toEqual(['redirect', 'redirect']);
  });

  it('ignores a tampered reqid in the cookie', async () => {
    t = makeApp();
    const reqid = setCookie(await clickWith(`a=${AFF.partner}&c=${CREATIVE.lead}`), `crumb_o${OFFER.lead}`)!;
    const tampered = reqid.slice(0, 20) + (reqid[20] === 'A' ? 'B' : 'A') + reqid.slice(21);
    const second = await clickWith(`a=${AFF.partner}&c=${CREATIVE.lead}`, `crumb_o${OFFER.lead}=${tampered}`);
    const next = setCookie(second, `crumb_o${OFFER.lead}`)!;
    expect(next).not.toBe(tampered);
    expect(next).not.toBe(reqid);
  });
});

describe('sub ids', () => {
  it('spill what does not fit (s1 50, s2..s5 100) into the next slot, keeping order', async () => {
    t = makeApp();
    const s1 = 'a'.repeat(70);
    const s2 = 'b'.repeat(90);
    await t.get(link(`a=${AFF.partner}&c=${CREATIVE.lead}&s1=${s1}&s2=${s2}&s4=d`));
    const [click] = await clicks();
    expect(click!.s1).toBe('a'.repeat(50));
    expect(click!.s2).toBe('a'.repeat(20) + 'b'.repeat(80));
    expect(click!.s3).toBe('b'.repeat(10));
    expect(click!.s4).toBe('d');
    expect([click!.s1, click!.s2, click!.s3, click!.s4].join('')).toBe(s1 + s2 + 'd');
  });

  it('drop only what passes all five slots (450 characters)', async () => {
    t = makeApp();
    await t.get(link(`a=${AFF.partner}&c=${CREATIVE.lead}&s1=${'z'.repeat(5000)}`));
    const [click] = await clicks();
    expect([click!.s1, click!.s2, click!.s3, click!.s4, click!.s5].join('')).toBe('z'.repeat(450));
  });
});

describe('click pixels', () => {
  const scraped = (body: string) => /var ckm_request_id = (.*);/.exec(body)![1]!.trim();

  it('cp=js records a click and defines ckm_request_id on a line of its own', async () => {
    t = makeApp();
    const res = await t.get(link(`a=${AFF.internal}&c=${CREATIVE.lead}&cp=js&s1=organic`));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    const body = await res.text();
    const [click] = await clicks();
    expect(body.split('\n')[0]).toBe(`var ckm_request_id = "${click!.reqid}";`);
    expect(JSON.parse(scraped(body))).toBe(click!.reqid);
    expect(click).toMatchObject({ affiliate_id: AFF.internal, s1: 'organic', disposition: 'pixel' });
    expect(setCookie(res, `crumb_o${OFFER.lead}`)).toBe(click!.reqid);
  });

  it('runs as JavaScript: defines the global and hands the reqid to a ckm queue', async () => {
    t = makeApp();
    const body = await (await t.get(link(`a=${AFF.internal}&c=${CREATIVE.lead}&cp=js`))).text();
    const calls: unknown[][] = [];
    const ckm = (...args: unknown[]) => calls.push(args);
    const defined = new Function('ckm', `${body}; return ckm_request_id;`)(ckm);
    expect(defined).toMatch(/^[\w-]{32}$/);
    expect(calls).toEqual([['reqid', defined]]);
  });

  it('cannot be broken out of by a hostile parameter', async () => {
    t = makeApp();
    const hostile = encodeURIComponent('";alert(1)//</script><script>alert(2)</script>');
    for (const query of [
      `a=${AFF.internal}&c=${CREATIVE.lead}&cp=js&s1=${hostile}`,
      `a=${AFF.internal}&c=${CREATIVE.lead}&cp=js&reqid=${hostile}`,
      `a=${hostile}&c=${CREATIVE.lead}&cp=js`,
    ]) {
      const body = await (await t.get(link(query))).text();
      expect(body).not.toContain('alert');
      expect(body).not.toMatch(/<\/script/i);
      expect(() => new Function('ckm', body)).not.toThrow();
    }
  });

  it('confirms a reqid the page already has instead of creating a click', async () => {
    t = makeApp();
    const first = await (await t.get(link(`a=${AFF.internal}&c=${CREATIVE.lead}&cp=js`))).text();
    const reqid = JSON.parse(scraped(first));
    const again = await (await t.get(link(`a=${AFF.internal}&c=${CREATIVE.lead}&cp=js&reqid=${reqid}`))).text();
    expect(JSON.parse(scraped(again))).toBe(reqid);
    expect(await clicks()).toHaveLength(1);
  });

  it('sets no cookie when it confirms: a page cannot replace the first-touch reqid this way', async () => {
    t = makeApp();
    const firstTouch = setCookie(await t.get(link(`a=${AFF.partner}&c=${CREATIVE.lead}`)), `crumb_o${OFFER.lead}`)!;
    t.clock.now += 1000;
    const other = setCookie(await t.get(link(`a=${AFF.second}&c=${CREATIVE.lead}`)), `crumb_o${OFFER.lead}`)!;
    const res = await t.get(link(`a=${AFF.internal}&c=${CREATIVE.lead}&cp=js&reqid=${other}`), { headers: { cookie: `crumb_o${OFFER.lead}=${firstTouch}` } });
    expect(JSON.parse(scraped(await res.text()))).toBe(other);
    expect(res.headers.getSetCookie()).toEqual([]);
  });

  it("does not confirm a reqid of another offer's click: it records a new click", async () => {
    t = makeApp();
    const loan = setCookie(await t.get(link(`a=${AFF.partner}&c=${CREATIVE.lastTouch}`)), `crumb_o${OFFER.lastTouch}`)!;
    const body = await (await t.get(link(`a=${AFF.internal}&c=${CREATIVE.lead}&cp=js&reqid=${loan}`))).text();
    const given = JSON.parse(scraped(body));
    expect(given).not.toBe(loan);
    // Both clicks share a millisecond, and such reqids sort by their random part: order says nothing.
    const offers = (await clicks()).map((c) => c.offer_id);
    expect(offers).toHaveLength(2);
    expect(offers).toEqual(expect.arrayContaining([OFFER.lastTouch, OFFER.lead]));
  });

  it('cp=img records a click and answers a 1x1 GIF', async () => {
    t = makeApp();
    const res = await t.get(link(`a=${AFF.partner}&c=${CREATIVE.lead}&cp=img`));
    expect(res.headers.get('content-type')).toBe('image/gif');
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(GIF);
    expect((await clicks())[0]!.disposition).toBe('pixel');
  });

  it('still answers a script and a GIF for a refused click', async () => {
    t = makeApp();
    const js = await t.get(link(`a=${AFF.partner}&c=999&cp=js`));
    expect(js.status).toBe(200);
    expect(await js.text()).toMatch(/^var ckm_request_id = "";\n/);
    const img = await t.get(link(`a=${AFF.partner}&c=999&cp=img`));
    expect(new Uint8Array(await img.arrayBuffer())).toEqual(GIF);
  });
});

describe('bad input on tracking links', () => {
  const junk = [
    'a=1e3&c=1057',
    'a=-5&c=1057',
    'a=99999999999999999999&c=1057',
    'a=67890&a=1&c=1057&c=2001',
    'a=%zz&c=%E0%A4%A',
    'a=67890&c=1057&s1=%00%01%02',
    `a=67890&c=1057&s2=${'x'.repeat(20_000)}`,
    'a=&c=',
    'a&c',
    'a=67890&c=1057&cp=weird',
    '%%%&&&===',
  ];
  for (const query of junk) {
    it(`never answers 5xx: ?${query.slice(0, 40)}`, async () => {
      t = makeApp();
      const res = await t.get(link(query), { headers: { 'user-agent': 'u'.repeat(5000) } });
      expect(res.status).toBeLessThan(500);
      for (const click of await clicks()) {
        expect(click.reqid).toMatch(/^[\w-]{32}$/);
        expect(click.user_agent!.length).toBeLessThanOrEqual(512);
        expect((click.s1 ?? '').length).toBeLessThanOrEqual(50);
      }
    });
  }

  it('takes the first of repeated parameters', async () => {
    t = makeApp();
    await t.get(link(`a=${AFF.partner}&a=${AFF.internal}&c=${CREATIVE.lead}`));
    expect((await clicks())[0]!.affiliate_id).toBe(AFF.partner);
  });
});

describe('first touch keeps the whole first click (issue 12.8)', () => {
  it('fills every token of the landing URL from the first click, never a mix of two', async () => {
    t = makeApp();
    const first = await t.get(link(`a=${AFF.partner}&c=${CREATIVE.lead}&s1=first-sub&s2=first-two`));
    const reqid = setCookie(first, `crumb_o${OFFER.lead}`)!;
    const firstUrl = new URL(first.headers.get('location')!);
    t.clock.now += DAY;
    const second = await t.get(link(`a=${AFF.second}&c=${CREATIVE.lead}&s1=second-sub`), { headers: { cookie: `crumb_o${OFFER.lead}=${reqid}` } });
    const kept = new URL(second.headers.get('location')!);
    expect(Object.fromEntries(kept.searchParams)).toEqual(Object.fromEntries(firstUrl.searchParams));
    expect(kept.searchParams.get('aff')).toBe(String(AFF.partner));
    expect(kept.searchParams.get('camp')).toBe(String(CAMPAIGN.lead));
    expect(kept.searchParams.get('sub')).toBe('first-sub');
    // The repeat click itself is recorded as it came.
    expect((await clicks())[1]).toMatchObject({ affiliate_id: AFF.second, campaign_id: CAMPAIGN.second, s1: 'second-sub', disposition: `repeat ${reqid}` });
  });

  it.each([
    ['affiliate', (f: ReturnType<typeof testNetworkFile>) => (f.affiliates.find((a) => a.affiliate_id === AFF.partner)!.status = 'inactive')],
    ['campaign', (f: ReturnType<typeof testNetworkFile>) => (f.campaigns.find((c) => c.campaign_id === CAMPAIGN.lead)!.status = 'inactive')],
  ])('lets a new valid click replace a kept reqid whose %s is no longer active', async (_, pause) => {
    const before = makeApp();
    t = before;
    const reqid = setCookie(await t.get(link(`a=${AFF.partner}&c=${CREATIVE.lead}&s1=old`)), `crumb_o${OFFER.lead}`)!;
    const file = testNetworkFile();
    pause(file);
    t = makeApp({ file, store: before.store, dbPath: before.dbPath });
    const res = await t.get(link(`a=${AFF.second}&c=${CREATIVE.lead}&s1=new`), { headers: { cookie: `crumb_o${OFFER.lead}=${reqid}` } });
    const next = setCookie(res, `crumb_o${OFFER.lead}`)!;
    expect(next).toMatch(/^[\w-]{32}$/);
    expect(next).not.toBe(reqid);
    const url = new URL(res.headers.get('location')!);
    expect([url.searchParams.get('reqid'), url.searchParams.get('aff'), url.searchParams.get('sub')]).toEqual([next, String(AFF.second), 'new']);
    expect((await clicks()).find((c) => c.reqid === next)).toMatchObject({ affiliate_id: AFF.second, disposition: 'redirect' });
  });

  it('does not keep a reqid that names no stored click, or a click on another offer', async () => {
    t = makeApp();
    const other = setCookie(await t.get(link(`a=${AFF.partner}&c=${CREATIVE.cpl}`)), `crumb_o${OFFER.cpl}`)!;
    const res = await t.get(link(`a=${AFF.partner}&c=${CREATIVE.lead}`), { headers: { cookie: `crumb_o${OFFER.lead}=${other}` } });
    expect(setCookie(res, `crumb_o${OFFER.lead}`)).not.toBe(other);
    expect(new URL(res.headers.get('location')!).searchParams.get('reqid')).not.toBe(other);
  });
});

describe('HEAD records nothing (issue 12.7)', () => {
  const headersOf = (res: Response) => Object.fromEntries([...res.headers].filter(([k]) => k !== 'set-cookie' && k !== 'content-length'));

  it('on a tracking link: the status and headers of GET, the landing page without a reqid, no click, no cookie', async () => {
    t = makeApp();
    const head = await t.get(link(`a=${AFF.partner}&c=${CREATIVE.lead}&s1=preview`), { method: 'HEAD' });
    expect(head.status).toBe(302);
    expect(head.headers.getSetCookie()).toEqual([]);
    expect(await clicks()).toEqual([]);
    const location = new URL(head.headers.get('location')!);
    expect(Object.fromEntries(location.searchParams)).toEqual({
      reqid: '', aff: String(AFF.partner), o: String(OFFER.lead), camp: String(CAMPAIGN.lead), c: String(CREATIVE.lead), sub: 'preview', s2: '', v: '', x: '',
    });
    const get = await t.get(link(`a=${AFF.partner}&c=${CREATIVE.lead}&s1=preview`));
    expect(Object.keys(headersOf(head))).toEqual(Object.keys(headersOf(get)));
    expect({ ...headersOf(head), location: '' }).toEqual({ ...headersOf(get), location: '' });
    expect(await clicks()).toHaveLength(1);
  });

  it.each(['js', 'img'])('on a click pixel (cp=%s): the headers of GET, no click, no cookie', async (cp) => {
    t = makeApp();
    const head = await t.get(link(`a=${AFF.internal}&c=${CREATIVE.lead}&cp=${cp}`), { method: 'HEAD' });
    const get = await t.get(link(`a=${AFF.internal}&c=${CREATIVE.lead}&cp=${cp}`));
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect(head.headers.getSetCookie()).toEqual([]);
    expect(get.headers.getSetCookie()).toHaveLength(1);
    expect(headersOf(head)).toEqual(headersOf(get));
    expect(await clicks()).toHaveLength(1);
  });

  it('on a refused link: the global redirect, recording nothing', async () => {
    t = makeApp();
    const head = await t.get(link(`a=${AFF.inactive}&c=${CREATIVE.lead}`), { method: 'HEAD' });
    expect([head.status, head.headers.get('location')]).toEqual([302, 'https://network.example/inactive']);
    expect(await clicks()).toEqual([]);
  });
});

describe('client addresses are one form (issue 12.9)', () => {
  it('stores an IPv4 client reached over a dual-stack socket as its IPv4 address', async () => {
    t = makeApp();
    await t.get(link(`a=${AFF.partner}&c=${CREATIVE.lead}`), { ip: '::ffff:203.0.113.9' });
    await t.get(link(`a=${AFF.partner}&c=${CREATIVE.lead}`), { ip: '[::FFFF:cb00:7109]' });
    await t.get(link(`a=${AFF.partner}&c=${CREATIVE.lead}`), { ip: '2001:DB8::1' });
    // Clicks of one millisecond list in the order of their random part: compare without order.
    expect((await clicks()).map((c) => c.ip).sort()).toEqual(['2001:db8::1', '203.0.113.9', '203.0.113.9']);
  });
});
