// Retention and erasure (PROTOCOL.md 12): the network's retention_days and anonymize_ip settings,
// the retention job over a real store, and DELETE /api/2/lead.json.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { anonymizeIp } from '../../server/address.js';
import { settingsSchema } from '../../server/network.js';
import { createRetention } from '../../server/ops/retention.js';
import { makeApp, type TestApp } from '../support/app.js';
import { call, createKey } from '../support/keys.js';
import { click, form, FORM, JANE } from '../support/leads.js';
import { ADVERTISER, AFF, API_KEY, OFFER } from '../support/network.js';

const DAY = 86_400_000;
let t: TestApp;
beforeEach(() => {
  t = makeApp();
});
afterEach(() => t.close());

async function settings(change: Record<string, unknown>) {
  const res = await call(t, 'PUT', 'network.json', API_KEY, change as never);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

async function postLead(values: Record<string, string | number>, ip = '198.51.100.7') {
  const res = await t.post('/d.ashx', form({ ckm_bp: 0, ckm_offer_id: OFFER.lead, ...values }), FORM, { headers: { 'x-test-ip': ip } });
  expect(res.status).toBe(200);
}

describe('anonymizeIp', () => {
  it('drops the last octet of an IPv4 address and the last 80 bits of an IPv6 one', () => {
    expect(anonymizeIp('203.0.113.9')).toBe('203.0.113.0');
    expect(anonymizeIp('::ffff:203.0.113.9')).toBe('203.0.113.0');
    expect(anonymizeIp('2001:db8:85a3:8d3:1319:8a2e:370:7348')).toBe('2001:db8:85a3::');
    expect(anonymizeIp('2001:DB8::1')).toBe('2001:db8::');
    expect(anonymizeIp('fe80::1%eth0')).toBe('fe80::');
    expect(anonymizeIp('::1')).toBe('::');
  });

  it('answers null for what is not an address', () => {
    expect(anonymizeIp('not-an-ip')).toBeNull();
    expect(anonymizeIp('1:2:3:4:5:6:7:8:9')).toBeNull();
    expect(anonymizeIp(undefined)).toBeNull();
  });
});

describe('retention settings', () => {
  it('default to keeping everything and not anonymising', () => {
    const s = settingsSchema.parse({ name: 'n', internal_affiliate_id: 1 });
    expect(s.retention_days).toEqual({ clicks: null, delivery_attempts: null, lead_fields: null });
    expect(s.anonymize_ip).toBe(false);
  });

  it('refuse a number of days that is not a whole number of at least 1, naming the field', async () => {
    const res = await call(t, 'PUT', 'network.json', API_KEY, { retention_days: { clicks: 0 } } as never);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('retention_days');
  });

  it('are changed through the API and shown in the export', async () => {
    await settings({ retention_days: { clicks: 90, lead_fields: 365 }, anonymize_ip: true });
    const exported = await call(t, 'GET', 'network.json', API_KEY);
    expect(exported.body.network.network).toMatchObject({ retention_days: { clicks: 90, delivery_attempts: null, lead_fields: 365 }, anonymize_ip: true });
  });
});

describe('anonymize_ip', () => {
  it("stores clicks' and leads' addresses without their last octet once the network asks", async () => {
    const before = await click(t);
    await settings({ anonymize_ip: true });
    const after = await click(t);
    expect((await t.store.getClick(before.reqid))!.ip).toBe('198.51.100.7');
    expect((await t.store.getClick(after.reqid))!.ip).toBe('198.51.100.0');
    await postLead({ ckm_request_id: after.reqid, ...JANE }, '2001:db8:1:2:3:4:5:6');
    const { rows } = await t.store.listLeads({ include_tests: true, offset: 0, limit: 10 });
    expect(rows.map((l) => l.ip)).toEqual(['2001:db8:1::']);
  });
});

describe('the retention job', () => {
  it('removes old clicks and strips old leads, a batch at a time, and leaves the young ones', async () => {
    const old = await click(t);
    await postLead({ ckm_request_id: old.reqid, ...JANE });
    t.clock.now += 40 * DAY;
    const young = await click(t);
    await postLead({ ckm_request_id: young.reqid, ...JANE, email: 'young@example.com' });
    await settings({ retention_days: { clicks: 30, lead_fields: 30, delivery_attempts: 7 } });

    const job = createRetention({ store: t.store, network: () => t.network.current, clock: () => t.clock.now, batch: 1, pauseMs: 0 });
    const run = await job.run();
    expect(run).toEqual({ removed: { clicks: 1, delivery_attempts: 0, lead_fields: 1 }, ended_sessions: 0, more: false });
    expect(await t.store.getClick(old.reqid)).toBeUndefined();
    expect(await t.store.getClick(young.reqid)).toBeDefined();
    const { rows } = await t.store.listLeads({ include_tests: true, offset: 0, limit: 10 });
    expect(rows.map((l) => l.email)).toEqual([null, 'young@example.com']);
    expect((await job.run()).removed).toEqual({ clicks: 0, delivery_attempts: 0, lead_fields: 0 });
  });

  it('stops at maxBatches and says more is left (the Cron trigger takes the rest next time)', async () => {
    for (let i = 0; i < 3; i++) await click(t);
    t.clock.now += 40 * DAY;
    await settings({ retention_days: { clicks: 30 } });
    const job = createRetention({ store: t.store, network: () => t.network.current, clock: () => t.clock.now, batch: 1, pauseMs: 0, maxBatches: 2 });
    expect(await job.run()).toEqual({ removed: { clicks: 2, delivery_attempts: 0, lead_fields: 0 }, ended_sessions: 0, more: true });
    expect((await job.run()).removed.clicks).toBe(1);
  });

  it('never runs two passes at once, and stop() waits for the batch in progress', async () => {
    await settings({ retention_days: { clicks: 30 } });
    let release: () => void = () => {};
    let calls = 0;
    const slow = Object.create(t.store) as typeof t.store;
    slow.retain = async () => {
      calls++;
      await new Promise<void>((resolve) => (release = resolve));
      return 0;
    };
    const job = createRetention({ store: slow, network: () => t.network.current, clock: () => t.clock.now });
    const first = job.run();
    const second = job.run();
    expect(second).toBe(first);
    let stopped = false;
    const stopping = job.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(stopped).toBe(true);
    expect(calls).toBe(1);
  });

  it('does nothing while the network keeps everything', async () => {
    await click(t);
    t.clock.now += 4000 * DAY;
    const job = createRetention({ store: t.store, network: () => t.network.current, clock: () => t.clock.now });
    expect((await job.run()).removed).toEqual({ clicks: 0, delivery_attempts: 0, lead_fields: 0 });
  });
});

describe('the retention job and signed-out console sessions', () => {
  it('removes a signed-out session once its cookie has expired, while the network keeps everything else', async () => {
    await t.store.endSession('expired', t.clock.now - 1, t.clock.now - DAY);
    await t.store.endSession('live', t.clock.now + DAY, t.clock.now);
    const job = createRetention({ store: t.store, network: () => t.network.current, clock: () => t.clock.now, batch: 1, pauseMs: 0 });
    expect(await job.run()).toEqual({ removed: { clicks: 0, delivery_attempts: 0, lead_fields: 0 }, ended_sessions: 1, more: false });
    expect(await t.store.sessionEnded('expired')).toBe(false);
    expect(await t.store.sessionEnded('live')).toBe(true);
  });
});

describe('DELETE /api/2/lead.json', () => {
  it("erases the person's lead fields and anonymises their addresses, keeping the lead and its click", async () => {
    const { reqid } = await click(t);
    await postLead({ ckm_request_id: reqid, ...JANE });
    await postLead({ ...JANE, email: 'other@example.com' });
    const res = await call(t, 'DELETE', 'lead.json', API_KEY, { email_address: 'Jane@Example.com' });
    expect(res).toEqual({ status: 200, body: { request_status: 'Success', erased: { leads: 1, clicks: 1, conversions: 0 } } });
    const listed = await call(t, 'GET', 'leads.json', API_KEY, { start_date: '2026-11-01', end_date: '2026-12-01' });
    const [erased, other] = listed.body.response.leads;
    expect(erased).toMatchObject({ email: null, fields: {}, ip_address: '198.51.100.0', user_agent: null, click_id: reqid });
    expect(other).toMatchObject({ email: 'other@example.com', ip_address: '198.51.100.7' });
    expect((await t.store.getClick(reqid))!.ip).toBe('198.51.100.0');
  });

  it('erases by lead_id too, and asks for one of the two', async () => {
    await postLead({ ...JANE });
    const [lead] = (await t.store.listLeads({ include_tests: true, offset: 0, limit: 1 })).rows;
    const hex = lead!.lead_id.toString(16).toUpperCase().padStart(8, '0');
    expect((await call(t, 'DELETE', 'lead.json', API_KEY, { lead_id: hex })).body.erased.leads).toBe(1);
    const neither = await call(t, 'DELETE', 'lead.json', API_KEY);
    expect(neither.status).toBe(400);
    expect(neither.body.message).toContain('email_address');
  });

  it('is for admin keys only', async () => {
    await postLead({ ...JANE });
    for (const key of [await createKey(t, 'advertiser', ADVERTISER.acme), await createKey(t, 'affiliate', AFF.partner)]) {
      const res = await call(t, 'DELETE', 'lead.json', key, { email_address: JANE.email });
      expect(res.status).toBe(403);
    }
    const [lead] = (await t.store.listLeads({ include_tests: true, offset: 0, limit: 1 })).rows;
    expect(lead!.email).toBe(JANE.email);
  });
});
