// The console's link and pixel generator (console/pages/generator.ts): its snippets in CAKE's forms,
// and each one, requested as a browser would, doing what it says on the app.
import { afterEach, describe, expect, it } from 'vitest';
import { snippets, type GeneratorInput } from '../../server/console/ui/pages/generator.js';
import { makeApp, type TestApp } from '../support/app.js';
import { call } from '../support/keys.js';
import { AFF, API_KEY, CREATIVE, HOST, OFFER } from '../support/network.js';

let t: TestApp;
afterEach(() => t?.close());

const base = `http://${HOST}`;
const input = (over: Partial<GeneratorInput> = {}): GeneratorInput => ({
  base,
  affiliate_id: AFF.partner,
  creative_id: CREATIVE.lead,
  offer_id: OFFER.lead,
  events: [{ event_id: 2, event_name: 'Quote Viewed' }],
  subIds: ['banner', '', '', '', ''],
  placeholders: false,
  ...over,
});
const text = (g: GeneratorInput, id: string) => snippets(g).find((s) => s.id === id)!.text;
/** The URL in a snippet's src="…". */
const src = (html: string) => /src="([^"]+)"/.exec(html)![1]!;

describe('the generator', () => {
  it('writes the tracking link and the click pixels in CAKE\'s forms', () => {
    const g = input();
    expect(text(g, 'tracking-link')).toBe(`${base}/?a=${AFF.partner}&c=${CREATIVE.lead}&s1=banner`);
    // CAKE: <script type="text/javascript" src="http://[TRACKING DOMAIN]/?a=12&c=1057&cp=js&s1=SUB_ID"></script>
    expect(text(g, 'js-click-pixel')).toBe(`<script type="text/javascript" src="${base}/?a=${AFF.partner}&c=${CREATIVE.lead}&s1=banner&cp=js"></script>`);
    expect(text(g, 'img-click-pixel')).toContain(`src="${base}/?a=${AFF.partner}&c=${CREATIVE.lead}&s1=banner&cp=img"`);
    expect(text(g, 'landing-page')).toContain(`<script async src="${base}/d.js"></script>`);
    expect(text(g, 'landing-page')).toContain('<form id="ckm_form"');
    expect(text(g, 'landing-page')).toContain('window.ckm = window.ckm || function () { (ckm.q = ckm.q || []).push(arguments) };');
  });

  it('writes empty sub ids as placeholders when asked, and encodes the given ones', () => {
    const g = input({ subIds: ['a b&c', '', 'x', '', ''], placeholders: true });
    expect(text(g, 'tracking-link')).toBe(`${base}/?a=${AFF.partner}&c=${CREATIVE.lead}&s1=a%20b%26c&s2=SUB_ID_2&s3=x&s4=SUB_ID_4&s5=SUB_ID_5`);
  });

  it('writes a conversion pixel per event and the conversion.json postback with REPLACE for the click id', () => {
    const g = input();
    expect(text(g, 'conversion-img')).toBe(`<img src="${base}/p.ashx?o=${OFFER.lead}&t=TRANSACTION_ID&f=img" width="1" height="1" border="0" alt="" />`);
    expect(text(g, 'conversion-img-e2')).toContain(`/p.ashx?o=${OFFER.lead}&e=2&t=TRANSACTION_ID&f=img`);
    expect(text(g, 'conversion-iframe')).toContain(`<iframe src="${base}/p.ashx?o=${OFFER.lead}&t=TRANSACTION_ID"`);
    expect(text(g, 'conversion-postback')).toBe(`${base}/api/2/conversion.json?api_key=ADVERTISER_API_KEY&offer_id=${OFFER.lead}&unique_id=TRANSACTION_ID&click_id=REPLACE`);
    // Without the creative's offer (an affiliate key cannot read creatives) there is nothing to convert on.
    expect(snippets(input({ offer_id: null })).some((s) => s.id.startsWith('conversion'))).toBe(false);
  });

  it('gives snippets that work: the link is a click, the JS pixel defines ckm_request_id, the image pixel converts it', async () => {
    t = makeApp();
    const g = input();
    const link = await t.get(text(g, 'tracking-link').slice(base.length));
    expect(link.status).toBe(302);
    const pixel = await t.get(src(text(g, 'js-click-pixel')).slice(base.length));
    const reqid = /var ckm_request_id = "(.+)";/.exec(await pixel.text())![1]!;
    const clicks = await call(t, 'GET', 'click.json', API_KEY, { click_id: reqid });
    expect(clicks.body.response.clicks[0]).toMatchObject({ affiliate_id: AFF.partner, sub_id_1: 'banner' });

    const conversion = src(text(g, 'conversion-img')).slice(base.length).replace('TRANSACTION_ID', 'order-1');
    const converted = await t.get(`${conversion}&r=${reqid}`);
    expect(converted.headers.get('content-type')).toBe('image/gif');
    const after = await call(t, 'GET', 'click.json', API_KEY, { click_id: reqid });
    expect(after.body.response.clicks[0].converted).toBe(true);
  });
});
