// Two server processes (the built Node entry) on one PostgreSQL schema, as behind a load balancer
// without sticky sessions (docs/postgres.md): a click taken by one instance is credited to the lead
// and the conversion another instance takes; identical conversions sent to both at once give one
// conversion and one delivered postback. Every check goes through what a client sees: the answers,
// the v2 API (of either instance), and a real postback receiver on 127.0.0.1.
import { afterAll, afterEach, beforeEach, expect, it } from 'vitest';
import { AFF, API_KEY, CAMPAIGN, conversionNetworkFile, CREATIVE, OFFER } from '../support/network.js';
import { burst, callApi, clickAt, day, postLead, startInstances, writeNetworkFile, type BurstRequest, type Instances } from '../support/instances.js';
import { FORM, xmlAnswer } from '../support/leads.js';
import { describePostgres } from '../support/pg.js';
import { startReceiver, type Receiver } from '../support/receiver.js';

describePostgres('two instances on one PostgreSQL database', (schemas) => {
  let instances: Instances | undefined;
  let receiver: Receiver | undefined;
  let schemaCount = 0;

  // The network file every instance is given. Without reqid_secret: the first instance to start
  // creates the secret in the database and the other reads it, so a reqid minted by one must
  // verify on the other (docs/postgres.md, "Request ids verify on every instance").
  const config = (() => {
    const file = conversionNetworkFile();
    delete file.network.reqid_secret;
    return writeNetworkFile(file);
  })();

  beforeEach(async () => {
    receiver = await startReceiver();
    const db = await schemas.create(`multi_${++schemaCount}`);
    instances = await startInstances(2, { config, db });
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

  afterAll(() => schemas.dropAll());

  /** One server-to-server postback for the partner on every offer, created through `base`. */
  async function addPostback(base: string) {
    const created = await callApi(
      base,
      'affiliate_postback.json',
      {
        api_key: API_KEY,
        affiliate_id: AFF.partner,
        offer_id: 0,
        postback_url: `${receiver!.base}/postback?click_id=#reqid#&leadid=#leadid#&oid=#oid#&affid=#affid#&tid=#tid#&s1=#s1#&price=#price#`,
      },
      'POST',
    );
    expect(created.status, created.text).toBe(200);
    return created.body.postback.postback_id as number;
  }

  /** Every conversion the report of `base` shows for this run, tests left out. */
  async function conversionReport(base: string) {
    const report = await callApi(base, 'conversions.json', { api_key: API_KEY, start_date: day(-1), end_date: day(1), row_limit: 500 });
    expect(report.status, report.text).toBe(200);
    return (report.body.conversions as { conversion: any }[]).map((c) => c.conversion);
  }

  async function deliveries(base: string) {
    const list = await callApi(base, 'postback_deliveries.json', { api_key: API_KEY, row_limit: 500 });
    expect(list.status, list.text).toBe(200);
    return list.body.deliveries as any[];
  }

  /** Waits (bounded) until every delivery the outbox holds is delivered; answers them. */
  async function allDelivered(base: string, count: number) {
    const until = Date.now() + 30_000;
    for (;;) {
      const rows = await deliveries(base);
      if (rows.length === count && rows.every((d) => d.status === 'delivered')) return rows;
      if (Date.now() > until) throw new Error(`deliveries not all delivered after 30 s: ${JSON.stringify(rows.map((d) => [d.delivery_id, d.status, d.last_error]))}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('credits leads and conversions taken by one instance to the clicks the other took', async () => {
    const [A, B] = instances!.urls as [string, string];
    // Created through A; B must find it when its conversions are recorded.
    const postback_id = await addPostback(A);

    const leadClicks: { reqid: string; s1: string }[] = [];
    for (let i = 0; i < 8; i++) leadClicks.push({ reqid: await clickAt(A, AFF.partner, CREATIVE.lead, `lead-${i}`), s1: `lead-${i}` });
    const cplClicks: { reqid: string; s1: string }[] = [];
    for (let i = 0; i < 4; i++) cplClicks.push({ reqid: await clickAt(A, AFF.partner, CREATIVE.cpl, `cpl-${i}`), s1: `cpl-${i}` });

    // B reads A's clicks: the reqids verify there (shared secret) and the rows are committed.
    for (const { reqid, s1 } of [...leadClicks, ...cplClicks]) {
      const found = await callApi(B, 'click.json', { api_key: API_KEY, click_id: reqid });
      expect(found.status, found.text).toBe(200);
      expect(found.body.response.clicks).toEqual([expect.objectContaining({ click_id: reqid, affiliate_id: AFF.partner, sub_id_1: s1, converted: false })]);
    }

    // Session posts through B, each with the reqid A's click gave its landing page.
    const leadIds = new Map<string, string>();
    for (const [i, { reqid }] of leadClicks.entries()) {
      const answer = await xmlAnswer(
        await postLead(B, { ckm_offer_id: OFFER.lead, ckm_request_id: reqid, first_name: 'Jane', last_name: `Doe${i}`, email: `jane${i}@example.com`, zip: '90210' }),
      );
      expect(answer.code, JSON.stringify(answer)).toBe('0');
      leadIds.set(reqid, answer.leadid!);
    }
    const cplLeadIds = new Map<string, string>();
    for (const [i, { reqid }] of cplClicks.entries()) {
      const answer = await xmlAnswer(await postLead(B, { ckm_offer_id: OFFER.cpl, ckm_request_id: reqid, first_name: 'Sol', email: `sol${i}@example.com` }));
      expect(answer.code, JSON.stringify(answer)).toBe('0');
      // The campaign's own payout (27.50), not the offer's: the lead was credited to the campaign.
      expect(answer.price).toBe('27.50');
      cplLeadIds.set(reqid, answer.leadid!);
    }

    // Conversions through B, one per lead-offer click.
    const conversionIds = new Map<string, number>();
    for (const [i, { reqid }] of leadClicks.entries()) {
      const answer = await callApi(B, 'conversion.json', { api_key: API_KEY, click_id: reqid, offer_id: OFFER.lead, unique_id: `order-${i}` });
      expect(answer.status, answer.text).toBe(200);
      expect(answer.body.duplicate).toBe(false);
      expect(answer.body.conversion).toMatchObject({ click_id: reqid, offer_id: OFFER.lead, affiliate_id: AFF.partner, payout: 18, unique_id: `order-${i}` });
      conversionIds.set(reqid, answer.body.conversion.conversion_id);
    }

    // A reports what B recorded, each row tied to its click.
    for (const { reqid, s1 } of leadClicks) {
      const [lead] = (await callApi(A, 'leads.json', { api_key: API_KEY, lead_id: leadIds.get(reqid)! })).body.response.leads;
      expect(lead).toMatchObject({ click_id: reqid, offer_id: OFFER.lead, affiliate_id: AFF.partner, campaign_id: CAMPAIGN.lead, sub_id_1: s1, method: 'session', attributed: true });
      const [click] = (await callApi(A, 'click.json', { api_key: API_KEY, click_id: reqid })).body.response.clicks;
      expect(click).toMatchObject({ converted: true, conversion_id: conversionIds.get(reqid) });
    }
    const cplConversionIds = new Map<string, number>();
    for (const { reqid, s1 } of cplClicks) {
      const [lead] = (await callApi(A, 'leads.json', { api_key: API_KEY, lead_id: cplLeadIds.get(reqid)! })).body.response.leads;
      expect(lead).toMatchObject({ click_id: reqid, offer_id: OFFER.cpl, affiliate_id: AFF.partner, campaign_id: CAMPAIGN.cpl, sub_id_1: s1, attributed: true });
      expect(lead.conversion_id).toEqual(expect.any(Number));
      cplConversionIds.set(reqid, lead.conversion_id);
    }
    const report = await conversionReport(A);
    const byClick = new Map(report.map((c) => [c.click_id as string, c]));
    expect(report).toHaveLength(leadClicks.length + cplClicks.length);
    for (const { reqid } of leadClicks) {
      expect(byClick.get(reqid)).toMatchObject({ conversion_id: conversionIds.get(reqid), offer: { offer_id: OFFER.lead }, affiliate: { affiliate_id: AFF.partner }, campaign_id: CAMPAIGN.lead, lead_id: null, source: 'api' });
    }
    for (const { reqid } of cplClicks) {
      expect(byClick.get(reqid)).toMatchObject({ conversion_id: cplConversionIds.get(reqid), offer: { offer_id: OFFER.cpl }, campaign_id: CAMPAIGN.cpl, payout: 27.5, source: 'lead' });
    }

    // Every conversion's postback delivered, each by exactly one instance, once.
    const delivered = await allDelivered(A, leadClicks.length + cplClicks.length);
    expect(delivered.map((d) => [d.conversion_id, d.postback_id, d.attempts])).toEqual(delivered.map((d) => [d.conversion_id, postback_id, 1]));
    expect(await instances!.stop()).toEqual([0, 0]);
    const got = receiver!.requests.filter((r) => r.path === '/postback');
    expect(got.map((r) => r.query.click_id).sort()).toEqual([...leadClicks, ...cplClicks].map((c) => c.reqid).sort());
    for (const { reqid, s1 } of leadClicks) {
      const [r] = got.filter((g) => g.query.click_id === reqid);
      expect(r!.query).toMatchObject({ oid: String(OFFER.lead), affid: String(AFF.partner), tid: `order-${leadClicks.findIndex((c) => c.reqid === reqid)}`, s1, price: '18.00' });
    }
    for (const { reqid, s1 } of cplClicks) {
      const [r] = got.filter((g) => g.query.click_id === reqid);
      expect(r!.query).toMatchObject({ oid: String(OFFER.cpl), leadid: cplLeadIds.get(reqid), s1, price: '27.50' });
    }
  }, 120_000);

  it('keeps one conversion and delivers one postback for identical conversions sent to both instances at once', async () => {
    const [A] = instances!.urls as [string, string];
    await addPostback(A);
    const reqid = await clickAt(A, AFF.partner, CREATIVE.lead, 'storm');

    // 60 identical conversions, alternating instance and method (GET query, POST form), all at once.
    const query = new URLSearchParams({ api_key: API_KEY, click_id: reqid, offer_id: String(OFFER.lead), unique_id: 'ORDER-77' }).toString();
    const answers = (
      await burst(
        Array.from({ length: 60 }, (_, i): BurstRequest =>
          i % 4 < 2
            ? { base: instances!.at(i), method: 'GET', path: `/api/2/conversion.json?${query}` }
            : { base: instances!.at(i), method: 'POST', path: '/api/2/conversion.json', headers: { 'content-type': FORM }, body: query },
        ),
      )
    ).map((a) => ({ status: a.status, text: a.text, body: JSON.parse(a.text) }));
    expect(answers.filter((a) => a.status !== 200).map((a) => `${a.status} ${a.text}`)).toEqual([]);
    const kept = answers.filter((a) => a.body.duplicate === false);
    expect(kept).toHaveLength(1);
    const conversion_id = kept[0]!.body.conversion.conversion_id as number;
    // Every other answer names the one conversion that was kept.
    for (const a of answers) {
      expect(a.body.request_status).toBe('Success');
      expect(a.body.conversion).toMatchObject({ conversion_id, click_id: reqid, unique_id: 'ORDER-77' });
    }

    for (const base of instances!.urls) {
      const report = await conversionReport(base);
      expect(report.map((c) => [c.conversion_id, c.click_id, c.unique_id])).toEqual([[conversion_id, reqid, 'ORDER-77']]);
    }
    const [delivery] = await allDelivered(A, 1);
    expect(delivery).toMatchObject({ conversion_id, status: 'delivered', attempts: 1 });

    // Stopped cleanly, so no attempt can still be on its way: the receiver got it exactly once.
    expect(await instances!.stop()).toEqual([0, 0]);
    const got = receiver!.requests.filter((r) => r.path === '/postback');
    expect(got.map((r) => [r.query.click_id, r.query.tid])).toEqual([[reqid, 'ORDER-77']]);
  }, 120_000);
});
