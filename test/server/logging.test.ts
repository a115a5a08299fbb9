// The request log (server/ops/logging.ts, requests.ts): one JSON line per request at most, its
// level, and never a secret or a personal field, read from the log pino actually writes.
import { afterEach, describe, expect, it } from 'vitest';
import { deliveryLog, redactTarget, repeatedErrors, requestLevel, scrub } from '../../server/ops/logging.js';
import { prettyLine } from '../../server/ops/node-log.js';
import { nodeOps } from '../../server/ops/node-ops.js';
import type { Store } from '../../server/store/types.js';
import { openSqliteStore } from '../../server/store/sqlite.js';
import { makeApp, tempDbPath, type TestApp } from '../support/app.js';
import { click, form, FORM } from '../support/leads.js';
import { INSTANCE, memoryLog } from '../support/log.js';
import { API_KEY, CAMPAIGN, CREATIVE, AFF, OFFER, POST_KEY } from '../support/network.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** What a lead carries that must never reach the log. */
const PERSON = {
  first_name: 'Zebediah',
  last_name: 'Quillfeather',
  email: 'zeb.quill@mailbox.example',
  phone: '(415) 555-0134',
  zip: '94110',
  address: '1 Larkspur Lane',
  comments: 'call me after 6',
};
const SECRETS = [API_KEY, POST_KEY, ...Object.values(PERSON)];

function withLog(level: 'debug' | 'info' = 'debug', store?: Store) {
  const memory = memoryLog(level);
  const raw = store ?? openSqliteStore({ path: tempDbPath() });
  const { store: observed, ops } = nodeOps({ store: raw, log: memory.log, processMetrics: false });
  t = makeApp({ store: observed, ops });
  return { t, memory };
}

function expectNoSecret(text: string) {
  for (const secret of SECRETS) {
    expect(text).not.toContain(secret);
    expect(text).not.toContain(encodeURIComponent(secret));
    expect(text).not.toContain(new URLSearchParams({ x: secret }).toString().slice(2));
  }
}

describe('request lines', () => {
  it('writes one JSON line per request, with route, status, latency and instance', async () => {
    const { t, memory } = withLog('debug');
    await t.get(`/?a=${AFF.partner}&c=${CREATIVE.lead}&s1=sub`);
    await t.get(`/api/2/click.json?api_key=${API_KEY}&row_limit=5`);
    await t.get('/no/such/page');
    const lines = memory.requests();
    expect(lines).toHaveLength(3);
    expect(memory.lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({ level: 'debug', instance: INSTANCE, method: 'GET', route: '/', status: 302 });
    expect(lines[1]).toMatchObject({ level: 'info', instance: INSTANCE, route: '/api/2/click.json', status: 200, url: '/api/2/click.json?api_key=[redacted]&row_limit=5' });
    expect(lines[2]).toMatchObject({ level: 'info', route: 'unmatched', status: 404 });
    for (const line of lines) {
      expect(typeof line.ms).toBe('number');
      expect(line.ms).toBeGreaterThanOrEqual(0);
      expect(Date.parse(line.time)).not.toBeNaN();
    }
  });

  it('logs the tracking doors at debug only, so that at the default level a click writes nothing', async () => {
    const { t, memory } = withLog('info');
    await t.get(`/?a=${AFF.partner}&c=${CREATIVE.lead}`);
    await t.get(`/p.ashx?o=${OFFER.lead}&f=img`);
    await t.get(`/d.ashx?${form({ ckm_campaign_id: CAMPAIGN.lead, ckm_key: POST_KEY, ...PERSON })}`);
    await t.get('/healthz');
    expect(memory.lines).toEqual([]);
    await t.get(`/api/2/leads.json?api_key=${API_KEY}`);
    expect(memory.requests().map((r) => r.route)).toEqual(['/api/2/leads.json']);
  });

  it('never writes keys, emails, phone numbers or lead fields, from the query, the body or the headers', async () => {
    const { t, memory } = withLog('debug');
    const { reqid } = await click(t);
    // A server post by GET (everything in the query), a form post, a JSON post, with the campaign's key.
    await t.get(`/d.ashx?${form({ ckm_campaign_id: CAMPAIGN.lead, ckm_key: POST_KEY, ...PERSON })}`);
    await t.post('/d.ashx', form({ ckm_campaign_id: CAMPAIGN.lead, ckm_key: POST_KEY, ckm_request_id: reqid, ...PERSON, email: 'second@mailbox.example' }), FORM);
    await t.post('/d.ashx', JSON.stringify({ ckm_offer_id: OFFER.lead, ckm_request_id: reqid, ...PERSON, email: 'third@mailbox.example' }), 'application/json');
    // A refused post echoes fields back in its answer; the log still has none of them.
    await t.get(`/d.ashx?${form({ ckm_campaign_id: CAMPAIGN.lead, ckm_key: POST_KEY, ...PERSON, email: 'not-an-email' })}`);
    // The API, with the key in the query, in a form body and as a bearer token, and a person's email as a filter.
    await t.get(`/api/2/leads.json?api_key=${API_KEY}&email_address=${encodeURIComponent(PERSON.email)}`);
    await t.post('/api/2/leads.json', form({ api_key: API_KEY }), FORM);
    await t.get('/metrics', { headers: { authorization: `Bearer ${API_KEY}` } });
    await t.get(`/metrics?api_key=${API_KEY}`);
    // A pixel with the transaction id and the click, and a person's email in a sub id and in an id's place.
    await t.get(`/p.ashx?o=${OFFER.lead}&r=${reqid}&t=${encodeURIComponent(PERSON.email)}&f=img`);
    await t.get(`/?a=${AFF.partner}&c=${CREATIVE.lead}&s1=${encodeURIComponent(PERSON.email)}&s2=${encodeURIComponent(PERSON.phone)}`);
    await t.get(`/api/2/click.json?api_key=${API_KEY}&offer_id=${encodeURIComponent(PERSON.email)}`);
    await t.get(`/${encodeURIComponent(PERSON.email)}/${encodeURIComponent(PERSON.phone)}`);

    const text = memory.text();
    expectNoSecret(text);
    expect(text).not.toContain('second@mailbox.example');
    expect(text).not.toContain('third@mailbox.example');
    expect(memory.requests()).toHaveLength(13);
    // Still useful: the ids and names of what was sent are there.
    const urls = memory.requests().map((r) => r.url);
    expect(urls).toContain(`/d.ashx?ckm_campaign_id=${CAMPAIGN.lead}&ckm_key=[redacted]&first_name=[redacted]&last_name=[redacted]&email=[redacted]&phone=[redacted]&zip=[redacted]&address=[redacted]&comments=[redacted]`);
    expect(urls).toContain(`/p.ashx?o=${OFFER.lead}&r=${reqid}&t=[redacted]&f=img`);
    expect(urls).toContain('/[email]/[phone]');
  });

  it('logs an erasure request without the email it names', async () => {
    const { t, memory } = withLog('info');
    const res = await t.get(`/api/2/lead.json?api_key=${API_KEY}&email_address=${encodeURIComponent(PERSON.email)}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    const [line] = memory.requests();
    expect(line).toMatchObject({ method: 'DELETE', route: '/api/2/lead.json', status: 200 });
    expect(line!.url).toContain('email_address=[redacted]');
    expectNoSecret(memory.text());
  });

  it('logs an internal error once, on the request line, with its stack and without secrets', async () => {
    const store = openSqliteStore({ path: tempDbPath() });
    const failing: Store = Object.create(store);
    failing.listLeads = async () => {
      throw new Error(`constraint failed on lead of ${PERSON.email} (${PERSON.phone}) with api_key=${API_KEY}`);
    };
    const { t, memory } = withLog('info', failing);
    const res = await t.get(`/api/2/leads.json?api_key=${API_KEY}`);
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain('constraint');
    const [line, ...more] = memory.records();
    expect(more).toEqual([]);
    expect(line).toMatchObject({ level: 'error', route: '/api/2/leads.json', status: 500, url: '/api/2/leads.json?api_key=[redacted]' });
    expect(line!.err.message).toBe('constraint failed on lead of [email] ([phone]) with api_key=[redacted]');
    expect(line!.err.stack).toContain('logging.test.ts');
    expectNoSecret(memory.text());

    // The same failure again: its line, without the stack a second time.
    await t.get(`/api/2/leads.json?api_key=${API_KEY}`);
    const second = memory.records()[1]!;
    expect(second).toMatchObject({ level: 'error', status: 500 });
    expect(second.err.message).toBe(line!.err.message);
    expect(second.err.stack).toBeUndefined();
  });

  it("puts a client error's message on its line, not as an error", async () => {
    const { t, memory } = withLog('info');
    await t.get(`/api/2/click.json?api_key=${API_KEY}&row_limit=lots`);
    const [line] = memory.requests();
    expect(line).toMatchObject({ level: 'info', status: 400 });
    expect(line!.error).toContain('row_limit');
    expect(line!.err).toBeUndefined();
  });
});

describe('levels', () => {
  it('logs tracking paths at debug, API calls at info, shed load and stopped reads as warnings, other 5xx as errors', () => {
    expect(requestLevel('/', 302)).toBe('debug');
    expect(requestLevel('/api/2/click.json', 200)).toBe('info');
    expect(requestLevel('/', 503)).toBe('warn');
    expect(requestLevel('/api/2/click.json', 504)).toBe('warn');
    expect(requestLevel('/api/2/click.json', 500)).toBe('error');
  });
});

describe('redaction', () => {
  it('keeps ids and enums of the contract and replaces every other value', () => {
    expect(redactTarget('http://h/api/2/conversions.json?api_key=k&offer_id=12&start_date=2026-01-01&sort_field=payout&x=1')).toBe(
      '/api/2/conversions.json?api_key=[redacted]&offer_id=12&start_date=2026-01-01&sort_field=payout&x=[redacted]',
    );
    expect(redactTarget('http://h/?a=1&c=2&s1=anything&reqid=AbC_-9')).toBe('/?a=1&c=2&s1=[redacted]&reqid=AbC_-9');
    // An id parameter holding something that is not an id.
    expect(redactTarget('http://h/?a=jane%40example.com&c=2')).toBe('/?a=[redacted]&c=2');
    // A parameter whose name is itself data.
    expect(redactTarget('http://h/?jane%40example.com=1')).toBe('/?[redacted]=[redacted]');
    expect(redactTarget('http://h/d.js')).toBe('/d.js');
  });

  it('scrubs emails, phone numbers, keys, bearer tokens and URL passwords from free text', () => {
    expect(scrub('lead jane.doe+x@mail.example.co.uk failed')).toBe('lead [email] failed');
    for (const phone of ['+1 415 555 0134', '+44 20 7946 0958', '(415) 555-0134', '415-555-0134', '415.555.0134', '+14155550134']) {
      expect(scrub(`call ${phone} now`)).toBe('call [phone] now');
    }
    expect(scrub('GET /x?api_key=abc123&ckm_key=s3cret&o=1')).toBe('GET /x?api_key=[redacted]&ckm_key=[redacted]&o=1');
    expect(scrub('Authorization: Bearer abc.def')).toBe('Authorization: Bearer [redacted]');
    expect(scrub('connect postgres://crumb:hunter2@db:5432/crumb')).toBe('connect postgres://crumb:***@db:5432/crumb');
    // What is not personal stays readable.
    const plain = 'conversion 1234567 at 2026-11-21T12:00:00Z from 10.0.0.5:5432 line 42:17';
    expect(scrub(plain)).toBe(plain);
  });
});

describe('errors that repeat', () => {
  it('logs a recurring failure with its stack once, then once a minute with a count', () => {
    const memory = memoryLog('info');
    const clock = { now: 0 };
    const report = repeatedErrors(memory.log, 'postback dispatcher', () => clock.now);
    for (let i = 0; i < 5; i++) {
      report(new Error('SQLITE_BUSY: database is locked'));
      clock.now += 1000;
    }
    expect(memory.records()).toHaveLength(1);
    expect(memory.records()[0]).toMatchObject({ level: 'error', msg: 'postback dispatcher: SQLITE_BUSY: database is locked' });
    expect(memory.records()[0]!.err.stack).toContain('Error: SQLITE_BUSY');
    clock.now = 61_000;
    report(new Error('SQLITE_BUSY: database is locked'));
    expect(memory.records()).toHaveLength(2);
    expect(memory.records()[1]).toMatchObject({ repeats: 5, msg: 'postback dispatcher, again 5 times: SQLITE_BUSY: database is locked' });
    expect(memory.records()[1]!.err.stack).toBeUndefined();
    report(new Error('something else'));
    expect(memory.records()).toHaveLength(3);
  });
});

describe('postback deliveries', () => {
  it('writes a warning when a delivery is given up, a debug line when delivered, nothing for a retry', () => {
    const memory = memoryLog('debug');
    const observer = deliveryLog(memory.log);
    const attempt = (delivery_id: number, status_code: number | null, error: string | null = null) => ({ delivery_id, attempted_at: 1, status_code, latency_ms: 3, error });
    observer.attempt!(attempt(1, 500), { delivered: false, retry_in_ms: 5000 });
    expect(memory.lines).toEqual([]);
    observer.attempt!(attempt(1, 200), { delivered: true });
    observer.attempt!(attempt(2, null, 'getaddrinfo ENOTFOUND pb.example?key=s3cret'), { delivered: false, retry_in_ms: null });
    const [delivered, failed] = memory.records();
    expect(delivered).toMatchObject({ level: 'debug', delivery_id: 1, status_code: 200 });
    expect(failed).toMatchObject({ level: 'warn', delivery_id: 2, error: 'getaddrinfo ENOTFOUND pb.example?key=[redacted]' });
    expect(failed!.msg).toContain('/api/2/postback_deliveries.json?delivery_id=2');
  });
});

describe('the readable form', () => {
  it('writes a request as a line a person reads, and an error with its stack under it', () => {
    expect(prettyLine({ level: 'info', time: '2026-11-21T12:00:01.234Z', instance: 'h:1', msg: 'request', method: 'GET', route: '/api/2/click.json', url: '/api/2/click.json?api_key=[redacted]', status: 200, ms: 3.1 })).toBe(
      '12:00:01.234 INFO  GET /api/2/click.json?api_key=[redacted] 200 3.1 ms\n',
    );
    const error = prettyLine({ level: 'error', time: '2026-11-21T12:00:01.234Z', msg: 'postback dispatcher: boom', err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x (y.js:1:1)' } });
    expect(error).toBe('12:00:01.234 ERROR postback dispatcher: boom\n    Error: boom\n        at x (y.js:1:1)\n');
    expect(prettyLine({ level: 'warn', time: '2026-11-21T12:00:01.234Z', msg: 'given up', delivery_id: 7 })).toBe('12:00:01.234 WARN  given up delivery_id=7\n');
  });
});
