// Duplicate storms (issue 9, item 2): hundreds of identical conversions (same unique_id, or the same
// transaction id on the pixel) and hundreds of identical leads (same offer and email) sent at once,
// spread over two server processes on one PostgreSQL database. Exactly one of each is kept, exactly
// one postback is delivered per kept conversion (a CPL lead's included), and every other request gets
// a clean duplicate answer, never a 5xx. The figures are printed and written down in
// docs/reliability-multi.md.
import { afterAll, afterEach, beforeEach, expect, it } from 'vitest';
import { AFF, API_KEY, CAMPAIGN, conversionNetworkFile, CREATIVE, OFFER } from '../support/network.js';
import { burst, callApi, clickAt, day, startInstances, writeNetworkFile, type BurstRequest, type Instances } from '../support/instances.js';
import { FORM, xmlAnswer } from '../support/leads.js';
import { describePostgres } from '../support/pg.js';
import { startReceiver, type Receiver } from '../support/receiver.js';

/** Identical copies of each request: with three keys per storm, 600 requests (and connections)
 * at once, which stays inside the usual limit of 1024 open files per process. */
const COPIES = 200;

interface Figures {
  storm: string;
  /** Requests in the storm. */
  sent: number;
  /** Distinct conversions (or leads) the storm was made of: what should be kept. */
  keys: number;
  /** Rows the store holds afterwards (read through the API), and those beyond one per key. */
  kept: number | null;
  duplicatesKept: number | null;
  /** Answers saying "duplicate" (conversion.json's duplicate, p.ashx's X-Crumb-Result, d.ashx's Duplicate Lead). */
  cleanDuplicates: number | null;
  /** Requests the postback receiver got, and kept conversions it got none for. */
  postbacksDelivered: number | null;
  postbacksUndelivered: number | null;
  status5xx: number | null;
}

const figures: Figures[] = [];

function json(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

const shown = (n: number | null) => (n === null ? 'not reached' : String(n));

/** Printed whether the test passed or not: a failing storm shows how far it got. */
function print(f: Figures) {
  figures.push(f);
  console.log(
    `[storm] ${f.storm}: requests sent ${f.sent}, kept ${shown(f.kept)} of ${f.keys}, duplicates kept ${shown(f.duplicatesKept)}, ` +
      `clean duplicate answers ${shown(f.cleanDuplicates)}, postbacks delivered ${shown(f.postbacksDelivered)}, ` +
      `undelivered ${shown(f.postbacksUndelivered)}, 5xx ${shown(f.status5xx)}`,
  );
}

describePostgres('duplicate storms across two instances on PostgreSQL', (schemas) => {
  let instances: Instances | undefined;
  let receiver: Receiver | undefined;
  let schemaCount = 0;
  const config = writeNetworkFile(conversionNetworkFile());

  beforeEach(async () => {
    receiver = await startReceiver();
    // A larger pool than the test default, so that more of the storm reaches the database at once.
    const db = new URL(await schemas.create(`storm_${++schemaCount}`));
    db.searchParams.set('max', '8');
    instances = await startInstances(2, { config, db: db.toString() });
    // One server-to-server postback for the partner on every offer, created through one instance.
    const created = await callApi(
      instances.urls[0]!,
      'affiliate_postback.json',
      {
        api_key: API_KEY,
        affiliate_id: AFF.partner,
        offer_id: 0,
        postback_url: `${receiver.base}/postback?click_id=#reqid#&leadid=#leadid#&oid=#oid#&tid=#tid#`,
      },
      'POST',
    );
    expect(created.status, created.text).toBe(200);
  });

  afterEach(async (context) => {
    // A failure is easier to read with what the servers said (errors are logged with their stack).
    if (context.task.result?.state === 'fail') {
      for (const [i, s] of (instances?.servers ?? []).entries()) console.error(`--- instance ${i + 1} output (end) ---\n${s.output().slice(-4000)}`);
    }
    await instances?.kill();
    await receiver?.close();
    instances = undefined;
    receiver = undefined;
  });

  afterAll(async () => {
    if (figures.length) {
      const total = (k: 'sent' | 'keys' | 'kept' | 'duplicatesKept' | 'postbacksDelivered' | 'postbacksUndelivered' | 'status5xx') =>
        figures.some((f) => f[k] === null) ? null : figures.reduce((n, f) => n + f[k]!, 0);
      console.log(
        `[storm] total: requests sent ${total('sent')}, kept ${shown(total('kept'))} of ${total('keys')}, duplicates kept ${shown(total('duplicatesKept'))}, ` +
          `postbacks delivered ${shown(total('postbacksDelivered'))}, undelivered ${shown(total('postbacksUndelivered'))}, 5xx ${shown(total('status5xx'))}`,
      );
    }
    await schemas.dropAll();
  });

  /** Waits (bounded) until the outbox holds `count` deliveries, all delivered; answers them. */
  async function allDelivered(count: number) {
    const until = Date.now() + 60_000;
    for (;;) {
      const list = await callApi(instances!.urls[1]!, 'postback_deliveries.json', { api_key: API_KEY, row_limit: 500 });
      expect(list.status, list.text).toBe(200);
      const rows = list.body.deliveries as any[];
      if (rows.length >= count && rows.every((d) => d.status === 'delivered')) return rows;
      if (Date.now() > until) throw new Error(`gave up waiting for ${count} delivered postbacks: ${JSON.stringify(rows.map((d) => [d.delivery_id, d.status, d.last_error]))}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Stops both instances cleanly (attempts in flight finish), then answers what the receiver got. */
  async function receivedAfterStop() {
    expect(await instances!.stop()).toEqual([0, 0]);
    return receiver!.requests.filter((r) => r.path === '/postback');
  }

  it(`keeps one conversion per unique_id (and per pixel transaction id) out of ${COPIES} identical copies each, and posts it back once`, async () => {
    const A = instances!.urls[0]!;
    // Two orders through conversion.json, one through the server pixel (p.ashx?f=pb&t=).
    const orders = await Promise.all(
      ['ORD-1', 'ORD-2', 'PIX-3'].map(async (key, i) => ({ key, pixel: key.startsWith('PIX'), reqid: await clickAt(A, AFF.partner, CREATIVE.lead, `storm-${i}`) })),
    );

    // Every copy of every order at once: copy n goes to instance n % 2, conversion.json alternates
    // GET and POST, the orders are interleaved.
    const sent: { key: string; request: BurstRequest }[] = [];
    for (let n = 0; n < COPIES; n++) {
      for (const order of orders) {
        const base = instances!.at(n);
        if (order.pixel) {
          sent.push({ key: order.key, request: { base, method: 'GET', path: `/p.ashx?o=${OFFER.lead}&r=${order.reqid}&t=${order.key}&f=pb` } });
          continue;
        }
        const query = new URLSearchParams({ api_key: API_KEY, click_id: order.reqid, offer_id: String(OFFER.lead), unique_id: order.key }).toString();
        sent.push({
          key: order.key,
          request:
            n % 4 < 2
              ? { base, method: 'GET', path: `/api/2/conversion.json?${query}` }
              : { base, method: 'POST', path: '/api/2/conversion.json', headers: { 'content-type': FORM }, body: query },
        });
      }
    }
    const f: Figures = {
      storm: `identical conversions (${orders.length - 1} unique_ids by conversion.json and 1 transaction id by p.ashx, ${COPIES} copies each, 2 instances)`,
      sent: sent.length,
      keys: orders.length,
      kept: null,
      duplicatesKept: null,
      cleanDuplicates: null,
      postbacksDelivered: null,
      postbacksUndelivered: null,
      status5xx: null,
    };
    try {
      const answers = (await burst(sent.map((s) => s.request))).map((a, i) => {
        const { key, request } = sent[i]!;
        if (request.path.startsWith('/p.ashx')) {
          // The pixel's XML says SUCCESS either way; X-Crumb-Result names the conversion.
          const result = String(a.headers['x-crumb-result'] ?? '');
          const id = /(?:duplicate of|recorded) conversion (\d+)/.exec(result)?.[1];
          return { key, status: a.status, conversion_id: id ? Number(id) : null, duplicate: id ? result.startsWith('duplicate') : null, raw: `${result} ${a.text}` };
        }
        const body = json(a.text);
        return { key, status: a.status, conversion_id: body?.conversion?.conversion_id ?? null, duplicate: body?.duplicate ?? null, raw: a.text };
      });
      f.status5xx = answers.filter((a) => a.status >= 500).length;
      f.cleanDuplicates = answers.filter((a) => a.status === 200 && a.duplicate === true).length;
      expect(answers.filter((a) => a.status !== 200).map((a) => `${a.status} ${a.raw}`)).toEqual([]);

      // Per order: one answer says it was recorded, every other copy is a duplicate of that one.
      const keptIds = new Map<string, number>();
      for (const order of orders) {
        const mine = answers.filter((a) => a.key === order.key);
        expect(mine).toHaveLength(COPIES);
        const recorded = mine.filter((a) => a.duplicate === false);
        expect(recorded, order.key).toHaveLength(1);
        const id = recorded[0]!.conversion_id!;
        expect(mine.map((a) => a.conversion_id)).toEqual(mine.map(() => id));
        expect(mine.filter((a) => a.duplicate === true)).toHaveLength(COPIES - 1);
        keptIds.set(order.key, id);
      }

      // The store, through either instance's report: exactly these conversions, each on its click.
      for (const base of instances!.urls) {
        const report = await callApi(base, 'conversions.json', { api_key: API_KEY, start_date: day(-1), end_date: day(1), row_limit: 500 });
        expect(report.status, report.text).toBe(200);
        const rows = (report.body.conversions as { conversion: any }[]).map((c) => c.conversion);
        f.kept = rows.length;
        f.duplicatesKept = rows.length - new Set(rows.map((c) => c.unique_id ?? c.transaction_id)).size;
        expect(rows.map((c) => [c.conversion_id, c.click_id, c.unique_id ?? c.transaction_id]).sort()).toEqual(
          orders.map((o) => [keptIds.get(o.key), o.reqid, o.key]).sort(),
        );
      }

      const deliveries = await allDelivered(orders.length);
      expect(deliveries.map((d) => d.conversion_id).sort()).toEqual([...keptIds.values()].sort());
      expect(deliveries.map((d) => [d.conversion_id, d.attempts])).toEqual(deliveries.map((d) => [d.conversion_id, 1]));
      const got = await receivedAfterStop();
      f.postbacksDelivered = got.length;
      f.postbacksUndelivered = orders.filter((o) => !got.some((r) => r.query.click_id === o.reqid)).length;
      expect(got.map((r) => [r.query.click_id, r.query.tid]).sort()).toEqual(orders.map((o) => [o.reqid, o.key]).sort());
    } finally {
      print(f);
    }
  }, 120_000);

  it(`keeps one lead per email out of ${COPIES} identical posts each, with its CPL conversion posted back once`, async () => {
    const A = instances!.urls[0]!;
    const people = await Promise.all(
      ['ann', 'bob', 'cat'].map(async (name, i) => ({ email: `${name}@example.com`, reqid: await clickAt(A, AFF.partner, CREATIVE.cpl, `lead-storm-${i}`) })),
    );

    // Copy n of every person's session post goes to instance n % 2; the people are interleaved.
    const sent: { email: string; request: BurstRequest }[] = [];
    for (let n = 0; n < COPIES; n++) {
      for (const person of people) {
        const body = new URLSearchParams({ ckm_offer_id: String(OFFER.cpl), ckm_request_id: person.reqid, first_name: 'Storm', email: person.email }).toString();
        sent.push({ email: person.email, request: { base: instances!.at(n), method: 'POST', path: '/d.ashx', headers: { 'content-type': FORM }, body } });
      }
    }
    const f: Figures = {
      storm: `identical leads (CPL offer: each lead is a conversion; ${people.length} emails, ${COPIES} copies each, 2 instances)`,
      sent: sent.length,
      keys: people.length,
      kept: null,
      duplicatesKept: null,
      cleanDuplicates: null,
      postbacksDelivered: null,
      postbacksUndelivered: null,
      status5xx: null,
    };
    try {
      const answers = await Promise.all(
        (await burst(sent.map((s) => s.request))).map(async (a, i) => {
          const { email } = sent[i]!;
          if (a.status !== 200) return { email, status: a.status, answer: null, raw: a.text };
          const res = new Response(a.text, { headers: { 'content-type': String(a.headers['content-type']) } });
          return { email, status: a.status, answer: await xmlAnswer(res), raw: a.text };
        }),
      );
      f.status5xx = answers.filter((a) => a.status >= 500).length;
      f.cleanDuplicates = answers.filter((a) => a.answer?.code === '1' && a.answer.errors.join() === 'Duplicate Lead').length;
      expect(answers.filter((a) => a.status !== 200).map((a) => `${a.status} ${a.raw}`)).toEqual([]);

      const leadIds = new Map<string, string>();
      for (const person of people) {
        const mine = answers.filter((a) => a.email === person.email).map((a) => a.answer!);
        expect(mine).toHaveLength(COPIES);
        const accepted = mine.filter((a) => a.code === '0');
        expect(accepted, person.email).toHaveLength(1);
        expect(accepted[0]!.price).toBe('27.50');
        // Every other copy is CAKE's duplicate answer, and nothing else.
        const refused = mine.filter((a) => a.code !== '0');
        expect(refused).toHaveLength(COPIES - 1);
        for (const r of refused) expect(r).toMatchObject({ code: '1', errors: ['Duplicate Lead'] });
        leadIds.set(person.email, accepted[0]!.leadid!);
      }

      // Either instance lists exactly these leads, each on its click with its one conversion.
      const conversionIds = new Map<string, number>();
      for (const base of instances!.urls) {
        const list = await callApi(base, 'leads.json', { api_key: API_KEY, offer_id: OFFER.cpl, row_limit: 1000 });
        expect(list.status, list.text).toBe(200);
        const leads = list.body.response.leads as any[];
        f.kept = leads.length;
        f.duplicatesKept = leads.length - new Set(leads.map((l) => l.email)).size;
        expect(leads.map((l) => [l.lead_id, l.email, l.click_id]).sort()).toEqual(people.map((p) => [leadIds.get(p.email), p.email, p.reqid]).sort());
        for (const lead of leads) {
          expect(lead).toMatchObject({ affiliate_id: AFF.partner, campaign_id: CAMPAIGN.cpl, attributed: true, conversion_id: expect.any(Number) });
          conversionIds.set(lead.lead_id, lead.conversion_id);
        }
        const report = await callApi(base, 'conversions.json', { api_key: API_KEY, start_date: day(-1), end_date: day(1), row_limit: 500 });
        expect(report.status, report.text).toBe(200);
        const rows = (report.body.conversions as { conversion: any }[]).map((c) => c.conversion);
        expect(rows.map((c) => [c.conversion_id, c.lead_id, c.click_id, c.source]).sort()).toEqual(
          people.map((p) => [conversionIds.get(leadIds.get(p.email)!), parseInt(leadIds.get(p.email)!, 16), p.reqid, 'lead']).sort(),
        );
      }

      const deliveries = await allDelivered(people.length);
      expect(deliveries.map((d) => d.conversion_id).sort()).toEqual([...conversionIds.values()].sort());
      expect(deliveries.map((d) => [d.conversion_id, d.attempts])).toEqual(deliveries.map((d) => [d.conversion_id, 1]));
      const got = await receivedAfterStop();
      f.postbacksDelivered = got.length;
      f.postbacksUndelivered = people.filter((p) => !got.some((r) => r.query.leadid === leadIds.get(p.email))).length;
      expect(got.map((r) => [r.query.click_id, r.query.leadid, r.query.oid]).sort()).toEqual(
        people.map((p) => [p.reqid, leadIds.get(p.email), String(OFFER.cpl)]).sort(),
      );
    } finally {
      print(f);
    }
  }, 120_000);
});
