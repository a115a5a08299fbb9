// Managing the network through the v2 API (PROTOCOL.md 9): create, read, list, update, deactivate
// and delete every kind of entity; refusals that name the field; the export and import of the
// whole network; the change log; and every change live on the next request.
import { afterEach, describe, expect, it } from 'vitest';
import { makeApp, type TestApp } from '../support/app.js';
import { ADVERTISER, AFF, API_KEY, CAMPAIGN, CREATIVE, HOST, OFFER } from '../support/network.js';

let t: TestApp;
afterEach(async () => {
  await t?.close();
});

async function call(method: string, path: string, body?: unknown, query: Record<string, string | number> = {}) {
  const q = new URLSearchParams({ api_key: API_KEY, ...Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])) });
  const init: RequestInit = { method, headers: { host: HOST } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = typeof body === 'string' ? 'application/x-www-form-urlencoded' : 'application/json';
  }
  const res = await t.app.request(`http://${HOST}/api/2/${path}?${q}`, init);
  return { status: res.status, body: (await res.json()) as any };
}

const newOffer = {
  offer_name: 'Solar Quote',
  advertiser_id: ADVERTISER.acme,
  offer_url: 'https://solar.example/lp?reqid=#reqid#&aff=#affid#',
  thank_you_url: 'https://solar.example/thanks',
  payout: 12.5,
  revenue: 20,
  fields: [
    { name: 'first_name', type: 'text', required: true },
    { name: 'email_address', type: 'email', required: true },
  ],
};

describe('entities', () => {
  it('creates an offer from JSON, with its fields, and answers it as stored (defaults written out)', async () => {
    t = makeApp();
    const res = await call('POST', 'offers.json', newOffer);
    expect(res.status).toBe(200);
    expect(res.body.request_status).toBe('Success');
    expect(res.body.offer).toMatchObject({ ...newOffer, status: 'active', cookie_days: 30, price_format: 'CPA', attribution: 'first_touch' });
    expect(res.body.offer.offer_id).toBeGreaterThan(OFFER.lead);
    const read = await call('GET', 'offers.json', undefined, { offer_id: res.body.offer.offer_id });
    expect(read.body.offer).toEqual(res.body.offer);
  });

  it('creates from form fields, read as the schema types', async () => {
    t = makeApp();
    const res = await call('POST', 'affiliates.json', 'affiliate_id=9001&affiliate_name=Form+Partner&status=inactive');
    expect(res.body).toEqual({ request_status: 'Success', affiliate: { affiliate_id: 9001, affiliate_name: 'Form Partner', status: 'inactive' } });
    const domain = await call('POST', 'tracking_domains.json', 'domain=t2.example.com&is_default=false');
    expect(domain.body.tracking_domain).toMatchObject({ domain: 't2.example.com', is_default: false, domain_status: 'active' });
  });

  it('gives a campaign created without a ckm_key a random one of at least 20 characters', async () => {
    t = makeApp();
    const a = await call('POST', 'campaigns.json', { affiliate_id: AFF.noCampaign, offer_id: OFFER.lead });
    const b = await call('POST', 'campaigns.json', { affiliate_id: AFF.noCampaign, offer_id: OFFER.lastTouch });
    expect(a.body.campaign.ckm_key).toMatch(/^[A-Za-z0-9]{20,}$/);
    expect(b.body.campaign.ckm_key).not.toBe(a.body.campaign.ckm_key);
  });

  it('lists, filtered by status and parent ids, paged, with the total', async () => {
    t = makeApp();
    const all = await call('GET', 'campaigns.json');
    expect(all.body.total_rows).toBe(7);
    const partner = await call('GET', 'campaigns.json', undefined, { affiliate_id: AFF.partner });
    expect(partner.body.campaigns.map((c: any) => c.campaign_id)).toEqual([CAMPAIGN.lead, CAMPAIGN.lastTouch, CAMPAIGN.inactiveOffer, CAMPAIGN.cpl, CAMPAIGN.revshare]);
    const page = await call('GET', 'campaigns.json', undefined, { affiliate_id: AFF.partner, start_at_row: 1, row_limit: 2 });
    expect(page.body.total_rows).toBe(5);
    expect(page.body.campaigns.map((c: any) => c.campaign_id)).toEqual([CAMPAIGN.lastTouch, CAMPAIGN.inactiveOffer]);
    const inactive = await call('GET', 'affiliates.json', undefined, { status: 'inactive' });
    expect(inactive.body.affiliates.map((a: any) => a.affiliate_id)).toEqual([AFF.inactive]);
    const domains = await call('GET', 'tracking_domains.json', undefined, { domain_status: 'active' });
    expect(domains.body).toMatchObject({ total_rows: 1, tracking_domains: [{ domain: HOST, is_default: true }] });
  });

  it('updates only the fields sent, and keeps nested lists unless they are sent', async () => {
    t = makeApp();
    const before = (await call('GET', 'offers.json', undefined, { offer_id: OFFER.lead })).body.offer;
    const res = await call('PUT', 'offers.json', { offer_id: OFFER.lead, payout: 19.25 });
    expect(res.body.offer).toEqual({ ...before, payout: 19.25 });
    const form = await call('PUT', 'affiliates.json', `affiliate_id=${AFF.partner}&affiliate_name=Renamed`);
    expect(form.body.affiliate).toEqual({ affiliate_id: AFF.partner, affiliate_name: 'Renamed', status: 'active' });
  });

  it('applies a change to the next request: a new affiliate and campaign take clicks, a deactivated campaign refuses them', async () => {
    t = makeApp();
    const affiliate = await call('POST', 'affiliates.json', { affiliate_name: 'Fresh Partner' });
    const id = affiliate.body.affiliate.affiliate_id;
    const link = `/?a=${id}&c=${CREATIVE.lead}&s1=new`;
    expect((await t.get(link)).headers.get('location')).toBe('https://network.example/inactive');
    const campaign = await call('POST', 'campaigns.json', { affiliate_id: id, offer_id: OFFER.lead });
    t.clock.now += 1000;
    const res = await t.get(link);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toMatch(/^https:\/\/lp\.example\.com\/quote\?reqid=[\w-]{32}&aff=\d+&o=12345&camp=\d+/);
    expect(res.headers.get('location')).toContain(`&camp=${campaign.body.campaign.campaign_id}&`);
    await call('PUT', 'campaigns.json', { campaign_id: campaign.body.campaign.campaign_id, status: 'inactive' });
    t.clock.now += 1000;
    expect((await t.get(link)).headers.get('location')).toBe('https://network.example/inactive');
    const clicks = await t.store.listClicks({ offset: 0, limit: 10, affiliate_id: undefined });
    expect(clicks.rows.map((c) => c.disposition)).toEqual([
      `no_campaign affiliate ${id} offer ${OFFER.lead}`,
      'redirect',
      `inactive_campaign ${campaign.body.campaign.campaign_id}`,
    ]);
  });

  it('deletes an entity without history, and refuses one with clicks: deactivate it instead', async () => {
    t = makeApp();
    const made = await call('POST', 'affiliates.json', { affiliate_name: 'Short-lived' });
    const gone = await call('DELETE', 'affiliates.json', undefined, { affiliate_id: made.body.affiliate.affiliate_id });
    expect(gone.body).toEqual({ request_status: 'Success', message: `Affiliate ${made.body.affiliate.affiliate_id} deleted` });
    expect((await call('GET', 'affiliates.json', undefined, { affiliate_id: made.body.affiliate.affiliate_id })).status).toBe(404);

    await t.get(`/?a=${AFF.partner}&c=${CREATIVE.lead}`);
    const refused = await call('DELETE', 'creatives.json', undefined, { creative_id: CREATIVE.lead });
    expect(refused.status).toBe(409);
    expect(refused.body.request_status).toBe('Failure');
    expect(refused.body.errors).toEqual([
      { parameter: 'creative_id', message: `creative ${CREATIVE.lead} has clicks, leads or conversions, so it is kept for the reports: set status to inactive (PUT creatives.json) instead` },
    ]);
    expect((await call('GET', 'creatives.json', undefined, { creative_id: CREATIVE.lead })).status).toBe(200);
  });
});

describe('refusals name the field and how to fix it', () => {
  it('refuses an offer for an unknown advertiser', async () => {
    t = makeApp();
    const res = await call('POST', 'offers.json', { ...newOffer, advertiser_id: 4040 });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ request_status: 'Failure', errors: [{ parameter: 'advertiser_id', message: 'advertiser 4040 is not in advertisers' }] });
  });

  it('refuses a duplicate id', async () => {
    t = makeApp();
    const res = await call('POST', 'affiliates.json', { affiliate_id: AFF.partner, affiliate_name: 'Copy' });
    expect(res.status).toBe(409);
    expect(res.body.errors[0]).toEqual({ parameter: 'affiliate_id', message: `affiliate ${AFF.partner} exists already: change it with PUT, or leave affiliate_id out to get a new id` });
  });

  it('refuses a campaign for an inactive affiliate, and a second campaign for one affiliate and offer', async () => {
    t = makeApp();
    const paused = await call('POST', 'campaigns.json', { affiliate_id: AFF.inactive, offer_id: OFFER.lastTouch });
    expect(paused.status).toBe(400);
    expect(paused.body.errors).toEqual([{ parameter: 'affiliate_id', message: `affiliate ${AFF.inactive} is inactive: activate it first, or send status=inactive` }]);
    const twice = await call('POST', 'campaigns.json', { affiliate_id: AFF.partner, offer_id: OFFER.lead });
    expect(twice.body.errors).toEqual([{ parameter: 'offer_id', message: `affiliate ${AFF.partner} already has campaign ${CAMPAIGN.lead} for offer ${OFFER.lead}` }]);
  });

  it('refuses bad fields by name, nested ones by their path, and unknown ones as typos', async () => {
    t = makeApp();
    const res = await call('POST', 'offers.json', { ...newOffer, payout: 'lots', cookie_dayz: 3, fields: [{ name: 'zip', type: 'postcode' }] });
    expect(res.status).toBe(400);
    const params = res.body.errors.map((e: any) => e.parameter);
    expect(params).toEqual(expect.arrayContaining(['payout', 'fields[0].type', 'cookie_dayz']));
    expect(res.body.errors.find((e: any) => e.parameter === 'cookie_dayz').message).toBe('unknown field (a typo?)');
  });

  it('refuses deleting an offer that creatives and campaigns still name, naming them', async () => {
    t = makeApp();
    const res = await call('DELETE', 'offers.json', undefined, { offer_id: OFFER.lastTouch });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        { parameter: 'offer_id', message: `creative ${CREATIVE.lastTouch} offer_id: offer ${OFFER.lastTouch} is not in offers` },
        { parameter: 'offer_id', message: `campaign ${CAMPAIGN.lastTouch} offer_id: offer ${OFFER.lastTouch} is not in offers` },
      ]),
    );
  });

  it('answers 404 for an entity that is not there', async () => {
    t = makeApp();
    expect((await call('PUT', 'advertisers.json', { advertiser_id: 999, advertiser_name: 'X' })).body.errors).toEqual([
      { parameter: 'advertiser_id', message: 'there is no advertiser 999: create it with POST' },
    ]);
    expect((await call('GET', 'offers.json', undefined, { offer_id: 999 })).status).toBe(404);
  });

  it('answers a request without a valid key 401, and writes nothing', async () => {
    t = makeApp();
    const res = await t.app.request(`http://${HOST}/api/2/affiliates.json?api_key=wrong-key-1234`, {
      method: 'POST',
      headers: { host: HOST, 'content-type': 'application/json' },
      body: JSON.stringify({ affiliate_name: 'Sneaky' }),
    });
    expect(res.status).toBe(401);
    expect((await call('GET', 'affiliates.json')).body.total_rows).toBe(5);
  });
});

describe('the whole network', () => {
  it('exports in the network file shape, without secrets, and imports back to the same network', async () => {
    t = makeApp();
    await call('PUT', 'network.json', { global_redirect_url: 'https://network.example/other' });
    const exported = await call('GET', 'network.json');
    expect(exported.body.network.network).toMatchObject({ name: 'Test Network', global_redirect_url: 'https://network.example/other' });
    expect(exported.body.network.network.reqid_secret).toBeUndefined();
    expect(exported.body.network.api_keys).toBeUndefined();
    expect(exported.body.network.offers.map((o: any) => o.offer_id)).toEqual([OFFER.lastTouch, OFFER.inactive, OFFER.cpl, OFFER.revshare, OFFER.lead]);

    const other = makeApp();
    const file = { ...exported.body.network, api_keys: [API_KEY] };
    const imported = await other.app.request(`http://${HOST}/api/2/network.json?api_key=${API_KEY}`, {
      method: 'POST',
      headers: { host: HOST, 'content-type': 'application/json' },
      body: JSON.stringify(file),
    });
    expect((await imported.json()) as any).toMatchObject({ request_status: 'Success' });
    const again = (await (await other.app.request(`http://${HOST}/api/2/network.json?api_key=${API_KEY}`, { headers: { host: HOST } })).json()) as any;
    expect(again.network).toEqual(exported.body.network);
    await other.close();
  });

  it('changes the settings it is sent, and refuses settings that break the network', async () => {
    t = makeApp();
    const res = await call('PUT', 'network.json', { name: 'Renamed Network' });
    expect(res.body.network).toMatchObject({ name: 'Renamed Network', internal_affiliate_id: AFF.internal });
    const bad = await call('PUT', 'network.json', { internal_affiliate_id: 4321 });
    expect(bad.body.errors).toEqual([{ parameter: 'internal_affiliate_id', message: 'affiliate 4321 is not in affiliates' }]);
  });

  it('logs every change with who made it and the fields before and after', async () => {
    t = makeApp();
    await call('PUT', 'affiliates.json', { affiliate_id: AFF.partner, affiliate_name: 'Renamed' });
    const log = await call('GET', 'changes.json', undefined, { entity: 'affiliates', entity_id: AFF.partner });
    expect(log.body.total_rows).toBe(2);
    const [latest, created] = log.body.changes;
    expect(latest).toMatchObject({
      entity: 'affiliates',
      entity_id: AFF.partner,
      source: 'key 1',
      before: { affiliate_name: 'MediaBridge Partners' },
      after: { affiliate_name: 'Renamed' },
    });
    expect(latest.changed_at).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(created).toMatchObject({ source: 'file test', before: null, after: { affiliate_name: 'MediaBridge Partners' } });
    const keys = await call('GET', 'changes.json', undefined, { entity: 'api_keys' });
    expect(keys.body.changes[0].after).toMatchObject({ role: 'admin', source: 'file' });
    expect(keys.body.changes[0].after.key_hash).toBeUndefined();
  });
});
