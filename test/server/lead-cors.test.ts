// /d.ashx CORS: landing pages of the network post leads by AJAX (d.js, with credentials) and read the
// answer; other origins cannot read it.
import { afterEach, describe, expect, it } from 'vitest';
import { makeApp, type TestApp } from '../support/app.js';
import { FORM, form, JANE } from '../support/leads.js';
import { OFFER, testNetworkFile } from '../support/network.js';

let t: TestApp;
afterEach(() => t.close());

function preflight(origin: string) {
  return t.app.request('http://track.example.com/d.ashx', {
    method: 'OPTIONS',
    headers: { host: 'track.example.com', origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  });
}

describe('CORS on /d.ashx', () => {
  it("answers a preflight from an offer's landing-page origin, credentials allowed", async () => {
    t = makeApp();
    const res = await preflight('https://lp.example.com');
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://lp.example.com');
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type');
  });

  it('lets an allowed origin read the answer of an AJAX post (text/plain JSON, as d.js sends it)', async () => {
    t = makeApp();
    const res = await t.post('/d.ashx', JSON.stringify({ ckm_offer_id: OFFER.cpl, first_name: 'Sam', email: 's@example.com' }), 'text/plain;charset=UTF-8', {
      headers: { origin: 'https://solar.example.com' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://solar.example.com');
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('vary')).toContain('Origin');
    expect((await res.json()).code).toBe(0);
  });

  it('adds no CORS headers to a server post, which has no Origin (only browsers read them)', async () => {
    t = makeApp();
    const res = await t.post('/d.ashx', form({ ckm_offer_id: OFFER.lead, ckm_bp: 0, ...JANE }), FORM);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
  });

  it('lets an allowed origin read refusals too', async () => {
    t = makeApp();
    const res = await t.post('/d.ashx', JSON.stringify({ ckm_offer_id: OFFER.lead }), 'application/json', { headers: { origin: 'https://lp.example.com' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('https://lp.example.com');
    expect((await res.json()).errors).toEqual(['Lead Missing Data']);
    const big = await t.post('/d.ashx', JSON.stringify({ ckm_offer_id: OFFER.lead, comments: 'x'.repeat(100_000) }), 'application/json', {
      headers: { origin: 'https://lp.example.com' },
    });
    expect(big.status).toBe(413);
    expect(big.headers.get('access-control-allow-origin')).toBe('https://lp.example.com');
  });

  it('does not let another origin read the answer, nor pass the preflight', async () => {
    t = makeApp();
    const pre = await preflight('https://evil.example');
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    const res = await t.post('/d.ashx', form({ ckm_offer_id: OFFER.lead, ckm_bp: 0, ...JANE }), FORM, { headers: { origin: 'https://evil.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it("allows the origins listed in the network file's cors_origins", async () => {
    const file = testNetworkFile();
    file.network.cors_origins = ['https://forms.partner.example'];
    t = makeApp({ file });
    const res = await preflight('https://forms.partner.example');
    expect(res.headers.get('access-control-allow-origin')).toBe('https://forms.partner.example');
  });
});
