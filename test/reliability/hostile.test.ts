// Hostile input, generated (issue 9, item 4; PROTOCOL.md 8): tens of thousands of malformed requests,
// made by fast-check, to every endpoint with every method: random and over-long query strings and
// bodies, wrong content types, invalid UTF-8, NUL bytes, lone surrogates, repeated keys, huge
// numbers, dates out of range, junk cookies and hosts. For every single request:
//   - the answer is not a 5xx, and its body is what its Content-Type says (JSON parses, XML is
//     well-formed);
//   - the store changed only as the answer says: a refused request (4xx, a lead's code 1, a pixel's
//     "not recorded", a duplicate) stored nothing (a refused tracking link records its unattributed
//     click, by design); an accepted one stored exactly its row;
// and over the whole run: no unhandled rejection or uncaught exception in the process, no unexpected
// error logged, and afterwards a normal click, lead and conversion (with its postback row) still work.
//
// In-process (app.request) for volume, on SQLite; a smaller run on PostgreSQL (its text type cannot
// hold NUL, its json type checks escapes); and a run against the built server process over real
// sockets for what only the Node adapter sees: raw bytes that are not UTF-8 in the request line,
// headers and body, broken framing, bodies cut short.
import fc from 'fast-check';
import { XMLValidator } from 'fast-xml-parser';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import postgres from 'postgres';
import { openPostgresStore } from '../../server/store/postgres.js';
import { setCookie, tempDbPath, type TestApp } from '../support/app.js';
import { describePostgres } from '../support/pg.js';
import { startServer, type ServerProcess } from '../support/process.js';
import { AFF, API_KEY, CAMPAIGN, CREATIVE, HOST, LEADS, OFFER, POST_KEY, REPEAT } from '../support/network.js';
import { COUNT_NAMES, delta, makeFullApp, report, sqliteCounts, writeNetworkFile, type Counts } from './support.js';

// ---- process-level watch -----------------------------------------------------------------------------

const faults: string[] = [];
const onRejection = (reason: unknown) => faults.push(`unhandledRejection: ${String((reason as Error)?.stack ?? reason)}`);
const onException = (error: Error) => faults.push(`uncaughtException: ${error.stack ?? error}`);
let errorLog: { mock: { calls: unknown[][] }; mockRestore(): void };

beforeAll(() => {
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  // The app's one error path logs every unforeseen error (and answers 500) with console.error.
  errorLog = vi.spyOn(console, 'error');
});
afterAll(() => {
  process.off('unhandledRejection', onRejection);
  process.off('uncaughtException', onException);
  errorLog.mockRestore();
});

// ---- what is sent ------------------------------------------------------------------------------------

const API = '/api/2';
/** Every route, and near misses of them. */
const PATHS = [
  '/',
  '/d.ashx',
  '/p.ashx',
  '/d.js',
  `/offers/${OFFER.lead}/posting-doc`,
  `/offers/${OFFER.cpl}/posting-doc.json`,
  `/offers/${LEADS.noDedupeOffer}/posting-doc`,
  `${API}/click.json`,
  `${API}/conversion.json`,
  `${API}/conversions.json`,
  `${API}/leads.json`,
  `${API}/affiliate_postback.json`,
  `${API}/postback_deliveries.json`,
  `${API}/tracking_domains.json`,
  '/demo/',
  '/demo/landing',
  '/demo/step2',
  '/demo/organic',
  '/demo/thanks',
  '/demo/postbacks',
  '/demo/postbacks.json',
  '/demo/affiliate/postback',
];
const NEAR_MISSES = [
  '/D.ASHX', '/d.ashx/', '//d.ashx', '/p.ashx/x', '/offers/0/posting-doc', '/offers/99999999999/posting-doc', '/offers/-1/posting-doc.json',
  '/offers/%3Cscript%3E/posting-doc', '/offers/%00/posting-doc', '/offers/%E0%A4%A/posting-doc', '/offers//posting-doc', '/api/2/', '/api/2/nope.json',
  '/api/2/click.json/', '/api/3/click.json', '/api/2/..%2f..%2fetc%2fpasswd', '/%00', '/%ff%fe', '/index.html', '/favicon.ico',
  '/demo', '/demo/demo.js', '/demo/demo.css', '/demo/%3Cscript%3E', '/demo/../api/2/leads.json', '/d.js/x', '/D.JS',
];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'] as const;

/** Parameter names the endpoints read, so that generated requests reach past the first check. */
const KEYS = [
  'a', 'c', 'cp', 'p', 'oc', 's1', 's2', 's3', 's4', 's5', 'reqid', 'ckm_request_id',
  'ckm_offer_id', 'ckm_campaign_id', 'ckm_key', 'ckm_test', 'ckm_bp', 'ckm_xml', 'ckm_subid', 'ckm_subid_2', 'ckm_subid_5',
  'first_name', 'last_name', 'email', 'zip', 'phone', 'age', 'birth_date', 'coverage', 'address', 'comments',
  'o', 'e', 'r', 't', 'f', 'ap',
  'api_key', 'click_id', 'offer_id', 'affiliate_id', 'advertiser_id', 'event_id', 'payout', 'revenue', 'amount', 'conversion_date',
  'unique_id', 'order_id', 'adv1', 'adv5', 'conversion_id', 'conversion_status', 'start_date', 'end_date', 'start_at_row', 'row_limit',
  'sort_field', 'sort_descending', 'include_tests', 'lead_id', 'postback_id', 'postback_url', 'postback_status', 'postback_type_id',
  'fire_on', 'delivery_id', 'status', 'tracking_domain_id', 'domain_status',
  'aff', 'sub', 'lead',
];
const NASTY_KEYS = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf', '', ' ', 'api_key[]', 'email[]', 'a[b]', 'API_KEY', 'Email', 'FIRST_NAME'];

/** Values that break naive code: numbers too big or not quite numbers, dates out of range, control
 * characters, markup, macros, and a few valid ones so that requests get deep. */
const NASTY_VALUES = [
  '', ' ', '0', '-0', '-1', '00012345', '1e3', '1e308', '-1e308', '1.7976931348623157e309', 'NaN', 'Infinity', '-Infinity', '0x10', '0b1', '1_000',
  '2147483647', '2147483648', '4294967295', '4294967296', '9007199254740993', '99999999999999999999999999999999', '18.505', '-18.50', '18.', '.5',
  '999999999.9999', '1000000000', '١٢٣', '１２３', '12345 ', ' 12345', '12345abc', '+12345',
  '9999-12-31', '0000-00-00', '0000-01-01', '2026-02-30', '2026-13-01', '2026-00-10', '1969-12-31', '1970-01-01', '275760-09-13', '+275760-09-13',
  '-000001-01-01', '2026-11-21 24:00:00', '2026-11-21 23:59:60', '2026-11-21T12:00:00Z', '2026-11-21 12:00', '2026-11-21T12:00:00.000Z', '2099-01-01 00:00:00',
  '1/1/1900', '02/30/2020', '12/31/275760',
  'true', 'false', 'TRUE', 'yes', 'null', 'undefined', '[]', '{}', '[object Object]', '__proto__', 'constructor',
  '\u0000', 'a\u0000b', '%00', '\u0000\u0000\u0000', '\uFFFD', '\uFEFF', '\u2028\u2029', '\u202E', '😀', '\u0301', 'é', 'ǅ',
  '<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "'", '"', '\\', '\\"', '%', '%zz', '%C3%28', '&', '=', '?', '#', ';', '\r\n', '\n',
  '#reqid#', '{click_id}', '#leadid#', '${process.exit()}', '{{7*7}}', '../../etc/passwd', 'http://evil.example/', '//evil.example', 'javascript:alert(1)',
  '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', "' OR 1=1 --", '"; DROP TABLE leads; --',
  '12345', '444', '555', '888', '666', '67890', '4242', '1', '1057', '5001', '3870', '3874', '0', '1', '2', '3', '4',
  API_KEY, POST_KEY, 'solar-post-key', 'jane@example.com', 'JANE@EXAMPLE.COM', 'a@b.co', '90210', '555-555-0123', 'basic', 'full',
  'js', 'img', 'pb', 'iframe', 'JS', 'approved', 'rejected', 'reversed', 'pending', 'scrubbed', 'active', 'inactive',
  'conversion', 'approval', 'rejection', 'conversion_id', 'payout', 'http://127.0.0.1:9/pb?c={conversion_id}&t=#tid#',
];

/** Filled in by setUp: real reqids, so that values reach the store lookups too. */
const REQIDS: string[] = [];

const loneSurrogates = fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 3 });
const longText = fc
  .tuple(fc.constantFrom('x', '9', '%', '<', 'é', '\u0000', 'a%00', '&a=', '😀'), fc.constantFrom(256, 1_001, 4_097, 20_000, 70_000))
  .map(([unit, n]) => unit.repeat(Math.ceil(n / unit.length)));
const anyDate = fc.date({ noInvalidDate: false }).chain((d) => {
  const iso = Number.isNaN(d.getTime()) ? 'Invalid Date' : d.toISOString();
  return fc.constantFrom(iso, iso.slice(0, 10), iso.slice(0, 19).replace('T', ' '), String(d.getTime()));
});
const bigNumber = fc.oneof(
  fc.integer().map(String),
  fc.bigInt({ min: -(2n ** 100n), max: 2n ** 100n }).map(String),
  fc.double().map(String),
  fc.double().map((n) => n.toFixed(Math.abs(n) < 1e21 ? 4 : 0)),
);
const value = fc.oneof(
  { weight: 24, arbitrary: fc.constantFrom(...NASTY_VALUES) },
  { weight: 6, arbitrary: fc.nat().map((i) => REQIDS[i % Math.max(1, REQIDS.length)] ?? 'x') },
  { weight: 9, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 6, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 3, arbitrary: loneSurrogates },
  { weight: 6, arbitrary: bigNumber },
  { weight: 6, arbitrary: anyDate },
  { weight: 1, arbitrary: longText },
);
const key = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...KEYS) }, { weight: 1, arbitrary: fc.constantFrom(...NASTY_KEYS) }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }) });
/** Key-value pairs, keys repeated at will (the first of a repeated key wins, or the last, or both). */
const entries = fc
  .tuple(fc.array(fc.tuple(key, value), { maxLength: 14 }), fc.array(fc.tuple(fc.nat(), value), { maxLength: 3 }))
  .map(([list, repeats]) => {
    for (const [i, v] of repeats) if (list.length) list.push([list[i % list.length]![0], v]);
    return list;
  });

/** UTF-8 of text, lone surrogates included (as the bytes a careless client would send: WTF-8). */
function wtf8(text: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    let cp = text.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        i++;
      }
    }
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
    else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
  }
  return out;
}

/** Percent-encodes every byte outside the unreserved set; lone surrogates become the bytes of
 * their (invalid) UTF-8 encoding, which no decoder accepts. */
function pct(text: string): string {
  if (!/[\uD800-\uDFFF]/.test(text)) return encodeURIComponent(text);
  return wtf8(text)
    .map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('');
}

const JUNK_SEGMENTS = ['%', '%z', '%zz', '%C3%28', '%ED%A0%80', '%F0%28%8C%BC', '%FF%FE', '%C0%AF', '%00', '&&', '=', '==x', 'x', ';', '+', '%2B', '%26', '%3D', 'a=1&a=2&a=3'];

/** A query string: properly encoded pairs, pairs sent raw, and junk segments. */
const queryString = fc
  .tuple(entries, fc.constantFrom('encoded', 'raw', 'mixed'), fc.array(fc.constantFrom(...JUNK_SEGMENTS), { maxLength: 4 }))
  .map(([list, mode, junk]) => {
    const parts = list.map(([k, v], i) => (mode === 'encoded' || (mode === 'mixed' && i % 2) ? `${pct(k)}=${pct(v)}` : `${k}=${v}`));
    for (const [i, j] of junk.entries()) parts.splice((i * 7) % (parts.length + 1), 0, j);
    return parts.join('&');
  });

const CONTENT_TYPES = [
  'application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=iso-8859-1', 'application/json', 'application/json; charset=utf-16',
  'text/plain', 'text/plain;charset=UTF-8', 'text/xml', 'application/xml', 'multipart/form-data; boundary=XyZ', 'multipart/form-data',
  'multipart/form-data; boundary=', 'application/octet-stream', 'image/png', 'text/html', 'application/x-json', 'application/json-patch+json', '*/*', 'x', '',
];

type Body = string | Uint8Array;

/** A body that claims to be one thing and may be another. */
const body: fc.Arbitrary<Body> = fc.oneof(
  entries.map((list) => list.map(([k, v]) => `${pct(k)}=${pct(v)}`).join('&')),
  entries.map((list) => JSON.stringify(Object.fromEntries(list))),
  entries.map((list) => `{${list.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`), // repeated keys kept
  fc.tuple(entries, fc.constantFrom(0, 1, 2, 3, 4, 5)).map(([list, shape]) => {
    const values: unknown[] = [1e308, -0, 123456789012345678901234567890, true, null, [], {}, { nested: { deeper: 1 } }, [1, 2], 'x'];
    const object = Object.fromEntries(list.map(([k], i) => [k, values[i % values.length]]));
    return [JSON.stringify(object), '[1,2,3]', '"just a string"', 'null', '42', JSON.stringify(object).slice(0, -1)][shape]!;
  }),
  entries.map((list) => `<XML>${list.map(([k, v]) => `<${k}>${v}</${k}>`).join('')}</XML>`),
  fc.constantFrom(
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><XML><first_name>&lol2;</first_name></XML>',
    '<XML><first_name><![CDATA[<script>]]></first_name><email>&#0;&#xD800;&#x110000;@x.com</email></XML>',
    `<XML>${'<a>'.repeat(200)}${'</a>'.repeat(200)}</XML>`,
    '<XML><email>a@b.co</email><email>c@d.co</email></XML>',
    '<XML',
    '<>',
    '--XyZ\r\nContent-Disposition: form-data; name="ckm_offer_id"\r\n\r\n12345\r\n--XyZ\r\nContent-Disposition: form-data; name="email"; filename="x.txt"\r\n\r\nfile\r\n--XyZ--\r\n',
    '--XyZ\r\nContent-Disposition: form-data; name="ckm_offer_id"\r\n\r\n12345',
    '--XyZ--',
    '',
  ),
  fc.uint8Array({ maxLength: 300 }),
  fc.tuple(fc.array(fc.constantFrom([0xc3, 0x28], [0xff], [0xfe, 0xff], [0xed, 0xa0, 0x80], [0x00], [0xf0, 0x28, 0x8c], [0xc0, 0xaf], [0x61, 0x3d], [0x26]), { maxLength: 40 })).map(
    ([chunks]) => Uint8Array.from(chunks.flat()),
  ),
  fc.constantFrom(70_000, 65_537, 60_000).map((n) => `first_name=${'x'.repeat(n)}`),
);

const headerText = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 });
const headers = fc.record(
  {
    'content-type': fc.constantFrom(...CONTENT_TYPES),
    cookie: fc.oneof(
      fc.constant(null).map(() => `crumb_o${OFFER.lead}=${REQIDS[0] ?? 'x'}; crumb_o${OFFER.cpl}=${REQIDS[1] ?? 'x'}`),
      headerText.map((v) => `crumb_o${OFFER.lead}=${v}; crumb_v=${v}`),
      headerText,
    ),
    host: fc.constantFrom(HOST, 'old.example.com', 'evil.example', 'TRACK.EXAMPLE.COM:443', '127.0.0.1', '[::1]:80'),
    accept: fc.constantFrom('application/json', 'text/html', '*/*', 'application/xml'),
    origin: fc.constantFrom('https://lp.example.com', 'https://evil.example', 'null'),
    'x-forwarded-proto': fc.constantFrom('https', 'http', 'javascript'),
    referer: headerText,
    'user-agent': headerText,
  },
  { requiredKeys: ['host'] },
);

const path = fc.oneof({ weight: 10, arbitrary: fc.constantFrom(...PATHS) }, { weight: 1, arbitrary: fc.constantFrom(...NEAR_MISSES) });

interface Sent {
  method: string;
  target: string;
  headers: Record<string, string>;
  body?: Body;
}

/** Any request to any endpoint. */
const anyRequest: fc.Arbitrary<Sent> = fc
  .record({ method: fc.constantFrom(...METHODS), path, query: fc.option(queryString, { nil: undefined, freq: 5 }), headers, body: fc.option(body, { freq: 4 }) })
  .map(({ method, path, query, headers, body }) => ({
    method,
    target: query === undefined ? path : `${path}?${query}`,
    headers: headers as Record<string, string>,
    body: method === 'GET' || method === 'HEAD' || body === null ? undefined : body,
  }));

/** A request that is right but for one or two parameters, so that each parameter's own check is
 * reached with junk: the valid base of each endpoint, then hostile values over some of its keys. */
function validBase(): { method: string; path: string; params: Record<string, string> }[] {
  const reqid = REQIDS[0] ?? '';
  const cplReqid = REQIDS[1] ?? '';
  const lead = { first_name: 'Jane', last_name: 'Doe', email: 'jane@example.com', zip: '90210' };
  return [
    { method: 'GET', path: '/', params: { a: String(AFF.partner), c: String(CREATIVE.lead), s1: 'x' } },
    { method: 'GET', path: '/', params: { a: String(AFF.internal), c: String(CREATIVE.lead), cp: 'js', reqid } },
    { method: 'GET', path: '/', params: { a: String(AFF.internal), c: String(CREATIVE.cpl), cp: 'img' } },
    { method: 'POST', path: '/d.ashx', params: { ckm_offer_id: String(OFFER.lead), ckm_request_id: reqid, ...lead } },
    { method: 'GET', path: '/d.ashx', params: { ckm_campaign_id: String(CAMPAIGN.cpl), ckm_key: 'solar-post-key', first_name: 'J', email: 'j@example.com' } },
    { method: 'POST', path: '/d.ashx', params: { ckm_offer_id: String(OFFER.cpl), ckm_request_id: cplReqid, first_name: 'J', email: 'k@example.com', ckm_bp: '1' } },
    { method: 'POST', path: '/d.ashx', params: { ckm_offer_id: String(LEADS.noDedupeOffer), email: 'n@example.com' } },
    ...['img', 'js', 'pb', 'iframe'].map((f) => ({ method: 'GET', path: '/p.ashx', params: { o: String(OFFER.lead), r: reqid, f, t: 'T1' } })),
    { method: 'GET', path: '/p.ashx', params: { a: '5', r: reqid, f: 'js', p: '10.00' } },
    { method: 'GET', path: `${API}/conversion.json`, params: { api_key: API_KEY, click_id: reqid, offer_id: String(OFFER.lead), unique_id: 'U1', payout: '1.50' } },
    { method: 'POST', path: `${API}/conversion.json`, params: { api_key: API_KEY, click_id: REQIDS[2] ?? '', offer_id: String(OFFER.revshare), amount: '100' } },
    { method: 'PUT', path: `${API}/conversion.json`, params: { api_key: API_KEY, conversion_id: '1', conversion_status: 'rejected' } },
    { method: 'GET', path: `${API}/conversions.json`, params: { api_key: API_KEY, start_date: '2026-01-01', end_date: '2026-12-31', row_limit: '5' } },
    { method: 'GET', path: `${API}/click.json`, params: { api_key: API_KEY, click_id: reqid } },
    { method: 'GET', path: `${API}/click.json`, params: { api_key: API_KEY, start_date: '2026-11-01', end_date: '2026-11-30', offer_id: String(OFFER.lead) } },
    { method: 'GET', path: `${API}/leads.json`, params: { api_key: API_KEY, lead_id: '00000001' } },
    { method: 'POST', path: `${API}/affiliate_postback.json`, params: { api_key: API_KEY, affiliate_id: String(AFF.second), offer_id: '0', postback_url: 'https://x.example/?c=#reqid#' } },
    { method: 'PUT', path: `${API}/affiliate_postback.json`, params: { api_key: API_KEY, postback_id: '99', postback_status: 'inactive' } },
    { method: 'DELETE', path: `${API}/affiliate_postback.json`, params: { api_key: API_KEY, postback_id: '98' } },
    { method: 'GET', path: `${API}/affiliate_postback.json`, params: { api_key: API_KEY, affiliate_id: String(AFF.partner) } },
    { method: 'GET', path: `${API}/postback_deliveries.json`, params: { api_key: API_KEY, status: 'pending' } },
    { method: 'GET', path: `${API}/tracking_domains.json`, params: { api_key: API_KEY, domain_status: 'active' } },
  ];
}

const nearlyValidRequest: fc.Arbitrary<Sent> = fc
  .record({
    base: fc.nat(),
    spoil: fc.array(fc.tuple(fc.nat(), value), { minLength: 1, maxLength: 2 }),
    extra: fc.array(fc.tuple(key, value), { maxLength: 2 }),
    as: fc.constantFrom('query', 'form', 'json', 'text', 'xml'),
  })
  .map(({ base, spoil, extra, as }) => {
    const bases = validBase();
    const b = bases[base % bases.length]!;
    const params = { ...b.params };
    const names = Object.keys(params);
    for (const [i, v] of spoil) params[names[i % names.length]!] = v;
    const list = [...Object.entries(params), ...extra];
    const bodyAllowed = b.method !== 'GET' && b.method !== 'HEAD';
    const kind = bodyAllowed ? as : 'query';
    const query = list.map(([k, v]) => `${pct(k)}=${pct(v)}`).join('&');
    const headers: Record<string, string> = { host: HOST };
    if (kind === 'query') return { method: b.method, target: `${b.path}?${query}`, headers };
    if (kind === 'xml') {
      headers['content-type'] = 'text/xml';
      return { method: b.method, target: `${b.path}?ckm_xml=1&${query}`, headers, body: `<XML>${list.map(([k, v]) => `<${k}>${v}</${k}>`).join('')}</XML>` };
    }
    headers['content-type'] = kind === 'form' ? 'application/x-www-form-urlencoded' : kind === 'json' ? 'application/json' : 'text/plain;charset=UTF-8';
    return { method: b.method, target: b.path, headers, body: kind === 'form' ? query : JSON.stringify(Object.fromEntries(list)) };
  });

// ---- what must hold for each answer -----------------------------------------------------------------

const GLOBAL_REDIRECT = 'https://network.example/inactive';

/** Runs per property; CRUMB_HOSTILE_SCALE scales them (0.1 while iterating). */
const SCALE = Number(process.env.CRUMB_HOSTILE_SCALE ?? 1);
const RUNS = {
  any: Math.ceil(14_000 * SCALE),
  nearlyValid: Math.ceil(10_000 * SCALE),
  pg: Math.ceil(4_000 * SCALE),
  wire: Math.ceil(2_000 * SCALE),
  malformed: Math.ceil(300 * SCALE),
};

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

/** Whether the answer says something was stored, and what the store may have gained. */
function expectedChange(sent: Sent, a: Answer): { allowed: Partial<Record<keyof Counts, [number, number]>>; refused: boolean } {
  const url = new URL(sent.target, `http://${HOST}`);
  const route = url.pathname;
  const method = sent.method;
  const type = a.headers.get('content-type') ?? '';
  const none = { allowed: {}, refused: true };
  // Closed without an answer (sendHttp, too large to read): refused, so nothing may be stored.
  if (a.status === 0) return none;
  if (a.status >= 400 || method === 'OPTIONS') return refusedClick(route, method, a) ?? none;
  if (route === '/' && (method === 'GET' || method === 'HEAD')) {
    const location = a.headers.get('location') ?? '';
    const js = type.startsWith('application/javascript') ? /var ckm_request_id = "(.*)";/.exec(a.text)?.[1] : undefined;
    const refused = location.startsWith(GLOBAL_REDIRECT) || js === '' || a.status === 404;
    // A click pixel that confirms a reqid the page already has records nothing new.
    return { allowed: { clicks: [0, 1], attributed: [0, refused ? 0 : 1] }, refused };
  }
  // HEAD is answered as GET without its body: the status is all there is to read.
  const unread = method === 'HEAD' && a.status === 200;
  if (route === '/d.ashx' && (method === 'GET' || method === 'POST' || method === 'HEAD')) {
    if (unread) return { allowed: { leads: [0, 1], lead_emails: [0, 1], conversions: [0, 1], deliveries: [0, 10] }, refused: false };
    const accepted = a.status === 302 || /<code>0<\/code>|"code":0/.test(a.text);
    return accepted
      ? { allowed: { leads: [1, 1], lead_emails: [0, 1], conversions: [0, 1], deliveries: [0, 10] }, refused: false }
      : none;
  }
  if (route === '/p.ashx' && (method === 'GET' || method === 'HEAD')) {
    const result = a.headers.get('x-crumb-result') ?? '';
    expect(result, 'every pixel answer says what happened').not.toBe('');
    return result.startsWith('recorded conversion') ? { allowed: { conversions: [1, 1], deliveries: [0, 10] }, refused: false } : none;
  }
  if (route === `${API}/conversion.json` && (method === 'GET' || method === 'POST' || method === 'HEAD')) {
    if (unread) return { allowed: { conversions: [0, 1], deliveries: [0, 10] }, refused: false };
    const answer = JSON.parse(a.text);
    return answer.duplicate === false ? { allowed: { conversions: [1, 1], deliveries: [0, 10] }, refused: false } : none;
  }
  if (route === `${API}/conversion.json` && method === 'PUT') return { allowed: { deliveries: [0, 10] }, refused: false };
  if (route === `${API}/affiliate_postback.json` && method === 'POST') return { allowed: { postbacks: [1, 1] }, refused: false };
  if (route === `${API}/affiliate_postback.json` && method === 'DELETE') return { allowed: { postbacks: [-1, -1] }, refused: false };
  return { allowed: {}, refused: false };
}

/** A tracking link refused with a 4xx (the plain 404 page) still records its unattributed click. */
function refusedClick(route: string, method: string, a: Answer) {
  if (route === '/' && (method === 'GET' || method === 'HEAD') && a.status === 404) return { allowed: { clicks: [0, 1] as [number, number] }, refused: true };
  return undefined;
}

/** The body is what its Content-Type says it is. */
function expectWellFormed(sent: Sent, a: Answer) {
  const type = a.headers.get('content-type') ?? '';
  if (sent.method === 'HEAD') return;
  if (type.includes('json')) expect(() => JSON.parse(a.text), `${sent.method} ${sent.target.slice(0, 200)} answered JSON that does not parse`).not.toThrow();
  if (type.includes('xml')) expect(XMLValidator.validate(a.text), `${sent.method} ${sent.target.slice(0, 200)} answered broken XML`).toBe(true);
  if (type.startsWith('application/javascript') && a.text) expect(() => new Function(a.text)).not.toThrow();
}

interface Tally {
  sent: number;
  /** Too large to be read: the connection closed without an answer (over sockets only). */
  closed: number;
  status: Record<string, number>;
  fiveXX: number;
  refused: number;
  accepted: number;
  /** Refused requests that changed the store anyway (the goal is 0). */
  refusedButStored: number;
}

function newTally(): Tally {
  return { sent: 0, closed: 0, status: {}, fiveXX: 0, refused: 0, accepted: 0, refusedButStored: 0 };
}

/** Checks one answer against the store's counts before and after it. */
function judge(tally: Tally, sent: Sent, a: Answer, before: Counts, after: Counts, ignore: (keyof Counts)[] = []) {
  tally.sent++;
  if (a.status === 0) tally.closed++;
  tally.status[a.status] = (tally.status[a.status] ?? 0) + 1;
  const what = `${sent.method} ${sent.target.slice(0, 300)} (${a.status}: ${a.text.slice(0, 200)})`;
  if (a.status >= 500) tally.fiveXX++;
  expect(a.status, what).toBeLessThan(500);
  expectWellFormed(sent, a);
  const { allowed, refused } = expectedChange(sent, a);
  if (refused) tally.refused++;
  else tally.accepted++;
  const d = delta(before, after);
  let stray = false;
  for (const name of COUNT_NAMES) {
    if (ignore.includes(name)) continue;
    const [min, max] = allowed[name] ?? [0, 0];
    if (d[name] < min || d[name] > max) stray = true;
  }
  if (stray && refused) tally.refusedButStored++;
  expect(stray ? { what, refused, delta: d, allowed } : 'as the answer says', 'the store changed only as the answer says').toBe('as the answer says');
}

// ---- in-process ---------------------------------------------------------------------------------------

/** Reqids of real clicks (partner on the lead offer, on the CPL offer, on the RevShare offer), and
 * postbacks of every type, so that conversions render macros into URLs and pages. */
async function setUp(t: TestApp) {
  REQIDS.length = 0;
  for (const [a, c, o] of [
    [AFF.partner, CREATIVE.lead, OFFER.lead],
    [AFF.partner, CREATIVE.cpl, OFFER.cpl],
    [AFF.partner, CREATIVE.revshare, OFFER.revshare],
    [AFF.internal, CREATIVE.lead, OFFER.lead],
  ] as const) {
    const reqid = setCookie(await t.get(`/?a=${a}&c=${c}&s1=${encodeURIComponent('<s1 "x">')}`), `crumb_o${o}`);
    if (!reqid) throw new Error('setUp: the click was not attributed');
    REQIDS.push(reqid);
  }
  const macros = 'c={conversion_id}&r=#reqid#&t=#tid#&s=#s1#&ip=#ip#&p=#price#&l=#leadid#&u={unique_id}';
  for (const [type, url] of [
    [1, `http://127.0.0.1:9/s2s?${macros}`],
    [2, `https://aff.example/frame?${macros}`],
    [3, `https://aff.example/img.gif?${macros}`],
    [4, `https://aff.example/px.js?${macros}`],
  ] as const) {
    const res = await t.post(
      '/api/2/affiliate_postback.json',
      JSON.stringify({ api_key: API_KEY, affiliate_id: AFF.partner, offer_id: 0, postback_type_id: type, postback_url: url }),
      'application/json',
    );
    expect(res.status).toBe(200);
  }
}

async function sendInProcess(t: TestApp, sent: Sent): Promise<Answer> {
  const res = await t.app.request(`http://${HOST}${sent.target.startsWith('/') ? '' : '/'}${sent.target}`, {
    method: sent.method,
    headers: sent.headers,
    body: sent.body as BodyInit | undefined,
  });
  return { status: res.status, headers: res.headers, text: new TextDecoder().decode(await res.arrayBuffer()) };
}

/** A normal click, session lead, conversion (with a fresh server postback's outbox row) and pixel
 * all still work, and each is stored by its id. */
async function expectHealthy(t: TestApp) {
  const click = await t.get(`/?a=${AFF.partner}&c=${CREATIVE.lead}&s1=after`);
  expect(click.status).toBe(302);
  const reqid = new URL(click.headers.get('location')!).searchParams.get('reqid')!;
  const email = `healthy-${Date.now()}-${Math.random().toString(36).slice(2)}@example.com`;
  const lead = await t.get(`/d.ashx?ckm_offer_id=${OFFER.lead}&ckm_request_id=${reqid}&first_name=Jane&last_name=Doe&zip=90210&email=${email}`);
  const leadText = await lead.text();
  expect(leadText).toContain('<code>0</code>');
  const leadid = /<leadid>(\w+)<\/leadid>/.exec(leadText)![1]!;
  const leads = (await (await t.get(`/api/2/leads.json?api_key=${API_KEY}&lead_id=${leadid}`)).json()) as any;
  expect(leads.response.leads[0]).toMatchObject({ lead_id: leadid, click_id: reqid, affiliate_id: AFF.partner });

  const pb = await t.post(
    '/api/2/affiliate_postback.json',
    JSON.stringify({ api_key: API_KEY, affiliate_id: AFF.partner, offer_id: OFFER.lead, postback_url: 'http://127.0.0.1:9/after?c={conversion_id}' }),
    'application/json',
  );
  expect(pb.status).toBe(200);
  const conv = (await (await t.get(`/api/2/conversion.json?api_key=${API_KEY}&click_id=${reqid}&offer_id=${OFFER.lead}&unique_id=after-${email}`)).json()) as any;
  expect(conv).toMatchObject({ request_status: 'Success', duplicate: false });
  const id = conv.conversion.conversion_id;
  const deliveries = (await (await t.get(`/api/2/postback_deliveries.json?api_key=${API_KEY}&conversion_id=${id}`)).json()) as any;
  expect(deliveries.deliveries.map((d: any) => d.url)).toContain(`http://127.0.0.1:9/after?c=${id}`);
  const pixel = await t.get(`/?a=${AFF.internal}&c=${CREATIVE.lead}&cp=js`);
  expect(await pixel.text()).toMatch(/^var ckm_request_id = "[\w-]{32}";$/m);
}

describe('hostile input, in-process on SQLite (every route: d.js and the demo pages included)', () => {
  let t: TestApp;
  let counts: ReturnType<typeof sqliteCounts>;
  const tally = newTally();

  beforeAll(async () => {
    t = makeFullApp();
    await setUp(t);
    counts = sqliteCounts(t.dbPath);
  });
  afterAll(async () => {
    counts?.close();
    await t?.close();
  });

  const run = async (sent: Sent) => {
    const before = counts.read();
    const answer = await sendInProcess(t, sent);
    judge(tally, sent, answer, before, counts.read());
  };

  it('any request to any endpoint, with any method, content type and body: no 5xx, nothing stored unless the answer says so', async () => {
    await fc.assert(fc.asyncProperty(anyRequest, run), { numRuns: RUNS.any });
  }, 300_000);

  it('valid requests with one or two parameters spoiled, as query, form, JSON, text/plain JSON or XML: the same', async () => {
    await fc.assert(fc.asyncProperty(nearlyValidRequest, run), { numRuns: RUNS.nearlyValid });
  }, 300_000);

  it('leaves the process without unhandled rejections or logged errors, and the app healthy', async () => {
    expect(faults).toEqual([]);
    expect(errorLog.mock.calls.map((c: unknown[]) => c.map(String).join(' '))).toEqual([]);
    await expectHealthy(t);
    report('hostile input, in-process (SQLite)', {
      requests: tally.sent,
      refused: tally.refused,
      accepted: tally.accepted,
      '5xx': tally.fiveXX,
      'refused but stored': tally.refusedButStored,
      'unhandled rejections': faults.length,
      statuses: Object.entries(tally.status).map(([s, n]) => `${s}:${n}`).join(' '),
    });
  });
});

describePostgres('hostile input, in-process on PostgreSQL', (schemas) => {
  let t: TestApp | undefined;
  let sql: postgres.Sql | undefined;
  const tally = newTally();
  afterAll(async () => {
    await t?.close();
    await sql?.end({ timeout: 5 });
    await schemas.dropAll();
  });

  it('any request and nearly valid requests: no 5xx, nothing stored unless the answer says so', async () => {
    const url = await schemas.create('hostile');
    t = makeFullApp({ store: await openPostgresStore({ url }) });
    await setUp(t);
    const db = postgres(url, { max: 1, onnotice: () => {} });
    sql = db;
    const counts = async () =>
      (
        await db`SELECT
          (SELECT count(*)::int FROM clicks) AS clicks,
          (SELECT count(affiliate_id)::int FROM clicks) AS attributed,
          (SELECT count(*)::int FROM leads) AS leads,
          (SELECT count(*)::int FROM lead_emails) AS lead_emails,
          (SELECT count(*)::int FROM conversions) AS conversions,
          (SELECT count(*)::int FROM postbacks) AS postbacks,
          (SELECT count(*)::int FROM deliveries) AS deliveries,
          (SELECT count(*)::int FROM attempts) AS attempts`
      )[0] as unknown as Counts;
    const app = t;
    const run = async (sent: Sent) => {
      const before = await counts();
      const answer = await sendInProcess(app, sent);
      judge(tally, sent, answer, before, await counts());
    };
    await fc.assert(fc.asyncProperty(anyRequest, run), { numRuns: RUNS.pg });
    await fc.assert(fc.asyncProperty(nearlyValidRequest, run), { numRuns: RUNS.pg });
    expect(faults).toEqual([]);
    expect(errorLog.mock.calls.map((c: unknown[]) => c.map(String).join(' '))).toEqual([]);
    await expectHealthy(app);
    report('hostile input, in-process (PostgreSQL)', {
      requests: tally.sent,
      refused: tally.refused,
      accepted: tally.accepted,
      '5xx': tally.fiveXX,
      'refused but stored': tally.refusedButStored,
      'unhandled rejections': faults.length,
    });
  }, 240_000);
});

// ---- over real sockets, against the built server ---------------------------------------------------------

/** Node's HTTP server refuses a request head larger than this (431) and closes the connection. */
const MAX_HEAD = 16 * 1024;
/** The largest body /d.ashx and the API read (MAX_LEAD_BODY, MAX_API_BODY): a larger one is
 * answered 413 unread, with Connection: close. */
const MAX_BODY = 64 * 1024;

/** One request with node:http, which sends the path and header values as Latin-1 bytes: so
 * bytes that are not UTF-8 reach the server as they are. Each on a connection of its own, so that
 * what one request does to its connection cannot be blamed on the next (keep-alive after a
 * refusal has a test of its own). A request the server refuses unread (a head over Node's limit,
 * a body larger than a socket's buffers) may see the connection closed before it has finished
 * sending: status 0, and only for those. */
function sendHttp(port: number, sent: { method: string; target: string; headers: Record<string, string>; body?: Body }): Promise<Answer> {
  const body = sent.body === undefined ? undefined : typeof sent.body === 'string' ? Buffer.from(wtf8(sent.body)) : Buffer.from(sent.body);
  const path = wirePath(sent.target);
  const head = path.length + Object.entries(sent.headers).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
  const tooLarge = head > MAX_HEAD || (body?.length ?? 0) > MAX_HEAD;
  return new Promise<Answer>((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: sent.method,
        path,
        agent: false,
        headers: { ...sent.headers, ...(body ? { 'content-length': String(body.length) } : {}), connection: 'close' },
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) for (const one of [v].flat()) headers.append(k, one);
          resolve({ status: res.statusCode!, headers, text: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer in 10 s: ${sent.method} ${sent.target.slice(0, 100)}`)));
    req.on('error', (error: NodeJS.ErrnoException) => {
      const closed = error.code === 'ECONNRESET' || error.code === 'EPIPE' || error.message === 'socket hang up';
      if (closed && tooLarge) resolve({ status: 0, headers: new Headers(), text: '' });
      else reject(new Error(`${sent.method} ${path.slice(0, 200)} (head ${head} bytes, body ${body?.length ?? 0} bytes): ${error.message}`));
    });
    req.end(body);
  });
}

/** The target as node:http sends it: characters U+0021..U+00FF as single (Latin-1) bytes, so that
 * U+0080..U+00FF arrive as bytes that are not UTF-8; anything else percent-encoded. */
function wirePath(target: string): string {
  let out = '';
  for (const ch of target) {
    const code = ch.codePointAt(0)!;
    out += code > 0x20 && code <= 0xff && code !== 0x7f ? ch : pct(ch);
  }
  return out;
}

/** Raw bytes on a socket; answers the status line's code (or null when the server just closed). */
function sendRaw(port: number, bytes: Buffer, endEarly: boolean): Promise<number | null> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const timer = setTimeout(() => socket.destroy(), 5_000);
    socket.on('data', (d) => (received += d.toString('latin1')));
    socket.on('close', () => {
      clearTimeout(timer);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(received);
      resolve(m ? Number(m[1]) : null);
    });
    socket.on('error', () => {});
    socket.write(bytes);
    // A client that gives up halfway through its body; otherwise the server closes after answering.
    if (endEarly) socket.end();
    else setTimeout(() => socket.end(), 1_000);
  });
}

/** Latin-1 text from bytes: what node:http puts on the wire byte for byte. */
const latin1 = (bytes: number[]) => Buffer.from(bytes).toString('latin1');

const rawByteText = fc.array(
  fc.oneof(
    fc.constantFrom([0xc3, 0x28], [0xff], [0xfe], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf0, 0x28, 0x8c, 0xbc], [0xe2, 0x82], [0x80]),
    fc.integer({ min: 0x21, max: 0x7e }).filter((b) => b !== 0x23).map((b) => [b]),
  ),
  { maxLength: 30 },
).map((chunks) => latin1(chunks.flat()));

/** Requests whose path, query and header values carry raw bytes that are not UTF-8. */
const wireRequest = fc
  .record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH'),
    path: fc.constantFrom(...PATHS),
    query: fc.array(fc.tuple(fc.constantFrom(...KEYS), fc.oneof(rawByteText, fc.constantFrom(...NASTY_VALUES).map(pct))), { maxLength: 8 }),
    queryBytes: rawByteText,
    cookie: rawByteText,
    userAgent: rawByteText,
    contentType: fc.constantFrom(...CONTENT_TYPES),
    body: fc.option(body, { freq: 3 }),
    withKey: fc.boolean(),
  })
  .map(({ method, path, query, queryBytes, cookie, userAgent, contentType, body, withKey }) => {
    const pairs = query.map(([k, v]) => `${k}=${v}`);
    if (withKey && path.startsWith(API)) pairs.unshift(`api_key=${API_KEY}`);
    pairs.push(queryBytes);
    const headers: Record<string, string> = { 'user-agent': userAgent, cookie: `crumb_o${OFFER.lead}=${cookie}` };
    if (contentType) headers['content-type'] = contentType;
    return { method, target: `${path}?${pairs.join('&')}`, headers, body: method === 'GET' || method === 'HEAD' || body === null ? undefined : body };
  });

/** What no HTTP client library would send: bare LF, NUL and control bytes in headers, broken
 * chunked framing, bodies shorter or longer than announced, absurd header sizes. */
const malformed = fc
  .record({
    path: fc.constantFrom(...PATHS),
    shape: fc.constantFrom('nul-header', 'bare-lf', 'bad-chunk', 'short-body', 'long-body', 'huge-header', 'bad-version', 'two-lengths', 'obs-fold', 'raw-target', 'cut-off'),
    junk: fc.uint8Array({ minLength: 1, maxLength: 200 }),
  })
  .map(({ path, shape, junk }) => {
    const j = Buffer.from(junk);
    const head = (lines: string[]) => Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
    const host = `Host: ${HOST}`;
    switch (shape) {
      case 'nul-header':
        return { bytes: Buffer.concat([Buffer.from(`GET ${path} HTTP/1.1\r\n${host}\r\nX-A: a`, 'latin1'), Buffer.from([0]), Buffer.from('b\r\n\r\n')]), endEarly: false };
      case 'bare-lf':
        return { bytes: Buffer.from(`GET ${path}?a=1 HTTP/1.1\n${host}\nX: y\n\n`, 'latin1'), endEarly: false };
      case 'bad-chunk':
        return {
          bytes: Buffer.concat([head([`POST ${path} HTTP/1.1`, host, 'Content-Type: application/x-www-form-urlencoded', 'Transfer-Encoding: chunked']), Buffer.from('zz\r\n'), j, Buffer.from('\r\n0\r\n\r\n')]),
          endEarly: false,
        };
      case 'short-body':
        return { bytes: Buffer.concat([head([`POST ${path} HTTP/1.1`, host, 'Content-Type: application/json', `Content-Length: ${j.length + 100}`]), j]), endEarly: true };
      case 'long-body':
        return { bytes: Buffer.concat([head([`POST ${path} HTTP/1.1`, host, 'Content-Type: application/x-www-form-urlencoded', 'Content-Length: 3']), j]), endEarly: false };
      case 'huge-header':
        return { bytes: head([`GET ${path} HTTP/1.1`, host, `Cookie: ${'a'.repeat(70_000)}`]), endEarly: false };
      case 'bad-version':
        return { bytes: head([`GET ${path} HTTP/9.9`, host]), endEarly: false };
      case 'two-lengths':
        return { bytes: Buffer.concat([head([`POST ${path} HTTP/1.1`, host, 'Content-Length: 5', 'Content-Length: 7']), Buffer.from('a=1&b')]), endEarly: false };
      case 'obs-fold':
        return { bytes: head([`GET ${path} HTTP/1.1`, host, 'X-Folded: a', ' b']), endEarly: false };
      case 'raw-target':
        return { bytes: Buffer.concat([Buffer.from(`GET ${path}?`, 'latin1'), j.filter((b) => b > 0x20 && b !== 0x7f), Buffer.from(` HTTP/1.1\r\n${host}\r\n\r\n`)]), endEarly: false };
      case 'cut-off':
      default:
        return { bytes: Buffer.concat([Buffer.from(`POST ${path} HTTP/1.1\r\n${host}\r\nContent-Le`, 'latin1'), j]), endEarly: true };
    }
  });

describe('hostile input over real sockets, against the built server (Node adapter)', () => {
  let server: ServerProcess | undefined;
  let counts: ReturnType<typeof sqliteCounts> | undefined;
  afterEach(async () => {
    counts?.close();
    await server?.stop('SIGKILL');
  });

  it('raw bytes that are not UTF-8, broken framing, bodies cut short: no 5xx, no crash, nothing stored unless accepted, healthy afterwards', async () => {
    const db = tempDbPath();
    server = await startServer(['--config', writeNetworkFile(), '--db', db]);
    const port = server.port;
    counts = sqliteCounts(db);
    const tally = newTally();

    // Real reqids for the generated values, through the real server.
    REQIDS.length = 0;
    for (const c of [CREATIVE.lead, CREATIVE.cpl]) {
      const res = await fetch(`http://127.0.0.1:${port}/?a=${AFF.partner}&c=${c}`, { redirect: 'manual', headers: { host: HOST } });
      REQIDS.push(new URL(res.headers.get('location')!).searchParams.get('reqid') ?? new URL(res.headers.get('location')!).searchParams.get('r')!);
    }

    // The postback dispatcher works in the background here: attempts are not counted.
    await fc.assert(
      fc.asyncProperty(fc.oneof(wireRequest, anyRequest, nearlyValidRequest), async (sent) => {
        const before = counts!.read();
        const answer = await sendHttp(port, sent);
        judge(tally, sent, answer, before, counts!.read(), ['attempts']);
      }),
      { numRuns: RUNS.wire },
    );

    let rawSent = 0;
    const rawStatus: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(malformed, async ({ bytes, endEarly }) => {
        const before = counts!.read();
        const status = await sendRaw(port, bytes, endEarly);
        rawSent++;
        rawStatus[String(status)] = (rawStatus[String(status)] ?? 0) + 1;
        if (status !== null && status >= 500) tally.fiveXX++;
        expect(status === null || status < 500, `malformed request answered ${status}: ${bytes.toString('latin1').slice(0, 200)}`).toBe(true);
        // Nothing malformed is a lead, a conversion or a postback (a junk tracking link may record
        // its refused click, unattributed, as any refused click is).
        const d = delta(before, counts!.read());
        expect({ leads: d.leads, conversions: d.conversions, postbacks: d.postbacks, deliveries: d.deliveries, attributed: d.attributed }).toEqual({
          leads: 0,
          conversions: 0,
          postbacks: 0,
          deliveries: 0,
          attributed: 0,
        });
      }),
      { numRuns: RUNS.malformed },
    );

    // Still the same process, still answering, and it logged no error and no unhandled rejection.
    expect(server.proc.exitCode).toBeNull();
    const res = await fetch(`http://127.0.0.1:${port}/?a=${AFF.partner}&c=${CREATIVE.lead}`, { redirect: 'manual', headers: { host: HOST } });
    expect(res.status).toBe(302);
    const reqid = new URL(res.headers.get('location')!).searchParams.get('reqid')!;
    const lead = await (await fetch(`http://127.0.0.1:${port}/d.ashx?ckm_offer_id=${OFFER.lead}&ckm_request_id=${reqid}&first_name=J&last_name=D&zip=90210&email=wire-after@example.com`)).text();
    expect(lead).toContain('<code>0</code>');
    const conv = (await (await fetch(`http://127.0.0.1:${port}/api/2/conversion.json?api_key=${API_KEY}&click_id=${reqid}&offer_id=${OFFER.lead}&unique_id=wire-after`)).json()) as any;
    expect(conv).toMatchObject({ request_status: 'Success', duplicate: false });
    expect(server.output()).not.toMatch(/failed:|Unhandled|uncaught|Error:/i);

    report('hostile input, over sockets (built server, SQLite)', {
      requests: tally.sent + rawSent,
      'well-framed': tally.sent,
      'closed unread (too large)': tally.closed,
      malformed: rawSent,
      refused: tally.refused,
      accepted: tally.accepted,
      '5xx': tally.fiveXX,
      'refused but stored': tally.refusedButStored,
      crashes: 0,
      'malformed statuses': Object.entries(rawStatus).map(([s, n]) => `${s}:${n}`).join(' '),
    });
  }, 240_000);
  it('a body refused unread as too large (413) closes its connection, so the next request on a kept-alive connection is answered and stored', async () => {
    const db = tempDbPath();
    server = await startServer(['--config', writeNetworkFile(), '--db', db]);
    const port = server.port;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const send = (method: string, path: string, body: Buffer | undefined, type = 'application/x-www-form-urlencoded') =>
      new Promise<{ status: number; connection?: string; text: string }>((resolve, reject) => {
        const req = httpRequest(
          { agent, host: '127.0.0.1', port, method, path, headers: { host: HOST, ...(body ? { 'content-type': type, 'content-length': String(body.length) } : {}) } },
          (res) => {
            let text = '';
            res.on('data', (d) => (text += d));
            res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, text }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    try {
      const location = await fetch(`http://127.0.0.1:${port}/?a=${AFF.partner}&c=${CREATIVE.lead}`, { redirect: 'manual', headers: { host: HOST } });
      const clickId = new URL(location.headers.get('location')!).searchParams.get('reqid')!;
      // The conversions: on an offer that counts every one of a click (allow_duplicates).
      const repeat = await fetch(`http://127.0.0.1:${port}/?a=${AFF.partner}&c=${REPEAT.creative}`, { redirect: 'manual', headers: { host: HOST } });
      const repeatId = new URL(repeat.headers.get('location')!).searchParams.get('reqid')!;
      const tooBig = Buffer.alloc(MAX_BODY * 3, 'x');
      const leadids: string[] = [];
      const conversionIds: number[] = [];
      for (let i = 0; i < 5; i++) {
        const refused = await send('POST', '/d.ashx', tooBig);
        expect(refused).toMatchObject({ status: 413, connection: 'close' });
        const lead = await send('POST', '/d.ashx', Buffer.from(`ckm_offer_id=${OFFER.lead}&ckm_request_id=${clickId}&first_name=J&last_name=D&zip=90210&email=keepalive${i}@example.com`));
        leadids.push(/<leadid>(\w+)<\/leadid>/.exec(lead.text)![1]!);
        const refusedApi = await send('POST', `/api/2/conversion.json?api_key=${API_KEY}`, tooBig);
        expect(refusedApi).toMatchObject({ status: 413, connection: 'close' });
        const conv = await send('POST', '/api/2/conversion.json', Buffer.from(`api_key=${API_KEY}&click_id=${repeatId}&offer_id=${REPEAT.offer}&unique_id=keepalive${i}`));
        conversionIds.push(JSON.parse(conv.text).conversion.conversion_id);
      }
      const leads = (await (await fetch(`http://127.0.0.1:${port}/api/2/leads.json?api_key=${API_KEY}`)).json()) as any;
      expect(leads.response.leads.map((l: any) => l.lead_id).sort()).toEqual([...leadids].sort());
      const counts = sqliteCounts(db);
      expect(counts.read().conversions).toBe(conversionIds.length);
      counts.close();
    } finally {
      agent.destroy();
    }
  }, 60_000);
});
