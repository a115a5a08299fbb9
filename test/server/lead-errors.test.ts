// /d.ashx refusals: every error name, validation of each field type, and bodies that cannot be read.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeApp, type TestApp } from '../support/app.js';
import { allLeads, form, FORM, JANE, xmlAnswer } from '../support/leads.js';
import { CAMPAIGN, LEADS, leadNetworkFile, OFFER, POST_KEY } from '../support/network.js';

let t: TestApp;
beforeEach(() => {
  t = makeApp({ file: leadNetworkFile() });
});
afterEach(() => t.close());

/** Posts a form; checks the refusal is CAKE's XML error with HTTP 200 and that nothing was stored. */
async function refused(values: Record<string, string | number>) {
  const res = await t.post('/d.ashx', form(values), FORM);
  expect(res.status).toBe(200);
  const answer = await xmlAnswer(res);
  expect(answer).toMatchObject({ code: '1', msg: 'error' });
  expect(await allLeads(t)).toEqual([]);
  return answer;
}

describe('CAKE error names', () => {
  it('Lead Missing Data: no offer or campaign', async () => {
    const answer = await refused({ ...JANE });
    expect(answer.errors).toEqual(['Lead Missing Data']);
    expect(answer.fields.ckm_offer_id).toMatch(/^is required: send ckm_offer_id .* or ckm_campaign_id and ckm_key/);
  });

  it('Lead Missing Data: a required field missing or blank, named', async () => {
    const answer = await refused({ ckm_offer_id: OFFER.lead, first_name: 'Jane', last_name: '   ', email: 'jane@example.com' });
    expect(answer.errors).toEqual(['Lead Missing Data']);
    expect(answer.fields).toEqual({ last_name: 'is required', zip: 'is required' });
  });

  it('Lead Missing Data and Validation Failed together, each field with its reason', async () => {
    const answer = await refused({ ckm_offer_id: OFFER.lead, first_name: 'Jane', last_name: 'Doe', email: 'not-an-email' });
    expect(answer.errors).toEqual(['Lead Missing Data', 'Validation Failed']);
    expect(Object.keys(answer.fields)).toEqual(['zip', 'email']);
  });

  it('Lead Missing Data: a server post without ckm_key', async () => {
    const answer = await refused({ ckm_campaign_id: CAMPAIGN.lead, ...JANE });
    expect(answer.errors).toEqual(['Lead Missing Data']);
    expect(answer.fields.ckm_key).toMatch(/post key/);
  });

  it('Invalid Post Key', async () => {
    const answer = await refused({ ckm_campaign_id: CAMPAIGN.lead, ckm_key: 'wrong-key', ...JANE });
    expect(answer.errors).toEqual(['Invalid Post Key']);
  });

  it('Invalid Post Key before telling anything about a paused campaign', async () => {
    expect((await refused({ ckm_campaign_id: CAMPAIGN.inactive, ckm_key: 'wrong-key', ...JANE })).errors).toEqual(['Invalid Post Key']);
  });

  it('Inactive Campaign: paused, or unknown', async () => {
    expect((await refused({ ckm_campaign_id: CAMPAIGN.inactive, ckm_key: 'paused-campaign', ...JANE })).errors).toEqual(['Inactive Campaign']);
    const unknown = await refused({ ckm_campaign_id: 999999, ckm_key: POST_KEY, ...JANE });
    expect(unknown.errors).toEqual(['Inactive Campaign']);
    expect(unknown.fields.ckm_campaign_id).toMatch(/no campaign 999999/);
  });

  it('Inactive Affiliate: the campaign of a paused affiliate', async () => {
    const answer = await refused({ ckm_campaign_id: LEADS.pausedAffiliateCampaign, ckm_key: LEADS.pausedAffiliateKey, ...JANE });
    expect(answer.errors).toEqual(['Inactive Affiliate']);
  });

  it('Inactive Offer: paused, unknown, or the paused offer of a campaign', async () => {
    expect((await refused({ ckm_offer_id: OFFER.inactive, ...JANE })).errors).toEqual(['Inactive Offer']);
    const unknown = await refused({ ckm_offer_id: 424242, ...JANE });
    expect(unknown.errors).toEqual(['Inactive Offer']);
    expect(unknown.fields.ckm_offer_id).toMatch(/no offer 424242/);
    expect((await refused({ ckm_campaign_id: CAMPAIGN.inactiveOffer, ckm_key: 'inactive-offer-key', ...JANE })).errors).toEqual(['Inactive Offer']);
  });

  it('Affiliate Not Authorized for Campaign: a server post naming another offer', async () => {
    const answer = await refused({ ckm_campaign_id: CAMPAIGN.lead, ckm_key: POST_KEY, ckm_offer_id: OFFER.cpl, ...JANE });
    expect(answer.errors).toEqual(['Affiliate Not Authorized for Campaign']);
    expect(answer.fields.ckm_offer_id).toMatch(`campaign ${CAMPAIGN.lead} is for offer ${OFFER.lead}`);
  });

  it('Validation Failed: an id that is not a number', async () => {
    expect((await refused({ ckm_offer_id: 'abc', ...JANE })).fields.ckm_offer_id).toMatch(/whole number/);
    expect((await refused({ ckm_campaign_id: '12x', ckm_key: POST_KEY, ...JANE })).fields.ckm_campaign_id).toMatch(/whole number/);
  });

  it('Duplicate Lead, with the earlier lead id (so a retried post learns which lead it has)', async () => {
    const first = await xmlAnswer(await t.post('/d.ashx', form({ ckm_offer_id: OFFER.lead, ckm_bp: 0, ...JANE }), FORM));
    const res = await t.post('/d.ashx', form({ ckm_offer_id: OFFER.lead, ckm_bp: 0, ...JANE }), FORM);
    const answer = await xmlAnswer(res);
    expect(answer.errors).toEqual(['Duplicate Lead']);
    expect(answer.fields.email).toMatch(/in the last 30 days/);
    expect(answer.leadid).toBe(first.leadid);
    const json = await t.post('/d.ashx', JSON.stringify({ ckm_offer_id: OFFER.lead, ...JANE }), 'application/json');
    expect(await json.json()).toMatchObject({ code: 1, leadid: first.leadid, errors: ['Duplicate Lead'] });
    expect(await allLeads(t)).toHaveLength(1);
  });

  it('answers HEAD with 405 and records nothing (link checkers send it)', async () => {
    const query = new URLSearchParams({ ckm_offer_id: String(OFFER.lead), ...JANE }).toString();
    const res = await t.get(`/d.ashx?${query}`, { method: 'HEAD' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, POST');
    expect(await allLeads(t)).toHaveLength(0);
  });
});

describe('field validation', () => {
  const cases: [string, string, RegExp][] = [
    ['email', 'jane@', /^is not an email address/],
    ['email', 'jane doe@example.com', /^is not an email address/],
    ['phone', '12ab', /^is not a phone number/],
    ['phone', '12345', /^is not a phone number/],
    ['zip', '9', /^is not a ZIP or postal code/],
    ['zip', '<script>', /^is not a ZIP or postal code/],
    ['age', 'forty', /^is not a number/],
    ['birth_date', '2001-02-30', /^is not a date/],
    ['birth_date', '13/01/2000', /^is not a date/],
    ['coverage', 'premium', /^must be one of: basic, full$/],
    ['first_name', 'x'.repeat(51), /^is longer than 50 characters$/],
  ];
  for (const [field, value, message] of cases) {
    it(`refuses ${field}=${value.slice(0, 20)}`, async () => {
      const answer = await refused({ ckm_offer_id: OFFER.lead, ...JANE, [field]: value });
      expect(answer.errors).toEqual(['Validation Failed']);
      expect(answer.fields).toEqual({ [field]: expect.stringMatching(message) });
    });
  }

  it('takes each type in its usual spellings, storing trimmed values and the option as configured', async () => {
    const res = await t.post(
      '/d.ashx',
      form({
        ckm_offer_id: OFFER.lead,
        ckm_bp: 0,
        ...JANE,
        email: '  Jane.Doe+x@Example.co.uk ',
        phone: '+1 (555) 555-0123',
        zip: '90210-1234',
        age: '42.5',
        birth_date: '1/31/1990',
        coverage: 'FULL',
      }),
      FORM,
    );
    expect((await xmlAnswer(res)).code).toBe('0');
    const [lead] = await allLeads(t);
    expect(lead!.fields).toMatchObject({ email: 'Jane.Doe+x@Example.co.uk', phone: '+1 (555) 555-0123', coverage: 'full', birth_date: '1/31/1990' });
    expect(lead!.email).toBe('jane.doe+x@example.co.uk');
  });

  it('matches field names without regard to case, and ignores fields the offer does not list', async () => {
    const res = await t.post('/d.ashx', form({ ckm_offer_id: OFFER.lead, ckm_bp: 0, First_Name: 'Jane', LAST_NAME: 'Doe', Email: 'j@example.com', zip: '90210', submit: 'Send' }), FORM);
    expect((await xmlAnswer(res)).code).toBe('0');
    expect((await allLeads(t))[0]!.fields).toEqual({ first_name: 'Jane', last_name: 'Doe', email: 'j@example.com', zip: '90210' });
  });

  it('takes the first of a key sent twice in a form, as CAKE reads forms', async () => {
    const res = await t.post('/d.ashx', `ckm_offer_id=${OFFER.lead}&ckm_bp=0&first_name=Jane&first_name=Evil&last_name=Doe&email=j@example.com&zip=90210&zip=x`, FORM);
    expect((await xmlAnswer(res)).code).toBe('0');
    expect((await allLeads(t))[0]!.fields).toMatchObject({ first_name: 'Jane', zip: '90210' });
  });
});

describe('test leads', () => {
  it('ckm_test=1 stores the lead flagged as a test, left out of reports unless asked for', async () => {
    const res = await t.post('/d.ashx', form({ ckm_offer_id: OFFER.lead, ckm_test: 1, ckm_bp: 0, ...JANE }), FORM);
    expect((await xmlAnswer(res)).code).toBe('0');
    expect((await allLeads(t))[0]!.is_test).toBe(true);
    expect((await t.store.listLeads({ include_tests: false, offset: 0, limit: 10 })).total).toBe(0);
  });

  for (const field of ['first_name', 'last_name', 'address'] as const) {
    it(`"ckmtest" in ${field} makes a test lead`, async () => {
      await t.post('/d.ashx', form({ ckm_offer_id: OFFER.lead, ...JANE, [field]: `Mr CKMTest ${field}` }), FORM);
      expect((await allLeads(t))[0]!.is_test).toBe(true);
    });
  }

  it('a test lead of a CPL offer is never paid and never posted back', async () => {
    await t.store.createPostback({
      affiliate_id: 67890,
      offer_id: 0,
      postback_url: 'https://aff.example/pb?l=#leadid#',
      postback_status: 'active',
      postback_type_id: 1,
      fire_on: 'conversion',
    });
    const res = await t.post('/d.ashx', form({ ckm_campaign_id: CAMPAIGN.cpl, ckm_key: 'solar-post-key', ckm_test: 1, first_name: 'Sam', email: 's@example.com' }), FORM);
    expect(await xmlAnswer(res)).toMatchObject({ code: '0', price: '0.00' });
    const [lead] = await allLeads(t);
    const conversion = await t.store.getConversion(lead!.conversion_id!);
    expect(conversion).toMatchObject({ is_test: true, payout_cents: 0, revenue_cents: 0 });
    expect((await t.store.listDeliveries({ offset: 0, limit: 10 })).total).toBe(0);
  });

  it('a test lead never makes a later real lead a duplicate', async () => {
    await t.post('/d.ashx', form({ ckm_offer_id: OFFER.lead, ckm_test: 1, ...JANE }), FORM);
    const res = await t.post('/d.ashx', form({ ckm_offer_id: OFFER.lead, ckm_bp: 0, ...JANE }), FORM);
    expect((await xmlAnswer(res)).code).toBe('0');
    expect((await allLeads(t)).map((l) => l.is_test)).toEqual([true, false]);
  });
});

describe('duplicates', () => {
  const post = (values: Record<string, string | number>) => t.post('/d.ashx', form({ ckm_offer_id: OFFER.lead, ckm_bp: 0, ...JANE, ...values }), FORM);

  it('are the same offer and email, whatever its case and surrounding spaces', async () => {
    expect((await xmlAnswer(await post({}))).code).toBe('0');
    expect((await xmlAnswer(await post({ email: '  JANE@Example.COM ' }))).errors).toEqual(['Duplicate Lead']);
    // Another offer, or another email: not a duplicate.
    expect((await xmlAnswer(await post({ email: 'other@example.com' }))).code).toBe('0');
    const cpl = await t.post('/d.ashx', form({ ckm_offer_id: OFFER.cpl, ckm_bp: 0, first_name: 'Jane', email: JANE.email }), FORM);
    expect((await xmlAnswer(cpl)).code).toBe('0');
  });

  it("are taken again once the offer's duplicate days have passed", async () => {
    await post({});
    t.clock.now += 30 * 86_400_000 + 1;
    expect((await xmlAnswer(await post({}))).code).toBe('0');
  });

  it('hold for 20 identical posts at the same moment: exactly one is taken', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => post({}).then(xmlAnswer)));
    expect(answers.filter((a) => a.code === '0')).toHaveLength(1);
    expect(answers.filter((a) => a.errors[0] === 'Duplicate Lead')).toHaveLength(19);
    expect(await allLeads(t)).toHaveLength(1);
  });

  it('are not checked for an offer with duplicate_days 0', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await t.post('/d.ashx', form({ ckm_offer_id: LEADS.noDedupeOffer, ckm_bp: 0, email: 'n@example.com' }), FORM);
      expect((await xmlAnswer(res)).code).toBe('0');
    }
    expect(await allLeads(t)).toHaveLength(2);
  });
});

describe('bodies that cannot be read', () => {
  it('refuses XML declaring entities (no expansion), with a 400 in XML', async () => {
    const laughs = `<?xml version="1.0"?><!DOCTYPE XML [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><XML><first_name>&b;</first_name></XML>`;
    const res = await t.post(`/d.ashx?ckm_xml=1&ckm_offer_id=${OFFER.lead}`, laughs, 'text/xml');
    expect(res.status).toBe(400);
    const answer = await xmlAnswer(res);
    expect(answer).toMatchObject({ code: '1', errors: ['Validation Failed'] });
    expect(answer.fields.body).toMatch(/DOCTYPE and ENTITY declarations are not accepted/);
    expect(await allLeads(t)).toEqual([]);
  });

  it('refuses an external entity (XXE) the same way', async () => {
    const xxe = `<!DOCTYPE XML [<!ENTITY x SYSTEM "file:///etc/passwd">]><XML><first_name>&x;</first_name></XML>`;
    const res = await t.post(`/d.ashx?ckm_xml=1&ckm_offer_id=${OFFER.lead}`, xxe, 'application/xml');
    expect(res.status).toBe(400);
  });

  it('leaves an undeclared entity as text and decodes only the XML builtins', async () => {
    const body = `<XML><first_name>Jane&nbsp;&lt;A&gt;</first_name><last_name>Doe</last_name><email>j@example.com</email><zip>90210</zip></XML>`;
    const res = await t.post(`/d.ashx?ckm_xml=1&ckm_campaign_id=${CAMPAIGN.lead}&ckm_key=${POST_KEY}`, body, 'text/xml');
    expect((await xmlAnswer(res)).code).toBe('0');
    expect((await allLeads(t))[0]!.fields.first_name).toBe('Jane&nbsp;<A>');
  });

  it('answers malformed XML with a 400 that says what is wrong', async () => {
    const res = await t.post(`/d.ashx?ckm_xml=1&ckm_offer_id=${OFFER.lead}`, '<XML><first_name>Jane</last_name></XML>', 'text/xml');
    expect(res.status).toBe(400);
    const answer = await xmlAnswer(res);
    expect(answer.errors).toEqual(['Validation Failed']);
    expect(answer.fields.body).toMatch(/^is not well-formed XML \(.*closing tag.*\): send <XML>/);
  });

  it('answers nested XML elements with a 400 naming the element', async () => {
    const res = await t.post(`/d.ashx?ckm_xml=1&ckm_offer_id=${OFFER.lead}`, '<XML><first_name><b>Jane</b></first_name></XML>', 'text/xml');
    expect(res.status).toBe(400);
    expect((await xmlAnswer(res)).fields.first_name).toMatch(/single value/);
  });

  it('refuses XML element names that would reach JavaScript internals', async () => {
    for (const name of ['__proto__', 'constructor']) {
      const res = await t.post(`/d.ashx?ckm_xml=1&ckm_offer_id=${OFFER.lead}`, `<XML><${name}>x</${name}></XML>`, 'text/xml');
      expect(res.status).toBe(400);
      expect((await xmlAnswer(res)).errors).toEqual(['Validation Failed']);
    }
  });

  it('takes a JSON body naming __proto__ as an ordinary, ignored key', async () => {
    const res = await t.post('/d.ashx', `{"__proto__": "x", "ckm_offer_id": ${OFFER.lead}, "first_name": "Jane", "last_name": "Doe", "email": "j@example.com", "zip": "90210"}`, 'application/json');
    expect((await res.json()).code).toBe(0);
    expect(Object.keys((await allLeads(t))[0]!.fields)).toEqual(['first_name', 'last_name', 'email', 'zip']);
  });

  it('answers malformed JSON with a 400 in JSON', async () => {
    const res = await t.post('/d.ashx', '{"ckm_offer_id": 12345,', 'application/json');
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await res.json()).toEqual({ code: 1, msg: 'error', errors: ['Validation Failed'], fields: { body: 'is not valid JSON' } });
  });

  it('answers JSON with wrong types: numbers are taken, lists and objects named and refused', async () => {
    const numbers = await t.post('/d.ashx', JSON.stringify({ ckm_offer_id: OFFER.lead, ...JANE, zip: 90210 }), 'application/json');
    expect((await numbers.json()).code).toBe(0);

    const nested = await t.post('/d.ashx', JSON.stringify({ ckm_offer_id: OFFER.lead, ...JANE, first_name: { $gt: '' } }), 'application/json');
    expect(nested.status).toBe(400);
    expect((await nested.json()).fields).toEqual({ first_name: expect.stringMatching(/single value/) });

    const list = await t.post('/d.ashx', JSON.stringify([{ ckm_offer_id: OFFER.lead }]), 'application/json');
    expect(list.status).toBe(400);
    expect((await list.json()).fields.body).toMatch(/JSON object/);

    const wrong = await t.post('/d.ashx', JSON.stringify({ ckm_offer_id: OFFER.lead, ...JANE, email: 12345 }), 'application/json');
    expect((await wrong.json()).errors).toEqual(['Validation Failed']);
    expect(await allLeads(t)).toHaveLength(1);
  });

  it('refuses a 1 MB body with 413, in the format of the post, storing nothing', async () => {
    const big = 'x'.repeat(1024 * 1024);
    const formRes = await t.post('/d.ashx', form({ ckm_offer_id: OFFER.lead, ...JANE, comments: big }), FORM);
    expect(formRes.status).toBe(413);
    expect((await xmlAnswer(formRes)).fields.body).toMatch(/larger than 65536 bytes/);

    const jsonRes = await t.post('/d.ashx', JSON.stringify({ ckm_offer_id: OFFER.lead, ...JANE, comments: big }), 'application/json', {
      headers: { 'content-length': String(big.length + 200) },
    });
    expect(jsonRes.status).toBe(413);
    expect((await jsonRes.json()).code).toBe(1);

    // d.js posts text/plain JSON and reads the answer as JSON, also when the body is refused unread.
    const ajax = await t.post('/d.ashx', JSON.stringify({ ckm_offer_id: OFFER.lead, ...JANE, comments: big }), 'text/plain;charset=UTF-8', {
      headers: { 'content-length': String(big.length + 200) },
    });
    expect(ajax.status).toBe(413);
    expect(await ajax.json()).toMatchObject({ code: 1, errors: ['Validation Failed'], fields: { body: expect.stringMatching(/larger than/) } });
    expect(await allLeads(t)).toEqual([]);
  });

  it('refuses a Content-Type it cannot read with 415', async () => {
    const res = await t.post('/d.ashx', 'ckm_offer_id=12345', 'application/octet-stream');
    expect(res.status).toBe(415);
    expect((await xmlAnswer(res)).fields.body).toMatch(/is not accepted: send a form/);
  });
});
