// "Send test" for a postback: POST /api/2/affiliate_postback_test.json. The postback's URL with
// sample macros, sent once through the Node entry's sender (nodeSend) and the dispatcher's rules,
// the outcome answered; nothing stored. Receivers are local sites on 127.0.0.1; where a test needs a
// public or private name, the resolver and connect hook are injected (test/support/internet.ts) and
// the test checks what was dialled.
import { afterEach, describe, expect, it } from 'vitest';
import type { NetworkFile } from '../../server/network.js';
import { targetsOf } from '../../server/postbacks/address.js';
import { createDispatcher, type Dispatcher, type DispatcherOptions } from '../../server/postbacks/dispatcher.js';
import { nodeSend, type NodeSendOptions } from '../../server/postbacks/node-send.js';
import type { NewPostback } from '../../server/store/types.js';
import { makeApp, type TestApp } from '../support/app.js';
import { fakeInternet, startSite, type LocalSite } from '../support/internet.js';
import { call, createKey } from '../support/keys.js';
import { ADVERTISER, AFF, API_KEY, conversionNetworkFile, OFFER } from '../support/network.js';
import { eventually } from '../support/receiver.js';

const PUBLIC = '93.184.215.14';
const TEST = 'affiliate_postback_test.json';

let t: TestApp | undefined;
let sites: LocalSite[] = [];
afterEach(async () => {
  await t?.close();
  for (const s of sites) await s.close();
  t = undefined;
  sites = [];
});

async function site() {
  const s = await startSite();
  sites.push(s);
  return s;
}

/** An app whose "send test" is the Node entry's: a dispatcher's test() through nodeSend, with the
 * resolver and connect hook given (the real ones by default: only 127.0.0.1 is dialled then). */
function start(file: NetworkFile, send: Omit<NodeSendOptions, 'targets'> = {}, options: Partial<DispatcherOptions> = {}) {
  let dispatcher: Dispatcher | undefined;
  const app = makeApp({ file, testPostback: (url) => dispatcher!.test(url), resolveHost: send.resolve });
  const targets = () => targetsOf(app.network.current);
  dispatcher = createDispatcher({ store: app.store, targets, fetch: nodeSend({ targets, ...send }), timeoutMs: 2000, ...options });
  t = app;
  return app;
}

/** The test network, private targets allowed unless `allowPrivate` is false. */
function network(allowPrivate = true): NetworkFile {
  const file = conversionNetworkFile();
  file.network.postbacks_allow_private = allowPrivate;
  return file;
}

/** A postback written to the store directly (as if saved before the rules or its DNS changed). */
function postback(app: TestApp, change: Partial<NewPostback> = {}) {
  return app.store.createPostback({
    affiliate_id: AFF.partner,
    offer_id: OFFER.lead,
    postback_url: 'http://127.0.0.1:1/pb',
    postback_status: 'active',
    postback_type_id: 1,
    fire_on: 'conversion',
    ...change,
  });
}

describe('POST affiliate_postback_test.json', () => {
  it('sends the postback once to a local receiver with every macro filled by a sample, and answers status and latency', async () => {
    const receiver = await site();
    const app = start(network());
    await app.network.ready;
    const url = `${receiver.base}/pb?click=#reqid#&c={click_id}&aff=#affid#&oid=#oid#&price=#price#&status=#status#&s1=#s1#&ip=#ip#&src=#sourceip#&tid=#tid#&lead=#leadid#&t=#utcunixtime#&unknown=#nope#`;
    const { postback_id } = await postback(app, { postback_url: url });
    const { status, body } = await call(app, 'POST', TEST, API_KEY, { postback_id });
    expect(status).toBe(200);
    expect(body).toEqual({
      request_status: 'Success',
      postback_test: { postback_id, url: expect.any(String), delivered: true, status_code: 200, latency_ms: expect.any(Number), error: null },
    });
    expect(receiver.requests).toHaveLength(1);
    const sent = new URL(receiver.requests[0]!.url, receiver.base).searchParams;
    expect(sent.get('click')).toMatch(/^TEST[A-Za-z0-9]{28}$/);
    expect(sent.get('c')).toBe(sent.get('click'));
    expect(Object.fromEntries([...sent].filter(([k]) => !['click', 'c', 't'].includes(k)))).toEqual({
      aff: String(AFF.partner),
      oid: String(OFFER.lead),
      price: '0.00',
      status: 'approved',
      s1: 'test',
      ip: '192.0.2.1',
      src: '192.0.2.2',
      tid: 'TEST',
      lead: '0',
      unknown: '',
    });
    expect(Number(sent.get('t'))).toBeGreaterThan(1_700_000_000);
    expect(body.postback_test.url).toBe(`${receiver.base}${receiver.requests[0]!.url}`);
  });

  it('stores nothing: no conversion, no delivery, no attempt', async () => {
    const receiver = await site();
    const app = start(network());
    await app.network.ready;
    const { postback_id } = await postback(app, { postback_url: `${receiver.base}/pb?c=#reqid#` });
    expect((await call(app, 'POST', TEST, API_KEY, { postback_id })).body.postback_test.delivered).toBe(true);
    const deliveries = await call(app, 'GET', 'postback_deliveries.json', API_KEY, { postback_id });
    expect(deliveries.body.total_rows).toBe(0);
    const conversions = await call(app, 'GET', 'conversions.json', API_KEY, { start_date: '2026-11-01', end_date: '2026-11-30', include_tests: 'true' });
    expect(conversions.body.total_rows).toBe(0);
  });

  it('answers a failing receiver with its status, never its body', async () => {
    const receiver = await site();
    const app = start(network());
    await app.network.ready;
    const { postback_id } = await postback(app, { postback_url: `${receiver.base}/status/503` });
    const { status, body } = await call(app, 'POST', TEST, API_KEY, { postback_id });
    expect(status).toBe(200);
    expect(body.postback_test).toMatchObject({ delivered: false, status_code: 503, error: null });
    expect(JSON.stringify(body)).not.toContain('secret body');
  });

  it('answers a closed port as a short error class', async () => {
    const app = start(network());
    await app.network.ready;
    const receiver = await site();
    const closed = receiver.port;
    await receiver.close();
    sites = [];
    const { postback_id } = await postback(app, { postback_url: `http://127.0.0.1:${closed}/pb` });
    const { body } = await call(app, 'POST', TEST, API_KEY, { postback_id });
    expect(body.postback_test).toMatchObject({ delivered: false, status_code: null, error: 'connection refused' });
  });

  it('refuses a private target when the network does not allow them, dialling nothing', async () => {
    const internet = fakeInternet({ 'inside.example': ['10.0.0.5'] });
    const app = start(network(false), { resolve: internet.resolve, connect: internet.connect });
    await app.network.ready;
    for (const url of ['http://inside.example/pb?c=#reqid#', 'http://127.0.0.1:8080/pb']) {
      const { postback_id } = await postback(app, { postback_url: url });
      const { status, body } = await call(app, 'POST', TEST, API_KEY, { postback_id });
      expect(status).toBe(200);
      expect(body.postback_test).toMatchObject({ delivered: false, status_code: null, error: 'refused: private address' });
      expect(JSON.stringify(body.postback_test)).not.toContain('10.0.0.5');
    }
    expect(internet.dials).toEqual([]);
  });

  it('reaches a public name on its checked address, and refuses a redirect inside as a delivery would', async () => {
    const receiver = await site();
    const internet = fakeInternet({ 'aff.example': [PUBLIC] });
    internet.route(PUBLIC, 80, receiver);
    const app = start(network(false), { resolve: internet.resolve, connect: internet.connect });
    await app.network.ready;
    const ok = await postback(app, { postback_url: 'http://aff.example/pb?c=#reqid#' });
    expect((await call(app, 'POST', TEST, API_KEY, { postback_id: ok.postback_id })).body.postback_test).toMatchObject({ delivered: true, status_code: 200 });
    const hop = await postback(app, { postback_url: `http://aff.example/redirect?to=${encodeURIComponent('http://127.0.0.1:9/x')}` });
    expect((await call(app, 'POST', TEST, API_KEY, { postback_id: hop.postback_id })).body.postback_test).toMatchObject({ delivered: false, status_code: 302, error: 'redirect refused' });
    expect(internet.dials).toEqual([`${PUBLIC}:80`, `${PUBLIC}:80`]);
    expect(receiver.requests.map((r) => r.path)).toEqual(['/pb', '/redirect']);
  });

  it('tests an affiliate key\'s own postback, and refuses another affiliate\'s with 403 naming the scope', async () => {
    const receiver = await site();
    const app = start(network());
    await app.network.ready;
    const own = await postback(app, { postback_url: `${receiver.base}/own` });
    const other = await postback(app, { affiliate_id: AFF.second, postback_url: `${receiver.base}/other` });
    const key = await createKey(app, 'affiliate', AFF.partner);
    expect((await call(app, 'POST', TEST, key, { postback_id: own.postback_id })).body.postback_test.delivered).toBe(true);
    const refused = await call(app, 'POST', TEST, key, { postback_id: other.postback_id });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({
      request_status: 'Failure',
      message: `postback_id ${other.postback_id} is another affiliate's postback: this key is scoped to affiliate ${AFF.partner}`,
    });
    expect(receiver.requests.map((r) => r.path)).toEqual(['/own']);
  });

  it('refuses an advertiser key with 403 naming the roles that may', async () => {
    const app = start(network());
    await app.network.ready;
    const { postback_id } = await postback(app);
    const key = await createKey(app, 'advertiser', ADVERTISER.acme);
    const { status, body } = await call(app, 'POST', TEST, key, { postback_id });
    expect(status).toBe(403);
    expect(body.message).toBe(`POST /api/2/${TEST} needs an admin or affiliate key: this key is scoped to advertiser ${ADVERTISER.acme}`);
  });

  it('answers 404 for an unknown postback and 400 for a missing or bad postback_id', async () => {
    const app = start(network());
    await app.network.ready;
    const unknown = await call(app, 'POST', TEST, API_KEY, { postback_id: 999 });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ request_status: 'Failure', message: 'postback_id 999: no such postback' });
    const missing = await call(app, 'POST', TEST, API_KEY, {});
    expect(missing.status).toBe(400);
    expect(missing.body.errors).toEqual([{ parameter: 'postback_id', message: expect.stringContaining('required') }]);
  });

  it('sends at most maxTests at once: one more is a 429 until one has answered', async () => {
    const receiver = await site();
    const app = start(network(), {}, { maxTests: 2, timeoutMs: 500 });
    await app.network.ready;
    const { postback_id } = await postback(app, { postback_url: `${receiver.base}/hang` });
    const hanging = [call(app, 'POST', TEST, API_KEY, { postback_id }), call(app, 'POST', TEST, API_KEY, { postback_id })];
    await eventually(() => receiver.open() === 2, 5000, 'two tests at the receiver');
    const refused = await call(app, 'POST', TEST, API_KEY, { postback_id });
    expect(refused.status).toBe(429);
    expect(refused.body.message).toContain('2 postback tests are being sent already');
    expect((await Promise.all(hanging)).map((a) => a.body.postback_test.error)).toEqual(['timeout', 'timeout']);
    // Answered: room again.
    const { postback_id: ok } = await postback(app, { postback_url: `${receiver.base}/pb` });
    expect((await call(app, 'POST', TEST, API_KEY, { postback_id: ok })).body.postback_test.delivered).toBe(true);
  });

  it('refuses a browser postback: the visitor\'s browser fires those', async () => {
    const app = start(network());
    await app.network.ready;
    const { postback_id } = await postback(app, { postback_type_id: 3, postback_url: 'http://127.0.0.1:1/pixel.gif' });
    const { status, body } = await call(app, 'POST', TEST, API_KEY, { postback_id });
    expect(status).toBe(400);
    expect(body.errors).toEqual([{ parameter: 'postback_id', message: expect.stringContaining('only a server postback (postback_type_id 1) can be sent as a test') }]);
  });
});
