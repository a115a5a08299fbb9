// A bounded write queue (issue 14, point 7): past its bound the store refuses a write at once
// (StoreOverloaded), and every door answers 503 with Retry-After, storing nothing; pixels still
// answer their own kind. First on a real SQLite store with a tiny bound under a burst, then door by
// door with a store that refuses every write.
import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { GIF, offerCookie } from '../../server/http.js';
import { StoreOverloaded } from '../../server/store/errors.js';
import { openSqliteStore } from '../../server/store/sqlite.js';
import type { Store } from '../../server/store/types.js';
import { makeApp, setCookie, tempDbPath, type TestApp } from '../support/app.js';
import { AFF, API_KEY, conversionNetworkFile, CREATIVE, OFFER, SECRET } from '../support/network.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** The store, refusing every write while `full` is set, as a full queue does. */
function refusing(store: Store) {
  const state = { full: false };
  const writes = ['recordClick', 'insertLead', 'insertConversion', 'setConversionStatus', 'createPostback', 'updatePostback', 'deletePostback', 'resendDelivery'] as const;
  const wrapped = { ...store, kind: store.kind } as Store;
  for (const name of writes) {
    const real = (store[name] as (...args: unknown[]) => Promise<unknown>).bind(store);
    (wrapped as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => (state.full ? Promise.reject(new StoreOverloaded('the test queue', 0)) : real(...args));
  }
  return { store: wrapped, state };
}

describe('a store past its write bound', () => {
  it('answers the clicks it could not queue with 503 and Retry-After, and keeps exactly the others', async () => {
    // The Node entry's synchronous MAC: the forty clicks below reach the queue within one turn of
    // the event loop, before its first commit, whatever the machine's speed.
    const mac = (data: Uint8Array) => new Uint8Array(createHmac('sha256', SECRET).update(data).digest());
    t = makeApp({ file: conversionNetworkFile(), store: openSqliteStore({ path: tempDbPath(), maxQueued: 5 }), mac });
    const app = t;
    // Forty tracking links at once: more than the queue holds before its first commit.
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => app.get(`/?a=${AFF.partner}&c=${CREATIVE.lead}&s1=burst-${i}`)));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s !== 302 && s !== 503)).toEqual([]);
    const refused = answers.filter((r) => r.status === 503);
    expect(statuses.filter((s) => s === 302)).toHaveLength(5);
    expect(refused).toHaveLength(35);
    for (const r of refused) {
      expect(r.headers.get('retry-after')).toBe('1');
      expect(await r.text()).toMatch(/^The server is busy: the SQLite write queue already holds 5 writes/);
      expect(r.headers.get('set-cookie')).toBeNull();
    }
    const stored = await app.store.listClicks({ offset: 0, limit: 100 });
    expect(stored.total).toBe(statuses.filter((s) => s === 302).length);
    // The queue drained: the next click is taken.
    expect((await app.get(`/?a=${AFF.partner}&c=${CREATIVE.lead}&s1=after`)).status).toBe(302);
  });

  describe('every door, while the store refuses writes', () => {
    async function setup() {
      const { store, state } = refusing(openSqliteStore({ path: tempDbPath() }));
      t = makeApp({ file: conversionNetworkFile(), store });
      const reqid = setCookie(await t.get(`/?a=${AFF.partner}&c=${CREATIVE.lead}`), offerCookie(OFFER.lead))!;
      state.full = true;
      return { app: t, state, reqid };
    }

    it('a tracking link: 503 with Retry-After, no cookie', async () => {
      const { app } = await setup();
      const res = await app.get(`/?a=${AFF.partner}&c=${CREATIVE.lead}`);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.headers.get('location')).toBeNull();
      expect(res.headers.get('set-cookie')).toBeNull();
    });

    it('click pixels: their own kind (a GIF, a script), 503 with Retry-After', async () => {
      const { app } = await setup();
      const img = await app.get(`/?a=${AFF.internal}&c=${CREATIVE.lead}&cp=img`);
      expect([img.status, img.headers.get('content-type'), img.headers.get('retry-after')]).toEqual([503, 'image/gif', '1']);
      expect(new Uint8Array(await img.arrayBuffer())).toEqual(GIF);
      const js = await app.get(`/?a=${AFF.internal}&c=${CREATIVE.lead}&cp=js`);
      expect([js.status, js.headers.get('content-type'), js.headers.get('retry-after')]).toEqual([503, 'application/javascript; charset=utf-8', '1']);
      expect(await js.text()).toMatch(/^var ckm_request_id = "";\n/);
      expect(js.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    });

    it('the conversion pixel: every format its own kind, 503 with Retry-After, saying why', async () => {
      const { app, reqid } = await setup();
      for (const [f, type] of [
        ['img', 'image/gif'],
        ['js', 'application/javascript; charset=utf-8'],
        ['', 'text/html; charset=utf-8'],
        ['pb', 'text/xml; charset=utf-8'],
      ]) {
        const res = await app.get(`/p.ashx?o=${OFFER.lead}&r=${reqid}&t=BUSY-${f}${f ? `&f=${f}` : ''}`);
        expect([res.status, res.headers.get('content-type'), res.headers.get('retry-after')], f).toEqual([503, type, '1']);
        expect(res.headers.get('x-crumb-result')).toMatch(/^not recorded: The server is busy/);
        if (f === 'pb') expect(await res.text()).toMatch(/<result><code>1<\/code><msg>The server is busy: .*retry in a second<\/msg><\/result>$/);
      }
      expect((await app.store.listConversions({ include_tests: true, sort: 'conversion_id', descending: false, offset: 0, limit: 10 })).total).toBe(0);
    });

    it('the API and lead posts: 503 with Retry-After, the API in its Failure envelope', async () => {
      const { app, reqid } = await setup();
      const conversion = await app.get(`/api/2/conversion.json?api_key=${API_KEY}&click_id=${reqid}&offer_id=${OFFER.lead}`);
      expect(conversion.status).toBe(503);
      expect(conversion.headers.get('retry-after')).toBe('1');
      expect(await conversion.json()).toEqual({ request_status: 'Failure', message: expect.stringMatching(/^The server is busy: .*retry in a second$/) });
      const postback = await app.post('/api/2/affiliate_postback.json', JSON.stringify({ api_key: API_KEY, affiliate_id: AFF.partner, offer_id: 0, postback_url: 'https://aff.example/pb' }), 'application/json');
      expect(postback.status).toBe(503);
      const lead = await app.post(
        '/d.ashx',
        new URLSearchParams({ ckm_offer_id: String(OFFER.lead), ckm_request_id: reqid, first_name: 'Ada', last_name: 'L', email: 'ada@example.com', zip: '02134' }).toString(),
        'application/x-www-form-urlencoded',
      );
      expect([lead.status, lead.headers.get('retry-after')]).toEqual([503, '1']);
      expect((await app.store.listLeads({ include_tests: true, offset: 0, limit: 10 })).total).toBe(0);
    });
  });
});
