// Server-to-server postbacks delivered from the outbox by the dispatcher to a real HTTP receiver
// on 127.0.0.1 (PROTOCOL.md 6): macros, retries, the attempt log, restarts, and what never fires.
import { afterEach, describe, expect, it } from 'vitest';
import { offerCookie } from '../../server/http.js';
import { formatDate } from '../../server/params.js';
import { targetsOf } from '../../server/postbacks/address.js';
import { createDispatcher, type Dispatcher, type DispatcherOptions } from '../../server/postbacks/dispatcher.js';
import { nodeSend } from '../../server/postbacks/node-send.js';
import { makeApp, setCookie, tempDbPath, type TestApp } from '../support/app.js';
import { AFF, API_KEY, CAMPAIGN, conversionNetworkFile, CREATIVE, OFFER, REPEAT } from '../support/network.js';
import { eventually, startReceiver, type Receiver } from '../support/receiver.js';

let receiver: Receiver;
let apps: TestApp[] = [];
let dispatchers: Dispatcher[] = [];

afterEach(async () => {
  for (const d of dispatchers) await d.stop();
  for (const a of apps) await a.close();
  await receiver?.close();
  apps = [];
  dispatchers = [];
});

/** Quick retries so that tests wait milliseconds, not minutes. */
const FAST: Omit<DispatcherOptions, 'store'> = { retryDelay: () => 50, timeoutMs: 2000, pollMs: 20, maxAttempts: 4, stopGraceMs: 200 };

/** An app and a dispatcher woken by it, on a fresh (or the given) SQLite file. */
function start(options: { dbPath?: string; dispatcher?: Partial<DispatcherOptions> | false } = {}): TestApp {
  let dispatcher: Dispatcher | undefined;
  const t = makeApp({ file: conversionNetworkFile(), dbPath: options.dbPath, onDeliveries: () => dispatcher?.wake() });
  apps.push(t);
  if (options.dispatcher !== false) {
    // As the Node entry delivers: the network's address rules (private targets allowed in the
    // test network), checked where nodeSend connects.
    const targets = () => targetsOf(t.network.current);
    dispatcher = createDispatcher({ store: t.store, targets, fetch: nodeSend({ targets }), ...FAST, ...options.dispatcher });
    dispatchers.push(dispatcher);
    dispatcher.start();
  }
  return t;
}

function query(params: Record<string, string | number | undefined>) {
  const defined = Object.entries(params).filter(([, v]) => v !== undefined) as [string, string | number][];
  return new URLSearchParams({ api_key: API_KEY, ...Object.fromEntries(defined.map(([k, v]) => [k, String(v)])) });
}

async function addPostback(t: TestApp, fields: Record<string, string | number>) {
  const res = await t.post('/api/2/affiliate_postback.json', JSON.stringify({ api_key: API_KEY, ...fields }), 'application/json');
  const body = (await res.json()) as any;
  expect(body.request_status).toBe('Success');
  return body.postback.postback_id as number;
}

async function click(t: TestApp, affiliate: number, creative: number, offer: number, extra = '', ip?: string) {
  const res = await t.get(`/?a=${affiliate}&c=${creative}${extra}`, { ip });
  const reqid = setCookie(res, offerCookie(offer));
  if (!reqid) throw new Error(`the click on creative ${creative} was not attributed`);
  return reqid;
}

async function convert(t: TestApp, params: Record<string, string | number | undefined>) {
  const res = await t.get(`/api/2/conversion.json?${query(params)}`);
  const body = (await res.json()) as any;
  expect(body.request_status).toBe('Success');
  return body as { duplicate: boolean; conversion: { conversion_id: number; conversion_status: string } };
}

async function deliveries(t: TestApp, params: Record<string, string | number | undefined>) {
  const res = await t.get(`/api/2/postback_deliveries.json?${query(params)}`);
  expect(res.status).toBe(200);
  return (await res.json()) as { total_rows: number; deliveries: any[] };
}

async function setStatus(t: TestApp, conversion_id: number, status: string) {
  const res = await t.app.request(`http://track.example.com/api/2/conversion.json?${query({ conversion_id, conversion_status: status })}`, {
    method: 'PUT',
  });
  expect(res.status).toBe(200);
}

/** Waits until every delivery matching `params` is delivered (and there is at least `count`). */
function delivered(t: TestApp, params: Record<string, string | number | undefined>, count = 1) {
  return eventually(async () => {
    const d = await deliveries(t, params);
    return d.total_rows >= count && d.deliveries.every((x) => x.status === 'delivered') && d;
  }, 10_000, `${count} delivered postbacks`);
}

describe('postback macros', () => {
  const MACROS = [
    'reqid', 'reqsessid', 'click_id', 'leadid', 'affid', 'oid', 'campid', 'cid', 'tid', 's1', 's2', 's3', 's4', 's5',
    'price', 'payout', 'status', 'ip', 'sourceip', 'source_ip', 'utcunixtime', 'sourcetime',
  ];

  it('fills every macro of the contract, in #x# and {x} forms, URL-encoded, and empties unknown ones', async () => {
    receiver = await startReceiver();
    const t = start();
    const hash = MACROS.map((m) => `${m}=#${m}#`).join('&');
    const brace = MACROS.map((m) => `${m}={${m}}`).join('&');
    await addPostback(t, { affiliate_id: AFF.partner, offer_id: OFFER.lead, postback_url: `${receiver.base}/hash?${hash}&unknown=#nope#` });
    await addPostback(t, { affiliate_id: AFF.partner, offer_id: OFFER.lead, postback_url: `${receiver.base}/brace?${brace}&unknown={nope}` });

    const clickTime = t.clock.now;
    const subs = '&s1=a b&s2=x%26y%3Dz&s3=%C3%A9t%C3%A9&s4=4&s5=%2F5%3F';
    const reqid = await click(t, AFF.partner, CREATIVE.lead, OFFER.lead, subs, '192.0.2.10');
    t.clock.now += 90_000;
    const res = await t.get(`/p.ashx?o=${OFFER.lead}&r=${reqid}&t=${encodeURIComponent('T 1&2=3')}&f=pb`, { ip: '192.0.2.20' });
    expect(res.status).toBe(200);
    const [conversion] = (await t.store.listConversions({ include_tests: false, sort: 'conversion_id', descending: false, offset: 0, limit: 1 })).rows;

    const [first, second] = await receiver.waitFor(2);
    const expected = {
      reqid,
      reqsessid: reqid,
      click_id: reqid,
      leadid: String(conversion!.conversion_id),
      affid: String(AFF.partner),
      oid: String(OFFER.lead),
      campid: String(CAMPAIGN.lead),
      cid: String(CREATIVE.lead),
      tid: 'T 1&2=3',
      s1: 'a b',
      s2: 'x&y=z',
      s3: 'été',
      s4: '4',
      s5: '/5?',
      price: '18.00',
      payout: '18.00',
      status: 'approved',
      ip: '192.0.2.20',
      sourceip: '192.0.2.10',
      source_ip: '192.0.2.10',
      utcunixtime: String(Math.floor(t.clock.now / 1000)),
      sourcetime: formatDate(clickTime),
      unknown: '',
    };
    const byPath = Object.fromEntries([first!, second!].map((r) => [r.path, r]));
    expect(byPath['/hash']!.query).toEqual(expected);
    expect(byPath['/brace']!.query).toEqual(expected);
    // Encoded on the wire, not only decodable.
    expect(byPath['/hash']!.url).toContain('tid=T%201%262%3D3&s1=a%20b&s2=x%26y%3Dz&s3=%C3%A9t%C3%A9');
    expect(byPath['/hash']!.url).toContain(`sourcetime=${encodeURIComponent(formatDate(clickTime))}`);
    expect(byPath['/hash']!.method).toBe('GET');
  });
});

describe('postback delivery', () => {
  it('retries a receiver that answers 500, and logs both attempts', async () => {
    receiver = await startReceiver();
    receiver.answer(500);
    const t = start();
    const postback_id = await addPostback(t, { affiliate_id: AFF.partner, offer_id: OFFER.lead, postback_url: `${receiver.base}/pb?c=#reqid#` });
    const reqid = await click(t, AFF.partner, CREATIVE.lead, OFFER.lead);
    const { conversion } = await convert(t, { click_id: reqid, offer_id: OFFER.lead, unique_id: 'R-1' });

    const log = await delivered(t, { conversion_id: conversion.conversion_id });
    expect(receiver.requests.map((r) => r.query.c)).toEqual([reqid, reqid]);
    expect(log.deliveries).toEqual([
      expect.objectContaining({
        postback_id,
        conversion_id: conversion.conversion_id,
        fire_on: 'conversion',
        url: `${receiver.base}/pb?c=${reqid}`,
        status: 'delivered',
        attempts: 2,
        last_error: null,
        delivered_date: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/),
      }),
    ]);
    expect(log.deliveries[0].attempt_log).toEqual([
      { attempted_date: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/), status_code: 500, latency_ms: expect.any(Number), error: null },
      { attempted_date: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/), status_code: 200, latency_ms: expect.any(Number), error: null },
    ]);
  });

  it('retries a receiver that is down until it is up, logging the connection error', async () => {
    receiver = await startReceiver();
    await receiver.down();
    const t = start({ dispatcher: { maxAttempts: 1000 } });
    await addPostback(t, { affiliate_id: AFF.partner, offer_id: OFFER.lead, postback_url: `${receiver.base}/pb` });
    const reqid = await click(t, AFF.partner, CREATIVE.lead, OFFER.lead);
    const { conversion } = await convert(t, { click_id: reqid, offer_id: OFFER.lead });

    const failing = await eventually(async () => {
      const d = (await deliveries(t, { conversion_id: conversion.conversion_id })).deliveries[0];
      return d?.attempts >= 2 && d;
    });
    expect(failing.status).toBe('pending');
    expect(failing.last_error).toBe('connection refused');
    expect(failing.attempt_log[0]).toMatchObject({ status_code: null, error: 'connection refused' });

    await receiver.up();
    await delivered(t, { conversion_id: conversion.conversion_id });
    expect(receiver.requests).toHaveLength(1);
  });

  it('gives up an attempt at its timeout and logs it', async () => {
    receiver = await startReceiver();
    receiver.hang(true);
    const t = start({ dispatcher: { timeoutMs: 200 } });
    await addPostback(t, { affiliate_id: AFF.partner, offer_id: OFFER.lead, postback_url: `${receiver.base}/slow` });
    const reqid = await click(t, AFF.partner, CREATIVE.lead, OFFER.lead);
    // The advertiser's answer does not wait for the affiliate's server, which never answers.
    const { conversion } = await convert(t, { click_id: reqid, offer_id: OFFER.lead });
    const timedOut = await eventually(async () => (await deliveries(t, { conversion_id: conversion.conversion_id })).deliveries[0]?.attempt_log[0]);
    expect(timedOut).toMatchObject({ status_code: null, error: 'timeout' });
    receiver.hang(false);
    await delivered(t, { conversion_id: conversion.conversion_id });
  });

  it('marks a delivery failed after the last attempt and stops trying', async () => {
    receiver = await startReceiver();
    receiver.answer(500, 503, 404, 500, 500);
    const t = start({ dispatcher: { maxAttempts: 3 } });
    await addPostback(t, { affiliate_id: AFF.partner, offer_id: OFFER.lead, postback_url: `${receiver.base}/pb` });
    const reqid = await click(t, AFF.partner, CREATIVE.lead, OFFER.lead);
    const { conversion } = await convert(t, { click_id: reqid, offer_id: OFFER.lead });
    const failed = await eventually(async () => {
      const d = (await deliveries(t, { conversion_id: conversion.conversion_id, status: 'failed' })).deliveries[0];
      return d;
    });
    expect(failed).toMatchObject({ attempts: 3, last_error: 'HTTP 404', next_attempt_date: null });
    expect(failed.attempt_log.map((a: any) => a.status_code)).toEqual([500, 503, 404]);
    expect(receiver.requests).toHaveLength(3);
  });

  it('delivers postbacks left undelivered when the app restarts on the same database', async () => {
    receiver = await startReceiver();
    const dbPath = tempDbPath();
    const first = start({ dbPath, dispatcher: false });
    await addPostback(first, { affiliate_id: AFF.partner, offer_id: 0, postback_url: `${receiver.base}/pb?c=#reqid#&o=#oid#` });
    const a = await click(first, AFF.partner, CREATIVE.lead, OFFER.lead);
    const b = await click(first, AFF.partner, CREATIVE.lastTouch, OFFER.lastTouch);
    await convert(first, { click_id: a, offer_id: OFFER.lead });
    await convert(first, { click_id: b, offer_id: OFFER.lastTouch });
    expect((await deliveries(first, { status: 'pending' })).total_rows).toBe(2);
    await first.close();
    apps = apps.filter((x) => x !== first);
    expect(receiver.requests).toEqual([]);

    const second = start({ dbPath });
    await delivered(second, {}, 2);
    expect(receiver.requests.map((r) => r.query.c).sort()).toEqual([a, b].sort());
  });

  it('delivers a postback whose dispatcher died mid-attempt, once its lease runs out', async () => {
    receiver = await startReceiver();
    const dbPath = tempDbPath();
    const first = start({ dbPath, dispatcher: false });
    await addPostback(first, { affiliate_id: AFF.partner, offer_id: OFFER.lead, postback_url: `${receiver.base}/pb?c=#reqid#` });
    const reqid = await click(first, AFF.partner, CREATIVE.lead, OFFER.lead);
    await convert(first, { click_id: reqid, offer_id: OFFER.lead });
    // A dispatcher leases the delivery, then its process dies before any outcome.
    const leased = await first.store.claimDeliveries({ limit: 10, lease_ms: 300 });
    expect(leased).toHaveLength(1);
    await first.close();
    apps = apps.filter((x) => x !== first);

    const second = start({ dbPath });
    await delivered(second, {});
    expect(receiver.requests.map((r) => r.query.c)).toEqual([reqid]);
  });

  it('finishes or interrupts attempts in flight on stop, and the next dispatcher delivers them', async () => {
    receiver = await startReceiver();
    receiver.hang(true);
    const dbPath = tempDbPath();
    const first = start({ dbPath, dispatcher: { timeoutMs: 60_000 } });
    await addPostback(first, { affiliate_id: AFF.partner, offer_id: OFFER.lead, postback_url: `${receiver.base}/pb` });
    const reqid = await click(first, AFF.partner, CREATIVE.lead, OFFER.lead);
    await convert(first, { click_id: reqid, offer_id: OFFER.lead });
    await receiver.waitFor(1);
    await dispatchers[0]!.stop();
    const [interrupted] = (await deliveries(first, {})).deliveries;
    expect(interrupted).toMatchObject({ status: 'pending', attempts: 1, last_error: 'interrupted: the dispatcher stopped' });
    await first.close();
    apps = apps.filter((x) => x !== first);

    receiver.hang(false);
    const second = start({ dbPath });
    await delivered(second, {});
    expect(receiver.requests).toHaveLength(2);
  });

  it('does not give a delivery up on an attempt interrupted by a stop, even its last one', async () => {
    receiver = await startReceiver();
    receiver.hang(true);
    const first = start({ dispatcher: { timeoutMs: 60_000, maxAttempts: 1 } });
    await addPostback(first, { affiliate_id: AFF.partner, offer_id: OFFER.lead, postback_url: `${receiver.base}/pb` });
    const reqid = await click(first, AFF.partner, CREATIVE.lead, OFFER.lead);
    await convert(first, { click_id: reqid, offer_id: OFFER.lead });
    await receiver.waitFor(1);
    await dispatchers[0]!.stop();
    const [interrupted] = (await deliveries(first, {})).deliveries;
    expect(interrupted).toMatchObject({ status: 'pending', attempts: 1, last_error: 'interrupted: the dispatcher stopped' });
  });

  it('delivers more postbacks than it attempts at once', async () => {
    receiver = await startReceiver();
    const t = start({ dispatcher: { concurrency: 1 } });
    await addPostback(t, { affiliate_id: AFF.partner, offer_id: REPEAT.offer, postback_url: `${receiver.base}/pb?id=#leadid#` });
    const reqid = await click(t, AFF.partner, REPEAT.creative, REPEAT.offer);
    for (let i = 0; i < 5; i++) await convert(t, { click_id: reqid, offer_id: REPEAT.offer, unique_id: `C-${i}` });
    await delivered(t, {}, 5);
    expect(receiver.requests).toHaveLength(5);
  });

  it('never delivers one postback twice with several dispatchers on one database', async () => {
    receiver = await startReceiver();
    const t = start();
    for (let i = 0; i < 2; i++) {
      const targets = () => targetsOf(t.network.current);
      const extra = createDispatcher({ store: t.store, targets, fetch: nodeSend({ targets }), ...FAST, concurrency: 3 });
      dispatchers.push(extra);
      extra.start();
    }
    await addPostback(t, { affiliate_id: AFF.partner, offer_id: REPEAT.offer, postback_url: `${receiver.base}/pb?id=#leadid#` });
    const reqid = await click(t, AFF.partner, REPEAT.creative, REPEAT.offer);
    await Promise.all(Array.from({ length: 30 }, (_, i) => convert(t, { click_id: reqid, offer_id: REPEAT.offer, unique_id: `M-${i}` })));
    await delivered(t, {}, 30);
    const ids = receiver.requests.map((r) => r.query.id);
    expect(ids).toHaveLength(30);
    expect(new Set(ids).size).toBe(30);
  });
});

describe('which conversions fire postbacks', () => {
  it('fires an offer_id 0 postback for every offer, and an offer postback only for its offer', async () => {
    receiver = await startReceiver();
    const t = start();
    await addPostback(t, { affiliate_id: AFF.partner, offer_id: 0, postback_url: `${receiver.base}/all?o=#oid#` });
    await addPostback(t, { affiliate_id: AFF.partner, offer_id: OFFER.lastTouch, postback_url: `${receiver.base}/one?o=#oid#` });
    await addPostback(t, { affiliate_id: AFF.second, offer_id: 0, postback_url: `${receiver.base}/other-affiliate` });
    await addPostback(t, { affiliate_id: AFF.partner, offer_id: 0, postback_url: `${receiver.base}/inactive`, postback_status: 'inactive' });
    for (const [creative, offer] of [
      [CREATIVE.lead, OFFER.lead],
      [CREATIVE.lastTouch, OFFER.lastTouch],
      [CREATIVE.otherAdvertiser, OFFER.otherAdvertiser],
    ] as const) {
      const reqid = await click(t, AFF.partner, creative, offer);
      await convert(t, { click_id: reqid, offer_id: offer });
    }
    await delivered(t, {}, 4);
    const seen = receiver.requests.map((r) => `${r.path}?o=${r.query.o}`).sort();
    expect(seen).toEqual([`/all?o=${OFFER.lastTouch}`, `/all?o=${OFFER.otherAdvertiser}`, `/all?o=${OFFER.lead}`, `/one?o=${OFFER.lastTouch}`].sort());
  });

  it('fires nothing for a duplicate, a test or a scrubbed conversion', async () => {
    receiver = await startReceiver();
    const t = start();
    const postback_id = await addPostback(t, { affiliate_id: AFF.partner, offer_id: OFFER.lead, postback_url: `${receiver.base}/pb?u=#tid#` });
    const reqid = await click(t, AFF.partner, CREATIVE.lead, OFFER.lead);
    const once = await convert(t, { click_id: reqid, offer_id: OFFER.lead, unique_id: 'ONCE' });
    expect((await convert(t, { click_id: reqid, offer_id: OFFER.lead, unique_id: 'ONCE' })).duplicate).toBe(true);
    // A second conversion of the same click: a duplicate too (one per click), whatever its id.
    expect((await convert(t, { click_id: reqid, offer_id: OFFER.lead, unique_id: 'TWICE' })).duplicate).toBe(true);
    const test = await convert(t, { click_id: reqid, offer_id: OFFER.lead, unique_id: 'TEST', ckm_test: 1 });
    const suppressed = await convert(t, { click_id: await click(t, AFF.partner, CREATIVE.lead, OFFER.lead), offer_id: OFFER.lead, unique_id: 'FRAUD-1' });
    expect(suppressed.conversion.conversion_status).toBe('scrubbed');
    const later = await click(t, AFF.partner, CREATIVE.lead, OFFER.lead);
    t.clock.now += 25 * 3_600_000;
    const late = await convert(t, { click_id: later, offer_id: OFFER.lead, unique_id: 'LATE' });
    expect(late.conversion.conversion_status).toBe('scrubbed');

    await delivered(t, { conversion_id: once.conversion.conversion_id });
    for (const c of [test, suppressed, late]) expect((await deliveries(t, { conversion_id: c.conversion.conversion_id })).total_rows).toBe(0);
    expect((await deliveries(t, { postback_id })).total_rows).toBe(1);
    expect(receiver.requests.map((r) => r.query.u)).toEqual(['ONCE']);
  });

  it('gives one conversion and one delivered postback for 50 identical conversions at once', async () => {
    receiver = await startReceiver();
    const t = start();
    await addPostback(t, { affiliate_id: AFF.partner, offer_id: OFFER.lead, postback_url: `${receiver.base}/pb?c=#reqid#` });
    const reqid = await click(t, AFF.partner, CREATIVE.lead, OFFER.lead);
    const answers = await Promise.all(Array.from({ length: 50 }, () => convert(t, { click_id: reqid, offer_id: OFFER.lead, unique_id: 'SAME' })));
    expect(new Set(answers.map((a) => a.conversion.conversion_id)).size).toBe(1);
    expect(answers.filter((a) => !a.duplicate)).toHaveLength(1);
    const report = await t.get(`/api/2/conversions.json?${query({ start_date: '2026-11-01', end_date: '2026-11-30' })}`);
    expect(((await report.json()) as any).total_rows).toBe(1);
    const log = await delivered(t, {});
    expect(log.total_rows).toBe(1);
    expect(receiver.requests).toHaveLength(1);
  });

  it('gives one delivered postback for 50 identical p.ashx server pixels at once', async () => {
    receiver = await startReceiver();
    const t = start();
    await addPostback(t, { affiliate_id: AFF.partner, offer_id: OFFER.lead, postback_url: `${receiver.base}/pb?t=#tid#` });
    const reqid = await click(t, AFF.partner, CREATIVE.lead, OFFER.lead);
    await Promise.all(Array.from({ length: 50 }, () => t.get(`/p.ashx?o=${OFFER.lead}&r=${reqid}&t=ORD-50&f=pb`)));
    const log = await delivered(t, {});
    expect(log.total_rows).toBe(1);
    expect(receiver.requests.map((r) => r.query.t)).toEqual(['ORD-50']);
  });

  it('fires approval and rejection postbacks on status changes, once per change', async () => {
    receiver = await startReceiver();
    const t = start();
    await addPostback(t, { affiliate_id: AFF.partner, offer_id: OFFER.lead, fire_on: 'approval', postback_url: `${receiver.base}/approved?c=#reqid#&s=#status#&p=#price#` });
    await addPostback(t, { affiliate_id: AFF.partner, offer_id: 0, fire_on: 'rejection', postback_url: `${receiver.base}/rejected?c={click_id}&s={status}` });
    const reqid = await click(t, AFF.partner, CREATIVE.lead, OFFER.lead);
    const { conversion } = await convert(t, { click_id: reqid, offer_id: OFFER.lead });
    const id = conversion.conversion_id;
    // Recorded approved: no approval postback (that is the conversion postback's moment).
    expect((await deliveries(t, { conversion_id: id })).total_rows).toBe(0);

    await setStatus(t, id, 'rejected');
    await setStatus(t, id, 'rejected');
    await delivered(t, { conversion_id: id }, 1);
    await setStatus(t, id, 'pending');
    await setStatus(t, id, 'approved');
    await Promise.all([setStatus(t, id, 'reversed'), setStatus(t, id, 'reversed')]);
    await delivered(t, { conversion_id: id }, 3);

    expect(receiver.requests.map((r) => [r.path, r.query.s])).toEqual([
      ['/rejected', 'rejected'],
      ['/approved', 'approved'],
      ['/rejected', 'reversed'],
    ]);
    expect(receiver.requests[1]!.query).toEqual({ c: reqid, s: 'approved', p: '18.00' });
    expect((await deliveries(t, { conversion_id: id })).deliveries.map((d) => d.fire_on)).toEqual(['rejection', 'approval', 'rejection']);
  });

  it('fires no status postbacks for a test conversion', async () => {
    receiver = await startReceiver();
    const t = start();
    await addPostback(t, { affiliate_id: AFF.partner, offer_id: 0, fire_on: 'rejection', postback_url: `${receiver.base}/rejected` });
    const reqid = await click(t, AFF.partner, CREATIVE.lead, OFFER.lead);
    const { conversion } = await convert(t, { click_id: reqid, offer_id: OFFER.lead, ckm_test: 1 });
    await setStatus(t, conversion.conversion_id, 'rejected');
    expect((await deliveries(t, { conversion_id: conversion.conversion_id })).total_rows).toBe(0);
  });
});

describe('stopping and re-sending deliveries', () => {
  it('stops the pending deliveries of a postback that is deactivated or deleted, even once its server is back', async () => {
    receiver = await startReceiver();
    await receiver.down();
    const t = start({ dispatcher: { maxAttempts: 1000 } });
    const paused = await addPostback(t, { affiliate_id: AFF.partner, offer_id: OFFER.lead, postback_url: `${receiver.base}/paused` });
    const removed = await addPostback(t, { affiliate_id: AFF.partner, offer_id: OFFER.lead, postback_url: `${receiver.base}/removed` });
    const reqid = await click(t, AFF.partner, CREATIVE.lead, OFFER.lead);
    const { conversion } = await convert(t, { click_id: reqid, offer_id: OFFER.lead });
    await eventually(async () => (await deliveries(t, { conversion_id: conversion.conversion_id })).deliveries.every((d) => d.attempts >= 1));

    const put = await t.app.request(`http://track.example.com/api/2/affiliate_postback.json?${query({ postback_id: paused, postback_status: 'inactive' })}`, { method: 'PUT' });
    expect(put.status).toBe(200);
    const del = await t.app.request(`http://track.example.com/api/2/affiliate_postback.json?${query({ postback_id: removed })}`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    const log = await deliveries(t, { conversion_id: conversion.conversion_id });
    expect(log.deliveries.map((d) => [d.status, d.last_error, d.next_attempt_date])).toEqual([
      ['cancelled', 'cancelled: the postback was deactivated', null],
      ['cancelled', 'cancelled: the postback was deleted', null],
    ]);
    const attemptsBefore = log.deliveries.map((d) => d.attempts);
    await receiver.up();
    // Long enough for several retries (50 ms apart): none is made.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.requests).toEqual([]);
    expect((await deliveries(t, { conversion_id: conversion.conversion_id })).deliveries.map((d) => d.attempts)).toEqual(attemptsBefore);
  });

  it('re-sends a failed delivery through the API as a new delivery, once', async () => {
    receiver = await startReceiver();
    receiver.answer(500, 500);
    const t = start({ dispatcher: { maxAttempts: 2 } });
    await addPostback(t, { affiliate_id: AFF.partner, offer_id: OFFER.lead, postback_url: `${receiver.base}/pb?c=#reqid#` });
    const reqid = await click(t, AFF.partner, CREATIVE.lead, OFFER.lead);
    const { conversion } = await convert(t, { click_id: reqid, offer_id: OFFER.lead });
    const failed = await eventually(async () => (await deliveries(t, { conversion_id: conversion.conversion_id, status: 'failed' })).deliveries[0]);
    expect(failed).toMatchObject({ attempts: 2, last_error: 'HTTP 500' });

    const resend = (delivery_id: number) => t.post('/api/2/postback_deliveries.json', JSON.stringify({ api_key: API_KEY, delivery_id }), 'application/json');
    const res = await resend(failed.delivery_id);
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body).toMatchObject({
      request_status: 'Success',
      message: `Delivery ${failed.delivery_id} re-sent as delivery ${body.delivery.delivery_id}`,
      delivery: { postback_id: failed.postback_id, conversion_id: conversion.conversion_id, url: failed.url, status: 'pending', attempts: 0, resend_of: failed.delivery_id, attempt_log: [] },
    });
    const log = await delivered(t, { delivery_id: body.delivery.delivery_id });
    expect(log.deliveries[0].attempt_log.map((a: any) => a.status_code)).toEqual([200]);
    expect(receiver.requests.map((r) => r.query.c)).toEqual([reqid, reqid, reqid]);
    // The failed one keeps its log; it is re-sent once, and the new one is not re-sent at all.
    expect((await deliveries(t, { delivery_id: failed.delivery_id })).deliveries[0]).toMatchObject({ status: 'failed', attempts: 2 });
    const again = await resend(failed.delivery_id);
    expect(again.status).toBe(409);
    expect(await again.json()).toEqual({ request_status: 'Failure', message: `delivery_id ${failed.delivery_id} was re-sent already, as delivery ${body.delivery.delivery_id}: re-send that one if it failed` });
    const done = await resend(body.delivery.delivery_id);
    expect(done.status).toBe(409);
    expect(((await done.json()) as any).message).toContain('was delivered: only a failed or cancelled delivery is re-sent');
    expect((await resend(99999)).status).toBe(404);
    const bad = await t.post('/api/2/postback_deliveries.json', JSON.stringify({ api_key: API_KEY, delivery_id: 'x' }), 'application/json');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).errors[0].parameter).toBe('delivery_id');
  });
});

describe('postback_deliveries.json', () => {
  it('answers a Failure naming a malformed filter', async () => {
    receiver = await startReceiver();
    const t = start({ dispatcher: false });
    const res = await t.get(`/api/2/postback_deliveries.json?${query({ status: 'lost' })}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).errors).toEqual([{ parameter: 'status', message: 'must be one of pending, delivered, failed, cancelled' }]);
  });
});
