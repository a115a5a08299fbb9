// Abuse (issue 9, item 5), as tables so that a new route is one more row:
//   - every parameter echoed into a JavaScript or HTML answer (click pixels, p.ashx js and iframe
//     with the affiliate's browser postbacks, posting documents, the demo pages, the lead answers),
//     tried with script-injection strings: the answer keeps its shape (the same tags and
//     attributes as with a harmless value; scripts parse and carry the value as data);
//   - every redirect (tracking links, the browser post's thank-you redirect, ckm_bp) tried with an
//     outside URL in every parameter: it goes where the network file says, never elsewhere;
//   - forged, tampered and replayed request ids credit nobody;
//   - wrong API keys are refused on every API route and method, and the key comparison is
//     constant-time by construction (it reads the same bytes whatever the key; not timed);
//   - security headers on every route, with the cross-origin policy pixels and d.js need;
//   - server postbacks aimed inside (every private address form, a name that resolves inside, DNS
//     rebinding, a public URL that redirects inside) refused when saved and again at delivery,
//     through an injected resolver and connect hook: nothing is dialled outside 127.0.0.1.
import { XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticate, sha256Hex } from '../../server/auth.js';
import { GIF } from '../../server/http.js';
import { sameText } from '../../server/http.js';
import { loadNetwork, type ApiKey, type NetworkFile } from '../../server/network.js';
import { reqids as makeReqids, webCryptoMac } from '../../server/reqid.js';
import { setCookie, type TestApp } from '../support/app.js';
import { AFF, API_KEY, CAMPAIGN, CREATIVE, HOST, OFFER } from '../support/network.js';
import { targetsOf } from '../../server/postbacks/address.js';
import { createDispatcher, type Dispatcher } from '../../server/postbacks/dispatcher.js';
import { nodeSend } from '../../server/postbacks/node-send.js';
import { makeApp } from '../support/app.js';
import { fakeInternet, startSite } from '../support/internet.js';
import { eventually } from '../support/receiver.js';
import { makeFullApp, reliabilityNetworkFile, report, sqliteCounts } from './support.js';

/** Script injection, each aimed at one way out: of a JS string, an HTML attribute, element text,
 * a URL, an XML document; encoded once or twice; split by control characters. */
const INJECTIONS = [
  '</script><script>alert(1)</script>',
  '"><script>alert(1)</script>',
  "'><img src=x onerror=alert(1)>",
  '" onmouseover="alert(1)" x="',
  "' onfocus='alert(1)' autofocus x='",
  '";alert(1);//',
  "';alert(1);//",
  '\\";alert(1);//',
  '`;alert(1);`${alert(1)}',
  '\u2028alert(1)\u2029',
  '<!--<script>alert(1)//-->',
  ']]><script>alert(1)</script><![CDATA[',
  '<svg/onload=alert(1)>',
  '</title><script>alert(1)</script>',
  '%3Cscript%3Ealert(1)%3C%2Fscript%3E',
  '%253Cscript%253Ealert(1)',
  '&lt;script&gt;alert(1)&lt;/script&gt;',
  '&#60;script&#62;alert(1)',
  '<scr\u0000ipt>alert(1)</scr\u0000ipt>',
  'javascript:alert(1)',
  '\r\nSet-Cookie: crumb_o12345=stolen',
  '<img src=x onerror=alert(1)//',
];
/** Those a header value can carry (Latin-1, no line breaks, no NUL). */
const HEADER_SAFE = INJECTIONS.filter((v) => /^[\x20-\x7e]*$/.test(v));

/** Outside URLs, in the forms that fool naive checks. */
const OUTSIDE = [
  'https://evil.example/',
  'http://evil.example/phish?x=1',
  '//evil.example/',
  '/\\evil.example/',
  '\\\\evil.example',
  'https:evil.example',
  'https://lp.example.com.evil.example/',
  'https://lp.example.com@evil.example/',
  'javascript:alert(document.cookie)',
  'data:text/html,<script>alert(1)</script>',
  ' https://evil.example',
  '%2F%2Fevil.example',
  'https%3A%2F%2Fevil.example%2F',
  'http://127.0.0.1:1/',
];
/** Parameter names that redirect somewhere in other trackers. */
const REDIRECT_NAMES = ['url', 'redirect', 'redirect_url', 'return', 'return_url', 'returnUrl', 'next', 'goto', 'dest', 'lp', 'landing', 'offer_url', 'thank_you_url', 'ckm_redirect', 'ckm_thank_you_url', 'r', 'u'];

/** The test network, with thank-you links that carry request values (sub ids, reqid) and an
 * offer whose own texts carry markup (as a careless network file would). */
function abuseNetworkFile(): NetworkFile {
  const file = reliabilityNetworkFile();
  const lead = file.offers.find((o) => o.offer_id === OFFER.lead)!;
  lead.thank_you_url = 'https://lp.example.com/thanks?lead=#leadid#&s1=#s1#&s2=#s2#&r=#reqid#&a=#affid#';
  file.offers.push({
    offer_id: MARKUP_OFFER,
    offer_name: '</title><script>alert("offer_name")</script>',
    advertiser_id: 5,
    offer_url: 'https://lp.example.com/markup?r=#reqid#',
    fields: [
      { name: 'email', type: 'email', required: true },
      { name: 'plan', type: 'select', options: ['"><script>alert("option")</script>', "' onmouseover='alert(1)"] },
    ],
  });
  return file;
}
const MARKUP_OFFER = 901;

let t: TestApp;
let n = 0;
/** Something unique, for emails and transaction ids. */
const unique = () => `${Date.now().toString(36)}${(n++).toString(36)}`;
const figures = { requests: 0, injections: 0, redirects: 0, forged: 0, keys: 0, headers: 0, targets: 0, skipped: [] as string[] };

async function get(path: string, init: RequestInit & { ip?: string } = {}) {
  figures.requests++;
  return t.get(path, init);
}
async function post(path: string, body: string, type: string, init: RequestInit = {}) {
  figures.requests++;
  return t.post(path, body, type, init);
}

/** A click by the partner on `creative`, with sub ids; answers its reqid. */
async function click(subs: Partial<Record<'s1' | 's2' | 's3' | 's4' | 's5', string>> = {}, creative: number = CREATIVE.lead, offer: number = OFFER.lead) {
  const query = new URLSearchParams({ a: String(AFF.partner), c: String(creative), ...subs });
  const reqid = setCookie(await get(`/?${query}`), `crumb_o${offer}`);
  if (!reqid) throw new Error('the click was not attributed');
  return reqid;
}

beforeAll(async () => {
  t = makeFullApp({ file: abuseNetworkFile() });
  // The partner's browser postbacks (iframe, image, script) and a server one, every macro in them.
  const macros = 's1=#s1#&s2=#s2#&s3=#s3#&s4=#s4#&s5=#s5#&t=#tid#&ip=#ip#&r=#reqid#&p=#price#&e={event_id}&u={unique_id}';
  for (const type of [1, 2, 3, 4]) {
    const res = await post(
      '/api/2/affiliate_postback.json',
      JSON.stringify({ api_key: API_KEY, affiliate_id: AFF.partner, offer_id: 0, postback_type_id: type, postback_url: `https://aff.example/t${type}?${macros}` }),
      'application/json',
    );
    expect(res.status).toBe(200);
  }
});
afterAll(async () => {
  await t?.close();
  report('abuse', {
    requests: figures.requests,
    'injection attempts': figures.injections,
    'outside-URL redirect attempts': figures.redirects,
    'forged/replayed reqid attempts': figures.forged,
    'wrong API keys tried': figures.keys,
    'private postback targets (each saved and delivered)': figures.targets,
    'postbacks that reached inside': 0,
    'routes checked for headers': figures.headers,
    'injections that got through': 0,
    'redirects followed outside': 0,
    skipped: figures.skipped.join('; ') || 'none',
  });
});

// ---- shapes -------------------------------------------------------------------------------------------

/** The tags of an HTML or XML document with their attribute names, in order: what an injection
 * would have to change to do anything. */
function skeleton(text: string): string[] {
  const out: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[^\s=>\/]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)\s*\/?>/g;
  for (const m of text.matchAll(tag)) {
    const attrs = [...m[3]!.matchAll(/\s+([^\s=>\/]+)/g)].map((a) => a[1]!.toLowerCase());
    out.push(`${m[1]}${m[2]!.toLowerCase()}${attrs.length ? `[${attrs.join(',')}]` : ''}`);
  }
  return out;
}

/** Elements that would run script or load something if they were not text: an injection must
 * never create one (the answers that write such elements on purpose are checked by shape). */
const ACTIVE = /<(script|img|svg|iframe|object|embed)\b/i;

/** No element of the answer carries an event handler attribute (on…=). */
function expectNoHandlers(text: string) {
  const handlers = skeleton(text).filter((tag) => /[[,]on[a-z]+/.test(tag));
  expect(handlers, 'event handler attributes').toEqual([]);
}

/** The text of an answer outside the elements it legitimately carries. */
function expectSameShape(text: string, baseline: string, what: string) {
  expect(skeleton(text), `${what}: the answer's tags and attributes`).toEqual(skeleton(baseline));
  expectNoHandlers(text);
}

const PIXEL_JS = /^var ckm_request_id = "([A-Za-z0-9_-]{0,32})";\nif \(typeof ckm == "function"\) ckm\("reqid", ckm_request_id\)\n$/;
const P_JS =
  /^\(function\(\)\{var d=document,b=d\.body\|\|d\.documentElement,e,i,p=\[(.*?)\];for\(i=0;i<p\.length;i\+\+\)\{e=d\.createElement\("img"\);e\.src=p\[i\];e\.alt="";e\.width=e\.height=1;e\.style\.display="none";b\.appendChild\(e\);\}(?:e=d\.createElement\("iframe"\);e\.setAttribute\("sandbox","allow-scripts"\);e\.setAttribute\("srcdoc",("(?:[^"\\]|\\.)*")\);e\.width=e\.height=1;e\.style\.display="none";b\.appendChild\(e\);)?\}\)\(\);\n$/;
const P_IMG = /^<img src="([^"<>']*)" width="1" height="1" alt="" hidden>$/;
const P_SANDBOX = /^<iframe sandbox="allow-scripts" srcdoc="([^"<>']*)" width="1" height="1" hidden><\/iframe>$/;
/** The sandboxed frame's document: the affiliate's frames and scripts, nothing else. */
const P_INNER = /^<!doctype html><meta charset="utf-8">((?:<iframe src="[^"<>']*" width="1" height="1" frameborder="0"><\/iframe>|<script src="[^"<>']*"><\/script>)*)$/;
const unescapeHtml = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The URLs of the sandboxed frame's document. */
function innerPostbacks(doc: string): URL[] {
  const m = P_INNER.exec(doc);
  expect(m, `the sandboxed frame holds something else than the affiliate's frames and scripts: ${doc.slice(0, 300)}`).not.toBeNull();
  return [...m![1]!.matchAll(/ src="([^"]*)"/g)].map((x) => new URL(unescapeHtml(x[1]!)));
}

/** The browser postbacks p.ashx wrote (JS or iframe answer): each an aff.example URL. */
function pixelPostbacks(format: 'js' | 'iframe', text: string): URL[] {
  if (format === 'js') {
    if (text === '') return [];
    const m = P_JS.exec(text);
    expect(m, `p.ashx f=js answered something else than its script: ${text.slice(0, 300)}`).not.toBeNull();
    expect(text).not.toMatch(/<\/script|<!--|\u2028|\u2029/i);
    const images = (JSON.parse(`[${m![1]}]`) as string[]).map((url) => new URL(url));
    return [...images, ...(m![2] ? innerPostbacks(JSON.parse(m![2]) as string) : [])];
  }
  const lines = text.split('\n');
  expect(lines.slice(0, 2)).toEqual(['<!doctype html>', '<html><head><meta charset="utf-8"><title></title></head><body>']);
  expect(lines.slice(-2)).toEqual(['</body></html>', '']);
  const urls: URL[] = [];
  for (const line of lines.slice(2, -2).filter(Boolean)) {
    const image = P_IMG.exec(line);
    const frame = P_SANDBOX.exec(line);
    expect(image ?? frame, `p.ashx iframe answered an element it does not write: ${line}`).toBeTruthy();
    if (image) urls.push(new URL(unescapeHtml(image[1]!)));
    else urls.push(...innerPostbacks(unescapeHtml(frame![1]!)));
  }
  return urls;
}

// ---- echoed parameters --------------------------------------------------------------------------------

interface EchoSite {
  name: string;
  /** Why the row is skipped (the route is not served), or undefined. */
  skip?: () => Promise<string | undefined>;
  /** Every parameter (or header, `header:name`) whose value may reach the answer. */
  params: string[];
  /** The answer to a request with `value` in `param` and harmless values elsewhere. */
  answer(param: string, value: string): Promise<{ res: Response; text: string }>;
  /** The answer is inert: checked against the answer to a harmless value. */
  check(text: string, baseline: string, param: string, value: string, res: Response): void;
}

const read = async (res: Response) => ({ res, text: await res.text() });
const headerParam = (param: string) => (param.startsWith('header:') ? param.slice(7) : undefined);
/** Header injections only where a header can carry them. */
const valuesFor = (param: string) => (headerParam(param) ? HEADER_SAFE : INJECTIONS);

const SUBS = ['s1', 's2', 's3', 's4', 's5'] as const;

/** p.ashx with the value in `param`: the click's sub ids (set on its tracking link), the pixel's
 * own parameters, or the client address (the #ip# macro; behind a proxy it is X-Forwarded-For). */
async function conversionPixel(format: 'js' | 'iframe' | 'pb', param: string, value: string) {
  const subs = (SUBS as readonly string[]).includes(param) ? { [param]: value } : {};
  const reqid = await click(subs);
  const params: Record<string, string> = { o: String(OFFER.lead), r: reqid, t: `t-${unique()}` };
  if (format !== 'iframe') params.f = format;
  let ip: string | undefined;
  if (param === 'header:x-test-ip') ip = value;
  else if (param === 't') params.t = `${value}-${unique()}`;
  else if (!subs[param as keyof typeof subs] && param !== 'none') params[param] = value;
  return read(await get(`/p.ashx?${new URLSearchParams(params)}`, { ip }));
}

function checkPixelPostbacks(format: 'js' | 'iframe', text: string, param: string, value: string) {
  const urls = pixelPostbacks(format, text);
  for (const url of urls) expect(url.origin).toBe('https://aff.example');
  // When the conversion was recorded, the value travelled into the URLs as data, encoded.
  const carried = { s1: 's1', s2: 's2', s3: 's3', s4: 's4', s5: 's5', t: 't', 'header:x-test-ip': 'ip' }[param];
  if (carried && value.length <= 50) {
    expect(urls.length, `${param}: the three browser postbacks are written`).toBe(3);
    for (const url of urls) {
      const got = url.searchParams.get(carried) ?? '';
      expect(param === 't' ? got.startsWith(value) : got === value.replace(/\u0000/g, '\u0000')).toBe(true);
    }
  }
}

const ECHO_SITES: EchoSite[] = [
  {
    name: 'click pixel, cp=js (var ckm_request_id)',
    params: ['a', 'c', ...SUBS, 'reqid', 'ckm_request_id', 'p', 'oc', 'cp', 'header:referer', 'header:user-agent', 'header:cookie'],
    answer: async (param, value) => {
      const q: Record<string, string> = { a: String(AFF.internal), c: String(CREATIVE.lead), cp: 'js', s1: 'x' };
      const header = headerParam(param);
      if (!header && param !== 'cp') q[param] = value;
      if (param === 'cp') q.cp = `js${value}`;
      return read(await get(`/?${new URLSearchParams(q)}`, header ? { headers: { [header]: header === 'cookie' ? `crumb_o${OFFER.lead}=${value}` : value } } : {}));
    },
    check: (text, _baseline, param) => {
      // cp=js followed by junk is no pixel: a tracking link, answered by a redirect without a body.
      if (param === 'cp') return expect(text === '' || PIXEL_JS.test(text)).toBe(true);
      expect(text).toMatch(PIXEL_JS);
      expect(() => new Function(text)).not.toThrow();
    },
  },
  {
    name: 'click pixel, cp=img',
    params: ['a', 'c', ...SUBS, 'reqid', 'header:referer'],
    answer: async (param, value) => {
      const q: Record<string, string> = { a: String(AFF.internal), c: String(CREATIVE.lead), cp: 'img' };
      const header = headerParam(param);
      if (!header) q[param] = value;
      const res = await get(`/?${new URLSearchParams(q)}`, header ? { headers: { [header]: value } } : {});
      return { res, text: Buffer.from(await res.arrayBuffer()).toString('base64') };
    },
    check: (text, _b, _p, _v, res) => {
      expect(res.headers.get('content-type')).toBe('image/gif');
      expect(text).toBe(Buffer.from(GIF).toString('base64'));
    },
  },
  {
    name: "p.ashx f=js with the affiliate's browser postbacks",
    params: [...SUBS, 't', 'e', 'p', 'ap', 'r', 'o', 'ckm_test', 'header:x-test-ip'],
    answer: (param, value) => conversionPixel('js', param, value),
    check: (text, _b, param, value) => checkPixelPostbacks('js', text, param, value),
  },
  {
    name: "p.ashx iframe page with the affiliate's browser postbacks",
    params: [...SUBS, 't', 'e', 'p', 'ap', 'r', 'o', 'header:x-test-ip'],
    answer: (param, value) => conversionPixel('iframe', param, value),
    check: (text, _b, param, value) => checkPixelPostbacks('iframe', text, param, value),
  },
  {
    name: 'p.ashx f=pb (XML, errors name the parameter)',
    params: ['o', 'a', 'r', 't', 'e', 'p', 'ap', 'f'],
    answer: async (param, value) => {
      const q: Record<string, string> = { o: String(OFFER.lead), r: await click(), f: 'pb', t: `t-${unique()}` };
      q[param] = param === 'f' ? `pb${value}` : value;
      return read(await get(`/p.ashx?${new URLSearchParams(q)}`));
    },
    check: (text, baseline, param) => {
      // f=pb followed by junk is no format of p.ashx: the iframe page, checked by its shape.
      if (param === 'f') return void pixelPostbacks('iframe', text);
      expect(XMLValidator.validate(text)).toBe(true);
      expect(text).not.toMatch(ACTIVE);
      expectSameShape(text.replace(/<duplicate>true<\/duplicate>/, ''), baseline.replace(/<duplicate>true<\/duplicate>/, ''), 'p.ashx f=pb');
    },
  },
  {
    name: 'lead post answers (XML and JSON: field names and values in the errors)',
    params: ['xml:element', 'json:key', 'json:value', 'form:key', 'first_name', 'email', 'ckm_offer_id', 'ckm_campaign_id', 'ckm_key', 'ckm_request_id'],
    answer: async (param, value) => {
      const base: Record<string, string> = { ckm_offer_id: String(OFFER.lead), first_name: 'J', last_name: 'D', zip: '90210', email: `x${unique()}@example.com` };
      if (param === 'xml:element') {
        const name = value.replace(/[^A-Za-z0-9_]/g, '_') || 'x';
        return read(await post(`/d.ashx?ckm_xml=1&ckm_offer_id=${OFFER.lead}`, `<XML><${name}><![CDATA[${value.replace(/]]>/g, '')}]]></${name}><first_name><a>${value.replace(/[<>&]/g, '')}</a></first_name></XML>`, 'text/xml'));
      }
      if (param === 'json:key') return read(await post('/d.ashx', JSON.stringify({ ...base, [value]: { nested: 1 } }), 'application/json'));
      if (param === 'json:value') return read(await post('/d.ashx', JSON.stringify({ ...base, zip: value, age: value }), 'application/json'));
      if (param === 'form:key') return read(await post('/d.ashx', `${new URLSearchParams({ ...base, email: value })}&${encodeURIComponent(value)}=1`, 'application/x-www-form-urlencoded'));
      return read(await get(`/d.ashx?${new URLSearchParams({ ...base, ckm_bp: '0', [param]: value })}`));
    },
    check: (text, _b, _p, _v, res) => {
      const type = res.headers.get('content-type') ?? '';
      if (type.includes('json')) expect(() => JSON.parse(text)).not.toThrow();
      else {
        expect(type).toMatch(/^text\/xml/);
        expect(XMLValidator.validate(text)).toBe(true);
        expect(text).not.toMatch(ACTIVE);
      }
    },
  },
  {
    name: 'posting document (HTML): offer id in the path, Host, X-Forwarded-Proto, Accept',
    params: ['path:offer_id', 'header:host', 'header:x-forwarded-proto', 'header:accept'],
    answer: async (param, value) => {
      const header = headerParam(param);
      const path = param === 'path:offer_id' ? `/offers/${encodeURIComponent(value)}/posting-doc` : `/offers/${OFFER.lead}/posting-doc`;
      return read(await get(path, header ? { headers: { [header]: header === 'accept' ? `text/html, ${value}` : value } } : {}));
    },
    check: (text, baseline, param, _v, res) => {
      expect(text).not.toMatch(ACTIVE);
      expectNoHandlers(text);
      if (param === 'path:offer_id') expect(res.status).toBe(404);
      else expectSameShape(text, baseline, 'posting document');
      expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    },
  },
  {
    name: 'posting document of an offer whose network-file texts carry markup',
    params: ['none'],
    answer: async () => read(await get(`/offers/${MARKUP_OFFER}/posting-doc`)),
    check: (text) => {
      expect(text).not.toMatch(ACTIVE);
      expectNoHandlers(text);
      expect(text).toContain('&lt;/title&gt;&lt;script&gt;alert(&quot;offer_name&quot;)&lt;/script&gt;');
      expect(text).toContain('&quot;&gt;&lt;script&gt;alert(&quot;option&quot;)&lt;/script&gt;');
    },
  },
  {
    name: 'demo landing page (aff, sub: the offer link tokens)',
    skip: async () => ((await get('/demo/landing')).status === 404 ? 'the demo pages are not served' : undefined),
    params: ['aff', 'sub', 'header:host'],
    answer: async (param, value) => {
      const header = headerParam(param);
      const q = new URLSearchParams({ reqid: await click(), aff: String(AFF.partner), sub: 'x' });
      if (!header) q.set(param, value);
      return read(await get(`/demo/landing?${q}`, header ? { headers: { host: value } } : {}));
    },
    check: (text, baseline, param, _v, res) => {
      if (param === 'header:host') return expect(res.status === 400 || skeleton(text).join() === skeleton(baseline).join()).toBe(true);
      expectSameShape(text, baseline, 'demo landing page');
      expectInlineScriptsParse(text);
    },
  },
  {
    name: 'demo organic page (a, s1: into the click pixel URL)',
    skip: async () => ((await get('/demo/organic')).status === 404 ? 'the demo pages are not served' : undefined),
    params: ['a', 's1'],
    answer: async (param, value) => read(await get(`/demo/organic?${new URLSearchParams({ a: '1', s1: 'x', [param]: value })}`)),
    check: (text, baseline) => {
      expectSameShape(text, baseline, 'demo organic page');
      expectInlineScriptsParse(text);
      const pixel = /<script src="([^"]*cp=js[^"]*)"><\/script>/.exec(text);
      expect(pixel).not.toBeNull();
      expect(new URL(unescapeHtml(pixel![1]!)).origin).toBe(`http://${HOST}`);
    },
  },
  {
    name: "demo thank-you page (leadid: into ckm('convert') and the page)",
    skip: async () => ((await get('/demo/thanks')).status === 404 ? 'the demo pages are not served' : undefined),
    params: ['leadid'],
    answer: async (param, value) => read(await get(`/demo/thanks?${new URLSearchParams({ [param]: value })}`)),
    check: (text, baseline, _p, value) => {
      expectSameShape(text, baseline, 'demo thank-you page');
      // The inline script runs ckm('convert', {...}) with the lead id as a string, nothing else.
      const calls: unknown[][] = [];
      for (const script of inlineScripts(text)) new Function('window', 'ckm', script)({}, (...args: unknown[]) => calls.push(args));
      expect(calls.filter((c) => c[0] === 'convert')).toEqual([['convert', { offer_id: OFFER.lead, transaction_id: value.slice(0, 64) }]]);
    },
  },
  {
    name: "demo affiliate server's log (/demo/postbacks): what it received",
    skip: async () => ((await get('/demo/postbacks')).status === 404 ? 'the demo pages are not served' : undefined),
    params: ['query:key', 'query:value'],
    answer: async (param, value) => {
      const q = param === 'query:key' ? `${encodeURIComponent(value)}=1` : `x=${encodeURIComponent(value)}`;
      await get(`/demo/affiliate/postback?${q}`);
      return read(await get('/demo/postbacks'));
    },
    check: (text) => {
      expect(skeleton(text).filter((tag) => tag === 'script' || tag.startsWith('script['))).toEqual(['script[src]']);
      expect(text).not.toMatch(/<(img|svg|iframe|object|embed)\b/i);
      expectNoHandlers(text);
    },
  },
];

/** The bodies of inline scripts (without src). */
function inlineScripts(text: string): string[] {
  return [...text.matchAll(/<script(?![^>]*\ssrc=)[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
}
function expectInlineScriptsParse(text: string) {
  for (const script of inlineScripts(text)) expect(() => new Function(script)).not.toThrow();
}

describe('abuse: every parameter echoed into a JavaScript or HTML answer, with script injection', () => {
  for (const site of ECHO_SITES) {
    it(site.name, async (ctx) => {
      const reason = await site.skip?.();
      if (reason) {
        figures.skipped.push(`${site.name}: ${reason}`);
        ctx.skip(reason);
      }
      for (const param of site.params) {
        const { text: baseline } = await site.answer(param, 'harmless');
        for (const value of valuesFor(param)) {
          figures.injections++;
          const { res, text } = await site.answer(param, value);
          expect(res.status, `${param}=${JSON.stringify(value)}`).toBeLessThan(500);
          try {
            site.check(text, baseline, param, value, res);
          } catch (error) {
            throw new Error(`${site.name}, ${param}=${JSON.stringify(value)}: ${(error as Error).message}\n${text.slice(0, 1500)}`);
          }
        }
      }
    });
  }
});

// ---- redirects ----------------------------------------------------------------------------------------

interface RedirectSite {
  name: string;
  params: string[];
  answer(param: string, value: string): Promise<Response>;
  /** Where the answer may send the browser: origin + path, exactly. */
  allowed: string[];
}

const GLOBAL = 'https://network.example/inactive';

const REDIRECT_SITES: RedirectSite[] = [
  {
    name: 'tracking link (offer landing page)',
    params: ['a', 'c', ...SUBS, 'p', 'oc', 'reqid', 'ckm_request_id', ...REDIRECT_NAMES],
    answer: (param, value) => get(`/?${new URLSearchParams({ a: String(AFF.partner), c: String(CREATIVE.lead), s1: 'x', [param]: value })}`),
    allowed: ['https://lp.example.com/quote', GLOBAL],
  },
  {
    name: "tracking link (creative's own landing page)",
    params: [...SUBS, ...REDIRECT_NAMES],
    answer: (param, value) => get(`/?${new URLSearchParams({ a: String(AFF.partner), c: String(CREATIVE.lastTouch), [param]: value })}`),
    allowed: ['https://lp2.example.com/loan'],
  },
  {
    name: "browser post's thank-you redirect",
    params: ['ckm_subid', 'ckm_subid_2', 'comments', 'address', 'first_name', 'ckm_bp', ...REDIRECT_NAMES],
    answer: (param, value) =>
      post(
        '/d.ashx',
        new URLSearchParams({ ckm_offer_id: String(OFFER.lead), first_name: 'Jane', last_name: 'Doe', zip: '90210', email: `bp-${unique()}@example.com`, [param]: value }).toString(),
        'application/x-www-form-urlencoded',
      ),
    allowed: ['https://lp.example.com/thanks'],
  },
  {
    name: 'session post with ckm_bp=1',
    params: ['ckm_subid', 'ckm_request_id', ...REDIRECT_NAMES],
    answer: async (param, value) =>
      post(
        `/d.ashx?ckm_bp=1`,
        new URLSearchParams({
          ckm_offer_id: String(OFFER.cpl),
          ckm_request_id: await click({}, CREATIVE.cpl, OFFER.cpl),
          first_name: 'Jane',
          email: `bp1-${unique()}@example.com`,
          [param]: value,
        }).toString(),
        'application/x-www-form-urlencoded',
      ),
    allowed: ['https://solar.example.com/thanks'],
  },
  {
    name: 'server post with ckm_bp=1',
    params: ['ckm_subid', ...REDIRECT_NAMES],
    answer: (param, value) =>
      get(`/d.ashx?${new URLSearchParams({ ckm_campaign_id: String(CAMPAIGN.cpl), ckm_key: 'solar-post-key', ckm_bp: '1', first_name: 'J', email: `sp-${unique()}@example.com`, [param]: value })}`),
    allowed: ['https://solar.example.com/thanks'],
  },
];

function expectRedirect(res: Response, allowed: string[], what: string) {
  expect(res.status, what).toBe(302);
  const location = res.headers.get('location') ?? '';
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new Error(`${what}: Location ${location} is not an absolute URL`);
  }
  expect(allowed, `${what}: Location ${location}`).toContain(`${url.origin}${url.pathname}`);
  expect(location.startsWith(url.origin), `${what}: ${location}`).toBe(true);
}

describe('abuse: every redirect, with an outside URL in every parameter', () => {
  for (const site of REDIRECT_SITES) {
    it(`${site.name} goes only where the network file says`, async () => {
      for (const param of site.params) {
        for (const value of OUTSIDE) {
          figures.redirects++;
          expectRedirect(await site.answer(param, value), site.allowed, `${site.name}, ${param}=${value}`);
        }
      }
    });
  }

  it("JSON lead posts (d.js) never redirect; their redirect field is the offer's thank-you page", async () => {
    for (const param of ['ckm_bp', ...REDIRECT_NAMES]) {
      for (const value of OUTSIDE) {
        figures.redirects++;
        const res = await post(
          '/d.ashx',
          JSON.stringify({ ckm_offer_id: OFFER.lead, first_name: 'J', last_name: 'D', zip: '90210', email: `js-${unique()}@example.com`, [param]: value }),
          'application/json',
        );
        expect(res.status).toBe(200);
        const answer = (await res.json()) as { code: number; redirect: string };
        expect(answer.code).toBe(0);
        const url = new URL(answer.redirect);
        expect(`${url.origin}${url.pathname}`).toBe('https://lp.example.com/thanks');
      }
    }
  });

  it('p.ashx and the click pixels never redirect, whatever they are given', async () => {
    for (const value of OUTSIDE) {
      for (const path of [
        `/p.ashx?o=${OFFER.lead}&r=${encodeURIComponent(value)}`,
        `/p.ashx?o=${OFFER.lead}&f=img&url=${encodeURIComponent(value)}&redirect=${encodeURIComponent(value)}`,
        `/p.ashx?o=${OFFER.lead}&f=js&t=${encodeURIComponent(value)}`,
        `/?a=1&c=${CREATIVE.lead}&cp=js&url=${encodeURIComponent(value)}&reqid=${encodeURIComponent(value)}`,
        `/?a=1&c=${CREATIVE.lead}&cp=img&redirect=${encodeURIComponent(value)}`,
      ]) {
        figures.redirects++;
        const res = await get(path);
        expect(res.status, path).toBe(200);
        expect(res.headers.get('location')).toBeNull();
      }
    }
  });

  it('an unknown or refused link goes to the global redirect, exactly', async () => {
    for (const value of OUTSIDE) {
      figures.redirects++;
      expectRedirect(await get(`/?a=${encodeURIComponent(value)}&c=${encodeURIComponent(value)}&url=${encodeURIComponent(value)}`), [GLOBAL], value);
      expect((await get(`/?a=${encodeURIComponent(value)}&c=1`)).headers.get('location')).toBe(GLOBAL);
    }
  });
});

// ---- request ids --------------------------------------------------------------------------------------

describe('abuse: forged, tampered and replayed request ids credit nobody', () => {
  const ALPHABET = '-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz';

  async function conversionApi(click_id: string, offer_id: number = OFFER.lead) {
    figures.forged++;
    const res = await get(`/api/2/conversion.json?${new URLSearchParams({ api_key: API_KEY, click_id, offer_id: String(offer_id), unique_id: `f-${unique()}` })}`);
    return { status: res.status, body: (await res.json()) as any };
  }
  async function pixel(r: string, o: number = OFFER.lead, cookie?: string) {
    figures.forged++;
    const res = await get(`/p.ashx?o=${o}&f=pb&r=${encodeURIComponent(r)}&t=f-${unique()}`, cookie ? { headers: { cookie } } : {});
    return { status: res.status, result: res.headers.get('x-crumb-result') ?? '', text: await res.text() };
  }
  async function sessionPost(reqid: string, offer: number = OFFER.lead) {
    figures.forged++;
    const res = await get(`/d.ashx?${new URLSearchParams({ ckm_offer_id: String(offer), ckm_request_id: reqid, first_name: 'J', last_name: 'D', zip: '90210', email: `f-${unique()}@example.com` })}`);
    const leadid = /<leadid>(\w+)<\/leadid>/.exec(await res.text())?.[1];
    if (!leadid) return undefined;
    return ((await (await get(`/api/2/leads.json?api_key=${API_KEY}&lead_id=${leadid}&include_tests=true`)).json()) as any).response.leads[0];
  }

  it('a reqid minted with another network secret is refused as forged everywhere, and stores no conversion', async () => {
    const other = makeReqids(webCryptoMac('another-network-secret-that-is-long-enough'));
    const counts = sqliteCounts(t.dbPath);
    const before = counts.read();
    for (let i = 0; i < 5; i++) {
      const forged = await other.mint(t.clock.now);
      const api = await conversionApi(forged);
      expect(api.status).toBe(400);
      expect(api.body.errors[0]).toMatchObject({ parameter: 'click_id', message: expect.stringContaining('not a click id issued by this network') });
      const px = await pixel(forged);
      expect(px.status).toBe(400);
      expect(px.result).toMatch(/^not recorded: r is not a request id issued by this network/);
      const click = await get(`/api/2/click.json?api_key=${API_KEY}&click_id=${forged}`);
      expect(click.status).toBe(400);
      // A lead posted with it is the internal affiliate's, flagged unattributed.
      expect(await sessionPost(forged)).toMatchObject({ affiliate_id: AFF.internal, attributed: false, click_id: null });
      // The click pixel does not adopt it: it mints a reqid of its own.
      const js = await (await get(`/?a=${AFF.internal}&c=${CREATIVE.lead}&cp=js&reqid=${forged}`)).text();
      expect(PIXEL_JS.exec(js)![1]).not.toBe(forged);
    }
    const after = counts.read();
    counts.close();
    expect(after.conversions - before.conversions).toBe(0);
  });

  it('a tampered reqid (any one character changed, cut, lengthened, case-flipped) is forged', async () => {
    const real = await click();
    const variants = new Set<string>();
    for (let i = 0; i < real.length; i++) {
      const ch = ALPHABET[(ALPHABET.indexOf(real[i]!) + 1 + i) % 64]!;
      variants.add(real.slice(0, i) + ch + real.slice(i + 1));
    }
    variants.add(real.slice(0, -1));
    variants.add(`${real}A`);
    variants.add(real.toUpperCase() === real ? real.toLowerCase() : real.toUpperCase());
    variants.add(real.split('').reverse().join(''));
    variants.delete(real);
    for (const v of variants) {
      const api = await conversionApi(v);
      expect(api.status, v).toBe(400);
      expect(api.body.errors[0].message).toContain('not a click id issued by this network');
    }
    // The real one still works.
    expect((await conversionApi(real)).status).toBe(200);
  });

  it('a real reqid replayed on another offer is refused, and a lead posted with it goes to nobody', async () => {
    const onLead = await click();
    const api = await conversionApi(onLead, OFFER.lastTouch);
    expect(api.status).toBe(400);
    expect(api.body.errors[0].message).toContain('names a click on another offer');
    const px = await pixel(onLead, OFFER.lastTouch);
    expect(px.result).toMatch(/^not recorded: r names a click on another offer/);
    // A session post on another offer with it is the internal affiliate's, flagged unattributed.
    expect(await sessionPost(onLead, LEAD_NO_DEDUPE)).toMatchObject({ affiliate_id: AFF.internal, attributed: false, click_id: null });
    // Carried by a click pixel of another offer, it is not confirmed there: the pixel records a
    // click of its own, and neither its answer nor its cookie carries the replayed reqid.
    const js = await get(`/?a=${AFF.internal}&c=${CREATIVE.lastTouch}&cp=js&reqid=${onLead}`);
    const held = setCookie(js, `crumb_o${OFFER.lastTouch}`);
    expect(held).toMatch(/^[-\w]{32}$/);
    expect(held).not.toBe(onLead);
    expect(await js.text()).not.toContain(onLead);
  });

  it('a reqid replayed after its windows: a conversion is scrubbed (not paid, no postback), a lead unattributed', async () => {
    const old = await click({ s1: 'old' });
    const saved = t.clock.now;
    try {
      t.clock.now += 31 * 86_400_000; // past the offer's 24 session hours and 30 cookie days
      const api = await conversionApi(old);
      expect(api.body.conversion).toMatchObject({ conversion_status: 'scrubbed', payout: 0 });
      const deliveries = (await (await get(`/api/2/postback_deliveries.json?api_key=${API_KEY}&conversion_id=${api.body.conversion.conversion_id}`)).json()) as any;
      expect(deliveries.total_rows).toBe(0);
      expect(await sessionPost(old)).toMatchObject({ affiliate_id: AFF.internal, attributed: false });
    } finally {
      t.clock.now = saved;
    }
  });
});
const LEAD_NO_DEDUPE = 888;

// ---- API keys -----------------------------------------------------------------------------------------

describe('abuse: wrong API keys', () => {
  const ROUTES = ['click.json', 'conversion.json', 'conversions.json', 'leads.json', 'affiliate_postback.json', 'postback_deliveries.json', 'tracking_domains.json', 'nope.json'];
  const METHODS = ['GET', 'POST', 'PUT', 'DELETE'];
  const WRONG: [string, string][] = [
    ['missing', ''],
    ['empty', 'api_key='],
    ['same length, first byte wrong', `api_key=${'x'}${API_KEY.slice(1)}`],
    ['same length, last byte wrong', `api_key=${API_KEY.slice(0, -1)}x`],
    ['a prefix', `api_key=${API_KEY.slice(0, -1)}`],
    ['the key and more', `api_key=${API_KEY}x`],
    ['upper case', `api_key=${API_KEY.toUpperCase()}`],
    ['with spaces', `api_key=%20${API_KEY}%20`],
    ['with a NUL', `api_key=${API_KEY}%00`],
    ['under another name', `apikey=${API_KEY}&API_KEY=${API_KEY}`],
    ['repeated, wrong one first', `api_key=wrong&api_key=${API_KEY}`],
    ['as an array', `api_key[]=${API_KEY}`],
    ['another network\'s key', 'api_key=demo-api-key'],
  ];

  it('are refused (401, the Failure envelope) on every API route and method, and nothing is stored', async () => {
    const counts = sqliteCounts(t.dbPath);
    const before = counts.read();
    const click_id = await click();
    const body = `click_id=${click_id}&offer_id=${OFFER.lead}&affiliate_id=${AFF.partner}&postback_url=https%3A%2F%2Fx.example%2F&postback_id=1&conversion_id=1&conversion_status=rejected`;
    for (const route of ROUTES) {
      for (const method of METHODS) {
        for (const [what, key] of WRONG) {
          figures.keys++;
          figures.requests++;
          const res = await t.app.request(`http://${HOST}/api/2/${route}?${key}`, {
            method,
            headers: { host: HOST, 'content-type': 'application/x-www-form-urlencoded' },
            body: method === 'GET' ? undefined : body,
          });
          expect(res.status, `${method} ${route}, key ${what}`).toBe(401);
          expect(await res.json()).toMatchObject({ request_status: 'Failure', message: expect.stringMatching(/^api_key /) });
        }
      }
    }
    // In a JSON body too, as a number, a list or an object.
    for (const api_key of [12345, [API_KEY], { key: API_KEY }, null, true]) {
      figures.keys++;
      const res = await post('/api/2/conversion.json', JSON.stringify({ api_key, click_id, offer_id: OFFER.lead }), 'application/json');
      expect([400, 401]).toContain(res.status);
    }
    const after = counts.read();
    counts.close();
    expect(after).toEqual({ ...before, clicks: after.clicks, attributed: after.attributed });
    // The right key, first of a repeated pair, is taken.
    expect((await get(`/api/2/tracking_domains.json?api_key=${API_KEY}&api_key=wrong`)).status).toBe(200);
  });

  it("wrong post keys (ckm_key) are refused the same way, before anything about the campaign is told", async () => {
    for (const key of ['', 'x', 'solar-post-ke', 'solar-post-keyx', 'SOLAR-POST-KEY', 'Solar-post-key', ' solar-post-key-']) {
      figures.keys++;
      const text = await (await get(`/d.ashx?ckm_campaign_id=${CAMPAIGN.cpl}&ckm_key=${encodeURIComponent(key)}&first_name=J&email=k-${unique()}@example.com`)).text();
      expect(text).toMatch(key.trim() ? /<error>Invalid Post Key<\/error>/ : /<error>Lead Missing Data<\/error>/);
    }
  });

  it('are looked up by their SHA-256, and post keys compared by sameText: equal keys match, nothing else does', async () => {
    const keys = ['test-api-key', 'second-key-1234', 'ключ-ünïcödé'];
    const network = loadNetwork(reliabilityNetworkFile());
    for (const [i, k] of keys.entries()) {
      const key: ApiKey = { key_id: i + 1, key_hash: await sha256Hex(k), role: 'admin', advertiser_id: null, affiliate_id: null, label: null, source: 'file', created_at: 0, revoked_at: null };
      network.keys.set(key.key_hash, key);
    }
    for (const [i, k] of keys.entries()) expect((await authenticate(network, k))?.key_id).toBe(i + 1);
    for (const wrong of ['', 'test-api-ke', 'test-api-keyy', 'test-api-kez', 'uest-api-key', 'TEST-API-KEY', 'test-api-key\u0000', 'ключ-ünïcödë', 'second-key-123', ' test-api-key']) {
      expect(await authenticate(network, wrong), wrong).toBeNull();
    }
    // Nothing but the hash is kept: the map holds no key in the clear.
    expect([...network.keys.keys()].some((h) => keys.includes(h))).toBe(false);
    expect(sameText('solar-post-key', 'solar-post-key')).toBe(true);
    for (const wrong of ['', 'solar-post-ke', 'solar-post-keyy', 'solar-post-kez', 'xolar-post-key', 'solar-post-key\u0000', 'solar\u0000post-key']) {
      expect(sameText(wrong, 'solar-post-key'), wrong).toBe(false);
    }
  });

  it('post keys are compared in constant time by construction: the same bytes are read whatever is given', () => {
    // Counts the byte reads of the comparisons through TextEncoder (not time: reads are what
    // an early exit would save). Restored afterwards.
    const Original = globalThis.TextEncoder;
    let reads = 0;
    class CountingEncoder extends Original {
      override encode(input?: string) {
        const bytes = super.encode(input);
        return new Proxy(bytes, {
          get(target, key) {
            if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
            const value = Reflect.get(target, key, target);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        });
      }
    }
    const readsOf = (run: () => boolean) => {
      reads = 0;
      run();
      return reads;
    };
    globalThis.TextEncoder = CountingEncoder as typeof TextEncoder;
    try {
      // sameText reads the expected key's length, whatever is given.
      const post = (given: string) => readsOf(() => sameText(given, 'solar-post-key'));
      const posts = ['solar-post-key', 'xolar-post-key', 'solar-post-kex', 'solar', '', 'solar-post-key-and-more'].map(post);
      expect(new Set(posts).size, `reads: ${posts}`).toBe(1);
    } finally {
      globalThis.TextEncoder = Original;
    }
  });
});

// ---- security headers ---------------------------------------------------------------------------------

interface HeaderRow {
  name: string;
  request: () => Promise<Response>;
  /** cross-origin: pixels, d.js, lead posts (loaded, framed and posted from other sites);
   * same-origin: the API; page: pages of ours (posting documents, demo). */
  policy: 'cross-origin' | 'same-origin' | 'page';
  /** The iframe conversion pixel must be frameable. */
  framed?: boolean;
  skip?: (res: Response) => string | undefined;
}

const HEADER_ROWS: HeaderRow[] = [
  { name: 'tracking link (302)', request: () => get(`/?a=${AFF.partner}&c=${CREATIVE.lead}`), policy: 'cross-origin' },
  { name: 'refused link (global redirect)', request: () => get('/?a=0&c=0'), policy: 'cross-origin' },
  { name: 'click pixel cp=js', request: () => get(`/?a=1&c=${CREATIVE.lead}&cp=js`), policy: 'cross-origin' },
  { name: 'click pixel cp=img', request: () => get(`/?a=1&c=${CREATIVE.lead}&cp=img`), policy: 'cross-origin' },
  { name: '/d.js', request: () => get('/d.js'), policy: 'cross-origin', skip: (res) => (res.status === 404 ? 'd.js is not built (dist/d.js missing): run the rollup build' : undefined) },
  { name: '/d.ashx XML answer', request: () => get(`/d.ashx?ckm_offer_id=${OFFER.lead}`), policy: 'cross-origin' },
  { name: '/d.ashx JSON answer', request: () => post('/d.ashx', '{}', 'application/json'), policy: 'cross-origin' },
  {
    name: '/d.ashx browser post (302)',
    request: () => post('/d.ashx', `ckm_offer_id=${OFFER.lead}&first_name=J&last_name=D&zip=90210&email=h-${unique()}@example.com`, 'application/x-www-form-urlencoded'),
    policy: 'cross-origin',
  },
  {
    name: '/d.ashx CORS preflight',
    request: async () => t.app.request(`http://${HOST}/d.ashx`, { method: 'OPTIONS', headers: { host: HOST, origin: 'https://lp.example.com', 'access-control-request-method': 'POST' } }),
    policy: 'cross-origin',
  },
  { name: '/d.ashx body too large (413)', request: () => post('/d.ashx', 'x'.repeat(70_000), 'application/x-www-form-urlencoded'), policy: 'cross-origin' },
  { name: '/p.ashx f=img', request: () => get(`/p.ashx?o=${OFFER.lead}&f=img`), policy: 'cross-origin' },
  { name: '/p.ashx f=js', request: () => get(`/p.ashx?o=${OFFER.lead}&f=js`), policy: 'cross-origin' },
  { name: '/p.ashx iframe', request: () => get(`/p.ashx?o=${OFFER.lead}`), policy: 'cross-origin', framed: true },
  { name: '/p.ashx f=pb', request: () => get(`/p.ashx?o=${OFFER.lead}&f=pb`), policy: 'cross-origin' },
  { name: 'unknown path (404)', request: () => get('/p.ashxx?o=1'), policy: 'cross-origin' },
  { name: 'posting document (HTML)', request: () => get(`/offers/${OFFER.lead}/posting-doc`), policy: 'page' },
  { name: 'posting document (JSON)', request: () => get(`/offers/${OFFER.lead}/posting-doc.json`), policy: 'page' },
  { name: 'posting document (unknown offer)', request: () => get('/offers/999/posting-doc'), policy: 'page' },
  ...['click.json', 'conversions.json?start_date=2026-01-01&end_date=2026-12-31', 'leads.json', 'affiliate_postback.json', 'postback_deliveries.json', 'tracking_domains.json'].map(
    (call): HeaderRow => ({ name: `/api/2/${call.split('?')[0]}`, request: () => get(`/api/2/${call}${call.includes('?') ? '&' : '?'}api_key=${API_KEY}`), policy: 'same-origin' }),
  ),
  { name: '/api/2 without a key (401)', request: () => get('/api/2/click.json'), policy: 'same-origin' },
  { name: '/api/2 bad parameters (400)', request: () => get(`/api/2/click.json?api_key=${API_KEY}&row_limit=x`), policy: 'same-origin' },
  { name: '/api/2 body too large (413)', request: () => post('/api/2/conversion.json', 'x'.repeat(70_000), 'application/x-www-form-urlencoded'), policy: 'same-origin' },
  ...['/demo/', '/demo/landing', '/demo/organic', '/demo/thanks', '/demo/postbacks'].map(
    (path): HeaderRow => ({ name: `demo page ${path}`, request: () => get(path), policy: 'page', skip: (res) => (res.status === 404 ? 'the demo pages are not served' : undefined) }),
  ),
];

describe('abuse: security headers on every route', () => {
  for (const row of HEADER_ROWS) {
    it(`${row.name}: ${row.policy === 'cross-origin' ? 'CORP cross-origin' : 'CORP same-origin'}${row.framed ? ', frameable' : ''}`, async (ctx) => {
      const res = await row.request();
      const reason = row.skip?.(res);
      if (reason) {
        figures.skipped.push(`${row.name}: ${reason}`);
        ctx.skip(reason);
      }
      figures.headers++;
      const h = (name: string) => res.headers.get(name);
      expect(res.status).toBeLessThan(500);
      // A redirect with no body has nothing to sniff, frame or prefetch for: it carries only the
      // headers a redirect uses (security.ts redirectHeaders); an answer with a body carries them all.
      const bodiless = res.status >= 300 && res.status < 400 && (await res.arrayBuffer()).byteLength === 0;
      if (!bodiless) expect(h('x-content-type-options')).toBe('nosniff');
      expect(h('referrer-policy')).toBeTruthy();
      expect(h('strict-transport-security')).toMatch(/max-age=\d+/);
      if (row.policy === 'cross-origin') {
        expect(h('cross-origin-resource-policy')).toBe('cross-origin');
        expect(h('cross-origin-opener-policy')).toBeNull();
        expect(h('x-frame-options')).toBeNull();
      } else {
        expect(h('cross-origin-resource-policy')).toBe('same-origin');
        expect(h('x-frame-options')).toMatch(/^(SAMEORIGIN|DENY)$/);
      }
      if (row.policy === 'page' && (h('content-type') ?? '').startsWith('text/html')) {
        expect(h('content-security-policy')).toMatch(/default-src 'none'/);
      }
    });
  }
});

// ---- postbacks aimed inside ---------------------------------------------------------------------------

/** Stand-ins: a public address (routed by the fake internet to a local site that redirects), and a
 * local site every inside address is routed to, so that a rule that let one through would show as
 * a request there (and as a dial). */
const PUBLIC_ADDRESS = '93.184.215.14';

interface PrivateTarget {
  url: string;
  /** Refused by the API when saved (with this in the message), or saved (only DNS or the
   * redirect shows it is inside). */
  saved: RegExp | 'saved';
  /** The delivery log's error. */
  delivered: 'refused: private address' | 'redirect refused' | 'refused: port';
}

const inside = (url: string): PrivateTarget => ({ url, saved: /is not a public address|resolves to a private/, delivered: 'refused: private address' });
const redirectsTo = (url: string): PrivateTarget => ({ url: `http://public.example/redirect?to=${encodeURIComponent(url)}`, saved: 'saved', delivered: 'redirect refused' });

const PRIVATE_TARGETS: PrivateTarget[] = [
  // 127.0.0.1 in every form a resolver reads it.
  ...['127.0.0.1', '127.1', '127.0.1', '0x7f.1', '0x7F.0.0.1', '0177.0.0.1', '017700000001', '2130706433', '0x7f000001', '127.0.0.1.', '127.255.255.254'].map((h) => inside(`http://${h}/pb`)),
  ...['[::1]', '[0:0:0:0:0:0:0:1]', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '[::]', '0.0.0.0', '0'].map((h) => inside(`http://${h}/pb`)),
  // Cloud metadata, in its forms.
  ...['169.254.169.254', '0xa9fea9fe', '2852039166', '[::ffff:169.254.169.254]', '[fd00:ec2::254]'].map((h) => inside(`http://${h}/latest/meta-data/`)),
  // Every other non-public range, IPv4 and IPv6, and the forms that carry a private IPv4.
  ...['10.0.0.1', '172.16.0.1', '192.168.1.1', '100.64.0.1', '198.18.0.1', '192.0.2.1', '192.0.0.8', '224.0.0.1', '255.255.255.255', '240.0.0.1'].map((h) => inside(`http://${h}/pb`)),
  ...['[fe80::1]', '[fc00::1]', '[fd12:3456::1]', '[ff02::1]', '[64:ff9b::7f00:1]', '[64:ff9b::a9fe:a9fe]', '[2002:7f00:1::1]', '[2002:c0a8:101::1]', '[2001::1]', '[2001:db8::1]', '[::127.0.0.1]'].map((h) => inside(`http://${h}/pb`)),
  // Names for this machine, and names that resolve inside.
  ...['localhost', 'LOCALHOST.', 'app.localhost', 'inside.example', 'inside6.example', 'metadata.google.internal', 'mixed.example', 'lan.example'].map((h) => inside(`http://${h}/pb`)),
  // Public at save, inside at delivery (DNS rebinding).
  { url: 'http://rebind.example/pb', saved: 'saved', delivered: 'refused: private address' },
  // A public URL that redirects inside.
  ...['http://127.0.0.1/admin', 'http://169.254.169.254/latest/meta-data/', 'http://inside.example/', 'http://[::1]/', 'http://0x7f.1/', 'http://[::ffff:127.0.0.1]/', 'http://10.0.0.1/', 'http://localhost:8080/'].map(redirectsTo),
  // Public addresses on ports that are not allowed.
  { url: 'http://public.example:8080/pb', saved: /port 8080 is not allowed/, delivered: 'refused: port' },
  { url: `http://${PUBLIC_ADDRESS}:22/pb`, saved: /port 22 is not allowed/, delivered: 'refused: port' },
];

describe('abuse: server postbacks aimed inside', () => {
  let app: TestApp;
  let dispatcher: Dispatcher | undefined;
  afterAll(async () => {
    await dispatcher?.stop();
    await app?.close();
  });

  it(`${PRIVATE_TARGETS.length} private targets: refused when saved, refused again at delivery, nothing dialled inside`, async () => {
    const publicSite = await startSite();
    const insideSite = await startSite();
    const internet = fakeInternet({
      'public.example': [PUBLIC_ADDRESS],
      'inside.example': ['127.0.0.1'],
      'inside6.example': ['::1'],
      'metadata.google.internal': ['169.254.169.254'],
      'mixed.example': [PUBLIC_ADDRESS, '10.0.0.5'],
      'lan.example': ['192.168.1.20'],
      'rebind.example': [PUBLIC_ADDRESS],
    });
    internet.route(PUBLIC_ADDRESS, 80, publicSite);
    const insideAddresses = ['127.0.0.1', '::1', '169.254.169.254', '10.0.0.1', '10.0.0.5', '192.168.1.20', 'fd00:ec2::254', '::ffff:7f00:1'];
    for (const address of insideAddresses) for (const port of [80, 8080]) internet.route(address, port, insideSite);
    try {
      const file = abuseNetworkFile();
      file.network.postbacks_allow_private = false;
      app = makeApp({ file, resolveHost: internet.resolve });

      // Saved through the API: refused with the rule named, except those only DNS or a redirect gives away.
      for (const target of PRIVATE_TARGETS) {
        figures.targets++;
        figures.requests++;
        const res = await app.post('/api/2/affiliate_postback.json', JSON.stringify({ api_key: API_KEY, affiliate_id: AFF.partner, offer_id: OFFER.lead, postback_url: target.url }), 'application/json');
        const body = (await res.json()) as any;
        if (target.saved === 'saved') {
          expect(res.status, target.url).toBe(200);
          await app.store.deletePostback(body.postback.postback_id);
        } else {
          expect(res.status, target.url).toBe(400);
          expect(body.errors, target.url).toEqual([{ parameter: 'postback_url', message: expect.stringMatching(target.saved) }]);
        }
      }
      expect(await app.store.listPostbacks({})).toEqual([]);
      expect(internet.dials).toEqual([]);

      // Written behind the API's back (saved under other rules, or before the DNS changed), then
      // delivered: refused again, on the address the sender would have connected to.
      internet.dns['rebind.example'] = ['127.0.0.1'];
      for (const target of PRIVATE_TARGETS) {
        await app.store.createPostback({ affiliate_id: AFF.partner, offer_id: OFFER.lead, postback_url: target.url, postback_status: 'active', postback_type_id: 1, fire_on: 'conversion' });
      }
      const targets = () => targetsOf(app.network.current);
      dispatcher = createDispatcher({ store: app.store, targets, fetch: nodeSend({ targets, resolve: internet.resolve, connect: internet.connect }), retryDelay: () => 3_600_000, pollMs: 20, concurrency: 64, perHost: 64 });
      dispatcher.start();
      const reqid = setCookie(await app.get(`/?a=${AFF.partner}&c=${CREATIVE.lead}`), `crumb_o${OFFER.lead}`)!;
      figures.requests++;
      expect((await app.get(`/api/2/conversion.json?api_key=${API_KEY}&click_id=${reqid}&offer_id=${OFFER.lead}`)).status).toBe(200);
      const rows = await eventually(async () => {
        const { rows } = await app.store.listDeliveries({ offset: 0, limit: 1000 });
        return rows.length === PRIVATE_TARGETS.length && rows.every((d) => d.attempts > 0) && rows;
      }, 20_000, 'an attempt of every delivery');
      const byUrl = new Map(rows.map((d) => [d.url, d]));
      for (const target of PRIVATE_TARGETS) {
        const delivery = byUrl.get(target.url)!;
        expect(delivery.attempt_log.map((a) => a.error), target.url).toEqual([target.delivered]);
        expect(delivery.status, target.url).toBe('pending');
      }
      // Dialled: only the public stand-in, once per redirecting URL; nothing reached inside.
      expect(internet.dials).toEqual(Array(PRIVATE_TARGETS.filter((x) => x.delivered === 'redirect refused').length).fill(`${PUBLIC_ADDRESS}:80`));
      expect(insideSite.requests).toEqual([]);
      expect(publicSite.requests.every((r) => r.path === '/redirect')).toBe(true);
      // The log names no address and keeps no body.
      const log = JSON.stringify(rows.map((d) => d.attempt_log));
      for (const secret of [...insideAddresses, 'secret body']) expect(log).not.toContain(secret);
    } finally {
      await publicSite.close();
      await insideSite.close();
    }
  });
});
