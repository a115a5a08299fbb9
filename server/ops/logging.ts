// The log: what is written, at which level, and what never is. Web-standard only: the Node entry
// hands the app a pino logger (node-log.ts); any other runtime gets consoleLog().
//
// Never logged: request bodies, headers, cookies, client addresses, and the values of request
// parameters other than ids and enums (so no api_key, ckm_key, email, phone number or lead field,
// whatever the route calls them). Error messages and stacks pass through scrub() too, since a
// database error may quote the value it refused.
import type { StoreObserver } from './observe.js';

export const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type Level = (typeof LEVELS)[number];

type LogFn = (record: object, message?: string) => void;

/** What the app writes to; pino's Logger is one. */
export interface Log {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  isLevelEnabled(level: string): boolean;
}

export function isLevel(value: string): value is Level {
  return (LEVELS as readonly string[]).includes(value);
}

/** One JSON object a line on the console, for runtimes without pino (and the in-process app of
 * tests): the same records pino writes, with the level as a word. */
export function consoleLog(level: Level = 'warn', base: Record<string, unknown> = {}): Log {
  const threshold = LEVELS.indexOf(level);
  const at =
    (name: Exclude<Level, 'silent' | 'fatal'>): LogFn =>
    (record, message) => {
      if (LEVELS.indexOf(name) < threshold) return;
      const line = JSON.stringify({ level: name, time: new Date().toISOString(), ...base, ...record, ...(message ? { msg: message } : {}) });
      if (name === 'error' || name === 'warn') console.error(line);
      else console.log(line);
    };
  return {
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    isLevelEnabled: (name) => isLevel(name) && LEVELS.indexOf(name) >= threshold,
  };
}

// ---- which requests, at which level ----------------------------------------------------------------

/** Polled by load balancers every second or so, whatever their answer. */
const PROBES = new Set(['/healthz', '/readyz', '/metrics']);
/** The doors landing pages and ad servers hit thousands of times a second. */
const TRACKING = new Set(['/', '/d.ashx', '/p.ashx', '/d.js']);

/** The level of a request's line. The probes are `debug` whatever they answer (a store outage is
 * logged once by the readiness check, not once a second). A failure of ours is an error anywhere
 * else. The tracking doors are `debug`: at the default level they cost a level check and nothing
 * more (their counts and latencies are in /metrics), so a click stays a click; a JSON line per click
 * costs about a fifth of its CPU. Everything else (the API, posting documents, the demo) is a person
 * or an integration working with the network: `info`. */
export function requestLevel(route: string, status: number): 'debug' | 'info' | 'warn' | 'error' {
  if (PROBES.has(route)) return 'debug';
  // Shed load (503, Retry-After) and a read stopped by its timeout (504) are foreseen answers:
  // a warning each, no stack.
  if (status === 503 || status === 504) return 'warn';
  if (status >= 500) return 'error';
  return TRACKING.has(route) ? 'debug' : 'info';
}

// ---- redaction -------------------------------------------------------------------------------------

/** Parameters whose values are ids, enums, dates, amounts or paging: safe to log, and what an
 * operator needs to tell one request from another. Every other parameter (keys, emails, phone
 * numbers, sub ids, transaction ids, lead fields, anything a later route adds) is logged by name
 * with its value replaced. */
const SHOWN = new Set([
  // tracking links and pixels
  'a', 'c', 'o', 'e', 'f', 'r', 'p', 'ap', 'cp', 'reqid', 'ckm_request_id', 'request_id', 'ckm_offer_id', 'ckm_campaign_id', 'ckm_test', 'ckm_bp',
  // the API
  'offer_id', 'affiliate_id', 'advertiser_id', 'campaign_id', 'creative_id', 'conversion_id', 'lead_id', 'click_id', 'event_id',
  'postback_id', 'delivery_id', 'tracking_domain_id', 'status', 'domain_status', 'postback_status', 'postback_type_id', 'fire_on',
  'start_date', 'end_date', 'start_at_row', 'row_limit', 'sort_field', 'sort_descending', 'include_tests', 'disposition',
]);
/** What a shown value may look like: an id, a date, an amount, a word. Anything else (an email
 * given as an id, a long text) is replaced too. */
const PLAIN_VALUE = /^[\w.:+ -]{0,64}$/;
export const REDACTED = '[redacted]';

/** The request's path and query as they may be logged: the path scrubbed, each parameter's value
 * kept only when it is an id or an enum of the contract. */
export function redactTarget(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  const target = start < 0 ? '/' : url.slice(start);
  const q = target.indexOf('?');
  // Decoded to be scrubbed: an email in a path arrives as %40.
  const path = scrub(decode(q < 0 ? target : target.slice(0, q), false));
  if (q < 0) return path;
  const query = target.slice(q + 1).split('#')[0]!;
  if (!query) return path;
  const parts = query.split('&').map((pair) => {
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const name = decode(rawName);
    if (eq < 0) return SHOWN.has(name) ? rawName : REDACTED;
    const value = decode(pair.slice(eq + 1));
    // An unknown parameter's name may itself be data (a lead field named after its value): shown
    // only when it looks like a name.
    const shownName = /^[\w.-]{1,64}$/.test(name) ? rawName : REDACTED;
    return SHOWN.has(name) && PLAIN_VALUE.test(value) && !value.includes('@') ? pair : `${shownName}=${REDACTED}`;
  });
  return `${path}?${parts.join('&')}`;
}

function decode(text: string, plusIsSpace = true): string {
  try {
    return decodeURIComponent(plusIsSpace ? text.replace(/\+/g, ' ') : text);
  } catch {
    return text;
  }
}

const EMAIL = /[^\s@"'<>()[\],;:/\\=&?]+@[^\s@"'<>()[\],;:/\\=&?]+\.[a-z]{2,}/gi;
/** Phone-like: an international number (+ and 8 to 15 digits, with the separators people type) or
 * a North American one (555 123 4567 in its usual spellings). Dates, times, addresses and ids do
 * not have these shapes. */
const PHONE = /(?<![\w+])(?:\+\d[\d ().-]{6,18}\d|\(?\d{3}\)?[ .-]?\d{3}[ .-]\d{4})(?![\w])/g;
const SECRET_PARAM = /\b(api_key|ckm_key|key|token|password|secret|metrics_token|reqid_secret)=([^&\s"']+)/gi;
const BEARER = /\bBearer\s+[^\s"']+/gi;
const URL_PASSWORD = /(\w+:\/\/[^:@/\s]*):[^@/\s]*@/g;

/** Text from elsewhere (an error message, a stack, an unknown path) with anything that looks like a
 * secret or a person's contact details replaced. */
export function scrub(text: string): string {
  return text
    .replace(URL_PASSWORD, '$1:***@')
    .replace(SECRET_PARAM, `$1=${REDACTED}`)
    .replace(BEARER, `Bearer ${REDACTED}`)
    .replace(EMAIL, '[email]')
    .replace(PHONE, '[phone]');
}

/** An error as a log record field: its type, message and stack, scrubbed. */
export function errorRecord(error: unknown): { type: string; message: string; stack?: string } {
  if (!(error instanceof Error)) return { type: typeof error, message: scrub(String(error)) };
  const cause = error.cause instanceof Error ? ` (cause: ${error.cause.message})` : '';
  return { type: error.name, message: scrub(error.message + cause), stack: error.stack ? scrub(error.stack) : undefined };
}

// ---- errors that repeat ----------------------------------------------------------------------------

/** Logs a recurring failure (the store down while a loop retries every second) with its stack the
 * first time, then once a minute at most, without the stack, with how many times it happened
 * since. A different message starts over. */
export function repeatedErrors(log: Log, what: string, clock: () => number = Date.now, everyMs = 60_000): (error: unknown) => void {
  let last: string | undefined;
  let since = 0;
  let repeats = 0;
  return (error) => {
    const record = errorRecord(error);
    const now = clock();
    if (record.message !== last) {
      last = record.message;
      since = now;
      repeats = 0;
      log.error({ err: record }, `${what}: ${record.message}`);
      return;
    }
    repeats++;
    if (now - since < everyMs) return;
    log.error({ err: { type: record.type, message: record.message }, repeats }, `${what}, again ${repeats} times: ${record.message}`);
    since = now;
    repeats = 0;
  };
}

// ---- postback deliveries ---------------------------------------------------------------------------

/** A line when a delivery changes state: delivered (debug: one per conversion), given up (warn:
 * someone should look). Retries change nothing and write nothing; every attempt is in the store's
 * delivery log either way. Never the postback's URL: it may carry the affiliate's own keys. */
export function deliveryLog(log: Log): StoreObserver {
  return {
    attempt(attempt, outcome) {
      const record = { delivery_id: attempt.delivery_id, status_code: attempt.status_code, latency_ms: attempt.latency_ms };
      if (outcome.delivered) {
        if (log.isLevelEnabled('debug')) log.debug(record, `postback delivery ${attempt.delivery_id} delivered`);
        return;
      }
      if (outcome.retry_in_ms !== null) return;
      const why = attempt.error ? scrub(attempt.error) : `HTTP ${attempt.status_code}`;
      log.warn(
        { ...record, error: why },
        `postback delivery ${attempt.delivery_id} failed for good (${why}); its attempts: /api/2/postback_deliveries.json?delivery_id=${attempt.delivery_id}`,
      );
    },
  };
}
