// GET /api/2/leads.json: filters and pagination like click.json, test leads only when asked.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeApp, type TestApp } from '../support/app.js';
import { click, form, FORM, JANE } from '../support/leads.js';
import { AFF, API_KEY, CAMPAIGN, CREATIVE, OFFER, POST_KEY } from '../support/network.js';

let t: TestApp;
beforeEach(() => {
  t = makeApp();
});
afterEach(() => t.close());

const DAY = 86_400_000;

async function post(values: Record<string, string | number>) {
  const res = await t.post('/d.ashx', form({ ckm_bp: 0, ...values }), FORM);
  expect(res.status).toBe(200);
}

async function leads(query: string) {
  const res = await t.get(`/api/2/leads.json?api_key=${API_KEY}&${query}`);
  return { status: res.status, body: await res.json() };
}

describe('GET /api/2/leads.json', () => {
  beforeEach(async () => {
    const { reqid } = await click(t);
    await post({ ckm_offer_id: OFFER.lead, ckm_request_id: reqid, ...JANE }); // day 0, partner, session
    t.clock.now += DAY;
    await post({ ckm_campaign_id: CAMPAIGN.cpl, ckm_key: 'solar-post-key', first_name: 'Sam', email: 'sam@example.com' }); // day 1, cpl
    await post({ ckm_offer_id: OFFER.lead, ...JANE, email: 'b@example.com' }); // day 1, internal
    t.clock.now += DAY;
    await post({ ckm_campaign_id: CAMPAIGN.lead, ckm_key: POST_KEY, ckm_test: 1, ...JANE, email: 't@example.com' }); // day 2, test
  });

  it('lists leads, oldest first, without test leads, in the contract\'s names', async () => {
    const { status, body } = await leads('');
    expect(status).toBe(200);
    expect(body.request_status).toBe('Success');
    expect(body.response.total_rows).toBe(3);
    const [first] = body.response.leads;
    expect(first).toMatchObject({
      lead_id: '00000001',
      lead_date: '2026-11-21 12:00:00',
      offer_id: OFFER.lead,
      affiliate_id: AFF.partner,
      campaign_id: CAMPAIGN.lead,
      creative_id: CREATIVE.lead,
      click_id: expect.any(String),
      method: 'session',
      email: 'jane@example.com',
      fields: JANE,
      sub_id_1: 'sub-one',
      ip_address: '198.51.100.7',
      test: false,
      attributed: true,
      conversion_id: null,
    });
    expect(body.response.leads.map((l: { lead_id: string }) => l.lead_id)).toEqual(['00000001', '00000002', '00000003']);
  });

  it('includes test leads with include_tests=true', async () => {
    const { body } = await leads('include_tests=true');
    expect(body.response.total_rows).toBe(4);
    expect(body.response.leads[3]).toMatchObject({ lead_id: '00000004', test: true });
  });

  it('filters by dates (end_date inclusive), offer and affiliate', async () => {
    expect((await leads('start_date=2026-11-22&end_date=2026-11-22')).body.response.total_rows).toBe(2);
    expect((await leads('end_date=2026-11-21')).body.response.total_rows).toBe(1);
    expect((await leads(`offer_id=${OFFER.cpl}`)).body.response.leads.map((l: { conversion_id: number }) => l.conversion_id)).toEqual([expect.any(Number)]);
    expect((await leads(`affiliate_id=${AFF.internal}`)).body.response.leads.map((l: { attributed: boolean }) => l.attributed)).toEqual([false]);
  });

  it('finds one lead by its id as the post answered it, tests included', async () => {
    const { body } = await leads('lead_id=00000004&offer_id=1');
    expect(body.response.total_rows).toBe(1);
    expect(body.response.leads[0].lead_id).toBe('00000004');
    expect((await leads('lead_id=2')).body.response.leads[0].lead_id).toBe('00000002');
  });

  it('pages with start_at_row and row_limit, total_rows counting every match', async () => {
    const { body } = await leads('start_at_row=1&row_limit=1');
    expect(body.response.total_rows).toBe(3);
    expect(body.response.leads.map((l: { lead_id: string }) => l.lead_id)).toEqual(['00000002']);
  });

  it('answers bad parameters with a 400 naming each', async () => {
    const { status, body } = await leads('row_limit=10001&start_date=2026-13-01&lead_id=xyz&include_tests=maybe&offer_id=-1');
    expect(status).toBe(400);
    expect(body.request_status).toBe('Failure');
    expect(body.errors.map((e: { parameter: string }) => e.parameter).sort()).toEqual(['include_tests', 'lead_id', 'offer_id', 'row_limit', 'start_date']);
    const reversed = await leads('start_date=2026-11-22&end_date=2026-11-21');
    expect(reversed.status).toBe(400);
    expect(reversed.body.errors).toEqual([{ parameter: 'end_date', message: 'must not be before start_date' }]);
  });

  it('requires the API key', async () => {
    const res = await t.get('/api/2/leads.json');
    expect(res.status).toBe(401);
  });
});
