// Managing affiliate postbacks: /api/2/affiliate_postback.json (PROTOCOL.md 6 and 7).
import { afterEach, describe, expect, it } from 'vitest';
import { makeApp, type TestApp } from '../support/app.js';
import { AFF, API_KEY, conversionNetworkFile, OFFER } from '../support/network.js';

let t: TestApp;
afterEach(() => t?.close());

const PATH = 'http://track.example.com/api/2/affiliate_postback.json';
const SAMPLE_URL = 'https://tracking.partner.com/postback?click_id=#reqsessid#&payout=#price#&status=#status#';

async function call(method: string, body: Record<string, unknown> | string, type = 'application/json') {
  const res = await t.app.request(PATH, {
    method,
    headers: { 'content-type': type },
    body: typeof body === 'string' ? body : JSON.stringify({ api_key: API_KEY, ...body }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function list(query: Record<string, string | number> = {}) {
  const params = new URLSearchParams({ api_key: API_KEY, ...Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])) });
  const res = await t.app.request(`${PATH}?${params}`);
  return { status: res.status, body: (await res.json()) as any };
}

describe('POST affiliate_postback.json', () => {
  it("creates a postback from the seed's JSON sample and answers its shape", async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const { status, body } = await call('POST', {
      affiliate_id: AFF.partner,
      offer_id: OFFER.lead,
      postback_url: SAMPLE_URL,
      postback_status: 'active',
      postback_type_id: 1,
    });
    expect(status).toBe(200);
    expect(body).toEqual({
      request_status: 'Success',
      postback: {
        postback_id: expect.any(Number),
        affiliate_id: AFF.partner,
        offer_id: OFFER.lead,
        postback_url: SAMPLE_URL,
        postback_type_id: 1,
        postback_type: 'Server',
        postback_status: 'active',
        fire_on: 'conversion',
      },
    });
  });

  it('takes a form body, with defaults for status, type and fire_on, and offer_id 0 for every offer', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const form = new URLSearchParams({ api_key: API_KEY, affiliate_id: String(AFF.partner), offer_id: '0', postback_url: 'https://p.example/x?c={click_id}' });
    const { status, body } = await call('POST', form.toString(), 'application/x-www-form-urlencoded');
    expect(status).toBe(200);
    expect(body.postback).toMatchObject({ offer_id: 0, postback_status: 'active', postback_type: 'Server', fire_on: 'conversion' });
  });

  it('names every postback type', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const names = [];
    for (const type of [1, 2, 3, 4]) {
      const { body } = await call('POST', { affiliate_id: AFF.partner, offer_id: 0, postback_url: 'https://p.example/', postback_type_id: type });
      names.push(body.postback.postback_type);
    }
    expect(names).toEqual(['Server', 'iFrame', 'Image', 'JavaScript']);
  });

  it.each([
    [{ postback_url: undefined }, 'postback_url', 'is required'],
    [{ postback_url: 'javascript:alert(1)' }, 'postback_url', 'must be an absolute http:// or https:// URL'],
    [{ postback_url: '/relative/path' }, 'postback_url', 'must be an absolute'],
    [{ postback_url: `https://p.example/?${'x'.repeat(2001)}` }, 'postback_url', 'at most 2000'],
    [{ affiliate_id: undefined }, 'affiliate_id', 'is required'],
    [{ affiliate_id: 'abc' }, 'affiliate_id', 'must be a whole number'],
    [{ affiliate_id: 999 }, 'affiliate_id', 'names no affiliate of this network (999)'],
    [{ offer_id: 999 }, 'offer_id', 'names no offer of this network (999)'],
    [{ offer_id: -1 }, 'offer_id', 'must be a whole number'],
    [{ postback_type_id: 5 }, 'postback_type_id', 'must be one of 1, 2, 3, 4'],
    [{ postback_status: 'paused' }, 'postback_status', 'must be one of active, inactive'],
    [{ fire_on: 'click' }, 'fire_on', 'must be one of conversion, approval, rejection'],
    [{ postback_type_id: 3, fire_on: 'approval' }, 'fire_on', 'must be conversion for a browser postback'],
  ])('answers a Failure naming the parameter for %j, and creates nothing', async (change, parameter, message) => {
    t = makeApp({ file: conversionNetworkFile() });
    const body: Record<string, unknown> = { affiliate_id: AFF.partner, offer_id: OFFER.lead, postback_url: SAMPLE_URL, ...change };
    for (const key of Object.keys(body)) if (body[key] === undefined) delete body[key];
    const res = await call('POST', body);
    expect(res.status).toBe(400);
    expect(res.body.request_status).toBe('Failure');
    expect(res.body.errors).toContainEqual({ parameter, message: expect.stringContaining(message) });
    expect((await list()).body.postbacks).toEqual([]);
  });

  it('answers a Failure for a body that is not JSON', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const res = await call('POST', '{"api_key": ', 'application/json');
    expect(res.status).toBe(400);
    expect(res.body.request_status).toBe('Failure');
  });
});

describe('GET affiliate_postback.json', () => {
  it('lists by affiliate, offer and status', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const make = async (fields: Record<string, unknown>) =>
      (await call('POST', { postback_url: 'https://p.example/', ...fields })).body.postback.postback_id as number;
    const a = await make({ affiliate_id: AFF.partner, offer_id: OFFER.lead });
    const b = await make({ affiliate_id: AFF.partner, offer_id: 0, postback_status: 'inactive' });
    const c = await make({ affiliate_id: AFF.second, offer_id: OFFER.lead });
    const ids = async (q: Record<string, string | number>) => (await list(q)).body.postbacks.map((p: any) => p.postback_id);
    expect(await ids({})).toEqual([a, b, c]);
    expect(await ids({ affiliate_id: AFF.partner })).toEqual([a, b]);
    expect(await ids({ offer_id: OFFER.lead })).toEqual([a, c]);
    expect(await ids({ offer_id: 0 })).toEqual([b]);
    expect(await ids({ postback_status: 'active' })).toEqual([a, c]);
    expect(await ids({ postback_id: b })).toEqual([b]);
    expect((await list({ affiliate_id: AFF.second })).body.total_rows).toBe(1);
  });

  it('answers a Failure naming a malformed filter', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const res = await list({ postback_status: 'on' });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ parameter: 'postback_status', message: 'must be one of active, inactive' }]);
  });
});

describe('PUT and DELETE affiliate_postback.json', () => {
  async function created() {
    return (await call('POST', { affiliate_id: AFF.partner, offer_id: OFFER.lead, postback_url: SAMPLE_URL })).body.postback;
  }

  it('updates only the fields sent', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const before = await created();
    const { status, body } = await call('PUT', { postback_id: before.postback_id, postback_url: 'https://new.example/pb?c=#reqid#', postback_status: 'inactive' });
    expect(status).toBe(200);
    expect(body.postback).toEqual({ ...before, postback_url: 'https://new.example/pb?c=#reqid#', postback_status: 'inactive' });
    expect((await list({ postback_id: before.postback_id })).body.postbacks).toEqual([body.postback]);
  });

  it('updates with a form body', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const before = await created();
    const form = new URLSearchParams({ api_key: API_KEY, postback_id: String(before.postback_id), fire_on: 'rejection' });
    const { body } = await call('PUT', form.toString(), 'application/x-www-form-urlencoded');
    expect(body.postback).toEqual({ ...before, fire_on: 'rejection' });
  });

  it.each([
    [{ postback_id: undefined }, 400, 'postback_id'],
    [{ postback_status: 'paused' }, 400, 'postback_status'],
    [{ offer_id: 999 }, 400, 'offer_id'],
    [{ postback_type_id: 2, fire_on: 'approval' }, 400, 'fire_on'],
  ])('refuses %j and changes nothing', async (change, status, parameter) => {
    t = makeApp({ file: conversionNetworkFile() });
    const before = await created();
    const body: Record<string, unknown> = { postback_id: before.postback_id, ...change };
    for (const key of Object.keys(body)) if (body[key] === undefined) delete body[key];
    const res = await call('PUT', body);
    expect(res.status).toBe(status);
    expect(res.body.errors).toContainEqual(expect.objectContaining({ parameter }));
    expect((await list()).body.postbacks).toEqual([before]);
  });

  it('answers 404 for a postback that does not exist', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const res = await call('PUT', { postback_id: 4711, postback_status: 'inactive' });
    expect(res).toEqual({ status: 404, body: { request_status: 'Failure', message: 'postback_id 4711: no such postback' } });
  });

  it('deletes by postback_id, once', async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const before = await created();
    const gone = await t.app.request(`${PATH}?api_key=${API_KEY}&postback_id=${before.postback_id}`, { method: 'DELETE' });
    expect(gone.status).toBe(200);
    expect(await gone.json()).toMatchObject({ request_status: 'Success', postback: before });
    expect((await list()).body.postbacks).toEqual([]);
    const again = await t.app.request(`${PATH}?api_key=${API_KEY}&postback_id=${before.postback_id}`, { method: 'DELETE' });
    expect(again.status).toBe(404);
    const bad = await t.app.request(`${PATH}?api_key=${API_KEY}&postback_id=x`, { method: 'DELETE' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).errors[0].parameter).toBe('postback_id');
  });
});

describe('postback targets (PROTOCOL.md 10): where a server postback may go', () => {
  /** The test network with the address rules on (the other tests deliver to 127.0.0.1). */
  function strict(change: { postbacks_allow_private?: boolean; postback_ports?: number[] } = {}) {
    const file = conversionNetworkFile();
    file.network.postbacks_allow_private = false;
    Object.assign(file.network, change);
    return file;
  }
  /** A resolver from a table; nothing here reaches a real DNS server. */
  const resolveHost = async (hostname: string) => {
    const table: Record<string, string[]> = { 'aff.example': ['93.184.215.14'], 'inside.example': ['127.0.0.1'], 'lan.example': ['10.1.2.3'] };
    if (!table[hostname]) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return table[hostname]!;
  };
  const create = (postback_url: string, extra: Record<string, unknown> = {}) => call('POST', { affiliate_id: AFF.partner, offer_id: OFFER.lead, postback_url, ...extra });

  it.each([
    ['http://127.0.0.1/pb', 'the host 127.0.0.1 is not a public address, it is loopback (127.0.0.0/8)'],
    ['http://127.1/pb', 'the host 127.0.0.1 is not a public address'],
    ['http://0x7f.1/pb', 'the host 127.0.0.1 is not a public address'],
    ['http://[::1]/pb', 'the host ::1 is not a public address, it is loopback (::1/128)'],
    ['http://[::ffff:127.0.0.1]/pb', 'the host ::ffff:7f00:1 is not a public address, it is loopback (127.0.0.0/8), as IPv4-mapped'],
    ['http://169.254.169.254/latest/meta-data/', 'it is link-local'],
    ['http://localhost:3000/pb', 'the host 127.0.0.1 is not a public address'],
    ['https://inside.example/pb?c=#reqid#', 'the host inside.example resolves to a private or otherwise non-public address'],
    ['https://nowhere.example/pb', 'the host nowhere.example does not resolve (ENOTFOUND)'],
    ['https://aff.example:8443/pb', 'port 8443 is not allowed for a public address: postbacks go to ports 80, 443 (list others in network.postback_ports)'],
  ])('refuses %s with a Failure naming postback_url and the rule, and saves nothing', async (url, message) => {
    t = makeApp({ file: strict(), resolveHost });
    const res = await create(url);
    expect(res.status).toBe(400);
    expect(res.body.request_status).toBe('Failure');
    expect(res.body.errors).toEqual([{ parameter: 'postback_url', message: expect.stringContaining(message) }]);
    expect((await list()).body.postbacks).toEqual([]);
  });

  it('saves a public target, and browser postbacks whatever their host (the visitor requests those, not the server)', async () => {
    t = makeApp({ file: strict(), resolveHost });
    expect((await create('https://aff.example/pb?c=#reqid#')).status).toBe(200);
    expect((await create('http://93.184.215.14/pb')).status).toBe(200);
    expect((await create('http://127.0.0.1/pixel.gif', { postback_type_id: 3 })).status).toBe(200);
    expect((await list()).body.postbacks).toHaveLength(3);
  });

  it('checks a change of target, type or status, and lets a refused target be switched off', async () => {
    // moving.example is public when saved, and later resolves inside (its DNS changed).
    const table: Record<string, string[]> = { 'moving.example': ['93.184.215.14'] };
    t = makeApp({ file: strict(), resolveHost: async (host) => table[host] ?? (await resolveHost(host)) });
    const made = (await create('https://aff.example/pb')).body.postback;
    const moved = await call('PUT', { postback_id: made.postback_id, postback_url: 'http://lan.example/pb' });
    expect(moved.status).toBe(400);
    expect(moved.body.errors[0]).toMatchObject({ parameter: 'postback_url', message: expect.stringContaining('resolves to a private') });
    const browser = (await create('http://10.0.0.9/px', { postback_type_id: 4 })).body.postback;
    expect((await call('PUT', { postback_id: browser.postback_id, postback_type_id: 1 })).status).toBe(400);

    const moving = (await create('https://moving.example/pb')).body.postback;
    table['moving.example'] = ['10.0.0.1'];
    expect((await call('PUT', { postback_id: moving.postback_id, postback_status: 'inactive' })).status).toBe(200);
    expect((await call('PUT', { postback_id: moving.postback_id, offer_id: 0 })).status).toBe(200);
    expect((await call('PUT', { postback_id: moving.postback_id, postback_status: 'active' })).status).toBe(400);
    expect((await list()).body.postbacks.map((p: any) => [p.postback_url, p.postback_type_id, p.postback_status])).toEqual([
      ['https://aff.example/pb', 1, 'active'],
      ['http://10.0.0.9/px', 4, 'active'],
      ['https://moving.example/pb', 1, 'inactive'],
    ]);
  });

  it('allows private and loopback targets on any port with postbacks_allow_private, and other public ports with postback_ports', async () => {
    t = makeApp({ file: strict({ postbacks_allow_private: true }), resolveHost });
    for (const url of ['http://127.0.0.1:4000/pb', 'http://[::1]:9/pb', 'http://lan.example:8080/pb', 'http://169.254.169.254/x']) expect((await create(url)).status, url).toBe(200);
    expect((await create('https://aff.example:8443/pb')).status).toBe(400);
    await t.close();
    t = makeApp({ file: strict({ postback_ports: [443, 8443] }), resolveHost });
    expect((await create('https://aff.example:8443/pb')).status).toBe(200);
    expect((await create('http://aff.example/pb')).body.errors[0].message).toContain('port 80 is not allowed for a public address: postbacks go to ports 443, 8443');
    expect((await create('http://127.0.0.1:8443/pb')).status).toBe(400);
  });
});
