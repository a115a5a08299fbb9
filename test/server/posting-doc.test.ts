// GET /offers/{offer_id}/posting-doc: HTML for people, JSON for programs, the same content.
import { afterEach, describe, expect, it } from 'vitest';
import { makeApp, type TestApp } from '../support/app.js';
import { xmlAnswer } from '../support/leads.js';
import { CAMPAIGN, conversionNetworkFile, OFFER, POST_KEY, testNetworkFile } from '../support/network.js';
import { demoNetwork } from '../../server/demo/network.js';

let t: TestApp;
afterEach(() => t.close());

describe('the posting document', () => {
  it('is an HTML page with the post URL, every method, every field, samples, tests and answers', async () => {
    t = makeApp();
    const res = await t.get(`/offers/${OFFER.lead}/posting-doc`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const page = await res.text();
    expect(page).toContain('Auto Insurance Quote');
    expect(page).toContain('<code>http://track.example.com/d.ashx</code>');
    for (const method of ['Server post', 'Browser post', 'Session post', 'AJAX post (d.js)', 'JSON post', 'XML post']) expect(page).toContain(method);
    expect(page).toContain('http://track.example.com/d.js');
    expect(page).toMatch(/<td><code>email<\/code><\/td><td>email<\/td><td><strong>required<\/strong><\/td>/);
    expect(page).toMatch(/<td><code>coverage<\/code><\/td><td>select<\/td><td>optional<\/td>/);
    expect(page).toContain('one of: basic, full');
    expect(page).toContain('ckm_test=1');
    expect(page).toContain('ckmtest');
    for (const error of ['Lead Missing Data', 'Validation Failed', 'Duplicate Lead', 'Invalid Post Key', 'Inactive Offer']) expect(page).toContain(error);
    // Samples are shown escaped, as text to copy.
    expect(page).toContain('&lt;XML&gt;&lt;first_name&gt;Jane&lt;/first_name&gt;');
    expect(page).toContain('ckm_offer_id=12345&amp;ckm_request_id=REQUEST_ID&amp;first_name=Jane');
    // No secrets: the campaign's post key never appears.
    expect(page).not.toContain('Scrfdo7ZpJMNS89tiWtQq');
  });

  it('is the same content as JSON, by Accept header or .json suffix', async () => {
    t = makeApp();
    const byAccept = await t.get(`/offers/${OFFER.lead}/posting-doc`, { headers: { accept: 'application/json' } });
    const bySuffix = await t.get(`/offers/${OFFER.lead}/posting-doc.json`);
    expect(byAccept.headers.get('content-type')).toMatch(/^application\/json/);
    const doc = await bySuffix.json();
    expect(await byAccept.json()).toEqual(doc);
    expect(doc).toMatchObject({ offer_id: OFFER.lead, post_url: 'http://track.example.com/d.ashx', duplicate_days: 30, field_list: true });
    expect(doc.methods.map((m: { id: string }) => m.id)).toEqual(['server', 'browser', 'session', 'ajax', 'json', 'xml']);
    expect(doc.fields).toContainEqual(expect.objectContaining({ name: 'zip', type: 'zip', required: true }));
    expect(doc.fields).toHaveLength(10);
    expect(doc.sample_json_body).toMatchObject({ ckm_offer_id: '12345', ckm_request_id: 'REQUEST_ID', email: 'jane@example.com' });
    expect(doc.answers.errors.map((e: { name: string }) => e.name)).toContain('Affiliate Not Authorized for Campaign');
    expect(doc.test_methods.length).toBeGreaterThan(1);
  });

  it('has samples that the endpoint takes', async () => {
    t = makeApp();
    const doc = await (await t.get(`/offers/${OFFER.lead}/posting-doc.json`)).json();
    // The sample post string as a session post with an unknown reqid: accepted, credited to the internal affiliate.
    const sample = new URL(doc.sample_post_string);
    const res = await t.get(`${sample.pathname}${sample.search}`);
    expect((await xmlAnswer(res)).code).toBe('0');
    const json = await t.post('/d.ashx', JSON.stringify({ ...doc.sample_json_body, email: 'other@example.com' }), 'application/json');
    expect((await json.json()).code).toBe(0);
  });

  it('escapes what the network file says, so that no offer can inject HTML', async () => {
    const file = testNetworkFile();
    const offer = file.offers.find((o) => o.offer_id === OFFER.lead)!;
    offer.offer_name = '<script>alert(1)</script>"&';
    offer.fields = [{ name: 'choice', type: 'select', options: ['<img src=x onerror=alert(2)>', 'b"c'] }];
    t = makeApp({ file });
    const page = await (await t.get(`/offers/${OFFER.lead}/posting-doc`)).text();
    expect(page).not.toContain('<script>alert');
    expect(page).not.toContain('<img src=x');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&amp;');
    expect(page).toContain('&lt;img src=x onerror=alert(2)&gt;');
  });

  it('names the configured tracking domain, never the Host sent', async () => {
    t = makeApp();
    const res = await t.get(`/offers/${OFFER.lead}/posting-doc.json`, { headers: { host: 'evil.example', 'x-forwarded-proto': 'https' } });
    expect((await res.json()).post_url).toBe('https://track.example.com/d.ashx');
  });

  it('answers 404 for an unknown offer', async () => {
    t = makeApp();
    const html = await t.get('/offers/999999/posting-doc');
    expect(html.status).toBe(404);
    expect(await html.text()).toContain('There is no offer 999999');
    const json = await t.get('/offers/abc/posting-doc.json');
    expect(json.status).toBe(404);
    expect((await json.json()).message).toMatch(/no offer abc/);
  });

  it('describes an offer without a field list as taking any fields', async () => {
    t = makeApp();
    const doc = await (await t.get(`/offers/${OFFER.lastTouch}/posting-doc.json`)).json();
    expect(doc.field_list).toBe(false);
    expect(doc.answers.redirect).toMatch(/no thank-you page/);
  });

  it('says how lead updates work, with sample post strings the endpoint takes', async () => {
    t = makeApp();
    const page = await (await t.get(`/offers/${OFFER.lead}/posting-doc`)).text();
    expect(page).toContain('<h2>Updating a lead</h2>');
    expect(page).toContain('<code>ckm_lead_id</code>');
    expect(page).toContain('Invalid Lead ID');
    const doc = await (await t.get(`/offers/${OFFER.lead}/posting-doc.json`)).json();
    expect(doc.lead_update.sample_post_string).toBe(
      `http://track.example.com/d.ashx?ckm_campaign_id=CAMPAIGN_ID&ckm_key=POST_KEY&ckm_lead_id=LEAD_ID&phone=5555550123`,
    );
    // Filled in with a real campaign and lead, the sample updates that lead.
    const posted = await xmlAnswer(await t.get(`/d.ashx?ckm_campaign_id=${CAMPAIGN.lead}&ckm_key=${POST_KEY}&first_name=Jane&last_name=Doe&email=j@example.com&zip=90210`));
    const sample = doc.lead_update.sample_post_string.replace('CAMPAIGN_ID', CAMPAIGN.lead).replace('POST_KEY', POST_KEY).replace('LEAD_ID', posted.leadid);
    const updated = await xmlAnswer(await t.get(new URL(sample).pathname + new URL(sample).search));
    expect(updated).toMatchObject({ code: '0', leadid: posted.leadid });
    const [lead] = (await t.store.listLeads({ include_tests: true, offset: 0, limit: 10 })).rows;
    expect(lead!.fields.phone).toBe('5555550123');
  });

  it("lists the offer's active events, with a pixel and a server-to-server sample, and no money", async () => {
    t = makeApp({ file: conversionNetworkFile() });
    const doc = await (await t.get(`/offers/${OFFER.lead}/posting-doc.json`)).json();
    expect(doc.events.map((e: { event_id: number; once_per_click: boolean }) => [e.event_id, e.once_per_click])).toEqual([
      [2, true],
      [3, false],
      [2_000_000_000, true],
    ]);
    expect(doc.events[0]).toMatchObject({
      event_name: 'Quote Viewed',
      pixel: '<img src="http://track.example.com/p.ashx?o=12345&e=2&f=img" width="1" height="1" alt="">',
      server: 'http://track.example.com/api/2/conversion.json?api_key=API_KEY&click_id=REQUEST_ID&offer_id=12345&event_id=2',
    });
    const page = await (await t.get(`/offers/${OFFER.lead}/posting-doc`)).text();
    expect(page).toContain('<td>Quote Viewed</td><td>once per click</td>');
    expect(page).not.toContain('Retired Event');
    // The network's money stays out of a document handed to affiliates and page developers.
    expect(JSON.stringify(doc.events)).not.toMatch(/payout|revenue|0\.5/);
  });

  it("uses CAKE's standard field names for the demo offer and for an offer without a field list", async () => {
    t = makeApp({ file: demoNetwork('http://track.example.com') });
    const demo = await (await t.get('/offers/12345/posting-doc.json')).json();
    expect(demo.fields.map((f: { name: string }) => f.name)).toEqual(['first_name', 'last_name', 'email_address', 'phone_home', 'address', 'city', 'state', 'zip_code']);
    expect(demo.sample_post_string).toContain('email_address=jane%40example.com&phone_home=5555550123&address=1+Main+St&city=Springfield&state=CA&zip_code=90210');
    await t.close();
    t = makeApp();
    const free = await (await t.get(`/offers/${OFFER.lastTouch}/posting-doc.json`)).json();
    expect(free.fields.map((f: { name: string }) => f.name)).toEqual(['first_name', 'email_address']);
  });
});
