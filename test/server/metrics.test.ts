// GET /metrics (PROTOCOL.md 12): who may read it, and that what it says matches what happened.
import { afterEach, describe, expect, it } from 'vitest';
import { loadNetwork, NetworkError } from '../../server/network.js';
import { nodeOps } from '../../server/ops/node-ops.js';
import { createDispatcher, type Dispatcher } from '../../server/postbacks/dispatcher.js';
import type { Store } from '../../server/store/types.js';
import { openSqliteStore } from '../../server/store/sqlite.js';
import { makeApp, tempDbPath, type TestApp } from '../support/app.js';
import { click, form, FORM } from '../support/leads.js';
import { memoryLog } from '../support/log.js';
import { AFF, API_KEY, CAMPAIGN, conversionNetworkFile, CREATIVE, OFFER, POST_KEY, testNetworkFile } from '../support/network.js';
import { eventually } from '../support/receiver.js';

const TOKEN = 'scraper-token-0123456789';

let t: TestApp | undefined;
let dispatcher: Dispatcher | undefined;
afterEach(async () => {
  await dispatcher?.stop();
  dispatcher = undefined;
  await t?.close();
  t = undefined;
});

/** The app as the Node entry builds it: the observed store, metrics and a log. */
function start(options: { store?: Store; file?: ReturnType<typeof testNetworkFile> } = {}) {
  const file = options.file ?? conversionNetworkFile();
  file.network.metrics_token = TOKEN;
  const { store, ops } = nodeOps({ store: options.store ?? openSqliteStore({ path: tempDbPath() }), log: memoryLog('warn').log });
  t = makeApp({ file, store, ops });
  return t;
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition, checking that every one follows its TYPE line. */
function parse(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!.replace(/\\(.)/g, '$1');
    const name = match[1]!;
    const family = name.replace(/_(bucket|sum|count)$/, '');
    if (!types.has(name) && !types.has(family)) throw new Error(`${name} has no TYPE line`);
    samples.push({ name, labels, value: Number(match[3]) });
  }
  return { samples, types };
}

async function scrape(app: TestApp = t!) {
  const res = await app.get('/metrics', { headers: { authorization: `Bearer ${API_KEY}` } });
  expect(res.status).toBe(200);
  const { samples, types } = parse(await res.text());
  const value = (name: string, labels: Record<string, string> = {}) => {
    const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    return found.length ? found.reduce((sum, s) => sum + s.value, 0) : undefined;
  };
  return { samples, types, value };
}

describe('who may read /metrics', () => {
  it('refuses a request without a credential, and says how to give one', async () => {
    start();
    const res = await t!.get('/metrics');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="crumb metrics"');
    expect(await res.text()).toContain('an admin API key or network.metrics_token');
  });

  it('refuses a wrong key or token', async () => {
    start();
    for (const headers of [{ authorization: 'Bearer not-a-key-of-this-network' }, { authorization: `Basic ${btoa(`x:${API_KEY}`)}` }]) {
      expect((await t!.get('/metrics', { headers })).status).toBe(401);
    }
    expect((await t!.get('/metrics?api_key=wrong-key-entirely')).status).toBe(401);
  });

  it('answers an admin API key (bearer or api_key) and the metrics token, in the Prometheus text format', async () => {
    start();
    for (const res of [
      await t!.get('/metrics', { headers: { authorization: `Bearer ${API_KEY}` } }),
      await t!.get(`/metrics?api_key=${API_KEY}`),
      await t!.get('/metrics', { headers: { authorization: `bearer ${TOKEN}` } }),
    ]) {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
      expect(parse(await res.text()).samples.length).toBeGreaterThan(0);
    }
  });

  it('does not exist where no metrics are collected', async () => {
    t = makeApp();
    expect((await t.get('/metrics', { headers: { authorization: `Bearer ${API_KEY}` } })).status).toBe(404);
  });

  it('takes a metrics_token of 16 characters or more only', () => {
    const file = testNetworkFile();
    file.network.metrics_token = 'short-token';
    expect(() => loadNetwork(file)).toThrow(NetworkError);
    try {
      loadNetwork(file);
    } catch (error) {
      expect((error as NetworkError).problems).toEqual(['network metrics_token: must be at least 16 characters']);
    }
    file.network.metrics_token = TOKEN;
    expect(loadNetwork(file).metrics_token).toBe(TOKEN);
    delete file.network.metrics_token;
    expect(loadNetwork(file).metrics_token).toBeNull();
  });
});

describe('what /metrics says', () => {
  it('counts the rows the retention job removed, by kind', async () => {
    start();
    await t!.get(`/?a=${AFF.partner}&c=${CREATIVE.lead}`);
    await t!.get(`/?a=${AFF.partner}&c=${CREATIVE.lead}`);
    const m0 = await scrape();
    expect(m0.value('crumb_retention_removed_total', { kind: 'clicks' })).toBe(0);
    // The observed store is the one the job is given on Node.
    expect(await t!.store.retain('clicks', t!.clock.now + 1, 500)).toBe(2);
    const m = await scrape();
    expect(m.value('crumb_retention_removed_total', { kind: 'clicks' })).toBe(2);
    expect(m.value('crumb_retention_removed_total', { kind: 'lead_fields' })).toBe(0);
    expect(m.value('crumb_store_write_seconds_count', { write: 'retention' })).toBe(1);
  });

  it('counts requests by route and status, with a latency histogram per route', async () => {
    start();
    for (let i = 0; i < 3; i++) await t!.get(`/?a=${AFF.partner}&c=${CREATIVE.lead}`);
    await t!.get(`/?a=${AFF.inactive}&c=${CREATIVE.lead}`);
    await t!.get(`/p.ashx?o=${OFFER.lead}&f=img`);
    await t!.get(`/api/2/click.json?api_key=nope`);
    await t!.get('/no-such-page-1');
    await t!.get('/no-such-page-2');
    const m = await scrape();
    expect(m.value('crumb_http_requests_total', { route: '/', status: '302' })).toBe(4);
    expect(m.value('crumb_http_requests_total', { route: '/p.ashx', status: '200' })).toBe(1);
    // A refused key is counted under the call it was refused for.
    expect(m.value('crumb_http_requests_total', { route: '/api/2/click.json', status: '401' })).toBe(1);
    expect(m.value('crumb_http_requests_total', { route: 'unmatched', status: '404' })).toBe(2);
    // A path nothing answered never becomes a label of its own.
    expect(m.samples.some((s) => s.labels.route?.includes('no-such-page'))).toBe(false);
    expect(m.value('crumb_http_request_duration_seconds_count', { route: '/' })).toBe(4);
    expect(m.value('crumb_http_request_duration_seconds_bucket', { route: '/', le: '+Inf' })).toBe(4);
    expect(m.types.get('crumb_http_request_duration_seconds')).toBe('histogram');
    expect(m.types.get('crumb_http_requests_total')).toBe('counter');
  });

  it('names an API call by its route, whether it was answered or refused', async () => {
    start();
    await t!.get(`/api/2/click.json?api_key=nope`);
    await t!.get(`/api/2/click.json?api_key=${API_KEY}`);
    const m = await scrape();
    const routes = m.samples.filter((s) => s.name === 'crumb_http_requests_total').map((s) => `${s.labels.route} ${s.labels.status}`);
    expect(routes).toContain('/api/2/click.json 200');
    expect(routes).toContain('/api/2/click.json 401');
  });

  it('counts the clicks, leads and conversions committed, duplicates apart', async () => {
    start();
    const { reqid } = await click(t!);
    await t!.get(`/?a=${AFF.inactive}&c=${CREATIVE.lead}`);
    const lead = { ckm_campaign_id: CAMPAIGN.lead, ckm_key: POST_KEY, first_name: 'Ada', last_name: 'L', email: 'ada@example.com', zip: '02134' };
    await t!.post('/d.ashx', form(lead), FORM);
    await t!.post('/d.ashx', form(lead), FORM);
    // A lead of the offer that pays per lead is a conversion too.
    await t!.post('/d.ashx', form({ ckm_campaign_id: CAMPAIGN.cpl, ckm_key: 'solar-post-key', first_name: 'Ada', email: 'ada@example.com' }), FORM);
    await t!.get(`/api/2/conversion.json?api_key=${API_KEY}&click_id=${reqid}&offer_id=${OFFER.lead}&unique_id=u1`);
    await t!.get(`/api/2/conversion.json?api_key=${API_KEY}&click_id=${reqid}&offer_id=${OFFER.lead}&unique_id=u1`);
    // Another click's order (a click has one base conversion).
    const other = await click(t!);
    await t!.get(`/p.ashx?o=${OFFER.lead}&r=${other.reqid}&t=order-2&f=img`);
    const m = await scrape();
    expect(m.value('crumb_clicks_recorded_total', { attributed: 'true' })).toBe(2);
    expect(m.value('crumb_clicks_recorded_total', { attributed: 'false' })).toBe(1);
    expect(m.value('crumb_leads_recorded_total')).toBe(2);
    expect(m.value('crumb_duplicates_total', { kind: 'lead' })).toBe(1);
    expect(m.value('crumb_conversions_recorded_total', { source: 'api' })).toBe(1);
    expect(m.value('crumb_conversions_recorded_total', { source: 'pixel' })).toBe(1);
    expect(m.value('crumb_conversions_recorded_total', { source: 'lead' })).toBe(1);
    expect(m.value('crumb_duplicates_total', { kind: 'conversion' })).toBe(1);
    // Every write was timed until its commit, and none is waiting now.
    expect(m.value('crumb_store_write_seconds_count', { write: 'click' })).toBe(3);
    expect(m.value('crumb_store_write_seconds_count', { write: 'lead' })).toBe(3);
    expect(m.value('crumb_store_write_seconds_count', { write: 'conversion' })).toBe(3);
    expect(m.value('crumb_store_writes_waiting')).toBe(0);
    expect(m.value('crumb_store_up')).toBe(1);
  });

  it('shows the outbox: pending, due and its age; then delivered and given-up postbacks', async () => {
    start();
    const res = await t!.post(
      '/api/2/affiliate_postback.json',
      JSON.stringify({ api_key: API_KEY, affiliate_id: AFF.partner, offer_id: 0, postback_url: 'https://affiliate.example/pb?c={conversion_id}' }),
      'application/json',
    );
    expect(res.status).toBe(200);
    const { reqid } = await click(t!);
    const other = await click(t!);
    await t!.get(`/api/2/conversion.json?api_key=${API_KEY}&click_id=${reqid}&offer_id=${OFFER.lead}&unique_id=ok`);
    await t!.get(`/api/2/conversion.json?api_key=${API_KEY}&click_id=${other.reqid}&offer_id=${OFFER.lead}&unique_id=gone`);
    const before = await scrape();
    expect(before.value('crumb_postbacks_pending')).toBe(2);
    expect(before.value('crumb_postbacks_due')).toBe(2);
    expect(before.value('crumb_postbacks_oldest_pending_seconds')).toBeGreaterThanOrEqual(0);
    expect(before.value('crumb_postbacks_oldest_pending_seconds')).toBeLessThan(60);

    // A fake affiliate server: nothing is dialled. One postback is taken, the other refused for good.
    const dialled: string[] = [];
    dispatcher = createDispatcher({
      store: t!.store,
      fetch: async (url) => {
        dialled.push(url);
        return new Response(null, { status: url.includes('c=1') ? 200 : 410 });
      },
      maxAttempts: 1,
      pollMs: 20,
    });
    dispatcher.start();
    await eventually(async () => (await scrape()).value('crumb_postbacks_pending') === 0, 10_000, 'the outbox to empty');
    const after = await scrape();
    expect(dialled.sort()).toEqual(['https://affiliate.example/pb?c=1', 'https://affiliate.example/pb?c=2']);
    expect(after.value('crumb_postbacks_delivered_total')).toBe(1);
    expect(after.value('crumb_postbacks_failed_total')).toBe(1);
    expect(after.value('crumb_postbacks_oldest_pending_seconds')).toBe(0);
    expect(after.value('crumb_store_write_seconds_count', { write: 'attempt' })).toBe(2);
  });

  it('still answers when the store does not, with crumb_store_up 0', async () => {
    const store = openSqliteStore({ path: tempDbPath() });
    const failing: Store = Object.create(store);
    failing.outboxStats = async () => {
      throw new Error('database is locked');
    };
    start({ store: failing });
    const m = await scrape();
    expect(m.value('crumb_store_up')).toBe(0);
    expect(m.value('crumb_postbacks_pending')).toBeNaN();
  });

  it("adds the process's own figures (CPU, memory, event loop delay)", async () => {
    start();
    const m = await scrape();
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(m.value(name), name).toBeGreaterThanOrEqual(0);
    }
  });

  it('keeps every histogram cumulative, ending at its count', async () => {
    start();
    for (let i = 0; i < 20; i++) await t!.get(`/?a=${AFF.partner}&c=${CREATIVE.lead}&s1=${i}`);
    const m = await scrape();
    const series = new Map<string, Sample[]>();
    for (const s of m.samples.filter((s) => s.name.endsWith('_bucket'))) {
      const { le: _le, ...rest } = s.labels;
      const key = `${s.name}${JSON.stringify(rest)}`;
      series.set(key, [...(series.get(key) ?? []), s]);
    }
    expect(series.size).toBeGreaterThan(3);
    for (const [key, buckets] of series) {
      const values = buckets.map((b) => b.value);
      expect([...values].sort((a, b) => a - b), key).toEqual(values);
      const { le: _le, ...labels } = buckets.at(-1)!.labels;
      expect(buckets.at(-1)!.labels.le).toBe('+Inf');
      expect(m.value(buckets[0]!.name.replace(/_bucket$/, '_count'), labels), key).toBe(values.at(-1));
    }
  });
});
