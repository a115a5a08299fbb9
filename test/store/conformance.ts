// The store conformance suite: one set of behaviours, run against every backend (sqlite.test.ts,
// postgres.test.ts). It asserts what types.ts documents, through the Store interface only, so a
// backend that passes it can stand in for another under every caller.
//
// Each test gets a database of its own, named by the suite; opening the same name twice gives two
// stores on one database, which is how the suite plays two server instances.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../support/receiver.js';
import { reqids, webCryptoMac } from '../../server/reqid.js';
import { legacyReqid } from '../support/legacy-reqid.js';
import { StoreOverloaded } from '../../server/store/errors.js';
import { EVERY_GROUP } from '../../server/reports/page.js';
import {
  CONVERSION_SORTS,
  type Attempt,
  type DeliveryClaim,
  type DeliveryRow,
  type ClickRecord,
  type ConversionRow,
  type ConversionSort,
  type ConversionStatus,
  type DeliveriesFor,
  type LeadChange,
  type LeadDedupe,
  type NewConversion,
  type NewLead,
  type NetworkWrite,
  type NewPostback,
  type Page,
  type ReportOrder,
  type ReportQuery,
  type ReportRow,
  type Scope,
  type Store,
} from '../../server/store/types.js';

export interface StoreBackend {
  /** Opens a store on the database called `name`, creating that database when it is new. */
  open(name: string, options?: { maxQueued?: number }): Promise<Store>;
  /** Removes every database this backend made (after the suite). */
  cleanup(): Promise<void>;
}

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SUITE_SECRET = 'conformance-suite-secret';
const ids = reqids(webCryptoMac(SUITE_SECRET));

async function makeClick(at = T0, change: Partial<ClickRecord> = {}): Promise<ClickRecord> {
  return {
    reqid: await ids.mint(at),
    click_time: at,
    affiliate_id: 67890,
    offer_id: 12345,
    campaign_id: 3870,
    creative_id: 1057,
    s1: 'sub-1',
    s2: null,
    s3: 'ünïcødé ✓ 日本',
    s4: null,
    s5: "it's \"quoted\" \\ back",
    ip: '198.51.100.7',
    country: 'US',
    user_agent: 'Mozilla/5.0 (X11; Linux x86_64)',
    referrer: 'https://news.example/?a=1&b=2',
    tracking_domain_id: 1,
    visitor_id: 'visitor-1',
    disposition: 'redirect',
    ...change,
  };
}

function makeLead(change: Partial<NewLead> = {}): NewLead {
  return {
    offer_id: 12345,
    affiliate_id: 67890,
    campaign_id: 3870,
    creative_id: 1057,
    reqid: null,
    method: 'server',
    email: 'ada@example.com',
    // Not in alphabetical order: fields come back in the order they were posted.
    fields: { zip: '02134', first_name: 'Ada', email: 'ada@example.com', note: 'ünïcødé "x"' },
    s1: 'sub-1',
    s2: null,
    s3: null,
    s4: null,
    s5: null,
    ip: '203.0.113.9',
    user_agent: 'curl/8',
    created_at: T0,
    is_test: false,
    attributed: true,
    resell: false,
    ...change,
  };
}

function makeConversion(change: Partial<NewConversion> = {}): NewConversion {
  return {
    offer_id: 12345,
    advertiser_id: 5,
    affiliate_id: 67890,
    campaign_id: 3870,
    creative_id: 1057,
    reqid: null,
    lead_id: null,
    event_id: 0,
    conversion_time: T0,
    click_time: T0 - HOUR,
    payout_cents: 1800,
    revenue_cents: 2200,
    computed_payout_cents: 1800,
    computed_revenue_cents: 2200,
    amount_cents: null,
    status: 'approved',
    scrub_reason: null,
    dedupe_key: null,
    once_per_click: false,
    transaction_id: null,
    unique_id: null,
    order_id: null,
    adv1: null,
    adv2: null,
    adv3: null,
    adv4: null,
    adv5: null,
    s1: null,
    s2: null,
    s3: null,
    s4: null,
    s5: null,
    source: 'api',
    ip: '203.0.113.9',
    is_test: false,
    ...change,
  };
}

function makePostback(change: Partial<NewPostback> = {}): NewPostback {
  return {
    affiliate_id: 67890,
    offer_id: 12345,
    postback_url: 'https://affiliate.example/pb?click=#reqid#&lead=#leadid#',
    postback_status: 'active',
    postback_type_id: 1,
    fire_on: 'conversion',
    ...change,
  };
}

/** Outbox rows rendered from the stored conversion, as recordConversion does: the URL names its id. */
function deliveriesTo(postback_ids: number[], fire_on: 'conversion' | 'approval' | 'rejection' = 'conversion'): DeliveriesFor {
  return (row) =>
    postback_ids.map((postback_id) => ({
      postback_id,
      conversion_id: row.conversion_id,
      fire_on,
      url: `https://affiliate.example/pb?id=${row.conversion_id}&lead=${row.lead_id}&status=${row.status}&p=${postback_id}`,
    }));
}

const none: DeliveriesFor = () => [];

const allLeads = { include_tests: true, offset: 0, limit: 1000 };
const allConversions = { include_tests: true, sort: 'conversion_id' as const, descending: false, offset: 0, limit: 1000 };
const allDeliveries = { offset: 0, limit: 1000 };

export function storeConformance(name: string, backend: StoreBackend): void {
  describe(`${name} store`, () => {
    let databases = 0;
    const opened: Store[] = [];

    /** A new, empty database. `open()` it once per server instance. */
    function database() {
      const db = `t${++databases}`;
      return {
        async open() {
          const store = await backend.open(db);
          opened.push(store);
          return store;
        },
      };
    }
    const fresh = () => database().open();

    afterEach(async () => {
      await Promise.allSettled(opened.splice(0).map((s) => s.close()));
    });
    afterAll(() => backend.cleanup());

    it(`is the ${name} backend`, async () => {
      expect((await fresh()).kind).toBe(name);
    });

    describe('secret', () => {
      it('is created once and answered ever after', async () => {
        const store = await fresh();
        expect(await store.secret(() => 'first')).toBe('first');
        expect(await store.secret(() => 'second')).toBe('first');
      });

      it('is shared by every instance on one database, even when they start at once', async () => {
        const db = database();
        const [a, b] = await Promise.all([db.open(), db.open()]);
        const [fromA, fromB] = await Promise.all([a.secret(() => 'from-a'), b.secret(() => 'from-b')]);
        expect(fromA).toBe(fromB);
        expect(['from-a', 'from-b']).toContain(fromA);
        const c = await db.open();
        expect(await c.secret(() => 'from-c')).toBe(fromA);
      });
    });

    describe('clicks', () => {
      it('round-trip with every field', async () => {
        const store = await fresh();
        const click = await makeClick();
        await store.recordClick(click);
        expect(await store.getClick(click.reqid)).toEqual(click);
      });

      it('round-trip with every optional field empty', async () => {
        const store = await fresh();
        const click = await makeClick(T0, {
          affiliate_id: null, offer_id: null, campaign_id: null, creative_id: null, s1: null, s3: null, s5: null,
          ip: null, country: null, user_agent: null, referrer: null, tracking_domain_id: null, visitor_id: null,
          disposition: 'unknown creative',
        });
        await store.recordClick(click);
        expect(await store.getClick(click.reqid)).toEqual(click);
      });

      it('accept text holding a NUL character, which a client can send', async () => {
        // PostgreSQL cannot store U+0000 and keeps U+FFFD in its place; SQLite keeps it.
        const store = await fresh();
        const click = await makeClick(T0, { s1: 'a\u0000b', user_agent: '\u0000' });
        await store.recordClick(click);
        const stored = await store.getClick(click.reqid);
        expect(['a\u0000b', 'a\uFFFDb']).toContain(stored?.s1);
        expect(await store.getClick('\u0000')).toBeUndefined();
        expect((await store.listClicks({ reqid: 'x\u0000', offset: 0, limit: 10 })).total).toBe(0);
      });

      it('answer undefined for a reqid never recorded', async () => {
        const store = await fresh();
        expect(await store.getClick(await ids.mint(T0))).toBeUndefined();
      });

      it('are committed when recordClick resolves: another instance reads them', async () => {
        const db = database();
        const [a, b] = [await db.open(), await db.open()];
        const click = await makeClick();
        await a.recordClick(click);
        expect(await b.getClick(click.reqid)).toEqual(click);
      });

      it('refuse a reqid already recorded, and still commit the other clicks of the same turn', async () => {
        const store = await fresh();
        const first = await makeClick(T0);
        await store.recordClick(first);
        const [before, after] = [await makeClick(T0 - MINUTE), await makeClick(T0 + MINUTE)];
        const results = await Promise.allSettled([
          store.recordClick(before),
          store.recordClick({ ...first, s1: 'overwritten?' }),
          store.recordClick(after),
        ]);
        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
        expect(await store.getClick(first.reqid)).toEqual(first);
        expect(await store.getClick(before.reqid)).toEqual(before);
        expect(await store.getClick(after.reqid)).toEqual(after);
      });

      it('list in time order within [from, to), by their reqids', async () => {
        const store = await fresh();
        const clicks = await Promise.all([0, 1, 2, 3, 4].map((i) => makeClick(T0 + i * MINUTE, { s1: `c${i}` })));
        // Recorded out of order, in one turn.
        await Promise.all([3, 0, 4, 1, 2].map((i) => store.recordClick(clicks[i]!)));
        const all = await store.listClicks({ offset: 0, limit: 100 });
        expect(all.rows.map((r) => r.s1)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
        expect(all.total).toBe(5);
        const range = await store.listClicks({ from: T0 + MINUTE, to: T0 + 3 * MINUTE, offset: 0, limit: 100 });
        expect(range.rows.map((r) => r.s1)).toEqual(['c1', 'c2']);
        expect(range.total).toBe(2);
        const open = await store.listClicks({ from: T0 + 3 * MINUTE + 1, offset: 0, limit: 100 });
        expect(open.rows.map((r) => r.s1)).toEqual(['c4']);
        const upTo = await store.listClicks({ to: T0 + 1, offset: 0, limit: 100 });
        expect(upTo.rows.map((r) => r.s1)).toEqual(['c0']);
      });

      it('filter by offer and affiliate, and page with the total of the whole list', async () => {
        const store = await fresh();
        for (let i = 0; i < 7; i++) {
          await store.recordClick(await makeClick(T0 + i * MINUTE, { s1: `c${i}`, offer_id: i % 2 ? 2 : 1, affiliate_id: i < 4 ? 10 : 20 }));
        }
        const offer1 = await store.listClicks({ offer_id: 1, offset: 0, limit: 100 });
        expect(offer1.rows.map((r) => r.s1)).toEqual(['c0', 'c2', 'c4', 'c6']);
        const both = await store.listClicks({ offer_id: 1, affiliate_id: 20, offset: 0, limit: 100 });
        expect(both.rows.map((r) => r.s1)).toEqual(['c4', 'c6']);
        const page = await store.listClicks({ offset: 2, limit: 3 });
        expect(page.rows.map((r) => r.s1)).toEqual(['c2', 'c3', 'c4']);
        expect(page.total).toBe(7);
        const past = await store.listClicks({ offset: 10, limit: 3 });
        expect(past).toEqual({ rows: [], total: 7, capped: false, next: null });
      });

      it('filter by campaign and creative', async () => {
        const store = await fresh();
        for (let i = 0; i < 4; i++) {
          await store.recordClick(await makeClick(T0 + i * MINUTE, { s1: `c${i}`, campaign_id: i % 2 ? 3871 : 3870, creative_id: i < 2 ? 1057 : 2001 }));
        }
        const s1 = async (q: Partial<Parameters<Store['listClicks']>[0]>) => (await store.listClicks({ offset: 0, limit: 100, ...q })).rows.map((r) => r.s1);
        expect(await s1({ campaign_id: 3870 })).toEqual(['c0', 'c2']);
        expect(await s1({ creative_id: 2001 })).toEqual(['c2', 'c3']);
        expect(await s1({ campaign_id: 3871, creative_id: 2001 })).toEqual(['c3']);
      });

      it('list by reqid alone when one is given, whatever the other filters say', async () => {
        const store = await fresh();
        const click = await makeClick(T0, { offer_id: 1 });
        await store.recordClick(click);
        await store.recordClick(await makeClick(T0 + MINUTE, { offer_id: 1 }));
        const found = await store.listClicks({ reqid: click.reqid, offer_id: 999, from: T0 + DAY, offset: 0, limit: 100 });
        expect(found.rows.map((r) => r.reqid)).toEqual([click.reqid]);
        expect(found.total).toBe(1);
      });

      it('list ids minted before their first character changed, in time order with today\'s, by the same time ranges', async () => {
        const store = await fresh();
        // Three clicks of the old format (a leading '-'), then three of today's, a minute apart.
        const old = await Promise.all([0, 1, 2].map(async (i) => ({ ...(await makeClick(T0 + i * MINUTE, { s1: `old${i}` })), reqid: await legacyReqid(SUITE_SECRET, T0 + i * MINUTE) })));
        const now = await Promise.all([3, 4, 5].map((i) => makeClick(T0 + i * MINUTE, { s1: `new${i}` })));
        expect(old.map((c) => c.reqid[0])).toEqual(['-', '-', '-']);
        expect(now.every((c) => c.reqid[0] !== '-' && c.reqid[0] !== '_')).toBe(true);
        for (const c of [...now, ...old]) await store.recordClick(c);
        const s1s = async (from?: number, to?: number) => (await store.listClicks({ from, to, offset: 0, limit: 100 })).rows.map((r) => r.s1);
        expect(await s1s()).toEqual(['old0', 'old1', 'old2', 'new3', 'new4', 'new5']);
        expect(await s1s(T0 + MINUTE, T0 + 5 * MINUTE)).toEqual(['old1', 'old2', 'new3', 'new4']);
        expect(await s1s(T0 + MINUTE, T0 + 2 * MINUTE)).toEqual(['old1']);
        expect(await s1s(T0 + 4 * MINUTE, T0 + 6 * MINUTE)).toEqual(['new4', 'new5']);
        expect(await s1s(undefined, T0 + 4 * MINUTE)).toEqual(['old0', 'old1', 'old2', 'new3']);
        expect(await s1s(T0 + 2 * MINUTE)).toEqual(['old2', 'new3', 'new4', 'new5']);
        expect((await store.listClicks({ from: T0 + MINUTE, to: T0 + 5 * MINUTE, offset: 1, limit: 2 })).total).toBe(4);
        expect(await store.getClick(old[1]!.reqid)).toEqual(old[1]);
      });

      it('list with the first real base conversion of each click (not a test, not an event)', async () => {
        const store = await fresh();
        const [converted, plain] = [await makeClick(T0), await makeClick(T0 + MINUTE)];
        await store.recordClick(converted);
        await store.recordClick(plain);
        await store.insertConversion(makeConversion({ reqid: plain.reqid, event_id: 2 }), none);
        const test = await store.insertConversion(makeConversion({ reqid: converted.reqid, is_test: true }), none);
        const first = await store.insertConversion(makeConversion({ reqid: converted.reqid }), none);
        await store.insertConversion(makeConversion({ reqid: converted.reqid, event_id: 2 }), none);
        const { rows } = await store.listClicks({ offset: 0, limit: 100 });
        expect(rows).toEqual([
          { ...converted, conversion_id: first.conversion.conversion_id },
          { ...plain, conversion_id: null },
        ]);
        expect(first.conversion.conversion_id).toBeGreaterThan(test.conversion.conversion_id);
      });
    });

    describe('leads', () => {
      const window = (lead: NewLead, days = 30): LeadDedupe => ({ email: lead.email!, since: lead.created_at - days * DAY });

      it('are stored with their fields as posted', async () => {
        const store = await fresh();
        const lead = makeLead();
        const result = await store.insertLead(lead, null, null);
        expect(result.duplicate).toBe(false);
        if (result.duplicate) return;
        expect(result.conversion).toBeNull();
        expect(result.lead).toEqual({ ...lead, lead_id: expect.any(Number), conversion_id: null, updated_at: null, erased_at: null });
        expect(Object.keys(result.lead.fields)).toEqual(Object.keys(lead.fields));
        const listed = await store.listLeads({ ...allLeads, lead_id: result.lead.lead_id });
        expect(listed).toEqual({ rows: [result.lead], total: 1, capped: false, next: null });
        expect(Object.keys(listed.rows[0]!.fields)).toEqual(Object.keys(lead.fields));
      });

      it('are duplicates of the earlier lead for the same offer and email inside the window', async () => {
        const store = await fresh();
        const first = makeLead();
        const accepted = await store.insertLead(first, window(first), null);
        const again = makeLead({ created_at: T0 + HOUR, fields: { first_name: 'Other' } });
        const result = await store.insertLead(again, window(again), null);
        expect(result).toEqual({ duplicate: true, lead: accepted.lead });
        expect((await store.listLeads(allLeads)).total).toBe(1);
      });

      it('are not duplicates on another offer, or when no check is asked for', async () => {
        const store = await fresh();
        const first = makeLead();
        await store.insertLead(first, window(first), null);
        const otherOffer = makeLead({ offer_id: 777, created_at: T0 + 1 });
        expect((await store.insertLead(otherOffer, window(otherOffer), null)).duplicate).toBe(false);
        expect((await store.insertLead(makeLead({ created_at: T0 + 2 }), null, null)).duplicate).toBe(false);
        const otherEmail = makeLead({ email: 'grace@example.com', created_at: T0 + 3 });
        expect((await store.insertLead(otherEmail, window(otherEmail), null)).duplicate).toBe(false);
        expect((await store.listLeads(allLeads)).total).toBe(4);
      });

      it('are accepted again once the window has passed, and later ones are duplicates of the newer lead', async () => {
        const store = await fresh();
        const first = makeLead();
        await store.insertLead(first, window(first), null);
        const later = makeLead({ created_at: T0 + 31 * DAY });
        const accepted = await store.insertLead(later, window(later), null);
        expect(accepted.duplicate).toBe(false);
        const third = makeLead({ created_at: T0 + 31 * DAY + HOUR });
        expect(await store.insertLead(third, window(third), null)).toEqual({ duplicate: true, lead: accepted.lead });
      });

      it('sent at once with the same email are accepted exactly once, on every instance', async () => {
        const db = database();
        const [a, b] = [await db.open(), await db.open()];
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => {
            const lead = makeLead({ created_at: T0 + i });
            const store = i % 2 ? a : b;
            return store.insertLead(lead, window(lead), { conversion: makeConversion({ source: 'lead' }), deliveries: none });
          }),
        );
        const accepted = results.filter((r) => !r.duplicate);
        expect(accepted).toHaveLength(1);
        const winner = accepted[0]!.lead;
        for (const r of results) expect(r.lead.lead_id).toBe(winner.lead_id);
        expect((await a.listLeads(allLeads)).total).toBe(1);
        expect((await a.listConversions(allConversions)).total).toBe(1);
      });

      it('are written with their conversion and its outbox rows, which name the conversion', async () => {
        const store = await fresh();
        const postback = await store.createPostback(makePostback());
        const result = await store.insertLead(makeLead(), null, {
          conversion: makeConversion({ source: 'lead' }),
          deliveries: deliveriesTo([postback.postback_id]),
        });
        if (result.duplicate) throw new Error('not a duplicate');
        const { lead, conversion } = result;
        expect(conversion).toEqual({ ...makeConversion({ source: 'lead' }), lead_id: lead.lead_id, conversion_id: expect.any(Number) });
        expect(lead.conversion_id).toBe(conversion!.conversion_id);
        expect((await store.listLeads(allLeads)).rows).toEqual([lead]);
        expect(await store.getConversion(conversion!.conversion_id)).toEqual(conversion);
        const { rows } = await store.listDeliveries({ ...allDeliveries, conversion_id: conversion!.conversion_id });
        expect(rows).toEqual([
          {
            delivery_id: expect.any(Number),
            postback_id: postback.postback_id,
            conversion_id: conversion!.conversion_id,
            fire_on: 'conversion',
            url: `https://affiliate.example/pb?id=${conversion!.conversion_id}&lead=${lead.lead_id}&status=approved&p=${postback.postback_id}`,
            status: 'pending',
            attempts: 0,
            created_at: expect.any(Number),
            next_attempt_at: expect.any(Number),
            delivered_at: null,
            last_error: null,
            host: 'affiliate.example',
            lease: 0,
            resend_of: null,
            attempt_log: [],
          },
        ]);
      });

      it('are not written at all when their outbox rows cannot be built, and hold no email', async () => {
        const store = await fresh();
        const lead = makeLead();
        const failing = store.insertLead(lead, window(lead), {
          conversion: makeConversion({ source: 'lead' }),
          deliveries: () => {
            throw new Error('cannot render');
          },
        });
        await expect(failing).rejects.toThrow('cannot render');
        expect((await store.listLeads(allLeads)).total).toBe(0);
        expect((await store.listConversions(allConversions)).total).toBe(0);
        expect((await store.listDeliveries(allDeliveries)).total).toBe(0);
        // The failed lead did not claim the email: the same lead again is accepted.
        expect((await store.insertLead(lead, window(lead), null)).duplicate).toBe(false);
      });

      describe('updates', () => {
        const change = (fields: Record<string, string>, more: Partial<LeadChange> = {}): LeadChange => ({
          fields,
          email: null,
          resell: null,
          updated_at: T0 + HOUR,
          ...more,
        });

        it('merge the fields sent over the lead\'s, keeping their order, new ones after', async () => {
          const store = await fresh();
          const { lead } = await store.insertLead(makeLead(), null, null);
          expect(await store.getLead(lead.lead_id)).toEqual(lead);
          const result = await store.updateLead(lead.lead_id, change({ first_name: 'Augusta', city: 'London', note: 'ünï "y"' }), null);
          expect(result).toEqual({
            duplicate: false,
            lead: { ...lead, fields: { zip: '02134', first_name: 'Augusta', email: 'ada@example.com', note: 'ünï "y"', city: 'London' }, updated_at: T0 + HOUR },
          });
          expect(Object.keys(result!.lead.fields)).toEqual(['zip', 'first_name', 'email', 'note', 'city']);
          expect(await store.getLead(lead.lead_id)).toEqual(result!.lead);
          expect((await store.listLeads(allLeads)).rows).toEqual([result!.lead]);
        });

        it('flag a lead for resale, and unflag it', async () => {
          const store = await fresh();
          const { lead } = await store.insertLead(makeLead({ resell: true }), null, null);
          expect(lead.resell).toBe(true);
          expect((await store.updateLead(lead.lead_id, change({}, { resell: false }), null))?.lead.resell).toBe(false);
          expect((await store.updateLead(lead.lead_id, change({ zip: '10001' }), null))?.lead).toMatchObject({ resell: false, fields: { zip: '10001' } });
          expect((await store.updateLead(lead.lead_id, change({}, { resell: true }), null))?.lead.resell).toBe(true);
        });

        it('answer undefined for a lead that does not exist', async () => {
          const store = await fresh();
          expect(await store.updateLead(4242, change({ zip: '1' }), null)).toBeUndefined();
          expect(await store.getLead(4242)).toBeUndefined();
        });

        it('claim a new email: one another lead holds inside the window changes nothing; a free one becomes this lead\'s', async () => {
          const store = await fresh();
          const ada = makeLead();
          const grace = makeLead({ email: 'grace@example.com', fields: { email: 'grace@example.com' } });
          const first = await store.insertLead(ada, window(ada), null);
          const second = await store.insertLead(grace, window(grace), null);
          const since = T0 + HOUR - 30 * DAY;
          const taken = await store.updateLead(second.lead.lead_id, change({ email: 'ada@example.com' }, { email: 'ada@example.com' }), { email: 'ada@example.com', since });
          expect(taken).toEqual({ duplicate: true, lead: first.lead });
          expect(await store.getLead(second.lead.lead_id)).toEqual(second.lead);

          const moved = await store.updateLead(second.lead.lead_id, change({ email: 'g@example.com' }, { email: 'g@example.com' }), { email: 'g@example.com', since });
          expect(moved?.lead).toMatchObject({ email: 'g@example.com', fields: { email: 'g@example.com' } });
          const later = makeLead({ email: 'g@example.com', created_at: T0 + 2 * HOUR });
          expect(await store.insertLead(later, window(later), null)).toEqual({ duplicate: true, lead: moved!.lead });
          // Its own email again: it holds it already.
          const same = await store.updateLead(second.lead.lead_id, change({}, { email: 'g@example.com' }), { email: 'g@example.com', since });
          expect(same?.duplicate).toBe(false);
        });

        it('sent at once, each with its own field, keep every field (merged by the database, not read and written back)', async () => {
          const db = database();
          const [a, b] = [await db.open(), await db.open()];
          const { lead } = await a.insertLead(makeLead(), null, null);
          const results = await Promise.all(
            Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).updateLead(lead.lead_id, change({ [`f${i}`]: `v${i}` }), null)),
          );
          expect(results.every((r) => r?.duplicate === false)).toBe(true);
          const stored = (await a.getLead(lead.lead_id))!;
          for (let i = 0; i < 12; i++) expect(stored.fields[`f${i}`]).toBe(`v${i}`);
          expect(Object.keys(stored.fields).slice(0, 4)).toEqual(Object.keys(lead.fields));
        });
      });

      it('list by id, time range, offer and affiliate, leaving tests out unless asked, with paging', async () => {
        const store = await fresh();
        const made: number[] = [];
        for (let i = 0; i < 6; i++) {
          const r = await store.insertLead(
            makeLead({ created_at: T0 + i * HOUR, offer_id: i % 2 ? 2 : 1, affiliate_id: i < 3 ? 10 : 20, is_test: i === 5, email: `p${i}@example.com` }),
            null,
            null,
          );
          made.push(r.lead.lead_id);
        }
        const idsOf = async (q: Partial<Parameters<Store['listLeads']>[0]>) =>
          (await store.listLeads({ include_tests: false, offset: 0, limit: 100, ...q })).rows.map((r) => r.lead_id);
        expect(await idsOf({})).toEqual(made.slice(0, 5));
        expect(await idsOf({ include_tests: true })).toEqual(made);
        expect(await idsOf({ from: T0 + HOUR, to: T0 + 3 * HOUR })).toEqual([made[1], made[2]]);
        expect(await idsOf({ offer_id: 2, include_tests: true })).toEqual([made[1], made[3], made[5]]);
        expect(await idsOf({ affiliate_id: 20 })).toEqual([made[3], made[4]]);
        expect(await idsOf({ lead_id: made[2] })).toEqual([made[2]]);
        const page = await store.listLeads({ include_tests: true, offset: 2, limit: 2 });
        expect(page.rows.map((r) => r.lead_id)).toEqual([made[2], made[3]]);
        expect(page.total).toBe(6);
      });
    });

    describe('conversions', () => {
      it('round-trip with every field', async () => {
        const store = await fresh();
        const input = makeConversion({
          reqid: await ids.mint(T0 - HOUR),
          amount_cents: 12_345,
          dedupe_key: 'order-1',
          transaction_id: 'order-1',
          unique_id: 'u-1',
          order_id: 'o-1',
          adv1: 'a1', adv2: 'a2', adv3: 'ünï', adv4: 'a4', adv5: 'a5',
          event_id: 3,
          status: 'pending',
          payout_cents: 0,
          revenue_cents: 9_007_199_254_740, // far beyond 32 bits
        });
        const result = await store.insertConversion(input, none);
        expect(result).toEqual({ duplicate: false, conversion: { ...input, conversion_id: expect.any(Number) } });
        expect(await store.getConversion(result.conversion.conversion_id)).toEqual(result.conversion);
        const scrubbed = makeConversion({ status: 'scrubbed', scrub_reason: 'suppressed ip', is_test: true, payout_cents: 0, click_time: null });
        const second = await store.insertConversion(scrubbed, none);
        expect(await store.getConversion(second.conversion.conversion_id)).toEqual({ ...scrubbed, conversion_id: second.conversion.conversion_id });
      });

      it('answer undefined for an id never used', async () => {
        const store = await fresh();
        expect(await store.getConversion(424242)).toBeUndefined();
      });

      it('with a dedupe key already recorded answer the earlier conversion and write nothing', async () => {
        const store = await fresh();
        const postback = await store.createPostback(makePostback());
        const first = await store.insertConversion(makeConversion({ dedupe_key: 'T-1' }), deliveriesTo([postback.postback_id]));
        const again = await store.insertConversion(
          makeConversion({ dedupe_key: 'T-1', payout_cents: 5, conversion_time: T0 + HOUR }),
          deliveriesTo([postback.postback_id]),
        );
        expect(again).toEqual({ duplicate: true, conversion: first.conversion });
        expect((await store.listConversions(allConversions)).total).toBe(1);
        expect((await store.listDeliveries(allDeliveries)).total).toBe(1);
      });

      it('dedupe per offer and event, and never without a key', async () => {
        const store = await fresh();
        const results = [
          await store.insertConversion(makeConversion({ dedupe_key: 'K' }), none),
          await store.insertConversion(makeConversion({ dedupe_key: 'K', event_id: 7 }), none),
          await store.insertConversion(makeConversion({ dedupe_key: 'K', offer_id: 999 }), none),
          await store.insertConversion(makeConversion({ dedupe_key: null }), none),
          await store.insertConversion(makeConversion({ dedupe_key: null }), none),
        ];
        expect(results.map((r) => r.duplicate)).toEqual([false, false, false, false, false]);
        expect(new Set(results.map((r) => r.conversion.conversion_id)).size).toBe(5);
      });

      it('sent 50 at once with one dedupe key are recorded once, with one outbox row', async () => {
        const db = database();
        const [a, b] = [await db.open(), await db.open()];
        const postback = await a.createPostback(makePostback());
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            (i % 2 ? a : b).insertConversion(makeConversion({ dedupe_key: 'same-order', conversion_time: T0 + i }), deliveriesTo([postback.postback_id])),
          ),
        );
        expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
        expect(new Set(results.map((r) => r.conversion.conversion_id)).size).toBe(1);
        expect((await a.listConversions(allConversions)).total).toBe(1);
        const deliveries = await b.listDeliveries(allDeliveries);
        expect(deliveries.total).toBe(1);
        expect(deliveries.rows[0]!.conversion_id).toBe(results[0]!.conversion.conversion_id);
      });

      it('claiming their click: a second for the same click and event answers the first and writes nothing', async () => {
        const store = await fresh();
        const postback = await store.createPostback(makePostback());
        const reqid = await ids.mint(T0 - HOUR);
        const once = (change: Partial<NewConversion> = {}) => makeConversion({ reqid, once_per_click: true, ...change });
        const first = await store.insertConversion(once({ transaction_id: 'A' }), deliveriesTo([postback.postback_id]));
        const again = await store.insertConversion(once({ transaction_id: 'B', conversion_time: T0 + HOUR }), deliveriesTo([postback.postback_id]));
        expect(again).toEqual({ duplicate: true, conversion: first.conversion });
        // Another event of the same click, and the same event of another click, are their own.
        const event = await store.insertConversion(once({ event_id: 2 }), none);
        const event2 = await store.insertConversion(once({ event_id: 2 }), none);
        const otherClick = await store.insertConversion(once({ reqid: await ids.mint(T0 - HOUR) }), none);
        expect([event.duplicate, event2.duplicate, otherClick.duplicate]).toEqual([false, true, false]);
        expect(event2.conversion).toEqual(event.conversion);
        expect((await store.listConversions(allConversions)).total).toBe(3);
        expect((await store.listDeliveries(allDeliveries)).total).toBe(1);
      });

      it('not claiming their click (duplicates allowed, tests) are all kept, and leave the slot to one that claims it', async () => {
        const store = await fresh();
        const reqid = await ids.mint(T0 - HOUR);
        const free = await Promise.all([1, 2, 3].map(() => store.insertConversion(makeConversion({ reqid, once_per_click: false }), none)));
        expect(free.map((r) => r.duplicate)).toEqual([false, false, false]);
        const claiming = await store.insertConversion(makeConversion({ reqid, once_per_click: true }), none);
        expect(claiming.duplicate).toBe(false);
        expect((await store.insertConversion(makeConversion({ reqid, once_per_click: true }), none)).conversion).toEqual(claiming.conversion);
        // The dedupe key still holds among those that claim nothing.
        const keyed = await store.insertConversion(makeConversion({ reqid, dedupe_key: 'T-9' }), none);
        expect(await store.insertConversion(makeConversion({ reqid, dedupe_key: 'T-9' }), none)).toEqual({ duplicate: true, conversion: keyed.conversion });
        expect((await store.listConversions(allConversions)).total).toBe(5);
      });

      it('answer the dedupe key\'s conversion when one holds the key and another the click', async () => {
        const store = await fresh();
        const reqid = await ids.mint(T0 - HOUR);
        const slot = await store.insertConversion(makeConversion({ reqid, once_per_click: true }), none);
        const keyed = await store.insertConversion(makeConversion({ dedupe_key: 'K-1' }), none);
        const both = await store.insertConversion(makeConversion({ reqid, once_per_click: true, dedupe_key: 'K-1' }), none);
        expect(both).toEqual({ duplicate: true, conversion: keyed.conversion });
        expect(slot.conversion.conversion_id).not.toBe(keyed.conversion.conversion_id);
      });

      it('sent 50 at once for one click and event, each with its own transaction id, are recorded once, on every instance', async () => {
        const db = database();
        const [a, b] = [await db.open(), await db.open()];
        const postback = await a.createPostback(makePostback());
        const reqid = await ids.mint(T0 - HOUR);
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            (i % 2 ? a : b).insertConversion(
              makeConversion({ reqid, once_per_click: true, event_id: 4, dedupe_key: `page-view-${i}`, conversion_time: T0 + i }),
              deliveriesTo([postback.postback_id]),
            ),
          ),
        );
        expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
        expect(new Set(results.map((r) => r.conversion.conversion_id)).size).toBe(1);
        expect((await a.listConversions(allConversions)).total).toBe(1);
        expect((await b.listDeliveries(allDeliveries)).total).toBe(1);
      });

      it('write outbox rows rendered from the stored conversion, in its transaction', async () => {
        const store = await fresh();
        const [p1, p2] = [await store.createPostback(makePostback()), await store.createPostback(makePostback({ offer_id: 0 }))];
        const { conversion } = await store.insertConversion(makeConversion(), deliveriesTo([p1.postback_id, p2.postback_id]));
        const { rows, total } = await store.listDeliveries({ ...allDeliveries, conversion_id: conversion.conversion_id });
        expect(total).toBe(2);
        expect(rows.map((d) => [d.postback_id, d.url, d.status, d.attempts])).toEqual([
          [p1.postback_id, `https://affiliate.example/pb?id=${conversion.conversion_id}&lead=null&status=approved&p=${p1.postback_id}`, 'pending', 0],
          [p2.postback_id, `https://affiliate.example/pb?id=${conversion.conversion_id}&lead=null&status=approved&p=${p2.postback_id}`, 'pending', 0],
        ]);
      });

      it('are not written when their outbox rows cannot be built', async () => {
        const store = await fresh();
        const failing = store.insertConversion(makeConversion({ dedupe_key: 'X' }), () => {
          throw new Error('cannot render');
        });
        await expect(failing).rejects.toThrow('cannot render');
        expect((await store.listConversions(allConversions)).total).toBe(0);
        expect((await store.listDeliveries(allDeliveries)).total).toBe(0);
        expect((await store.insertConversion(makeConversion({ dedupe_key: 'X' }), none)).duplicate).toBe(false);
      });

      describe('listing', () => {
        // Six conversions with ties on every sort column.
        const spread: Partial<NewConversion>[] = [
          { conversion_time: T0 + 2 * HOUR, offer_id: 1, affiliate_id: 10, advertiser_id: 5, payout_cents: 300, revenue_cents: 10, status: 'approved' },
          { conversion_time: T0 + 0 * HOUR, offer_id: 2, affiliate_id: 10, advertiser_id: 5, payout_cents: 100, revenue_cents: 30, status: 'pending' },
          { conversion_time: T0 + 1 * HOUR, offer_id: 1, affiliate_id: 20, advertiser_id: 6, payout_cents: 300, revenue_cents: 20, status: 'rejected' },
          { conversion_time: T0 + 1 * HOUR, offer_id: 2, affiliate_id: 20, advertiser_id: 6, payout_cents: 200, revenue_cents: 30, status: 'approved' },
          { conversion_time: T0 + 3 * HOUR, offer_id: 3, affiliate_id: 10, advertiser_id: 5, payout_cents: 0, revenue_cents: 10, status: 'approved', is_test: true },
          { conversion_time: T0 + 4 * HOUR, offer_id: 1, affiliate_id: 30, advertiser_id: 7, payout_cents: 0, revenue_cents: 0, status: 'scrubbed' },
        ];
        async function seeded() {
          const store = await fresh();
          const rows: ConversionRow[] = [];
          for (const change of spread) rows.push((await store.insertConversion(makeConversion(change), none)).conversion);
          return { store, rows };
        }
        const sortValue: Record<ConversionSort, (r: ConversionRow) => number> = {
          conversion_id: (r) => r.conversion_id,
          conversion_date: (r) => r.conversion_time,
          offer_id: (r) => r.offer_id,
          affiliate_id: (r) => r.affiliate_id,
          payout: (r) => r.payout_cents,
          revenue: (r) => r.revenue_cents,
        };

        it('filters by id, time range, offer, affiliate, advertiser and status, leaving tests out unless asked', async () => {
          const { store, rows } = await seeded();
          const id = (i: number) => rows[i]!.conversion_id;
          const idsOf = async (q: Partial<Parameters<Store['listConversions']>[0]>) =>
            (await store.listConversions({ ...allConversions, include_tests: false, ...q })).rows.map((r) => r.conversion_id);
          expect(await idsOf({})).toEqual([id(0), id(1), id(2), id(3), id(5)]);
          expect(await idsOf({ include_tests: true })).toEqual(rows.map((r) => r.conversion_id));
          expect(await idsOf({ from: T0 + HOUR, to: T0 + 3 * HOUR })).toEqual([id(0), id(2), id(3)]);
          expect(await idsOf({ offer_id: 1 })).toEqual([id(0), id(2), id(5)]);
          expect(await idsOf({ affiliate_id: 20 })).toEqual([id(2), id(3)]);
          expect(await idsOf({ advertiser_id: 5, include_tests: true })).toEqual([id(0), id(1), id(4)]);
          expect(await idsOf({ status: 'approved' })).toEqual([id(0), id(3)]);
          expect(await idsOf({ status: 'approved', include_tests: true })).toEqual([id(0), id(3), id(4)]);
          expect(await idsOf({ conversion_id: id(2) })).toEqual([id(2)]);
          expect(await idsOf({ conversion_id: 987654 })).toEqual([]);
        });

        it('filters by campaign, creative, event, and base conversions or events', async () => {
          const store = await fresh();
          const made = [
            { campaign_id: 3870, creative_id: 1057, event_id: 0 },
            { campaign_id: 3870, creative_id: 2001, event_id: 2 },
            { campaign_id: 3871, creative_id: 1057, event_id: 3 },
            { campaign_id: null, creative_id: null, event_id: 0 },
          ];
          const rows: ConversionRow[] = [];
          for (const change of made) rows.push((await store.insertConversion(makeConversion(change), none)).conversion);
          const id = (i: number) => rows[i]!.conversion_id;
          const idsOf = async (q: Partial<Parameters<Store['listConversions']>[0]>) => (await store.listConversions({ ...allConversions, ...q })).rows.map((r) => r.conversion_id);
          expect(await idsOf({ campaign_id: 3870 })).toEqual([id(0), id(1)]);
          expect(await idsOf({ creative_id: 1057 })).toEqual([id(0), id(2)]);
          expect(await idsOf({ event_id: 2 })).toEqual([id(1)]);
          expect(await idsOf({ event_id: 0 })).toEqual([id(0), id(3)]);
          expect(await idsOf({ kind: 'conversions' })).toEqual([id(0), id(3)]);
          expect(await idsOf({ kind: 'events' })).toEqual([id(1), id(2)]);
          expect((await store.listConversions({ ...allConversions, kind: 'events', campaign_id: 3870 })).total).toBe(1);
        });

        for (const sort of CONVERSION_SORTS) {
          for (const descending of [false, true]) {
            it(`sorts by ${sort} ${descending ? 'descending' : 'ascending'}, ties by id the same way`, async () => {
              const { store, rows } = await seeded();
              const sign = descending ? -1 : 1;
              const expected = [...rows]
                .sort((x, y) => sign * (sortValue[sort](x) - sortValue[sort](y) || x.conversion_id - y.conversion_id))
                .map((r) => r.conversion_id);
              const listed = await store.listConversions({ ...allConversions, sort, descending });
              expect(listed.rows.map((r) => r.conversion_id)).toEqual(expected);
            });
          }
        }

        it('pages, with the total of the whole list', async () => {
          const { store, rows } = await seeded();
          const page = await store.listConversions({ ...allConversions, sort: 'payout', descending: true, offset: 1, limit: 2 });
          expect(page.total).toBe(6);
          // payout descending, ties by id descending: r2, r0, r3, r1, r5, r4.
          expect(page.rows.map((r) => r.conversion_id)).toEqual([rows[0]!.conversion_id, rows[3]!.conversion_id]);
          expect(await store.listConversions({ ...allConversions, offset: 6, limit: 2 })).toEqual({ rows: [], total: 6, capped: false, next: null });
        });
      });
    });

    describe('conversion status', () => {
      it('changes what a conversion earns with its status, counted while it is approved, never for a test, only inside the scope', async () => {
        const store = await fresh();
        const money = (r: ConversionRow | undefined) => [r?.payout_cents, r?.revenue_cents, r?.computed_payout_cents, r?.computed_revenue_cents];
        const set = (conversion_id: number, status: ConversionStatus, payout_cents: number, revenue_cents: number, deliveries: DeliveriesFor = none, scope?: Scope) =>
          store.setConversionStatus(conversion_id, status, deliveries, scope, { payout_cents, revenue_cents });
        // The money alone (the status it has): no postbacks.
        const approved = (await store.insertConversion(makeConversion(), none)).conversion;
        let called = 0;
        const counting: DeliveriesFor = () => (called++, []);
        expect(money(await set(approved.conversion_id, 'approved', 900, 1500, counting))).toEqual([900, 1500, 900, 1500]);
        expect(called).toBe(0);
        expect(money(await store.getConversion(approved.conversion_id))).toEqual([900, 1500, 900, 1500]);
        // With a status change, in the same transaction: the postbacks see the new money.
        const pending = (await store.insertConversion(makeConversion({ status: 'pending', payout_cents: 0, revenue_cents: 0 }), none)).conversion;
        expect(money(await set(pending.conversion_id, 'pending', 700, 800))).toEqual([0, 0, 700, 800]);
        const seen: Array<number | undefined> = [];
        expect(money(await set(pending.conversion_id, 'approved', 750, 850, (row) => (seen.push(row.payout_cents), [])))).toEqual([750, 850, 750, 850]);
        expect(seen).toEqual([750]);
        const test = (await store.insertConversion(makeConversion({ is_test: true, payout_cents: 0, revenue_cents: 0 }), none)).conversion;
        expect(money(await set(test.conversion_id, 'approved', 100, 200))).toEqual([0, 0, 100, 200]);
        // Outside the scope, or no such conversion: nothing changes.
        expect(await set(approved.conversion_id, 'rejected', 1, 1, none, { affiliate_id: 4242 })).toBeUndefined();
        expect(money(await store.getConversion(approved.conversion_id))).toEqual([900, 1500, 900, 1500]);
        expect((await store.getConversion(approved.conversion_id))?.status).toBe('approved');
        expect(await set(987654, 'approved', 1, 1)).toBeUndefined();
      });

      it('carries the money: what a conversion earns counts while it is approved, and never for a test', async () => {
        const store = await fresh();
        const held = { payout_cents: 0, revenue_cents: 0, computed_payout_cents: 1250, computed_revenue_cents: 2005 };
        const { conversion } = await store.insertConversion(makeConversion({ ...held, status: 'scrubbed', scrub_reason: 'session expired' }), none);
        const money = (r: ConversionRow | undefined) => [r?.status, r?.payout_cents, r?.revenue_cents, r?.computed_payout_cents, r?.computed_revenue_cents];
        expect(money(await store.setConversionStatus(conversion.conversion_id, 'approved', none))).toEqual(['approved', 1250, 2005, 1250, 2005]);
        expect(money(await store.getConversion(conversion.conversion_id))).toEqual(['approved', 1250, 2005, 1250, 2005]);
        expect(money(await store.setConversionStatus(conversion.conversion_id, 'reversed', none))).toEqual(['reversed', 0, 0, 1250, 2005]);
        expect(money(await store.setConversionStatus(conversion.conversion_id, 'pending', none))).toEqual(['pending', 0, 0, 1250, 2005]);
        expect(money(await store.setConversionStatus(conversion.conversion_id, 'approved', none))).toEqual(['approved', 1250, 2005, 1250, 2005]);
        // The report sorts by the money counted now.
        const other = await store.insertConversion(makeConversion({ payout_cents: 1000, computed_payout_cents: 1000 }), none);
        await store.setConversionStatus(conversion.conversion_id, 'rejected', none);
        const byPayout = await store.listConversions({ ...allConversions, sort: 'payout', descending: true });
        expect(byPayout.rows.map((r) => r.conversion_id)).toEqual([other.conversion.conversion_id, conversion.conversion_id]);

        const test = await store.insertConversion(makeConversion({ ...held, status: 'pending', is_test: true }), none);
        expect(money(await store.setConversionStatus(test.conversion.conversion_id, 'approved', none))).toEqual(['approved', 0, 0, 1250, 2005]);
      });

      it('changes with the outbox rows it causes, rendered from the changed row', async () => {
        const store = await fresh();
        const postback = await store.createPostback(makePostback({ fire_on: 'rejection' }));
        const { conversion } = await store.insertConversion(makeConversion(), none);
        const changed = await store.setConversionStatus(conversion.conversion_id, 'rejected', deliveriesTo([postback.postback_id], 'rejection'));
        expect(changed).toEqual({ ...conversion, status: 'rejected', payout_cents: 0, revenue_cents: 0 });
        expect(await store.getConversion(conversion.conversion_id)).toEqual(changed);
        const { rows } = await store.listDeliveries({ ...allDeliveries, conversion_id: conversion.conversion_id });
        expect(rows.map((d) => [d.fire_on, d.url])).toEqual([
          ['rejection', `https://affiliate.example/pb?id=${conversion.conversion_id}&lead=null&status=rejected&p=${postback.postback_id}`],
        ]);
      });

      it('set to the status the conversion has changes nothing and writes no outbox rows', async () => {
        const store = await fresh();
        const { conversion } = await store.insertConversion(makeConversion({ status: 'pending' }), none);
        let called = 0;
        const same = await store.setConversionStatus(conversion.conversion_id, 'pending', (row) => {
          called++;
          return deliveriesTo([1])(row);
        });
        expect(same).toEqual(conversion);
        expect(called).toBe(0);
        expect((await store.listDeliveries(allDeliveries)).total).toBe(0);
      });

      it('changed to one status by many at once writes its outbox rows once', async () => {
        const db = database();
        const [a, b] = [await db.open(), await db.open()];
        const { conversion } = await a.insertConversion(makeConversion({ status: 'pending' }), none);
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).setConversionStatus(conversion.conversion_id, 'approved', deliveriesTo([1], 'approval'))),
        );
        for (const r of results) expect(r?.status).toBe('approved');
        expect((await a.listDeliveries(allDeliveries)).total).toBe(1);
      });

      it('answers undefined for a conversion that does not exist', async () => {
        const store = await fresh();
        expect(await store.setConversionStatus(5151, 'approved', deliveriesTo([1]))).toBeUndefined();
        expect((await store.listDeliveries(allDeliveries)).total).toBe(0);
      });

      it('stays as it was when the outbox rows cannot be built', async () => {
        const store = await fresh();
        const { conversion } = await store.insertConversion(makeConversion(), none);
        const failing = store.setConversionStatus(conversion.conversion_id, 'reversed', () => {
          throw new Error('cannot render');
        });
        await expect(failing).rejects.toThrow('cannot render');
        expect((await store.getConversion(conversion.conversion_id))?.status).toBe('approved');
      });
    });

    describe('postbacks', () => {
      it('are created, read, updated in part and deleted', async () => {
        const store = await fresh();
        const created = await store.createPostback(makePostback());
        expect(created).toEqual({ ...makePostback(), postback_id: expect.any(Number) });
        expect(await store.listPostbacks({ postback_id: created.postback_id })).toEqual([created]);

        const updated = await store.updatePostback(created.postback_id, { postback_url: 'https://new.example/?c=#reqid#', postback_status: undefined });
        expect(updated).toEqual({ ...created, postback_url: 'https://new.example/?c=#reqid#' });
        const moved = await store.updatePostback(created.postback_id, { offer_id: 0, fire_on: 'approval', postback_type_id: 3, postback_status: 'inactive' });
        expect(moved).toEqual({ ...updated, offer_id: 0, fire_on: 'approval', postback_type_id: 3, postback_status: 'inactive' });
        expect(await store.updatePostback(created.postback_id, {})).toEqual(moved);
        expect(await store.listPostbacks({})).toEqual([moved]);

        expect(await store.updatePostback(created.postback_id + 100, { offer_id: 1 })).toBeUndefined();
        expect(await store.deletePostback(created.postback_id)).toBe(true);
        expect(await store.deletePostback(created.postback_id)).toBe(false);
        expect(await store.listPostbacks({})).toEqual([]);
      });

      it('list by affiliate, offer and status, in creation order', async () => {
        const store = await fresh();
        const a = await store.createPostback(makePostback({ affiliate_id: 1, offer_id: 10 }));
        const b = await store.createPostback(makePostback({ affiliate_id: 2, offer_id: 10, postback_status: 'inactive' }));
        const c = await store.createPostback(makePostback({ affiliate_id: 1, offer_id: 0 }));
        expect(await store.listPostbacks({})).toEqual([a, b, c]);
        expect(await store.listPostbacks({ affiliate_id: 1 })).toEqual([a, c]);
        expect(await store.listPostbacks({ offer_id: 10 })).toEqual([a, b]);
        expect(await store.listPostbacks({ postback_status: 'inactive' })).toEqual([b]);
        expect(await store.listPostbacks({ affiliate_id: 1, offer_id: 0 })).toEqual([c]);
      });

      it('for an affiliate and offer are its active ones for that offer or every offer, that fire on the event', async () => {
        const store = await fresh();
        const offer = await store.createPostback(makePostback({ affiliate_id: 7, offer_id: 100 }));
        const every = await store.createPostback(makePostback({ affiliate_id: 7, offer_id: 0, postback_type_id: 3 }));
        await store.createPostback(makePostback({ affiliate_id: 7, offer_id: 100, postback_status: 'inactive' }));
        await store.createPostback(makePostback({ affiliate_id: 7, offer_id: 100, fire_on: 'approval' }));
        await store.createPostback(makePostback({ affiliate_id: 7, offer_id: 200 }));
        await store.createPostback(makePostback({ affiliate_id: 8, offer_id: 100 }));
        expect(await store.postbacksFor(7, 100, 'conversion')).toEqual([offer, every]);
        expect(await store.postbacksFor(7, 300, 'conversion')).toEqual([every]);
        expect(await store.postbacksFor(7, 100, 'rejection')).toEqual([]);
      });
    });

    describe('outbox', () => {
      /** A conversion with `n` outbox rows, due from now on; `hosts` spreads them over hosts. */
      async function withDeliveries(store: Store, n: number, hosts: (i: number) => string = () => 'affiliate.example') {
        const postback_ids = Array.from({ length: n }, (_, i) => i + 1);
        const { conversion } = await store.insertConversion(makeConversion(), (row) =>
          postback_ids.map((postback_id, i) => ({
            postback_id,
            conversion_id: row.conversion_id,
            fire_on: 'conversion' as const,
            url: `https://${hosts(i)}/pb?id=${row.conversion_id}&p=${postback_id}`,
          })),
        );
        return (await store.listDeliveries({ ...allDeliveries, conversion_id: conversion.conversion_id })).rows;
      }
      const attempt = (delivery_id: number, change: Partial<Attempt> = {}): Attempt => ({
        delivery_id,
        attempted_at: T0,
        status_code: 200,
        latency_ms: 42,
        error: null,
        ...change,
      });
      const claim = (store: Store, limit = 10, lease_ms = MINUTE, more: Partial<DeliveryClaim> = {}) => store.claimDeliveries({ limit, lease_ms, ...more });
      const one = async (store: Store, delivery_id: number) => (await store.listDeliveries({ ...allDeliveries, delivery_id })).rows[0]!;

      it('claims due deliveries up to the limit, in id order, and leases them on the database clock', async () => {
        const store = await fresh();
        const made = (await withDeliveries(store, 3)).map((d) => d.delivery_id);
        const before = await store.clock();
        const first = await claim(store, 2);
        const after = await store.clock();
        expect(first).toHaveLength(2);
        for (const d of first) {
          expect(d).toMatchObject({ status: 'pending', attempts: 0, lease: 1, host: 'affiliate.example' });
          expect(d.next_attempt_at).toBeGreaterThanOrEqual(before + MINUTE);
          expect(d.next_attempt_at).toBeLessThanOrEqual(after + MINUTE);
        }
        const rest = await claim(store, 2);
        expect(rest).toHaveLength(1);
        const claimed = [...first, ...rest].map((d) => d.delivery_id);
        expect(first.map((d) => d.delivery_id)).toEqual([...first.map((d) => d.delivery_id)].sort((x, y) => x - y));
        expect([...claimed].sort((x, y) => x - y)).toEqual(made);
        expect(await claim(store, 2)).toEqual([]);
      });

      it('claims the deliveries due longest first', async () => {
        const store = await fresh();
        const [early, late] = (await withDeliveries(store, 2)).map((d) => d.delivery_id);
        const [leased] = await claim(store, 1);
        expect(leased!.delivery_id).toBe(early);
        // A failed attempt puts the first one back to an hour from now: the second is due first.
        await store.finishAttempt(attempt(early!, { status_code: 500 }), leased!.lease, { delivered: false, retry_in_ms: HOUR });
        expect((await claim(store, 1)).map((d) => d.delivery_id)).toEqual([late]);
      });

      it('does not claim a delivery before it is due', async () => {
        const store = await fresh();
        const [made] = await withDeliveries(store, 1);
        const [leased] = await claim(store);
        await store.finishAttempt(attempt(made!.delivery_id, { status_code: 503 }), leased!.lease, { delivered: false, retry_in_ms: HOUR });
        expect(await claim(store)).toEqual([]);
        expect((await one(store, made!.delivery_id)).next_attempt_at).toBeGreaterThan((await store.clock()) + HOUR - MINUTE);
      });

      it('claims a leased delivery again only once its lease has run out, with a new lease', async () => {
        const store = await fresh();
        const [made] = await withDeliveries(store, 1);
        const [first] = await claim(store, 10, 1500);
        expect(await claim(store)).toEqual([]);
        // Waits (bounded) for the database's clock to pass the lease.
        const again = await eventually(async () => (await claim(store))[0], 10_000, 'the lease to run out');
        expect(again).toMatchObject({ delivery_id: made!.delivery_id, lease: first!.lease + 1 });
      });

      it('gives claimers on two instances at once disjoint deliveries', async () => {
        const db = database();
        const [a, b] = [await db.open(), await db.open()];
        const made = await withDeliveries(a, 40);
        const [fromA, fromB] = await Promise.all([claim(a, 25), claim(b, 25)]);
        const idsA = fromA.map((d) => d.delivery_id);
        const idsB = fromB.map((d) => d.delivery_id);
        expect(idsA.filter((id) => idsB.includes(id))).toEqual([]);
        expect([...idsA, ...idsB].sort((x, y) => x - y)).toEqual(made.map((d) => d.delivery_id));
      });

      it('marks a delivered attempt, logs it, and never claims that delivery again', async () => {
        const store = await fresh();
        const [made] = await withDeliveries(store, 1);
        const [leased] = await claim(store);
        const tried = attempt(made!.delivery_id, { attempted_at: T0 + 5 });
        expect(await store.finishAttempt(tried, leased!.lease, { delivered: true })).toBe(true);
        expect(await one(store, made!.delivery_id)).toMatchObject({ status: 'delivered', attempts: 1, delivered_at: T0 + 5, last_error: null, attempt_log: [tried] });
        expect(await claim(store)).toEqual([]);
      });

      it('schedules a retry of a failed attempt, on the database clock, with the error it got', async () => {
        const store = await fresh();
        const [made] = await withDeliveries(store, 1);
        const [leased] = await claim(store);
        const before = await store.clock();
        await store.finishAttempt(attempt(made!.delivery_id, { status_code: 503 }), leased!.lease, { delivered: false, retry_in_ms: 10 * MINUTE });
        const after = await store.clock();
        const retrying = await one(store, made!.delivery_id);
        expect(retrying).toMatchObject({ status: 'pending', attempts: 1, last_error: 'HTTP 503', delivered_at: null });
        expect(retrying.next_attempt_at).toBeGreaterThanOrEqual(before + 10 * MINUTE);
        expect(retrying.next_attempt_at).toBeLessThanOrEqual(after + 10 * MINUTE);
        expect(await claim(store)).toEqual([]);

        // Due again at once (what an attempt interrupted by a shutdown asks for).
        const db2 = await fresh();
        const [other] = await withDeliveries(db2, 1);
        const [otherLease] = await claim(db2);
        await db2.finishAttempt(attempt(other!.delivery_id, { status_code: null, error: 'connection refused' }), otherLease!.lease, { delivered: false, retry_in_ms: 0 });
        expect(await one(db2, other!.delivery_id)).toMatchObject({ status: 'pending', attempts: 1, last_error: 'connection refused' });
        expect((await claim(db2)).map((d) => d.delivery_id)).toEqual([other!.delivery_id]);
      });

      it('gives a delivery up when an attempt has no retry time', async () => {
        const store = await fresh();
        const [made] = await withDeliveries(store, 1);
        const [leased] = await claim(store);
        await store.finishAttempt(attempt(made!.delivery_id, { status_code: 410 }), leased!.lease, { delivered: false, retry_in_ms: null });
        expect(await one(store, made!.delivery_id)).toMatchObject({ status: 'failed', attempts: 1, last_error: 'HTTP 410' });
        expect(await claim(store)).toEqual([]);
      });

      it('lists deliveries with every attempt in order, by id, conversion, postback and status, with paging', async () => {
        const store = await fresh();
        const made = await withDeliveries(store, 4);
        const other = await withDeliveries(store, 1);
        const leases = new Map((await claim(store, 10, 0)).map((d) => [d.delivery_id, d.lease]));
        const tries = [
          attempt(made[0]!.delivery_id, { status_code: 500, latency_ms: 7 }),
          attempt(made[1]!.delivery_id, { attempted_at: T0 + 1, status_code: null, error: 'timeout', latency_ms: 10_000 }),
          attempt(made[0]!.delivery_id, { attempted_at: T0 + 2, latency_ms: 3 }),
        ];
        await store.finishAttempt(tries[0]!, leases.get(made[0]!.delivery_id)!, { delivered: false, retry_in_ms: 0 });
        await store.finishAttempt(tries[1]!, leases.get(made[1]!.delivery_id)!, { delivered: false, retry_in_ms: null });
        await store.finishAttempt(tries[2]!, leases.get(made[0]!.delivery_id)!, { delivered: true });

        const first = await one(store, made[0]!.delivery_id);
        expect(first.attempt_log).toEqual([tries[0], tries[2]]);
        expect(first).toMatchObject({ status: 'delivered', attempts: 2 });

        const idsOf = async (q: Partial<Parameters<Store['listDeliveries']>[0]>) =>
          (await store.listDeliveries({ ...allDeliveries, ...q })).rows.map((d) => d.delivery_id);
        expect(await idsOf({ conversion_id: made[0]!.conversion_id })).toEqual(made.map((d) => d.delivery_id));
        expect(await idsOf({ postback_id: 1 })).toEqual([made[0]!.delivery_id, other[0]!.delivery_id]);
        expect(await idsOf({ status: 'failed' })).toEqual([made[1]!.delivery_id]);
        expect(await idsOf({ status: 'pending' })).toEqual([made[2]!.delivery_id, made[3]!.delivery_id, other[0]!.delivery_id]);
        const page = await store.listDeliveries({ offset: 1, limit: 2 });
        expect(page.total).toBe(5);
        expect(page.rows.map((d) => [d.delivery_id, d.attempt_log.length])).toEqual([
          [made[1]!.delivery_id, 1],
          [made[2]!.delivery_id, 0],
        ]);
      });

      describe('under contention', () => {
        it('lets an attempt that outlived its lease change nothing once another instance has delivered it, and logs it as not applied', async () => {
          const db = database();
          const [a, b] = [await db.open(), await db.open()];
          const [made] = await withDeliveries(a, 1);
          const [stale] = await claim(a, 10, 300);
          // A's attempt stalls past its lease; B claims the delivery and delivers it.
          const [fresh] = await eventually(async () => {
            const got = await claim(b);
            return got.length ? got : undefined;
          }, 10_000, 'the lease to run out');
          expect(fresh!.lease).toBeGreaterThan(stale!.lease);
          expect(await b.finishAttempt(attempt(made!.delivery_id, { attempted_at: T0 + 2 }), fresh!.lease, { delivered: true })).toBe(true);
          // A's attempt comes back, failed: its outcome must not flip the delivered one to a retry.
          const late = attempt(made!.delivery_id, { attempted_at: T0 + 1, status_code: null, error: 'timeout' });
          expect(await a.finishAttempt(late, stale!.lease, { delivered: false, retry_in_ms: 0 })).toBe(false);
          const row = await one(a, made!.delivery_id);
          expect(row).toMatchObject({ status: 'delivered', attempts: 1, last_error: null, delivered_at: T0 + 2 });
          expect(row.attempt_log.map((x) => x.error)).toEqual([null, 'timeout (lease lost: outcome not applied)']);
          expect(await claim(a)).toEqual([]);
        });

        it('lets a stale attempt that succeeded change nothing either, while the new lease holder is still at work', async () => {
          const db = database();
          const [a, b] = [await db.open(), await db.open()];
          const [made] = await withDeliveries(a, 1);
          const [stale] = await claim(a, 10, 300);
          const [fresh] = await eventually(async () => {
            const got = await claim(b);
            return got.length ? got : undefined;
          }, 10_000, 'the lease to run out');
          expect(await a.finishAttempt(attempt(made!.delivery_id), stale!.lease, { delivered: true })).toBe(false);
          expect(await one(b, made!.delivery_id)).toMatchObject({ status: 'pending', attempts: 0 });
          expect((await one(b, made!.delivery_id)).attempt_log.map((x) => x.error)).toEqual(['HTTP 200 (lease lost: outcome not applied)']);
          // The holder's outcome applies.
          expect(await b.finishAttempt(attempt(made!.delivery_id, { status_code: 500 }), fresh!.lease, { delivered: false, retry_in_ms: HOUR })).toBe(true);
          expect(await one(b, made!.delivery_id)).toMatchObject({ status: 'pending', attempts: 1, last_error: 'HTTP 500' });
        });

        it("takes lease and due times from the database's clock, not an instance's that is a day ahead", async () => {
          const db = database();
          const [a, b] = [await db.open(), await db.open()];
          const [made] = await withDeliveries(a, 1);
          const dbNow = await a.clock();
          const realNow = Date.now;
          let written: DeliveryRow | undefined;
          // Instance A's clock is a day ahead (a wrong NTP, a VM resumed from a snapshot).
          Date.now = () => realNow() + DAY;
          try {
            const [leased] = await claim(a, 10, MINUTE);
            expect(leased!.delivery_id).toBe(made!.delivery_id);
            // The lease ends a minute after the database's now, not the instance's.
            expect(leased!.next_attempt_at).toBeLessThan(dbNow + HOUR);
            // A retry an hour away is an hour away for every instance.
            await a.finishAttempt(attempt(made!.delivery_id, { status_code: 500 }), leased!.lease, { delivered: false, retry_in_ms: HOUR });
            // And a delivery written by an instance whose clock is wrong is due now, not tomorrow.
            [written] = await withDeliveries(a, 1);
            expect(written!.next_attempt_at).toBeLessThan(dbNow + HOUR);
          } finally {
            Date.now = realNow;
          }
          expect((await claim(b)).map((d) => d.delivery_id)).toEqual([written!.delivery_id]);
          expect(await claim(b)).toEqual([]);
        });

        it('takes at most per_host deliveries of one host, fewer by those busy, and the deliveries of other hosts behind them', async () => {
          const store = await fresh();
          // Ten deliveries to a slow host, due first; then two to other hosts.
          const slow = await withDeliveries(store, 10, () => 'slow.example');
          const others = await withDeliveries(store, 2, (i) => `fast-${i}.example`);
          const first = await claim(store, 6, MINUTE, { per_host: 3 });
          expect(first.map((d) => d.host)).toEqual(['slow.example', 'slow.example', 'slow.example']);
          expect(first.map((d) => d.delivery_id)).toEqual(slow.slice(0, 3).map((d) => d.delivery_id));
          // With those three in flight the slow host is full: skipped, the others are taken.
          const next = await claim(store, 6, MINUTE, { per_host: 3, busy: { 'slow.example': 3 } });
          expect(next.map((d) => d.delivery_id)).toEqual(others.map((d) => d.delivery_id));
          // One of the slow host's attempts finished: room for one more of it, not more.
          const more = await claim(store, 6, MINUTE, { per_host: 3, busy: { 'slow.example': 2, 'fast-0.example': 1 } });
          expect(more.map((d) => d.delivery_id)).toEqual([slow[3]!.delivery_id]);
        });

        it('cancels the pending deliveries of a postback that is deactivated or deleted, in the same change, and its attempts in flight apply nothing', async () => {
          const store = await fresh();
          const kept = await store.createPostback(makePostback());
          const paused = await store.createPostback(makePostback());
          const removed = await store.createPostback(makePostback());
          const { conversion } = await store.insertConversion(makeConversion(), deliveriesTo([kept.postback_id, paused.postback_id, removed.postback_id]));
          const rows = (await store.listDeliveries({ ...allDeliveries, conversion_id: conversion.conversion_id })).rows;
          const [inFlight] = await claim(store, 1);
          expect(inFlight!.postback_id).toBe(kept.postback_id);
          const deliveryOf = (postback_id: number) => rows.find((d) => d.postback_id === postback_id)!.delivery_id;

          await store.updatePostback(paused.postback_id, { postback_status: 'inactive' });
          expect(await store.deletePostback(removed.postback_id)).toBe(true);
          expect(await one(store, deliveryOf(paused.postback_id))).toMatchObject({ status: 'cancelled', last_error: 'cancelled: the postback was deactivated' });
          expect(await one(store, deliveryOf(removed.postback_id))).toMatchObject({ status: 'cancelled', last_error: 'cancelled: the postback was deleted' });
          expect(await claim(store)).toEqual([]);
          // Reactivating does not bring cancelled deliveries back.
          await store.updatePostback(paused.postback_id, { postback_status: 'active' });
          expect(await claim(store)).toEqual([]);

          // The delivery in flight when its postback is deactivated: its attempt's outcome is not applied.
          await store.updatePostback(kept.postback_id, { postback_status: 'inactive' });
          expect(await store.finishAttempt(attempt(inFlight!.delivery_id), inFlight!.lease, { delivered: true })).toBe(false);
          expect(await one(store, inFlight!.delivery_id)).toMatchObject({ status: 'cancelled', attempts: 0 });
          // Other changes cancel nothing.
          const other = await store.createPostback(makePostback());
          await store.insertConversion(makeConversion(), deliveriesTo([other.postback_id]));
          await store.updatePostback(other.postback_id, { postback_url: 'https://moved.example/pb' });
          expect(await claim(store)).toHaveLength(1);
        });

        it('re-sends a failed or cancelled delivery once, as a new pending delivery with attempts of its own', async () => {
          const db = database();
          const [a, b] = [await db.open(), await db.open()];
          const postback = await a.createPostback(makePostback());
          const { conversion } = await a.insertConversion(makeConversion(), deliveriesTo([postback.postback_id, 2]));
          const [failed, pending] = (await a.listDeliveries({ ...allDeliveries, conversion_id: conversion.conversion_id })).rows;
          const [leased] = await claim(a, 1);
          await a.finishAttempt(attempt(failed!.delivery_id, { status_code: 404 }), leased!.lease, { delivered: false, retry_in_ms: null });

          // Two admins at once, on two instances: one re-send.
          const results = await Promise.all([a.resendDelivery(failed!.delivery_id), b.resendDelivery(failed!.delivery_id)]);
          const resent = results.filter((r) => r.resent);
          expect(resent).toHaveLength(1);
          const copy = (resent[0] as { delivery: DeliveryRow }).delivery;
          expect(copy).toMatchObject({
            postback_id: failed!.postback_id,
            conversion_id: failed!.conversion_id,
            fire_on: 'conversion',
            url: failed!.url,
            host: failed!.host,
            status: 'pending',
            attempts: 0,
            resend_of: failed!.delivery_id,
          });
          expect(copy.delivery_id).not.toBe(failed!.delivery_id);
          expect(results.find((r) => !r.resent)).toMatchObject({ resent: false, reason: 'resent', resent_as: copy.delivery_id });
          expect(await one(a, failed!.delivery_id)).toMatchObject({ status: 'failed', attempts: 1 });
          expect((await claim(b)).map((d) => d.delivery_id)).toEqual([pending!.delivery_id, copy.delivery_id]);

          expect(await a.resendDelivery(pending!.delivery_id)).toMatchObject({ resent: false, reason: 'pending' });
          expect(await a.resendDelivery(424242)).toEqual({ resent: false, reason: 'missing' });
          const [again] = await withDeliveries(a, 1);
          const [l2] = await claim(a);
          await a.finishAttempt(attempt(again!.delivery_id), l2!.lease, { delivered: true });
          expect(await a.resendDelivery(again!.delivery_id)).toMatchObject({ resent: false, reason: 'delivered' });
          await a.updatePostback(postback.postback_id, { postback_status: 'inactive' });
          expect((await a.resendDelivery(copy.delivery_id)).resent).toBe(true);
        });
      });

      describe('a bounded write queue', () => {
        it('refuses writes past its bound at once with StoreOverloaded, stores none of them, and takes writes again once it drains', async () => {
          const store = await backend.open(`t${++databases}`, { maxQueued: 5 });
          opened.push(store);
          const clicks = await Promise.all(Array.from({ length: 12 }, (_, i) => makeClick(T0 + i)));
          const results = await Promise.allSettled(clicks.map((c) => store.recordClick(c)));
          const refused = results.filter((r) => r.status === 'rejected');
          expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
          expect(refused).toHaveLength(7);
          for (const r of refused) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(StoreOverloaded);
          expect((await store.listClicks({ offset: 0, limit: 100 })).total).toBe(5);

          const conversions = await Promise.allSettled(Array.from({ length: 8 }, () => store.insertConversion(makeConversion(), none)));
          expect(conversions.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
          expect(conversions.filter((r) => r.status === 'rejected' && r.reason instanceof StoreOverloaded)).toHaveLength(3);
          expect((await store.listConversions(allConversions)).total).toBe(5);
          // Drained: it takes writes again.
          await store.recordClick(clicks[11]!);
          expect(await store.getClick(clicks[11]!.reqid)).toEqual(clicks[11]);
        });
      });
    });

    describe('network', () => {
      const settings = { name: 'N', internal_affiliate_id: 1, global_redirect_url: null, cors_origins: [], suppression: { ips: [], emails: [], transaction_ids: [] } };
      const affiliate = (id: number, status = 'active') => ({ affiliate_id: id, affiliate_name: `Affiliate ${id}`, status });
      const offer = (id: number) => ({ offer_id: id, offer_name: `Offer ${id}`, advertiser_id: 5, status: 'active', offer_url: 'https://lp.example/?r=#reqid#' });
      const key = { key_id: 1, key_hash: 'a'.repeat(64), role: 'admin', advertiser_id: null, affiliate_id: null, label: 'network file', source: 'file', created_at: T0, revoked_at: null };
      const meta = { source: 'file test', at: T0 };
      const first = (): NetworkWrite[] => [
        { entity: 'network', id: 1, before: null, after: settings },
        { entity: 'affiliates', id: 1, before: null, after: affiliate(1) },
        { entity: 'offers', id: 12345, before: null, after: offer(12345) },
        { entity: 'api_keys', id: 1, before: null, after: key },
      ];

      it('starts empty, at version 0', async () => {
        const store = await fresh();
        expect(await store.networkVersion()).toBe(0);
        const rows = await store.loadNetwork();
        expect(rows).toMatchObject({ version: 0, settings: null, api_keys: [], file_hash: null, file_source: null });
        expect(Object.values(rows.entities).every((list) => list.length === 0)).toBe(true);
      });

      it('writes a change as the next version, with its entities, keys and the file it came from', async () => {
        const store = await fresh();
        expect(await store.writeNetwork(0, first(), { ...meta, file_hash: 'h1' })).toBe(1);
        const rows = await store.loadNetwork();
        expect(rows.version).toBe(1);
        expect(rows.settings).toEqual(settings);
        expect(rows.entities.affiliates).toEqual([affiliate(1)]);
        expect(rows.entities.offers).toEqual([offer(12345)]);
        expect(rows.api_keys).toEqual([key]);
        expect(rows).toMatchObject({ file_hash: 'h1', file_source: 'file test' });
        expect(await store.networkVersion()).toBe(1);
      });

      it('refuses a change made against an older version, and writes none of it', async () => {
        const store = await fresh();
        await store.writeNetwork(0, first(), meta);
        expect(await store.writeNetwork(0, [{ entity: 'affiliates', id: 2, before: null, after: affiliate(2) }], meta)).toBeNull();
        const rows = await store.loadNetwork();
        expect(rows.version).toBe(1);
        expect(rows.entities.affiliates).toEqual([affiliate(1)]);
      });

      it('takes one of two changes made at once against the same version, on two instances', async () => {
        const db = database();
        const [a, b] = await Promise.all([db.open(), db.open()]);
        await a.writeNetwork(0, first(), meta);
        const results = await Promise.all([
          a.writeNetwork(1, [{ entity: 'affiliates', id: 2, before: null, after: affiliate(2) }], meta),
          b.writeNetwork(1, [{ entity: 'affiliates', id: 3, before: null, after: affiliate(3) }], meta),
        ]);
        expect(results.filter((v) => v === 2)).toHaveLength(1);
        expect(results.filter((v) => v === null)).toHaveLength(1);
        expect((await b.loadNetwork()).entities.affiliates).toHaveLength(2);
      });

      it('answers the changes since a version, in order, for other instances to apply', async () => {
        const db = database();
        const [a, b] = await Promise.all([db.open(), db.open()]);
        await a.writeNetwork(0, first(), meta);
        await a.writeNetwork(1, [{ entity: 'affiliates', id: 1, before: affiliate(1), after: affiliate(1, 'inactive') }], { source: 'key 1', at: T0 + 1 });
        await a.writeNetwork(2, [{ entity: 'offers', id: 12345, before: offer(12345), after: null }], { source: 'key 1', at: T0 + 2 });
        const changes = await b.networkChanges(1, 3);
        expect(changes.map((c) => [c.version, c.entity, c.entity_id, c.source])).toEqual([
          [2, 'affiliates', '1', 'key 1'],
          [3, 'offers', '12345', 'key 1'],
        ]);
        expect(changes[0]).toMatchObject({ before: affiliate(1), after: affiliate(1, 'inactive'), changed_at: T0 + 1 });
        expect(changes[1]!.after).toBeNull();
        expect(await b.networkChanges(3, 3)).toEqual([]);
        const rows = await b.loadNetwork();
        expect(rows.entities.offers).toEqual([]);
        expect(rows.entities.affiliates).toEqual([affiliate(1, 'inactive')]);
      });

      it('writes a large change (an import) whole', async () => {
        const store = await fresh();
        const many: NetworkWrite[] = Array.from({ length: 3000 }, (_, i) => ({ entity: 'affiliates', id: i + 10, before: null, after: affiliate(i + 10) }));
        expect(await store.writeNetwork(0, [...first(), ...many], meta)).toBe(1);
        expect((await store.loadNetwork()).entities.affiliates).toHaveLength(3001);
        expect(await store.networkChanges(0, 1)).toHaveLength(3004);
      });

      it('keeps the change log, filtered and paged, newest first', async () => {
        const store = await fresh();
        await store.writeNetwork(0, first(), meta);
        for (let v = 1; v <= 3; v++) {
          await store.writeNetwork(v, [{ entity: 'affiliates', id: 1, before: affiliate(1), after: { ...affiliate(1), affiliate_name: `v${v}` } }], { source: 'key 1', at: T0 + v * DAY });
        }
        const all = await store.listChanges({ offset: 0, limit: 100 });
        expect(all.total).toBe(7);
        expect(all.rows.map((r) => r.version)).toEqual([4, 3, 2, 1, 1, 1, 1]);
        const mine = await store.listChanges({ entity: 'affiliates', entity_id: '1', offset: 1, limit: 1 });
        expect(mine.total).toBe(4);
        expect(mine.rows).toHaveLength(1);
        expect(mine.rows[0]!.after).toMatchObject({ affiliate_name: 'v2' });
        const ranged = await store.listChanges({ from: T0 + DAY, to: T0 + 3 * DAY, offset: 0, limit: 100 });
        expect(ranged.rows.map((r) => r.version)).toEqual([3, 2]);
      });

      it('tells whether clicks, leads or conversions name an entity', async () => {
        const store = await fresh();
        expect(await store.hasHistory('offers', 12345)).toBe(false);
        expect(await store.hasHistory('affiliates', 67890)).toBe(false);
        await store.recordClick(await makeClick(T0, { offer_id: 777, affiliate_id: 888, campaign_id: null, creative_id: 999, tracking_domain_id: 4 }));
        await store.insertLead(makeLead({ offer_id: 12345, affiliate_id: 67890, campaign_id: 3870 }), null, null);
        await store.insertConversion(makeConversion({ offer_id: 555, advertiser_id: 6, affiliate_id: 444, campaign_id: null, creative_id: null }), none);
        for (const [entity, id] of [['offers', 777], ['affiliates', 888], ['creatives', 999], ['tracking_domains', 4], ['offers', 12345], ['affiliates', 67890], ['campaigns', 3870], ['offers', 555], ['advertisers', 6], ['affiliates', 444]] as const) {
          expect(await store.hasHistory(entity, id), `${entity} ${id}`).toBe(true);
        }
        for (const [entity, id] of [['offers', 1], ['affiliates', 2], ['campaigns', 3], ['creatives', 4], ['advertisers', 5], ['tracking_domains', 6]] as const) {
          expect(await store.hasHistory(entity, id), `${entity} ${id}`).toBe(false);
        }
      });
    });

    describe('retention and erasure (PROTOCOL.md 12)', () => {
      it('deletes the clicks older than the cutoff, the oldest first, a batch at a time', async () => {
        const store = await fresh();
        const old = await Promise.all([0, 1, 2].map((i) => makeClick(T0 - 40 * DAY + i * MINUTE)));
        const young = await makeClick(T0 - DAY);
        for (const c of [...old, young]) await store.recordClick(c);
        expect(await store.retain('clicks', T0 - 30 * DAY, 2)).toBe(2);
        // The oldest went first.
        expect(await store.getClick(old[0]!.reqid)).toBeUndefined();
        expect(await store.getClick(old[2]!.reqid)).toBeDefined();
        expect(await store.retain('clicks', T0 - 30 * DAY, 2)).toBe(1);
        expect(await store.retain('clicks', T0 - 30 * DAY, 2)).toBe(0);
        expect(await store.getClick(young.reqid)).toEqual(young);
      });

      it('lets two instances run retention at once: every old row goes once, nothing fails', async () => {
        const db = database();
        const [a, b] = await Promise.all([db.open(), db.open()]);
        const old = await Promise.all(Array.from({ length: 30 }, (_, i) => makeClick(T0 - 40 * DAY + i)));
        for (const c of old) await a.recordClick(c);
        const drain = async (store: Store) => {
          let n = 0;
          for (let got = -1; got !== 0; n += got) got = await store.retain('clicks', T0 - 30 * DAY, 4);
          return n;
        };
        const [byA, byB] = await Promise.all([drain(a), drain(b)]);
        expect(byA + byB).toBe(30);
        expect(await a.retain('clicks', T0 - 30 * DAY, 4)).toBe(0);
      });

      it('deletes old delivery attempts and finished deliveries, never a pending one', async () => {
        const store = await fresh();
        const { conversion } = await store.insertConversion(makeConversion(), deliveriesTo([1, 2]));
        const [a, b] = await store.claimDeliveries({ limit: 2, lease_ms: MINUTE });
        const log = (delivery_id: number, attempted_at: number) => ({ delivery_id, attempted_at, status_code: 200, latency_ms: 3, error: null });
        await store.finishAttempt(log(a!.delivery_id, T0 - 40 * DAY), a!.lease, { delivered: true });
        await store.finishAttempt(log(b!.delivery_id, T0 - 40 * DAY), b!.lease, { delivered: false, retry_in_ms: 0 });
        const later = Date.now() + HOUR;
        // Both attempts are old; of the deliveries only the delivered one is finished.
        expect(await store.retain('delivery_attempts', later, 100)).toBe(3);
        const left = (await store.listDeliveries({ ...allDeliveries, conversion_id: conversion.conversion_id })).rows;
        expect(left.map((d) => [d.delivery_id, d.status, d.attempt_log.length])).toEqual([[b!.delivery_id, 'pending', 0]]);
        expect(await store.retain('delivery_attempts', later, 100)).toBe(0);
      });

      it("strips old leads' personal fields, keeping the lead, its conversion and money, and frees their email", async () => {
        const store = await fresh();
        const old = await store.insertLead(makeLead({ created_at: T0 - 40 * DAY }), { email: 'ada@example.com', since: 0 }, {
          conversion: makeConversion({ source: 'lead' }),
          deliveries: none,
        });
        const young = await store.insertLead(makeLead({ email: 'bob@example.com', created_at: T0 }), { email: 'bob@example.com', since: 0 }, null);
        if (old.duplicate || young.duplicate) throw new Error('not expected');
        expect(await store.retain('lead_fields', T0 - 30 * DAY, 10)).toBe(1);
        expect(await store.retain('lead_fields', T0 - 30 * DAY, 10)).toBe(0);
        const stripped = (await store.getLead(old.lead.lead_id))!;
        expect(stripped).toMatchObject({ email: null, fields: {}, ip: null, user_agent: null, s1: 'sub-1', offer_id: 12345, conversion_id: old.conversion!.conversion_id });
        expect(stripped.erased_at).not.toBeNull();
        expect((await store.getConversion(old.conversion!.conversion_id))).toMatchObject({ payout_cents: 1800, revenue_cents: 2200 });
        expect((await store.getLead(young.lead.lead_id))).toMatchObject({ email: 'bob@example.com', erased_at: null });
        // The email is no longer held: a new lead with it is not a duplicate of the stripped one.
        const again = await store.insertLead(makeLead({ created_at: T0 }), { email: 'ada@example.com', since: 0 }, null);
        expect(again.duplicate).toBe(false);
      });

      it("erases a person: every lead's fields, and the addresses of their leads, clicks and conversions; money stays", async () => {
        const store = await fresh();
        const click = await makeClick(T0 - HOUR, { ip: '198.51.100.7' });
        const other = await makeClick(T0 - HOUR, { ip: '198.51.100.7' });
        await store.recordClick(click);
        await store.recordClick(other);
        const first = await store.insertLead(makeLead({ reqid: click.reqid, ip: '2001:db8:85a3:1:2:3:4:5' }), null, {
          conversion: makeConversion({ source: 'lead', reqid: click.reqid, ip: '198.51.100.7' }),
          deliveries: none,
        });
        const second = await store.insertLead(makeLead({ offer_id: 666 }), { email: 'ada@example.com', since: 0 }, null);
        const bystander = await store.insertLead(makeLead({ email: 'bob@example.com' }), null, null);
        if (first.duplicate || second.duplicate || bystander.duplicate) throw new Error('not expected');

        expect(await store.erase({ email: 'ada@example.com' }, T0)).toEqual({ leads: 2, clicks: 1, conversions: 1 });
        expect(await store.getLead(first.lead.lead_id)).toMatchObject({ email: null, fields: {}, user_agent: null, ip: '2001:db8:85a3::', erased_at: T0 });
        expect(await store.getLead(second.lead.lead_id)).toMatchObject({ email: null, fields: {}, ip: '203.0.113.0' });
        expect((await store.getClick(click.reqid))!.ip).toBe('198.51.100.0');
        // Another visitor's click from the same address is not theirs.
        expect((await store.getClick(other.reqid))!.ip).toBe('198.51.100.7');
        expect(await store.getConversion(first.conversion!.conversion_id)).toMatchObject({ ip: '198.51.100.0', payout_cents: 1800, revenue_cents: 2200, status: 'approved' });
        expect(await store.getLead(bystander.lead.lead_id)).toMatchObject({ email: 'bob@example.com', erased_at: null });
        // Their email no longer blocks a new lead of theirs; asking again finds nothing.
        expect((await store.insertLead(makeLead({ offer_id: 666 }), { email: 'ada@example.com', since: 0 }, null)).duplicate).toBe(false);
        const byId = await store.erase({ lead_id: bystander.lead.lead_id }, T0);
        expect(byId).toEqual({ leads: 1, clicks: 0, conversions: 0 });
        expect(await store.erase({ email: 'nobody@example.com' }, T0)).toEqual({ leads: 0, clicks: 0, conversions: 0 });
      });

      it('erases a person with many leads (more than a statement can bind on D1)', async () => {
        const store = await fresh();
        const click = await makeClick(T0 - HOUR);
        await store.recordClick(click);
        for (let i = 0; i < 60; i++) await store.insertLead(makeLead({ email: 'many@example.com', reqid: click.reqid, created_at: T0 + i }), null, null);
        expect(await store.erase({ email: 'many@example.com' }, T0)).toEqual({ leads: 60, clicks: 1, conversions: 0 });
        const { rows } = await store.listLeads({ ...allLeads, from: T0, to: T0 + DAY });
        expect(rows.filter((l) => l.email !== null)).toEqual([]);
      });
    });

    describe('operations', () => {
      it('answers a ping', async () => {
        const store = await fresh();
        await expect(store.ping()).resolves.toBeUndefined();
      });

      it('counts the pending deliveries, those due, and when the oldest was written', async () => {
        const store = await fresh();
        const later = Date.now() + HOUR;
        expect(await store.outboxStats(later)).toEqual({ pending: 0, due: 0, oldest_created_at: null });
        const written = Date.now();
        const first = await store.insertConversion(makeConversion(), deliveriesTo([1, 2]));
        await store.insertConversion(makeConversion(), deliveriesTo([3]));
        const rows = (await store.listDeliveries(allDeliveries)).rows;
        const oldest = Math.min(...rows.map((d) => d.created_at));
        expect(oldest).toBeGreaterThanOrEqual(written - 1000);
        expect(await store.outboxStats(later)).toEqual({ pending: 3, due: 3, oldest_created_at: oldest });
        // Before they are due, none is.
        expect((await store.outboxStats(oldest - 1)).due).toBe(0);

        // A leased delivery is pending and not due; a delivered or given-up one is neither.
        const [claimed] = await store.claimDeliveries({ limit: 1, lease_ms: 2 * HOUR });
        expect(await store.outboxStats(later)).toMatchObject({ pending: 3, due: 2 });
        await store.finishAttempt({ delivery_id: claimed!.delivery_id, attempted_at: later, status_code: 200, latency_ms: 5, error: null }, claimed!.lease, { delivered: true });
        const others = await store.claimDeliveries({ limit: 2, lease_ms: 2 * HOUR });
        const byConversion = others.filter((d) => d.conversion_id === first.conversion.conversion_id);
        for (const d of byConversion) {
          await store.finishAttempt({ delivery_id: d.delivery_id, attempted_at: later, status_code: 410, latency_ms: 5, error: null }, d.lease, { delivered: false, retry_in_ms: null });
        }
        const left = await store.outboxStats(later + 2 * HOUR);
        expect(left.pending).toBe(3 - 1 - byConversion.length);
        expect(left.due).toBe(left.pending);
      });
    });

    describe('scope (PROTOCOL.md 10: enforced in the query)', () => {
      // Advertiser 5 owns offer 12345, advertiser 6 offer 666; affiliates 67890 and 4242 send both.
      const MINE = { affiliate: 67890, other: 4242, advertiser: 5, otherAdvertiser: 6, offer: 12345, otherOffer: 666 };
      const offerOf = (offer_id: number, advertiser_id: number) => ({
        offer_id, offer_name: `Offer ${offer_id}`, advertiser_id, status: 'active', offer_url: 'https://lp.example/?r=#reqid#',
      });
      async function withOffers() {
        const store = await fresh();
        await store.writeNetwork(0, [
          { entity: 'network', id: 1, before: null, after: { name: 'N', internal_affiliate_id: 1 } },
          { entity: 'offers', id: MINE.offer, before: null, after: offerOf(MINE.offer, MINE.advertiser) },
          { entity: 'offers', id: MINE.otherOffer, before: null, after: offerOf(MINE.otherOffer, MINE.otherAdvertiser) },
        ], { source: 'file test', at: T0 });
        return store;
      }
      /** Every (affiliate, offer) pair once, and a refused click that belongs to nobody. */
      const PAIRS = [
        [MINE.affiliate, MINE.offer],
        [MINE.affiliate, MINE.otherOffer],
        [MINE.other, MINE.offer],
        [MINE.other, MINE.otherOffer],
      ] as const;
      const advertiserOf = (offer: number) => (offer === MINE.offer ? MINE.advertiser : MINE.otherAdvertiser);

      it('keeps an affiliate to its own clicks and an advertiser to its offers\' clicks, whatever the filters ask', async () => {
        const store = await withOffers();
        const clicks = await Promise.all(PAIRS.map(([affiliate_id, offer_id], i) => makeClick(T0 + i * MINUTE, { affiliate_id, offer_id, s1: `${affiliate_id}/${offer_id}` })));
        const refused = await makeClick(T0 + 10 * MINUTE, { affiliate_id: null, offer_id: null, campaign_id: null, disposition: 'unknown creative' });
        for (const c of [...clicks, refused]) await store.recordClick(c);
        const subs = async (q: Partial<Parameters<Store['listClicks']>[0]>) => {
          const page = await store.listClicks({ offset: 0, limit: 100, ...q });
          expect(page.total).toBe(page.rows.length);
          return page.rows.map((r) => r.s1);
        };
        const affiliate = { affiliate_id: MINE.affiliate };
        const advertiser = { advertiser_id: MINE.advertiser };
        expect(await subs({ scope: affiliate })).toEqual(['67890/12345', '67890/666']);
        expect(await subs({ scope: advertiser })).toEqual(['67890/12345', '4242/12345']);
        // A filter naming someone else's rows finds nothing: the scope is a condition of the query.
        expect(await subs({ scope: affiliate, affiliate_id: MINE.other })).toEqual([]);
        expect(await subs({ scope: advertiser, offer_id: MINE.otherOffer })).toEqual([]);
        expect(await subs({ scope: affiliate, reqid: clicks[2]!.reqid })).toEqual([]);
        expect(await subs({ scope: advertiser, reqid: clicks[3]!.reqid })).toEqual([]);
        expect(await subs({ scope: affiliate, reqid: clicks[1]!.reqid })).toEqual(['67890/666']);
        expect(await subs({ scope: { ...affiliate, ...advertiser } })).toEqual(['67890/12345']);
        expect(await subs({})).toHaveLength(5);
      });

      it('keeps an affiliate to its own leads and an advertiser to its offers\' leads', async () => {
        const store = await withOffers();
        for (const [i, [affiliate_id, offer_id]] of PAIRS.entries()) {
          await store.insertLead(makeLead({ affiliate_id, offer_id, created_at: T0 + i, email: `${affiliate_id}-${offer_id}@example.com` }), null, null);
        }
        const emails = async (q: Partial<Parameters<Store['listLeads']>[0]>) =>
          (await store.listLeads({ ...allLeads, ...q })).rows.map((r) => r.email);
        expect(await emails({ scope: { affiliate_id: MINE.other } })).toEqual(['4242-12345@example.com', '4242-666@example.com']);
        expect(await emails({ scope: { advertiser_id: MINE.otherAdvertiser } })).toEqual(['67890-666@example.com', '4242-666@example.com']);
        expect(await emails({ scope: { advertiser_id: MINE.advertiser }, offer_id: MINE.otherOffer })).toEqual([]);
        const theirs = (await store.listLeads({ ...allLeads, scope: { affiliate_id: MINE.other } })).rows[0]!;
        expect(await emails({ scope: { affiliate_id: MINE.affiliate }, lead_id: theirs.lead_id })).toEqual([]);
      });

      it('keeps an affiliate to its own conversions and an advertiser to the conversions recorded for it', async () => {
        const store = await withOffers();
        const rows: ConversionRow[] = [];
        for (const [i, [affiliate_id, offer_id]] of PAIRS.entries()) {
          rows.push((await store.insertConversion(makeConversion({ affiliate_id, offer_id, advertiser_id: advertiserOf(offer_id), conversion_time: T0 + i }), none)).conversion);
        }
        const ids = async (q: Partial<Parameters<Store['listConversions']>[0]>) =>
          (await store.listConversions({ ...allConversions, ...q })).rows.map((r) => r.conversion_id);
        const id = (i: number) => rows[i]!.conversion_id;
        expect(await ids({ scope: { affiliate_id: MINE.affiliate } })).toEqual([id(0), id(1)]);
        expect(await ids({ scope: { advertiser_id: MINE.advertiser } })).toEqual([id(0), id(2)]);
        expect(await ids({ scope: { advertiser_id: MINE.advertiser }, advertiser_id: MINE.otherAdvertiser })).toEqual([]);
        expect(await ids({ scope: { affiliate_id: MINE.affiliate }, conversion_id: id(3) })).toEqual([]);
        // An offer handed to another advertiser later leaves its earlier conversions with the one billed.
        await store.writeNetwork(1, [{ entity: 'offers', id: MINE.offer, before: null, after: offerOf(MINE.offer, MINE.otherAdvertiser) }], { source: 'key 1', at: T0 + 1 });
        expect(await ids({ scope: { advertiser_id: MINE.otherAdvertiser } })).toEqual([id(1), id(3)]);
      });

      it('changes the status of a conversion only inside the scope', async () => {
        const store = await withOffers();
        const postback = await store.createPostback(makePostback({ fire_on: 'rejection', affiliate_id: MINE.other }));
        const { conversion } = await store.insertConversion(makeConversion({ affiliate_id: MINE.other, offer_id: MINE.otherOffer, advertiser_id: MINE.otherAdvertiser }), none);
        expect(await store.setConversionStatus(conversion.conversion_id, 'rejected', deliveriesTo([postback.postback_id], 'rejection'), { advertiser_id: MINE.advertiser })).toBeUndefined();
        expect(await store.setConversionStatus(conversion.conversion_id, 'rejected', deliveriesTo([postback.postback_id], 'rejection'), { affiliate_id: MINE.affiliate })).toBeUndefined();
        expect((await store.getConversion(conversion.conversion_id))!.status).toBe('approved');
        expect((await store.listDeliveries(allDeliveries)).total).toBe(0);
        const changed = await store.setConversionStatus(conversion.conversion_id, 'rejected', deliveriesTo([postback.postback_id], 'rejection'), { advertiser_id: MINE.otherAdvertiser });
        expect(changed!.status).toBe('rejected');
        expect((await store.listDeliveries(allDeliveries)).total).toBe(1);
      });

      it('keeps an affiliate to its own postbacks, for reading, changing and deleting', async () => {
        const store = await withOffers();
        const mine = await store.createPostback(makePostback({ affiliate_id: MINE.affiliate }));
        const theirs = await store.createPostback(makePostback({ affiliate_id: MINE.other, offer_id: MINE.otherOffer }));
        const scope = { affiliate_id: MINE.affiliate };
        expect(await store.listPostbacks({ scope })).toEqual([mine]);
        expect(await store.listPostbacks({ scope, postback_id: theirs.postback_id })).toEqual([]);
        expect(await store.listPostbacks({ scope: { advertiser_id: MINE.otherAdvertiser } })).toEqual([theirs]);
        expect(await store.updatePostback(theirs.postback_id, { postback_url: 'https://evil.example/steal' }, scope)).toBeUndefined();
        expect(await store.deletePostback(theirs.postback_id, scope)).toBe(false);
        expect(await store.listPostbacks({ postback_id: theirs.postback_id })).toEqual([theirs]);
        expect(await store.updatePostback(mine.postback_id, { postback_status: 'inactive' }, scope)).toEqual({ ...mine, postback_status: 'inactive' });
        expect(await store.deletePostback(mine.postback_id, scope)).toBe(true);
      });

      it('keeps an affiliate to the deliveries of its own conversions, also once their postback is gone', async () => {
        const store = await withOffers();
        const mine = await store.createPostback(makePostback({ affiliate_id: MINE.affiliate }));
        const theirs = await store.createPostback(makePostback({ affiliate_id: MINE.other }));
        const a = await store.insertConversion(makeConversion({ affiliate_id: MINE.affiliate }), deliveriesTo([mine.postback_id]));
        const b = await store.insertConversion(makeConversion({ affiliate_id: MINE.other }), deliveriesTo([theirs.postback_id]));
        const of = async (scope: Scope, q: Partial<Parameters<Store['listDeliveries']>[0]> = {}) =>
          (await store.listDeliveries({ ...allDeliveries, scope, ...q })).rows.map((d) => d.conversion_id);
        expect(await of({ affiliate_id: MINE.affiliate })).toEqual([a.conversion.conversion_id]);
        expect(await of({ affiliate_id: MINE.other })).toEqual([b.conversion.conversion_id]);
        expect(await of({ affiliate_id: MINE.affiliate }, { conversion_id: b.conversion.conversion_id })).toEqual([]);
        await store.deletePostback(mine.postback_id);
        expect(await of({ affiliate_id: MINE.affiliate })).toEqual([a.conversion.conversion_id]);
      });
    });

    describe('paging by key, and counts that stop at a cap', () => {
      /** Every page of a list, walked by the key each page answers. */
      async function walk<T, K>(list: (after: K | undefined) => Promise<Page<T, K>>): Promise<T[][]> {
        const pages: T[][] = [];
        let after: K | undefined;
        for (;;) {
          const page = await list(after);
          pages.push(page.rows);
          if (page.next === null) return pages;
          after = page.next;
        }
      }

      it('walks clicks by reqid, each page after the last one\'s, the total of the whole list on every page', async () => {
        const store = await fresh();
        const clicks = await Promise.all(Array.from({ length: 7 }, (_, i) => makeClick(T0 + i * MINUTE, { s1: `c${i}` })));
        await Promise.all(clicks.map((c) => store.recordClick(c)));
        const first = await store.listClicks({ offset: 0, limit: 3 });
        expect(first).toMatchObject({ total: 7, capped: false, next: clicks[2]!.reqid });
        const second = await store.listClicks({ after: first.next!, offset: 0, limit: 3 });
        expect(second.rows.map((r) => r.s1)).toEqual(['c3', 'c4', 'c5']);
        expect(second.total).toBe(7);
        const pages = await walk((after: string | undefined) => store.listClicks({ after, offset: 0, limit: 3 }));
        expect(pages.map((p) => p.map((r) => r.s1))).toEqual([['c0', 'c1', 'c2'], ['c3', 'c4', 'c5'], ['c6']]);
        // A last page that is exactly full says no more follow.
        expect((await store.listClicks({ after: clicks[3]!.reqid, offset: 0, limit: 3 })).next).toBeNull();
        const ranged = await walk((after: string | undefined) => store.listClicks({ from: T0 + MINUTE, to: T0 + 5 * MINUTE, after, offset: 0, limit: 2 }));
        expect(ranged.flat().map((r) => r.s1)).toEqual(['c1', 'c2', 'c3', 'c4']);
      });

      it('walks leads and deliveries by id', async () => {
        const store = await fresh();
        const leads: number[] = [];
        for (let i = 0; i < 5; i++) leads.push((await store.insertLead(makeLead({ email: `w${i}@example.com` }), null, null)).lead.lead_id);
        const leadPages = await walk((after: number | undefined) => store.listLeads({ ...allLeads, after, limit: 2 }));
        expect(leadPages.map((p) => p.map((r) => r.lead_id))).toEqual([leads.slice(0, 2), leads.slice(2, 4), leads.slice(4)]);
        const { conversion } = await store.insertConversion(makeConversion(), deliveriesTo([1, 2, 3, 4, 5]));
        const deliveryPages = await walk((after: number | undefined) => store.listDeliveries({ ...allDeliveries, conversion_id: conversion.conversion_id, after, limit: 2 }));
        expect(deliveryPages.map((p) => p.length)).toEqual([2, 2, 1]);
        const ids = deliveryPages.flat().map((d) => d.delivery_id);
        expect(ids).toEqual([...ids].sort((a, b) => a - b));
        expect(new Set(ids).size).toBe(5);
      });

      it('pages postbacks by id', async () => {
        const store = await fresh();
        const made = [];
        for (let i = 0; i < 5; i++) made.push((await store.createPostback(makePostback({ offer_id: i }))).postback_id);
        // One more than the limit: the caller learns that more follow.
        expect((await store.listPostbacks({ limit: 2 })).map((p) => p.postback_id)).toEqual(made.slice(0, 3));
        expect((await store.listPostbacks({ after: made[2], limit: 2 })).map((p) => p.postback_id)).toEqual(made.slice(3));
      });

      for (const sort of CONVERSION_SORTS) {
        for (const descending of [false, true]) {
          it(`walks conversions sorted by ${sort} ${descending ? 'descending' : 'ascending'} by key, in the order of one big page, ties included`, async () => {
            const store = await fresh();
            // Ties on every sort column, so the cursor's id must break them.
            for (let i = 0; i < 9; i++) {
              await store.insertConversion(
                makeConversion({ conversion_time: T0 + (i % 3) * HOUR, offer_id: 1 + (i % 2), affiliate_id: 10 + (i % 4), payout_cents: 100 * (i % 3), revenue_cents: 50 * (i % 2) }),
                none,
              );
            }
            const whole = (await store.listConversions({ ...allConversions, sort, descending })).rows.map((r) => r.conversion_id);
            const pages = await walk((after: number | undefined) => store.listConversions({ ...allConversions, sort, descending, after, limit: 2 }));
            expect(pages.flat().map((r) => r.conversion_id)).toEqual(whole);
            expect(pages.map((p) => p.length)).toEqual([2, 2, 2, 2, 1]);
          });
        }
      }

      it('reads a conversion cursor inside the scope only', async () => {
        const store = await fresh();
        const theirs = (await store.insertConversion(makeConversion({ affiliate_id: 2, payout_cents: 500 }), none)).conversion;
        await store.insertConversion(makeConversion({ affiliate_id: 1, payout_cents: 100 }), none);
        await store.insertConversion(makeConversion({ affiliate_id: 1, payout_cents: 900 }), none);
        const after = (cursor: number) =>
          store.listConversions({ ...allConversions, sort: 'payout', scope: { affiliate_id: 1 }, after: cursor });
        expect((await after(theirs.conversion_id)).rows).toEqual([]);
      });

      it('counts up to the cap and says when it stopped there', async () => {
        const store = await fresh();
        const clicks = await Promise.all(Array.from({ length: 5 }, (_, i) => makeClick(T0 + i)));
        await Promise.all(clicks.map((c) => store.recordClick(c)));
        expect(await store.listClicks({ offset: 0, limit: 2, count_cap: 3 })).toMatchObject({ total: 3, capped: true });
        expect(await store.listClicks({ offset: 0, limit: 2, count_cap: 5 })).toMatchObject({ total: 5, capped: false });
        for (let i = 0; i < 4; i++) await store.insertConversion(makeConversion(), none);
        expect(await store.listConversions({ ...allConversions, count_cap: 2 })).toMatchObject({ total: 2, capped: true });
        expect((await store.listConversions({ ...allConversions, count_cap: 2 })).rows).toHaveLength(4);
      });
    });

    describe('API key uses', () => {
      const key = (key_id: number) => ({ key_id, key_hash: String(key_id).repeat(64).slice(0, 64), role: 'affiliate', advertiser_id: null, affiliate_id: 7, label: null, source: 'api', created_at: T0, revoked_at: null });

      it('records the last use of a key, only ever forward, without a new network version', async () => {
        const db = database();
        const [a, b] = await Promise.all([db.open(), db.open()]);
        await a.writeNetwork(0, [{ entity: 'api_keys', id: 1, before: null, after: key(1) }, { entity: 'api_keys', id: 2, before: null, after: key(2) }], { source: 'key 1', at: T0 });
        await a.touchApiKey(1, T0 + MINUTE);
        await b.touchApiKey(1, T0 + 30_000);
        expect(await b.apiKeyUses()).toEqual(new Map([[1, T0 + MINUTE]]));
        expect(await a.networkVersion()).toBe(1);
        // Revoking the key (a network change) keeps its last use.
        await a.writeNetwork(1, [{ entity: 'api_keys', id: 1, before: key(1), after: { ...key(1), revoked_at: T0 + HOUR } }], { source: 'key 1', at: T0 + HOUR });
        expect((await a.apiKeyUses()).get(1)).toBe(T0 + MINUTE);
        expect((await a.loadNetwork()).api_keys[0]).toEqual({ ...key(1), revoked_at: T0 + HOUR });
      });
    });

    describe('console sessions signed out', () => {
      it('are seen ended by every instance of the database, until pruned once their cookie expired', async () => {
        const db = database();
        const [a, b] = await Promise.all([db.open(), db.open()]);
        expect(await b.sessionEnded('nonce-1')).toBe(false);
        await a.endSession('nonce-1', T0 + HOUR, T0);
        // Again (a second sign-out with a copy of the cookie): no error, nothing changes.
        await b.endSession('nonce-1', T0 + 2 * HOUR, T0 + MINUTE);
        await a.endSession('nonce-2', T0 + DAY, T0);
        expect(await b.sessionEnded('nonce-1')).toBe(true);
        expect(await b.sessionEnded('nonce-3')).toBe(false);
        // Pruned in bounded batches, only what has expired by then (nonce-1 kept its first expiry).
        expect(await a.pruneEndedSessions(T0 + HOUR - 1, 10)).toBe(0);
        expect(await a.pruneEndedSessions(T0 + HOUR, 10)).toBe(1);
        expect(await b.sessionEnded('nonce-1')).toBe(false);
        expect(await b.sessionEnded('nonce-2')).toBe(true);
        await a.endSession('nonce-3', T0 + DAY, T0);
        expect(await b.pruneEndedSessions(T0 + DAY, 1)).toBe(1);
        expect(await b.pruneEndedSessions(T0 + DAY, 1)).toBe(1);
        expect(await b.pruneEndedSessions(T0 + DAY, 1)).toBe(0);
      });
    });

    describe('lifecycle', () => {
      it('commits on close what was queued and not yet written', async () => {
        const db = database();
        const store = await db.open();
        const clicks = await Promise.all(Array.from({ length: 30 }, (_, i) => makeClick(T0 + i)));
        const writes = [
          ...clicks.map((c) => store.recordClick(c)),
          store.insertConversion(makeConversion({ dedupe_key: 'late' }), deliveriesTo([1])),
          store.insertLead(makeLead(), { email: 'ada@example.com', since: 0 }, null),
          store.createPostback(makePostback()),
        ];
        await store.close();
        await Promise.all(writes);
        const reopened = await db.open();
        expect((await reopened.listClicks({ offset: 0, limit: 100 })).total).toBe(30);
        expect((await reopened.listConversions(allConversions)).total).toBe(1);
        expect((await reopened.listLeads(allLeads)).total).toBe(1);
        expect((await reopened.listDeliveries(allDeliveries)).total).toBe(1);
        expect(await reopened.listPostbacks({})).toHaveLength(1);
      });

      it('keeps every kind of row across close and reopen', async () => {
        const db = database();
        const store = await db.open();
        const secret = await store.secret(() => 'kept');
        const click = await makeClick();
        await store.recordClick(click);
        const lead = await store.insertLead(makeLead(), null, { conversion: makeConversion({ source: 'lead' }), deliveries: deliveriesTo([1]) });
        const postback = await store.createPostback(makePostback());
        await store.close();

        const reopened = await db.open();
        expect(await reopened.secret(() => 'new')).toBe(secret);
        expect(await reopened.getClick(click.reqid)).toEqual(click);
        expect((await reopened.listLeads(allLeads)).rows).toEqual([lead.lead]);
        if (lead.duplicate) throw new Error('not a duplicate');
        expect(await reopened.getConversion(lead.conversion!.conversion_id)).toEqual(lead.conversion);
        expect((await reopened.listDeliveries(allDeliveries)).total).toBe(1);
        expect(await reopened.listPostbacks({})).toEqual([postback]);
        // Ids go on from where they were.
        const next = await reopened.insertConversion(makeConversion(), none);
        expect(next.conversion.conversion_id).toBeGreaterThan(lead.conversion!.conversion_id);
      });

      it('lets two instances start at once on a new database', async () => {
        const db = database();
        const [a, b] = await Promise.all([db.open(), db.open()]);
        const click = await makeClick();
        await a.recordClick(click);
        expect(await b.getClick(click.reqid)).toEqual(click);
      });
    });

    describe('summary report (PROTOCOL.md 11)', () => {
      const offerOf = (offer_id: number, advertiser_id: number) => ({
        offer_id, offer_name: `Offer ${offer_id}`, advertiser_id, status: 'active', offer_url: 'https://lp.example/?r=#reqid#',
      });
      async function seeded() {
        const store = await fresh();
        await store.writeNetwork(0, [
          { entity: 'network', id: 1, before: null, after: { name: 'N', internal_affiliate_id: 1 } },
          { entity: 'offers', id: 12345, before: null, after: offerOf(12345, 5) },
          { entity: 'offers', id: 666, before: null, after: offerOf(666, 6) },
        ], { source: 'file test', at: T0 });
        const c1 = await makeClick(T0, { s1: 'a' });
        const c2 = await makeClick(T0 + MINUTE, { s1: 'a', disposition: `repeat ${c1.reqid}` });
        const c3 = await makeClick(T0 + 13 * HOUR, { affiliate_id: 4242, offer_id: 666, campaign_id: 9, creative_id: 8, s1: 'b', country: 'DE', disposition: 'pixel' });
        const refused = await makeClick(T0 + 2 * MINUTE, { affiliate_id: null, offer_id: null, campaign_id: null, creative_id: null, disposition: 'unknown creative' });
        for (const c of [c1, c2, c3, refused]) await store.recordClick(c);
        // A conversion carries its click's sub ids, as conversions/record.ts writes it.
        await store.insertConversion(makeConversion({ reqid: c1.reqid, s1: 'a', conversion_time: T0 + 10 * MINUTE }), none);
        await store.insertConversion(makeConversion({ reqid: c1.reqid, s1: 'a', event_id: 7, payout_cents: 50, revenue_cents: 100, conversion_time: T0 + 12 * HOUR }), none);
        const pending = { reqid: c3.reqid, s1: 'b', offer_id: 666, advertiser_id: 6, affiliate_id: 4242, campaign_id: 9, creative_id: 8, status: 'pending' as const, payout_cents: 0, revenue_cents: 0 };
        await store.insertConversion(makeConversion({ ...pending, conversion_time: T0 + 14 * HOUR }), none);
        await store.insertConversion(makeConversion({ ...pending, status: 'rejected', conversion_time: T0 + 14 * HOUR }), none);
        await store.insertConversion(makeConversion({ ...pending, status: 'approved', is_test: true, conversion_time: T0 + 14 * HOUR }), none);
        return store;
      }
      const base = { from: T0 - DAY, to: T0 + 2 * DAY, zone: [{ since: T0 - DAY, offset: 0 }], include_tests: false };
      /** key: clicks, total_clicks, macro, micro, paid, pending, rejected, cost, revenue. */
      /** Every group of the report (in key order). */
      const groupsOf = async (s: Store, q: ReportQuery) => (await s.summaryReport(q, EVERY_GROUP)).rows;
      const table = (rows: ReportRow[]) =>
        Object.fromEntries(rows.map((r) => [String(r.key), [r.clicks, r.total_clicks, r.macro_event_conversions, r.micro_events, r.paid, r.pending, r.rejected, r.cost_cents, r.revenue_cents]]));

      it('counts unique and total clicks, conversions by status and money, by each kind of key', async () => {
        const store = await seeded();
        expect(table(await groupsOf(store, { ...base, group_by: 'offer' }))).toEqual({
          12345: [1, 2, 1, 1, 2, 0, 0, 1850, 2300],
          666: [1, 1, 1, 0, 0, 1, 1, 0, 0],
        });
        expect(table(await groupsOf(store, { ...base, group_by: 'advertiser' }))).toEqual({ 5: [1, 2, 1, 1, 2, 0, 0, 1850, 2300], 6: [1, 1, 1, 0, 0, 1, 1, 0, 0] });
        // A conversion's sub ids are those it carries (its click's); its country is its click's.
        expect(table(await groupsOf(store, { ...base, group_by: 'sub_id_1' }))).toEqual({ a: [1, 2, 1, 1, 2, 0, 0, 1850, 2300], b: [1, 1, 1, 0, 0, 1, 1, 0, 0] });
        expect(table(await groupsOf(store, { ...base, group_by: 'sub_id_2' }))).toEqual({ null: [2, 3, 2, 1, 2, 1, 1, 1850, 2300] });
        expect(table(await groupsOf(store, { ...base, group_by: 'country', country: 'DE' }))).toEqual({ DE: [1, 1, 1, 0, 0, 1, 1, 0, 0] });
        expect(table(await groupsOf(store, { ...base, group_by: 'campaign', include_tests: true }))).toEqual({ 3870: [1, 2, 1, 1, 2, 0, 0, 1850, 2300], 9: [1, 1, 2, 0, 0, 1, 1, 0, 0] });
      });

      it('answers the page asked for, sorted on a metric, the key or names, with the count and totals of every group', async () => {
        const store = await seeded();
        const q = { ...base, group_by: 'sub_id_1' as const, include_tests: true };
        const order: ReportOrder = { sort: 'key', descending: false, affiliate: false, offset: 0, limit: 100 };
        const all = await store.summaryReport(q, order);
        expect(all.count).toBe(2);
        expect(table(all.rows)).toEqual({ a: [1, 2, 1, 1, 2, 0, 0, 1850, 2300], b: [1, 1, 2, 0, 0, 1, 1, 0, 0] });
        expect(all.totals).toEqual({ clicks: 2, total_clicks: 3, macro_event_conversions: 3, micro_events: 1, paid: 2, pending: 1, rejected: 1, cost_cents: 1850, revenue_cents: 2300 });
        // By conversions, most first: b (2) before a (1); one row a page, the count and totals the same.
        const second = await store.summaryReport(q, { ...order, sort: 'macro_event_conversions', descending: true, offset: 1, limit: 1 });
        expect(second.rows.map((r) => r.key)).toEqual(['a']);
        expect([second.count, second.totals]).toEqual([all.count, all.totals]);
        expect((await store.summaryReport(q, { ...order, descending: true })).rows.map((r) => r.key)).toEqual(['b', 'a']);
        // Offers by name: 666 is "Offer 666", 12345 "Offer 12345" (text order), one nameless first.
        const byName = await store.summaryReport({ ...q, group_by: 'offer' }, { ...order, sort: 'name', names: { 666: 'Offer 666', 12345: 'Offer 12345' } });
        expect(byName.rows.map((r) => r.key)).toEqual([12345, 666]);
        expect((await store.summaryReport({ ...q, group_by: 'offer' }, { ...order, sort: 'name', names: { 666: 'Offer 666' } })).rows.map((r) => r.key)).toEqual([12345, 666]);
        expect((await store.summaryReport({ ...q, group_by: 'offer' }, { ...order, sort: 'name', names: { 12345: 'Z' } })).rows.map((r) => r.key)).toEqual([666, 12345]);
      });

      it('cuts local days and hours by the zone\'s offset pieces', async () => {
        const store = await seeded();
        const days = (zone: { since: number; offset: number }[]) => groupsOf(store, { ...base, group_by: 'day', zone });
        const day0 = Math.floor(T0 / DAY); // T0 is 12:00 UTC
        // +11:00: T0 + 13 h is the next local day.
        expect(table(await days([{ since: base.from, offset: 11 * HOUR }]))).toEqual({ [day0]: [1, 2, 1, 0, 1, 0, 0, 1800, 2200], [day0 + 1]: [1, 1, 1, 1, 1, 1, 1, 50, 100] });
        // +05:30 until T0 + 11 h, then +13:00: the event at T0 + 12 h moves to the next day.
        expect(table(await days([{ since: base.from, offset: 5.5 * HOUR }, { since: T0 + 11 * HOUR, offset: 13 * HOUR }]))).toEqual({
          [day0]: [1, 2, 1, 0, 1, 0, 0, 1800, 2200],
          [day0 + 1]: [1, 1, 1, 1, 1, 1, 1, 50, 100],
        });
        const hours = await groupsOf(store, { ...base, group_by: 'hour', zone: [{ since: base.from, offset: -5.5 * HOUR }] });
        expect(hours.map((r) => r.key).sort()).toEqual([Math.floor((T0 - 5.5 * HOUR) / HOUR), Math.floor((T0 + 6.5 * HOUR) / HOUR), Math.floor((T0 + 7.5 * HOUR) / HOUR), Math.floor((T0 + 8.5 * HOUR) / HOUR)].sort());
      });

      it('reads the rollups before the watermark and the raw clicks after it: the same numbers at every watermark', async () => {
        const store = await seeded();
        const kolkata = [{ since: base.from, offset: 5.5 * HOUR }];
        const queries = [
          { ...base, group_by: 'day' as const },
          { ...base, group_by: 'hour' as const },
          { ...base, group_by: 'day' as const, zone: kolkata },
          { ...base, group_by: 'offer' as const },
          { ...base, group_by: 'advertiser' as const, scope: { advertiser_id: 6 } },
          { ...base, group_by: 'campaign' as const, affiliate_id: 67890 },
          { ...base, from: T0 - 5.5 * HOUR, to: T0 + 18.5 * HOUR, group_by: 'affiliate' as const },
          // Sub ids: whole UTC days from report_sub_ids, the hours before the first midnight raw.
          { ...base, group_by: 'sub_id_1' as const },
          { ...base, group_by: 'sub_id_1' as const, affiliate_id: 4242 },
        ];
        const answers = async () => Promise.all(queries.map(async (q) => table(await groupsOf(store, q))));
        const raw = await answers();
        // Part way: up to T0 + 12 h (the first two clicks folded, the third not).
        while ((await store.foldReports(T0 + 12 * HOUR, DAY)) !== null);
        expect(await answers()).toEqual(raw);
        while ((await store.foldReports(T0 + 3 * DAY, DAY)) !== null);
        expect(await answers()).toEqual(raw);
      });

      it('reads the sub ids of whole days and 8-day blocks before the watermark, the rest raw: the same numbers at every watermark', async () => {
        const store = await fresh();
        // A click a day for 30 days, sub ids a, b, none in turn, some repeats; a conversion every third day.
        for (let d = 0; d < 30; d++) {
          const c = await makeClick(T0 + d * DAY, { s1: ['a', 'b', null][d % 3]!, s2: d % 2 ? 'x' : null, disposition: d % 5 === 4 ? 'repeat -' : 'redirect' });
          await store.recordClick(c);
          if (d % 3 === 0) await store.insertConversion(makeConversion({ reqid: c.reqid, s1: c.s1, s2: c.s2, conversion_time: c.click_time + HOUR }), none);
        }
        // A second affiliate's clicks every other day (sub ids a and c), for its own rollup rows.
        for (let d = 0; d < 30; d += 2) await store.recordClick(await makeClick(T0 + d * DAY + HOUR, { affiliate_id: 555, s1: d % 4 ? 'c' : 'a' }));
        const queries = [
          { ...base, from: T0 - DAY, to: T0 + 31 * DAY, group_by: 'sub_id_1' as const },
          { ...base, from: T0 + 2.5 * DAY, to: T0 + 26.5 * DAY, group_by: 'sub_id_1' as const },
          { ...base, from: T0 + 3 * DAY - 5 * HOUR, to: T0 + 20 * DAY - 5 * HOUR, group_by: 'sub_id_2' as const },
          // One affiliate's sub ids, by its key's scope and by the filter: report_affiliate_sub_ids.
          { ...base, from: T0 - DAY, to: T0 + 31 * DAY, group_by: 'sub_id_1' as const, scope: { affiliate_id: 555 } },
          { ...base, from: T0 + 2.5 * DAY, to: T0 + 26.5 * DAY, group_by: 'sub_id_1' as const, affiliate_id: 67890 },
          { ...base, from: T0 - DAY, to: T0 + 31 * DAY, group_by: 'sub_id_1' as const, affiliate_id: 555, scope: { affiliate_id: 555 } },
          // A filter and a scope that disagree: nothing.
          { ...base, from: T0 - DAY, to: T0 + 31 * DAY, group_by: 'sub_id_1' as const, affiliate_id: 67890, scope: { affiliate_id: 555 } },
        ];
        const answers = async () => Promise.all(queries.map(async (q) => table(await groupsOf(store, q))));
        const raw = await answers();
        expect(raw[0]).toEqual({ a: [16, 18, 10, 0, 10, 0, 0, 18000, 22000], b: [8, 10, 0, 0, 0, 0, 0, 0, 0], c: [7, 7, 0, 0, 0, 0, 0, 0, 0], null: [8, 10, 0, 0, 0, 0, 0, 0, 0] });
        expect(raw[3]).toEqual({ a: [8, 8, 0, 0, 0, 0, 0, 0, 0], c: [7, 7, 0, 0, 0, 0, 0, 0, 0] });
        expect(raw[5]).toEqual(raw[3]);
        expect(raw[6]).toEqual({});
        for (const until of [T0 + 9 * DAY, T0 + 17.5 * DAY, T0 + 40 * DAY]) {
          while ((await store.foldReports(until, DAY)) !== null);
          expect(await answers()).toEqual(raw);
        }
      });

      it('folds a window once when two instances fold at once', async () => {
        const db = database();
        const a = await db.open();
        const b = await db.open();
        const click = await makeClick(T0);
        await a.recordClick(click);
        const q = { ...base, group_by: 'offer' as const };
        const before = table(await groupsOf(a, q));
        for (let i = 0; i < 20; i++) {
          const [x, y] = await Promise.all([a.foldReports(T0 + DAY, HOUR), b.foldReports(T0 + DAY, HOUR)]);
          if (x === null && y === null) break;
        }
        expect(table(await groupsOf(b, q))).toEqual(before);
      });

      it('folds a busy window a chunk of clicks per transaction: the same numbers after every chunk', async () => {
        const store = await fresh();
        // Nine clicks in one window: sub ids a, b, c in turn, two repeats.
        for (let i = 0; i < 9; i++) {
          await store.recordClick(await makeClick(T0 + i * 1000, { s1: ['a', 'b', 'c'][i % 3]!, disposition: i % 4 === 3 ? 'repeat -' : 'redirect' }));
        }
        const queries = [
          { ...base, group_by: 'offer' as const },
          { ...base, group_by: 'day' as const },
          { ...base, group_by: 'sub_id_1' as const },
        ];
        const answers = async () => Promise.all(queries.map(async (q) => table(await groupsOf(store, q))));
        const raw = await answers();
        expect(raw[2]).toEqual({ a: [2, 3, 0, 0, 0, 0, 0, 0, 0], b: [2, 3, 0, 0, 0, 0, 0, 0, 0], c: [3, 3, 0, 0, 0, 0, 0, 0, 0] });
        const marks: (number | null)[] = [];
        let mark: number | null;
        // Up to the next UTC midnight: the day's rollup and its sub ids are read once it is folded.
        while ((mark = await store.foldReports(T0 + 12 * HOUR, DAY, 2)) !== null) {
          marks.push(mark);
          expect(await answers()).toEqual(raw);
        }
        // Two clicks a transaction: four part-way (the watermark stays), the last moves it. D1 keeps
        // no rollups: nothing to fold.
        expect(marks).toEqual(store.kind === 'd1' ? [] : [T0, T0, T0, T0, T0 + 12 * HOUR]);
      });

      it('folds each chunk once when two instances fold at once', async () => {
        const db = database();
        const a = await db.open();
        const b = await db.open();
        for (let i = 0; i < 6; i++) await a.recordClick(await makeClick(T0 + i * 1000, { s1: `s${i % 2}` }));
        const queries = [{ ...base, group_by: 'offer' as const }, { ...base, group_by: 'sub_id_1' as const }];
        const answers = async () => Promise.all(queries.map(async (q) => table(await groupsOf(b, q))));
        const before = await answers();
        for (let i = 0; i < 100; i++) {
          const [x, y] = await Promise.all([a.foldReports(T0 + DAY, HOUR, 1), b.foldReports(T0 + DAY, HOUR, 1)]);
          if (x === null && y === null) break;
        }
        expect(await a.foldReports(T0 + DAY, HOUR, 1)).toBeNull();
        expect(await answers()).toEqual(before);
      });

      it('keeps to the range, the filters and the scope, in the query', async () => {
        const store = await seeded();
        expect(table(await groupsOf(store, { ...base, to: T0 + HOUR, group_by: 'offer' }))).toEqual({ 12345: [1, 2, 1, 0, 1, 0, 0, 1800, 2200] });
        expect(table(await groupsOf(store, { ...base, group_by: 'offer', scope: { affiliate_id: 4242 } }))).toEqual({ 666: [1, 1, 1, 0, 0, 1, 1, 0, 0] });
        expect(table(await groupsOf(store, { ...base, group_by: 'affiliate', scope: { advertiser_id: 5 } }))).toEqual({ 67890: [1, 2, 1, 1, 2, 0, 0, 1850, 2300] });
        expect(table(await groupsOf(store, { ...base, group_by: 'affiliate', advertiser_id: 6 }))).toEqual({ 4242: [1, 1, 1, 0, 0, 1, 1, 0, 0] });
        expect(await groupsOf(store, { ...base, group_by: 'offer', scope: { advertiser_id: 5 }, offer_id: 666 })).toEqual([]);
        expect(table(await groupsOf(store, { ...base, group_by: 'creative', creative_id: 1057, campaign_id: 3870 }))).toEqual({ 1057: [1, 2, 1, 1, 2, 0, 0, 1850, 2300] });
      });
    });
  });
}
