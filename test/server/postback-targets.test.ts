// Delivering postbacks where the address rules allow (PROTOCOL.md 10), checked at delivery on the
// address actually connected to, and the dispatcher under contention (per-host limit, fencing).
// The sender is the Node entry's (nodeSend) with an injected resolver and connect hook: no test
// here asks a real DNS server or dials anything but 127.0.0.1 (test/support/internet.ts), and each
// checks what was dialled.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { offerCookie } from '../../server/http.js';
import type { NetworkFile } from '../../server/network.js';
import { targetsOf } from '../../server/postbacks/address.js';
import { createDispatcher, errorClass, type Dispatcher, type DispatcherOptions } from '../../server/postbacks/dispatcher.js';
import { nodeSend } from '../../server/postbacks/node-send.js';
import type { DeliveryRow } from '../../server/store/types.js';
import { makeApp, setCookie, type TestApp } from '../support/app.js';
import { fakeInternet, startSite, type Internet, type LocalSite } from '../support/internet.js';
import { AFF, API_KEY, conversionNetworkFile, CREATIVE, OFFER } from '../support/network.js';
import { eventually } from '../support/receiver.js';

/** Stand-ins for public addresses (never dialled: the fake internet routes them to 127.0.0.1). */
const PUBLIC = { aff: '93.184.215.14', second: '93.184.215.15', v6: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', slow: '93.184.215.16' } as const;

let t: TestApp | undefined;
let dispatchers: Dispatcher[] = [];
let sites: LocalSite[] = [];
afterEach(async () => {
  for (const d of dispatchers) await d.stop();
  await t?.close();
  for (const s of sites) await s.close();
  t = undefined;
  dispatchers = [];
  sites = [];
});

async function site() {
  const s = await startSite();
  sites.push(s);
  return s;
}

/** The test network with the address rules on (or as `change` says). */
function network(change: Partial<NetworkFile['network']> = {}): NetworkFile {
  const file = conversionNetworkFile();
  Object.assign(file.network, { postbacks_allow_private: false }, change);
  return file;
}

/** An app on `file` and a dispatcher delivering through nodeSend on `internet`. */
function start(internet: Internet, file = network(), options: Partial<DispatcherOptions> = {}) {
  let dispatcher: Dispatcher | undefined;
  t = makeApp({ file, onDeliveries: () => dispatcher?.wake(), resolveHost: internet.resolve });
  const app = t;
  const targets = () => targetsOf(app.network.current);
  dispatcher = createDispatcher({
    store: app.store,
    targets,
    fetch: nodeSend({ targets, resolve: internet.resolve, connect: internet.connect }),
    retryDelay: () => 60_000,
    timeoutMs: 2000,
    pollMs: 20,
    stopGraceMs: 100,
    ...options,
  });
  dispatchers.push(dispatcher);
  dispatcher.start();
  return app;
}

/** A server postback to `url`, written to the store directly: as if saved under other rules or
 * before its DNS changed (the API refuses most of these when they are saved). */
async function postbackTo(app: TestApp, url: string) {
  return app.store.createPostback({ affiliate_id: AFF.partner, offer_id: OFFER.lead, postback_url: url, postback_status: 'active', postback_type_id: 1, fire_on: 'conversion' });
}

let conversions = 0;
/** A click and a conversion.json for it; answers the conversion id. */
async function convert(app: TestApp) {
  const reqid = setCookie(await app.get(`/?a=${AFF.partner}&c=${CREATIVE.lead}`), offerCookie(OFFER.lead))!;
  const res = await app.get(`/api/2/conversion.json?api_key=${API_KEY}&click_id=${reqid}&offer_id=${OFFER.lead}&unique_id=T${++conversions}`);
  return ((await res.json()) as any).conversion.conversion_id as number;
}

/** The API's delivery log for a conversion, once every delivery of it has had an attempt. */
async function attempted(app: TestApp, conversion_id: number, count = 1) {
  return eventually(async () => {
    const res = await app.get(`/api/2/postback_deliveries.json?api_key=${API_KEY}&conversion_id=${conversion_id}`);
    const body = (await res.json()) as any;
    return body.deliveries.length >= count && body.deliveries.every((d: any) => d.attempts > 0 || d.status !== 'pending') && body.deliveries;
  }, 10_000, 'an attempt of every delivery');
}

describe('delivery checks the address it connects to', () => {
  it('delivers to a public name on the address it resolved, with the URL host as Host, and keeps no body', async () => {
    const aff = await site();
    const internet = fakeInternet({ 'aff.example': [PUBLIC.aff] });
    internet.route(PUBLIC.aff, 80, aff);
    const app = start(internet);
    await postbackTo(app, 'http://aff.example/pb?c=#reqid#');
    const [delivery] = await attempted(app, await convert(app));
    expect(delivery).toMatchObject({ status: 'delivered', last_error: null });
    expect(delivery.attempt_log).toEqual([expect.objectContaining({ status_code: 200, error: null })]);
    expect(internet.dials).toEqual([`${PUBLIC.aff}:80`]);
    expect(aff.requests.map((r) => [r.path, r.host])).toEqual([['/pb', 'aff.example']]);
    expect(JSON.stringify(delivery)).not.toContain('secret body');
  });

  it('refuses a name that resolves inside at delivery (DNS rebound after it was saved), dialling nothing', async () => {
    const internet = fakeInternet({ 'rebind.example': [PUBLIC.aff] });
    const app = start(internet);
    // Saved through the API while the name was public.
    const saved = await app.post('/api/2/affiliate_postback.json', JSON.stringify({ api_key: API_KEY, affiliate_id: AFF.partner, offer_id: OFFER.lead, postback_url: 'http://rebind.example/pb' }), 'application/json');
    expect(saved.status).toBe(200);
    internet.dns['rebind.example'] = ['127.0.0.1'];
    const [delivery] = await attempted(app, await convert(app));
    expect(delivery.attempt_log).toEqual([expect.objectContaining({ status_code: null, error: 'refused: private address' })]);
    expect(delivery.status).toBe('pending');
    expect(internet.dials).toEqual([]);
    // No address in the log, not even the one refused.
    expect(JSON.stringify(delivery)).not.toContain('127.0.0.1');
  });

  it('refuses a name with any non-public address among its answers, whichever one it would have dialled', async () => {
    const aff = await site();
    const internet = fakeInternet({ 'mixed.example': [PUBLIC.aff, '10.0.0.7'], 'v6-inside.example': ['::1'], 'mapped.example': ['::ffff:169.254.169.254'] });
    internet.route(PUBLIC.aff, 80, aff);
    const app = start(internet);
    for (const host of ['mixed.example', 'v6-inside.example', 'mapped.example']) await postbackTo(app, `http://${host}/pb`);
    const deliveries = await attempted(app, await convert(app), 3);
    expect(deliveries.map((d: any) => d.last_error)).toEqual(['refused: private address', 'refused: private address', 'refused: private address']);
    expect(internet.dials).toEqual([]);
    expect(aff.requests).toEqual([]);
  });

  it('follows a redirect to a public address, and refuses one inside (literal, name, IPv6, metadata), dialling only the public hop', async () => {
    const aff = await site();
    const next = await site();
    const internet = fakeInternet({ 'aff.example': [PUBLIC.aff], 'next.example': [PUBLIC.second], 'inside.example': ['127.0.0.1'] });
    internet.route(PUBLIC.aff, 80, aff);
    internet.route(PUBLIC.second, 80, next);
    const app = start(internet);
    const to = (url: string) => `http://aff.example/redirect?to=${encodeURIComponent(url)}`;
    const inside = [`${aff.base}/admin`, 'http://169.254.169.254/latest/meta-data/', 'http://inside.example/', 'http://[::1]/', 'http://0x7f.1/', 'ftp://next.example/'];
    await postbackTo(app, to('http://next.example/ok'));
    for (const url of inside) await postbackTo(app, to(url));
    const deliveries = await attempted(app, await convert(app), 1 + inside.length);

    expect(deliveries[0]).toMatchObject({ status: 'delivered', attempt_log: [expect.objectContaining({ status_code: 200, error: null })] });
    expect(next.requests.map((r) => [r.path, r.host])).toEqual([['/ok', 'next.example']]);
    for (const d of deliveries.slice(1)) {
      expect(d.attempt_log, d.url).toEqual([expect.objectContaining({ status_code: 302, error: 'redirect refused' })]);
    }
    // The public first hops and the one public redirect; nothing inside, not even the local site's
    // own address the first redirect named.
    expect(new Set(internet.dials)).toEqual(new Set([`${PUBLIC.aff}:80`, `${PUBLIC.second}:80`]));
    expect(aff.requests.map((r) => r.path)).toEqual(Array(1 + inside.length).fill('/redirect'));
    expect(internet.resolved.filter((h) => h === 'inside.example')).toEqual(['inside.example']);
  });

  it('follows at most 3 redirects', async () => {
    const aff = await site();
    const internet = fakeInternet({ 'aff.example': [PUBLIC.aff] });
    internet.route(PUBLIC.aff, 80, aff);
    const app = start(internet);
    const chain = (hops: number) => {
      let url = 'http://aff.example/ok';
      for (let i = 0; i < hops; i++) url = `http://aff.example/redirect?status=${i % 2 ? 301 : 307}&to=${encodeURIComponent(url)}`;
      return url;
    };
    await postbackTo(app, chain(3));
    await postbackTo(app, chain(4));
    const [three, four] = await attempted(app, await convert(app), 2);
    expect(three).toMatchObject({ status: 'delivered', attempt_log: [expect.objectContaining({ status_code: 200 })] });
    // The fourth redirect (the innermost, a 307) is the one not followed.
    expect(four.attempt_log).toEqual([expect.objectContaining({ status_code: 307, error: 'too many redirects' })]);
  });

  it('refuses a public address on a port other than 80 and 443, and takes it once postback_ports lists it', async () => {
    const aff = await site();
    const internet = fakeInternet({ 'aff.example': [PUBLIC.aff] });
    internet.route(PUBLIC.aff, 8080, aff);
    let app = start(internet);
    await postbackTo(app, 'http://aff.example:8080/pb');
    await postbackTo(app, `http://${PUBLIC.aff}:8080/pb`);
    const refused = await attempted(app, await convert(app), 2);
    expect(refused.map((d: any) => d.last_error)).toEqual(['refused: port', 'refused: port']);
    expect(internet.dials).toEqual([]);
    for (const d of dispatchers.splice(0)) await d.stop();
    await app.close();

    app = start(internet, network({ postback_ports: [80, 443, 8080] }));
    await postbackTo(app, 'http://aff.example:8080/pb');
    const [ok] = await attempted(app, await convert(app));
    expect(ok.status).toBe('delivered');
    expect(internet.dials).toEqual([`${PUBLIC.aff}:8080`]);
  });

  it('with postbacks_allow_private, delivers to private and loopback addresses on any port', async () => {
    const lan = await site();
    const internet = fakeInternet({ 'lan.example': ['10.0.0.8'] });
    internet.route('10.0.0.8', 8080, lan);
    internet.route('127.0.0.1', lan.port, lan);
    const app = start(internet, network({ postbacks_allow_private: true }));
    await postbackTo(app, 'http://lan.example:8080/pb');
    await postbackTo(app, `http://127.0.0.1:${lan.port}/pb`);
    const deliveries = await attempted(app, await convert(app), 2);
    expect(deliveries.map((d: any) => d.status)).toEqual(['delivered', 'delivered']);
    expect(internet.dials.sort()).toEqual(['10.0.0.8:8080', `127.0.0.1:${lan.port}`].sort());
  });

  it('tries the next address of a name when one refuses the connection', async () => {
    const aff = await site();
    const internet = fakeInternet({ 'aff.example': [PUBLIC.v6, PUBLIC.aff] });
    internet.route(PUBLIC.aff, 80, aff);
    const app = start(internet);
    await postbackTo(app, 'http://aff.example/pb');
    const [delivery] = await attempted(app, await convert(app));
    expect(delivery.status).toBe('delivered');
    expect(internet.dials).toEqual([`[${PUBLIC.v6}]:80`, `${PUBLIC.aff}:80`]);
  });

  it('verifies TLS: a certificate nobody vouches for is refused as tls (a real handshake, on 127.0.0.1)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crumb-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const requests: string[] = [];
    const server = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => {
      requests.push(req.url ?? '');
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      // The Node entry's own connect (no hook): it may only reach 127.0.0.1 here.
      let dispatcher: Dispatcher | undefined;
      t = makeApp({ file: network({ postbacks_allow_private: true }), onDeliveries: () => dispatcher?.wake() });
      const app = t;
      const targets = () => targetsOf(app.network.current);
      dispatcher = createDispatcher({ store: app.store, targets, fetch: nodeSend({ targets }), retryDelay: () => 60_000, pollMs: 20 });
      dispatchers.push(dispatcher);
      dispatcher.start();
      await postbackTo(app, `https://127.0.0.1:${port}/pb`);
      const [delivery] = await attempted(app, await convert(app));
      expect(delivery.attempt_log).toEqual([expect.objectContaining({ status_code: null, error: 'tls' })]);
      expect(requests).toEqual([]);
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('logs a short error class, never the body, the host or an address', async () => {
    const aff = await site();
    const internet = fakeInternet({ 'aff.example': [PUBLIC.aff], 'closed.example': [PUBLIC.second] });
    internet.route(PUBLIC.aff, 80, aff);
    const app = start(internet);
    await postbackTo(app, 'http://aff.example/status/500');
    await postbackTo(app, 'http://closed.example/pb');
    await postbackTo(app, 'http://nowhere.example/pb');
    await postbackTo(app, 'http://aff.example/hang');
    const deliveries = await attempted(app, await convert(app), 4);
    expect(deliveries.map((d: any) => [d.attempt_log[0].status_code, d.attempt_log[0].error, d.last_error])).toEqual([
      [500, null, 'HTTP 500'],
      [null, 'connection refused', 'connection refused'],
      [null, 'dns', 'dns'],
      [null, 'timeout', 'timeout'],
    ]);
    const log = JSON.stringify(deliveries.map((d: any) => d.attempt_log));
    for (const secret of ['secret body', PUBLIC.aff, PUBLIC.second, 'example', 'ENOTFOUND', 'ECONNREFUSED']) expect(log).not.toContain(secret);
  });
});

describe('the dispatcher under contention', () => {
  it('keeps a hanging host to its share of the slots while other hosts are delivered', async () => {
    const slow = await site();
    const fast = await site();
    const internet = fakeInternet({ 'slow.example': [PUBLIC.slow], 'fast.example': [PUBLIC.aff] });
    internet.route(PUBLIC.slow, 80, slow);
    internet.route(PUBLIC.aff, 80, fast);
    const app = start(internet, network(), { concurrency: 4, perHost: 2, timeoutMs: 30_000 });
    // Ten postbacks to the hanging host first, then three to a healthy one.
    for (let i = 0; i < 10; i++) await postbackTo(app, `http://slow.example/hang?i=${i}`);
    for (let i = 0; i < 3; i++) await postbackTo(app, `http://fast.example/ok?i=${i}`);
    const conversion_id = await convert(app);
    await eventually(() => fast.requests.length === 3, 10_000, 'the healthy host served');
    const log = await eventually(async () => {
      const res = await app.get(`/api/2/postback_deliveries.json?api_key=${API_KEY}&conversion_id=${conversion_id}&status=delivered`);
      const body = (await res.json()) as any;
      return body.total_rows === 3 && body.deliveries;
    });
    expect(log.map((d: any) => new URL(d.url).host)).toEqual(['fast.example', 'fast.example', 'fast.example']);
    // The hanging host holds two slots, never more, however many of its deliveries are due.
    expect(slow.open()).toBe(2);
    expect(slow.requests).toHaveLength(2);
  });

  it('logs an attempt that outlived its lease as not applied, and leaves the delivery to its new holder', async () => {
    const internet = fakeInternet();
    t = makeApp({ file: network() });
    const app = t;
    await postbackTo(app, 'http://aff.example/pb');
    await convert(app);
    // A stalled attempt: its client ignores the timeout and answers 200 long after the lease ran out.
    let release!: () => void;
    const stalled = new Promise<void>((resolve) => (release = resolve));
    const lost: DeliveryRow[] = [];
    const first = createDispatcher({
      store: app.store,
      targets: () => targetsOf(app.network.current),
      fetch: async () => {
        await stalled;
        return new Response(null, { status: 200 });
      },
      timeoutMs: 100,
      leaseMs: 200,
      pollMs: 60_000,
      stopGraceMs: 5_000,
      onLeaseLost: (d) => lost.push(d),
    });
    dispatchers.push(first);
    first.start();
    const [leased] = await eventually(async () => {
      const rows = (await app.store.listDeliveries({ offset: 0, limit: 10 })).rows;
      return rows[0]!.lease === 1 && rows;
    });
    // Another instance claims it once the lease has run out, and gets a 500.
    const second = createDispatcher({
      store: app.store,
      targets: () => targetsOf(app.network.current),
      fetch: async () => new Response(null, { status: 500 }),
      retryDelay: () => 60_000,
      pollMs: 20,
    });
    dispatchers.push(second);
    second.start();
    await eventually(async () => (await app.store.listDeliveries({ offset: 0, limit: 10 })).rows[0]!.attempts === 1, 10_000, 'the second attempt');
    release();
    await eventually(() => lost.length === 1, 10_000, 'the stalled attempt to finish');
    expect(lost[0]!.delivery_id).toBe(leased!.delivery_id);
    const [row] = (await app.store.listDeliveries({ offset: 0, limit: 10 })).rows;
    expect(row).toMatchObject({ status: 'pending', attempts: 1, last_error: 'HTTP 500' });
    expect(row!.attempt_log.map((a) => [a.status_code, a.error])).toEqual([
      [500, null],
      [200, 'HTTP 200 (lease lost: outcome not applied)'],
    ]);
    expect(internet.dials).toEqual([]);
  });
});

describe('errorClass', () => {
  it.each([
    [{ code: 'ECONNREFUSED' }, 'connection refused'],
    [{ code: 'ECONNRESET' }, 'connection reset'],
    [{ code: 'ETIMEDOUT' }, 'timeout'],
    [{ code: 'ENOTFOUND' }, 'dns'],
    [{ code: 'EAI_AGAIN' }, 'dns'],
    [{ code: 'EHOSTUNREACH' }, 'unreachable'],
    [{ code: 'CERT_HAS_EXPIRED' }, 'tls'],
    [{ code: 'ERR_TLS_CERT_ALTNAME_INVALID' }, 'tls'],
    [{ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }, 'tls'],
    [{ code: 'HPE_INVALID_CONSTANT' }, 'bad response'],
    // The runtime's fetch (undici) puts the code on its cause.
    [Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }), 'connection refused'],
    [Object.assign(new TypeError('fetch failed'), { cause: { code: 'UND_ERR_CONNECT_TIMEOUT' } }), 'timeout'],
    [new Error('getaddrinfo ENOTFOUND internal.corp 10.0.0.1'), 'network error'],
  ])('%j is %s', (error, name) => expect(errorClass(error)).toBe(name));
});
