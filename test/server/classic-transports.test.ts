// CAKE's classic API: every transport the public clients use reaches the same method and answers
// in its own envelope (CAKE-CLASSIC-API.md 1, 1.1, 5): GET, POST form, POST with the parameters in
// the query string, POST JSON ({"d": …}), SOAP 1.2 and 1.1; any version, names in any case; CAKE's
// error envelope (never a 404) for an unknown method, a bad key, a version CAKE lacks; a SOAP
// fault for a body that cannot be read.
import { afterEach, describe, expect, it } from 'vitest';
import { StoreOverloaded } from '../../server/store/errors.js';
import { makeApp, type TestApp } from '../support/app.js';
import { ADMIN_NS, classicGet, classicJson, classicXml, parseXml, soap11Body, soap12Body, soapResult } from '../support/classic.js';
import { API_KEY, OFFER } from '../support/network.js';

let t: TestApp;
afterEach(() => t?.close());

async function app() {
  t = makeApp();
  await t.network.ready;
  return t;
}

/** export Offers v5 as PF's Export.php sends it: every declared parameter, 0 or empty when unset. */
const PF_OFFERS = {
  api_key: API_KEY,
  offer_id: OFFER.lead,
  offer_name: '',
  advertiser_id: 0,
  vertical_id: 0,
  offer_type_id: 0,
  media_type_id: 0,
  offer_status_id: 0,
  tag_id: 0,
  start_at_row: 0,
  row_limit: 0,
  sort_field: 'offer_id',
  sort_descending: 'FALSE',
};

const XSI = 'http://www.w3.org/2001/XMLSchema-instance';
const XSD = 'http://www.w3.org/2001/XMLSchema';

describe('transports', () => {
  it('GET: the root named for the response type, in the version\'s namespace, xsi and xsd declared, children in schema order', async () => {
    await app();
    const { res, body } = await classicGet(t, '/api/5/export.asmx/Offers', PF_OFFERS);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/xml; charset=utf-8');
    expect(body.startsWith('<?xml version="1.0" encoding="utf-8"?>')).toBe(true);
    const root = parseXml(body);
    expect(root.name).toBe('offer_export_response');
    expect(root.attrs).toEqual({ 'xmlns:xsi': XSI, 'xmlns:xsd': XSD, xmlns: ADMIN_NS(5) });
    expect(root.names()).toEqual(['success', 'row_count', 'offers']);
    expect(root.get('success')).toBe('true');
    expect(root.get('row_count')).toBe('1');
    expect(root.get('offers/offer/offer_id')).toBe(String(OFFER.lead));
  });

  it('any version routes, and the namespace echoes it', async () => {
    await app();
    for (const n of [3, 6]) {
      const root = await classicXml(t, `/api/${n}/export.asmx/Offers`, PF_OFFERS);
      expect(root.attrs.xmlns).toBe(ADMIN_NS(n));
      expect(root.get('offers/offer/offer_name')).toBe('Auto Insurance Quote');
    }
  });

  it('service, method and parameter names match in any case (EXPORT.asmx, API_KEY, Offer_ID)', async () => {
    await app();
    const root = await classicXml(t, '/api/5/EXPORT.asmx/offers', { API_KEY: API_KEY, Offer_ID: OFFER.lastTouch, Start_At_Row: 1, Row_Limit: 0 });
    expect(root.get('row_count')).toBe('1');
    expect(root.get('offers/offer/offer_id')).toBe(String(OFFER.lastTouch));
  });

  it('POST form, and POST with the parameters in the query string and an empty body (SR addedit)', async () => {
    await app();
    const form = await t.post('/api/5/export.asmx/Offers', new URLSearchParams(Object.entries(PF_OFFERS).map(([k, v]) => [k, String(v)])).toString(), 'application/x-www-form-urlencoded');
    expect(parseXml(await form.text()).get('offers/offer/offer_id')).toBe(String(OFFER.lead));
    const query = new URLSearchParams(Object.entries(PF_OFFERS).map(([k, v]) => [k, String(v)]));
    const empty = await t.app.request(`http://track.example.com/api/5/export.asmx/Offers?${query}`, { method: 'POST', headers: { host: 'track.example.com' } });
    expect(empty.status).toBe(200);
    expect(parseXml(await empty.text()).get('offers/offer/offer_id')).toBe(String(OFFER.lead));
  });

  it('POST JSON answers {"d": …}: the XML\'s keys, lists as arrays, nil as null, numbers as numbers', async () => {
    await app();
    const d = await classicJson(t, '/api/6/export.asmx/Offers', PF_OFFERS);
    expect(d.success).toBe(true);
    expect(d.row_count).toBe(1);
    expect(Array.isArray(d.offers)).toBe(true);
    const offer = d.offers[0];
    expect(offer.offer_id).toBe(OFFER.lead);
    expect(offer.advertiser).toEqual({ advertiser_id: 5, advertiser_name: 'Acme Insurance' });
    expect(offer.offer_contracts[0].payout).toEqual({ is_percentage: false, amount: 18, formatted_amount: '$18.00' });
    expect(offer.offer_image_link).toBeNull();
    expect(offer.tags).toEqual([]);
  });

  it('SOAP 1.2 to the .asmx without the method, parameters omitted and in any order: {Method}Response/{Method}Result', async () => {
    await app();
    const res = await t.post('/api/5/export.asmx', soap12Body('Offers', ADMIN_NS(5), { offer_id: OFFER.lead, api_key: API_KEY }), 'application/soap+xml;charset=UTF-8');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/soap+xml; charset=utf-8');
    const body = await res.text();
    const envelope = parseXml(body);
    expect(envelope.name).toBe('soap:Envelope');
    expect(envelope.attrs['xmlns:soap']).toBe('http://www.w3.org/2003/05/soap-envelope');
    expect(envelope.at('soap:Body/OffersResponse').attrs.xmlns).toBe(ADMIN_NS(5));
    const result = soapResult(body, 'Offers');
    expect(result.names()).toEqual(['success', 'row_count', 'offers']);
    expect(result.get('offers/offer/offer_id')).toBe(String(OFFER.lead));
  });

  it('SOAP 1.1 with SOAPAction, as .NET proxies send it', async () => {
    await app();
    const res = await t.post('/api/4/export.asmx', soap11Body('Offers', ADMIN_NS(4), { api_key: API_KEY, offer_id: OFFER.lead }), 'text/xml; charset=utf-8', {
      headers: { SOAPAction: '"http://cakemarketing.com/api/4/Offers"' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/xml; charset=utf-8');
    const body = await res.text();
    expect(parseXml(body).attrs['xmlns:soap']).toBe('http://schemas.xmlsoap.org/soap/envelope/');
    // v4 names the contract offer_contract (v5 and later offer_contract_info).
    expect(soapResult(body, 'Offers').get('offers/offer/offer_contracts/offer_contract/offer_contract_id')).toBe(String(OFFER.lead));
  });

  it('the affiliate API routes under /affiliates/api/N/, in its own namespace', async () => {
    await app();
    const root = await classicXml(t, '/affiliates/api/2/offers.asmx/GetOfferStatuses', { api_key: API_KEY, affiliate_id: 67890 });
    expect(root.name).toBe('offer_statuses_response');
    expect(root.attrs.xmlns).toBe('http://cakemarketing.com/affiliates/api/2/');
  });
});

describe('errors', () => {
  it('a bad key: HTTP 200, success false, "Invalid API Key", row_count 0 on a list type', async () => {
    await app();
    const root = await classicXml(t, '/api/5/export.asmx/Offers', { ...PF_OFFERS, api_key: 'not-a-key' });
    expect(root.name).toBe('offer_export_response');
    expect(root.names()).toEqual(['success', 'message', 'row_count']);
    expect(root.get('success')).toBe('false');
    expect(root.get('message')).toBe('Invalid API Key');
    expect(root.get('row_count')).toBe('0');
    const d = await classicJson(t, '/api/5/export.asmx/Offers', { api_key: 'not-a-key' });
    expect(d).toEqual({ success: false, message: 'Invalid API Key', row_count: 0 });
  });

  it('a method Crumb does not implement, or has no such thing for, answers the error envelope naming it, never a 404', async () => {
    await app();
    const unknown = await classicXml(t, '/api/1/signup.asmx/GetMediaTypes', { api_key: API_KEY });
    expect(unknown.get('success')).toBe('false');
    expect(unknown.get('message')).toContain('signup.asmx/GetMediaTypes is not implemented');
    const buyers = await classicXml(t, '/api/2/export.asmx/Buyers', { api_key: API_KEY, buyer_id: 0, account_status_id: 0 });
    expect(buyers.get('message')).toContain('export.asmx/Buyers is not supported by Crumb');
    const buyerApi = await classicXml(t, '/buyers/api/1/leads.asmx/LeadInfo', { lead_id: 1 });
    expect(buyerApi.get('success')).toBe('false');
    expect(buyerApi.get('message')).toContain('buyers API');
    const wsdl = await t.get('/api/5/export.asmx?WSDL');
    expect(wsdl.status).toBe(200);
    expect(parseXml(await wsdl.text()).get('message')).toContain('Crumb serves no WSDL');
    const noMethod = await classicGet(t, '/api/5/export.asmx', { api_key: API_KEY });
    expect(noMethod.status).toBe(200);
    expect(parseXml(noMethod.body).get('success')).toBe('false');
  });

  it('a version CAKE does not have the method in is named in the error', async () => {
    await app();
    const root = await classicXml(t, '/api/9/export.asmx/Offers', PF_OFFERS);
    expect(root.get('success')).toBe('false');
    expect(root.get('message')).toBe('Method export.asmx/Offers has no version 9: CAKE has it in versions 1 to 6');
  });

  it('a parameter of the wrong type: the envelope naming it over GET, a SOAP fault (500) under SOAP', async () => {
    await app();
    const root = await classicXml(t, '/api/5/export.asmx/Offers', { ...PF_OFFERS, offer_id: 'abc' });
    expect(root.get('message')).toBe('Invalid offer_id: "abc" is not a whole number');
    const res = await t.post('/api/5/export.asmx', soap12Body('Offers', ADMIN_NS(5), { api_key: API_KEY, offer_id: 'abc' }), 'application/soap+xml');
    expect(res.status).toBe(500);
    expect(parseXml(await res.text()).get('soap:Body/soap:Fault/soap:Reason/soap:Text')).toContain('Input string was not in a correct format');
  });

  it('a malformed SOAP body: a SOAP fault, HTTP 500, its reason where SC reads it (Fault/Reason/Text)', async () => {
    await app();
    const res = await t.post('/api/5/export.asmx', '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><cake:Offers>', 'application/soap+xml;charset=UTF-8');
    expect(res.status).toBe(500);
    const fault = parseXml(await res.text()).at('soap:Body/soap:Fault');
    expect(fault.names()).toEqual(['soap:Code', 'soap:Reason', 'soap:Detail']);
    expect(fault.get('soap:Code/soap:Value')).toBe('soap:Sender');
    expect(fault.get('soap:Reason/soap:Text')).toMatch(/^Server was unable to read request\. ---> There is an error in XML document/);
    const v11 = await t.post('/api/5/export.asmx', '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>', 'text/xml', { headers: { SOAPAction: 'x' } });
    expect(v11.status).toBe(500);
    expect(parseXml(await v11.text()).get('soap:Body/soap:Fault/faultcode')).toBe('soap:Client');
  });

  it('a SOAP body declaring entities is refused as unreadable', async () => {
    await app();
    const body = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><Offers><api_key>&a;</api_key></Offers></env:Body></env:Envelope>`;
    const res = await t.post('/api/5/export.asmx', body, 'application/soap+xml');
    expect(res.status).toBe(500);
  });
});

describe('limits', () => {
  it('a store too busy to take a write answers CAKE\'s rate-limit message, Restricted, with Retry-After', async () => {
    await app();
    t.store.insertConversion = () => Promise.reject(new StoreOverloaded('the write queue', 10));
    const res = await t.get(`/api/2/track.asmx/MassConversionInsert?api_key=${API_KEY}&campaign_id=3870&total_to_insert=1&payout=1&received=2`);
    expect(res.status).toBe(200);
    expect(res.headers.get('retry-after')).toBe('1');
    const root = parseXml(await res.text());
    expect(root.get('success')).toBe('false');
    expect(root.get('message')).toBe('Restricted');
  });

  it('a body larger than 256 KiB is not read: the error envelope, HTTP 200', async () => {
    await app();
    const res = await t.post('/api/5/export.asmx/Offers', `api_key=${API_KEY}&offer_name=${'x'.repeat(300 * 1024)}`, 'application/x-www-form-urlencoded');
    expect(res.status).toBe(200);
    const root = parseXml(await res.text());
    expect(root.get('success')).toBe('false');
    expect(root.get('message')).toBe('The request body is larger than 262144 bytes');
  });
});
