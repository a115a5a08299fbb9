// The Workers build end to end, under workerd (Miniflare): the bundle `npm run build:worker` makes
// (dist/worker.js), on a D1 database migrated by `wrangler d1 migrations apply --local` with the
// example server/worker/wrangler.jsonc, over the worker's HTTP port. A click, a session post and a
// conversion; the affiliate's postback reaching a receiver on 127.0.0.1; the runtime restarted while
// a postback is pending, and the Cron trigger delivering it afterwards.
//
// Every connection the worker opens goes through `outboundService`, which forwards only to
// 127.0.0.1 and records anything else instead of dialling it.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fetch as mfFetch, Miniflare, type Request as MfRequest } from 'miniflare';
import { unstable_readConfig } from 'wrangler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reqidFloor } from '../../server/reqid.js';
import { d1Migrations } from '../../server/worker/migrations.js';
import { ROOT } from '../support/process.js';
import { JANE, xmlAnswer } from '../support/leads.js';
import { AFF, API_KEY, conversionNetworkFile, CREATIVE, OFFER } from '../support/network.js';
import { eventually, startReceiver, type Receiver } from '../support/receiver.js';

const CONFIG = join(ROOT, 'server/worker/wrangler.jsonc');
const config = unstable_readConfig({ config: CONFIG });
const d1 = config.d1_databases[0]!;
const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' };

let receiver: Receiver;
let work: string;
let previousTmp: string | undefined;
let mf: Miniflare | undefined;
let base: string;
/** Addresses the worker tried to reach outside 127.0.0.1 (never dialled). */
const refused: string[] = [];

/** Starts the worker on the persisted D1 database, on a free port of 127.0.0.1. */
async function startWorker(): Promise<void> {
  mf = new Miniflare({
    modules: true,
    scriptPath: join(ROOT, 'dist/worker.js'),
    compatibilityDate: config.compatibility_date,
    cf: false,
    host: '127.0.0.1',
    port: 0,
    d1Databases: { [d1.binding]: d1.database_id! },
    d1Persist: join(work, 'state/v3/d1'),
    bindings: { ...(config.vars as Record<string, string>), CRUMB_NETWORK: JSON.stringify(conversionNetworkFile()) },
    outboundService: async (request: MfRequest) => {
      const url = new URL(request.url);
      if (url.hostname !== '127.0.0.1') {
        refused.push(url.href);
        return new Response('not dialled: tests reach 127.0.0.1 only', { status: 502 }) as never;
      }
      return mfFetch(url, { method: request.method, headers: request.headers, redirect: 'manual' });
    },
  });
  base = (await mf.ready).origin;
}

async function stopWorker(): Promise<void> {
  await mf?.dispose();
  mf = undefined;
}

/** What the Cron trigger does every minute. */
async function cron(): Promise<void> {
  // The Fetcher's scheduled() (typed in @cloudflare/workers-types, which this project does not need).
  const worker = (await mf!.getWorker()) as unknown as { scheduled(options: { cron: string }): Promise<unknown> };
  await worker.scheduled({ cron: config.triggers.crons?.[0] ?? '* * * * *' });
}

const api = (path: string, params: Record<string, string | number>) =>
  fetch(`${base}/api/2/${path}?${new URLSearchParams({ api_key: API_KEY, ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])) })}`);

async function click(s1: string): Promise<{ res: Response; reqid: string }> {
  const res = await fetch(`${base}/?a=${AFF.partner}&c=${CREATIVE.lead}&s1=${s1}`, { redirect: 'manual' });
  const reqid = new URL(res.headers.get('location') ?? 'http://x/').searchParams.get('reqid') ?? '';
  return { res, reqid };
}

async function convert(reqid: string, unique_id: string) {
  const res = await api('conversion.json', { click_id: reqid, offer_id: OFFER.lead, unique_id });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { request_status: string; conversion: { conversion_id: number } };
  expect(body.request_status).toBe('Success');
  return body.conversion.conversion_id;
}

async function deliveriesOf(conversion_id: number) {
  const res = await api('postback_deliveries.json', { conversion_id });
  return ((await res.json()) as { deliveries: { status: string; attempts: number; attempt_log: { status_code: number | null; error: string | null }[] }[] }).deliveries;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'crumb-worker-'));
  // Miniflare keeps its runtime's files in a miniflare-* folder of the temp directory: this test's own.
  previousTmp = process.env.TMPDIR;
  mkdirSync(join(work, 'tmp'));
  process.env.TMPDIR = join(work, 'tmp');
  receiver = await startReceiver();
  // The deploy step, locally: the generated migrations, applied by wrangler with the example config.
  await promisify(execFile)(
    process.execPath,
    [join(ROOT, 'node_modules/wrangler/bin/wrangler.js'), 'd1', 'migrations', 'apply', d1.database_name!, '--local', '--persist-to', join(work, 'state'), '--config', CONFIG],
    { cwd: ROOT, env, timeout: 90_000 },
  );
  await startWorker();
  const res = await fetch(`${base}/api/2/affiliate_postback.json`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ api_key: API_KEY, affiliate_id: AFF.partner, offer_id: OFFER.lead, postback_url: `${receiver.base}/pb?click=#reqid#&payout=#price#&status=#status#` }),
  });
  expect(((await res.json()) as { request_status: string }).request_status).toBe('Success');
}, 120_000);

afterAll(async () => {
  await stopWorker();
  await receiver?.close();
  if (previousTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = previousTmp;
  rmSync(work, { recursive: true, force: true });
});

describe('the worker (workerd, D1)', () => {
  it('tracking link → 302 with reqid → session post → conversion → the affiliate\'s postback → click.json shows it converted', async () => {
    const { res, reqid } = await click('edge');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toMatch(/^https:\/\/lp\.example\.com\/quote\?reqid=/);
    expect(reqid).toMatch(/^[-0-9A-Za-z_]{32}$/);
    expect(res.headers.get('set-cookie')).toContain(reqid);

    const lead = await xmlAnswer(
      await fetch(`${base}/d.ashx`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ ckm_offer_id: String(OFFER.lead), ckm_request_id: reqid, ...JANE }).toString(),
      }),
    );
    expect(lead).toMatchObject({ code: '0', msg: 'success' });
    const leads = (await (await api('leads.json', { lead_id: lead.leadid! })).json()) as { response: { leads: unknown[] } };
    expect(leads.response.leads).toEqual([expect.objectContaining({ affiliate_id: AFF.partner })]);

    const conversion_id = await convert(reqid, 'EDGE-1');
    // Delivered right after the answer (ctx.waitUntil), no cron needed.
    const [postback] = await receiver.waitFor(1);
    expect(postback!.query).toEqual({ click: reqid, payout: '18.00', status: 'approved' });
    expect((await eventually(async () => (await deliveriesOf(conversion_id))[0]?.status === 'delivered' && true)) ).toBe(true);

    const clicks = (await (await api('click.json', { click_id: reqid })).json()) as { response: { clicks: unknown[] } };
    expect(clicks.response.clicks).toEqual([
      expect.objectContaining({ click_id: reqid, converted: true, conversion_id, sub_id_1: 'edge', affiliate_id: AFF.partner,
        // From CF-Connecting-IP and request.cf (Miniflare's stand-in with cf: false says US).
        ip_address: '127.0.0.1', country: 'US' }),
    ]);
  });

  it('serves d.js from the bundle', async () => {
    const res = await fetch(`${base}/d.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/javascript/);
    expect((await res.text()).length).toBeGreaterThan(1000);
  });

  it('serves the console and signs in there: its assets are in the bundle, its session signed with Web Crypto', async () => {
    const page = await fetch(`${base}/console/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const js = await fetch(`${base}/console/console.js`);
    expect((await js.text()).length).toBeGreaterThan(10_000);
    const host = new URL(base).host;
    const signIn = await fetch(`${base}/console/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base }, body: JSON.stringify({ api_key: API_KEY }) });
    const session = (await signIn.json()) as { role: string; csrf: string };
    expect(session.role).toBe('admin');
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
    const offers = await fetch(`${base}/api/2/offers.json`, { headers: { cookie, 'x-crumb-csrf': session.csrf, host } });
    expect(offers.status).toBe(200);
    // Sign-out ends the session in D1: the same cookie (a copy) is refused afterwards.
    const out = await fetch(`${base}/console/session`, { method: 'DELETE', headers: { cookie, 'x-crumb-csrf': session.csrf, host } });
    expect(out.status).toBe(200);
    expect((await fetch(`${base}/api/2/offers.json`, { headers: { cookie, 'x-crumb-csrf': session.csrf, host } })).status).toBe(401);
  });

  it("sends a postback test through the runtime's fetch, with sample macros, and logs no delivery", async () => {
    const listed = (await (await api('affiliate_postback.json', { affiliate_id: AFF.partner })).json()) as { postbacks: { postback_id: number; postback_url: string }[] };
    const { postback_id } = listed.postbacks.find((p) => p.postback_url.startsWith(receiver.base))!;
    const logged = async () => ((await (await api('postback_deliveries.json', { postback_id })).json()) as { total_rows: number }).total_rows;
    const deliveriesBefore = await logged();
    const before = receiver.requests.length;
    const res = await fetch(`${base}/api/2/affiliate_postback_test.json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ api_key: API_KEY, postback_id }) });
    const body = (await res.json()) as { postback_test: { delivered: boolean; status_code: number; latency_ms: number } };
    expect(body.postback_test).toMatchObject({ delivered: true, status_code: 200, latency_ms: expect.any(Number) });
    expect(receiver.requests.length).toBe(before + 1);
    expect(receiver.requests[before]!.query).toEqual({ click: expect.stringMatching(/^TEST/), payout: '0.00', status: 'approved' });
    expect(await logged()).toBe(deliveriesBefore);
  });

  it('delivers a postback that was pending when the runtime restarted, at the Cron trigger after its retry falls due', async () => {
    const { reqid } = await click('restart');
    const before = receiver.requests.length;
    await receiver.down();
    const conversion_id = await convert(reqid, 'EDGE-2');
    // The first attempt (waitUntil) fails and is logged; the delivery waits for its retry (5 s).
    // (Miniflare answers a connection its outboundService could not make with a 500.)
    const [failed] = await eventually(async () => {
      const rows = await deliveriesOf(conversion_id);
      return rows[0]?.attempts === 1 && rows;
    }, 15_000, 'the first, failed attempt');
    expect(failed).toMatchObject({ status: 'pending', attempts: 1 });
    expect(failed!.attempt_log[0]!.status_code).not.toBe(200);

    await stopWorker();
    await receiver.up();
    await startWorker();
    // Nothing delivers it until the retry is due; then the cron run does.
    await eventually(async () => {
      await cron();
      return receiver.requests.length > before;
    }, 20_000, 'the postback after the restart');
    expect(receiver.requests.slice(before).map((r) => r.query.click)).toEqual([reqid]);
    const [delivered] = await deliveriesOf(conversion_id);
    expect(delivered).toMatchObject({ status: 'delivered', attempts: 2 });
    expect(delivered!.attempt_log.map((a) => a.status_code)).toEqual([failed!.attempt_log[0]!.status_code, 200]);
  }, 60_000);

  it('runs the retention job at the Cron trigger, and serves the API reference', async () => {
    const db = await mf!.getD1Database(d1.binding);
    const old = Date.now() - 40 * 86_400_000;
    // A click of 40 days ago (its reqid of today's format at that time, random and MAC parts zero).
    await db
      .prepare("INSERT INTO clicks (reqid, click_time, tracking_domain_id, disposition) VALUES (?, ?, 1, 'redirect')")
      .bind(reqidFloor(old), old)
      .run();
    const { reqid: young } = await click('young');
    const put = await fetch(`${base}/api/2/network.json`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ api_key: API_KEY, retention_days: { clicks: 30 } }),
    });
    expect(put.status).toBe(200);
    await cron();
    const left = await db.prepare('SELECT reqid FROM clicks WHERE reqid IN (?, ?)').bind(reqidFloor(old), young).all<{ reqid: string }>();
    expect((left.results as { reqid: string }[]).map((r) => r.reqid)).toEqual([young]);

    expect((await fetch(`${base}/api/openapi.json`)).status).toBe(200);
    const docs = await fetch(`${base}/api/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('/api/2/lead.json');
  });

  it('opened no connection outside 127.0.0.1', () => {
    expect(refused).toEqual([]);
  });
});

describe('the worker, misconfigured', () => {
  /** A worker on a D1 database of its own, with these bindings; answers what GET / gets. */
  async function answer(bindings: Record<string, string>, migrated: boolean): Promise<{ status: number; text: string }> {
    const other = new Miniflare({
      modules: true,
      scriptPath: join(ROOT, 'dist/worker.js'),
      compatibilityDate: config.compatibility_date,
      cf: false,
      d1Databases: { DB: 'misconfigured' },
      bindings,
    });
    try {
      if (migrated) {
        const db = await other.getD1Database('DB');
        for (const f of d1Migrations()) await db.exec(f.text.replace(/^--.*$/gm, '').replace(/\s*\n\s*/g, ' '));
      }
      const res = await other.dispatchFetch('http://127.0.0.1/?a=1&c=1');
      return { status: res.status, text: await res.text() };
    } finally {
      await other.dispose();
    }
  }

  it('answers 503 naming what to set or run: no network, a bad network, migrations not applied', async () => {
    const network = JSON.stringify(conversionNetworkFile());
    expect(await answer({}, true)).toEqual({ status: 503, text: expect.stringContaining('The database holds no network yet: set CRUMB_NETWORK') });
    expect(await answer({ CRUMB_NETWORK: '{"network": {}}' }, true)).toEqual({
      status: 503,
      text: expect.stringMatching(/The network in CRUMB_NETWORK has problems\.\n.*network/),
    });
    expect(await answer({ CRUMB_NETWORK: network }, false)).toEqual({ status: 503, text: expect.stringContaining('wrangler d1 migrations apply') });
    expect(await answer({ CRUMB_NETWORK: network, CRUMB_REQID_SECRET: 'short' }, true)).toEqual({
      status: 503,
      text: expect.stringContaining('CRUMB_REQID_SECRET must be at least 32 characters'),
    });
  }, 60_000);
});

