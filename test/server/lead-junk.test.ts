// Whatever a client sends to /d.ashx: never a 5xx, and a lead is stored exactly when the answer
// says success.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeApp, type TestApp } from '../support/app.js';
import { allLeads } from '../support/leads.js';
import { CAMPAIGN, OFFER, POST_KEY } from '../support/network.js';

let t: TestApp;
beforeAll(() => {
  t = makeApp();
});
afterAll(() => t.close());

const key = fc.oneof(
  fc.constantFrom('ckm_offer_id', 'ckm_campaign_id', 'ckm_key', 'ckm_request_id', 'ckm_test', 'ckm_bp', 'ckm_subid', 'first_name', 'last_name', 'email', 'zip', 'phone', 'age', 'birth_date', 'coverage', 'address', '__proto__', 'constructor'),
  fc.string({ maxLength: 12 }),
);
const value = fc.oneof(
  fc.constantFrom(String(OFFER.lead), String(OFFER.cpl), String(CAMPAIGN.lead), POST_KEY, 'jane@example.com', '90210', '1', '0', '"', ''),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);
const fields = fc.dictionary(key, value, { maxKeys: 12 });

let accepted = 0;

async function check(res: Response) {
  expect(res.status).toBeLessThan(500);
  const text = await res.text();
  if (res.status === 302 || /"code":0|<code>0<\/code>/.test(text)) accepted++;
}

describe('junk posted to /d.ashx', () => {
  it('as forms, JSON and XML, never gets a 5xx, and only successes are stored', async () => {
    await fc.assert(
      fc.asyncProperty(fields, fc.constantFrom('form', 'json', 'text', 'xml', 'get'), async (values, kind) => {
        const entries = Object.entries(values);
        if (kind === 'get') return check(await t.get(`/d.ashx?${new URLSearchParams(entries)}`));
        if (kind === 'form') return check(await t.post('/d.ashx', new URLSearchParams(entries).toString(), 'application/x-www-form-urlencoded'));
        if (kind === 'json' || kind === 'text') {
          return check(await t.post('/d.ashx', JSON.stringify(values), kind === 'json' ? 'application/json' : 'text/plain;charset=UTF-8'));
        }
        const body = `<XML>${entries.map(([k, v]) => `<${k}>${v}</${k}>`).join('')}</XML>`;
        return check(await t.post(`/d.ashx?ckm_xml=1&ckm_offer_id=${OFFER.lead}`, body, 'text/xml'));
      }),
      { numRuns: 300 },
    );
    expect((await allLeads(t)).length).toBe(accepted);
  });

  it('as raw bytes of any Content-Type, never gets a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 200 }),
        fc.constantFrom('application/x-www-form-urlencoded', 'application/json', 'text/plain', 'text/xml', 'multipart/form-data; boundary=x', 'image/png', ''),
        async (bytes, type) => {
          const res = await t.app.request('http://track.example.com/d.ashx', { method: 'POST', body: bytes, headers: type ? { 'content-type': type } : {} });
          expect(res.status).toBeLessThan(500);
        },
      ),
      { numRuns: 200 },
    );
  });
});
