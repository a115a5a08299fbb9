// Reading request parameters the way CAKE's endpoints take them: the query string merged with a
// form, JSON or text/plain JSON body (sendBeacon can only send text/plain), the first value of a
// repeated key winning; and checking them against a zod schema into errors that name the parameter.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import { textToCents } from './money.js';

export type Params = Record<string, string>;

export interface ParamError {
  parameter: string;
  message: string;
}

/** Answered as 400 with the errors, in the envelope of the endpoint that threw it. */
export class BadParams extends Error {
  constructor(readonly errors: ParamError[]) {
    super(errors.map((e) => `${e.parameter} ${e.message}`).join('; '));
  }
}

/** `nested: 'skip'` leaves a JSON body's objects and lists out of the parameters (for calls that
 * read the body themselves, such as the management API) instead of refusing them. */
export async function readParams(c: Context, options: { nested?: 'refuse' | 'skip' } = {}): Promise<Params> {
  const params = queryParams(c.req.url);
  if (c.req.method === 'GET' || c.req.method === 'HEAD') return params;
  const type = (c.req.header('content-type') ?? '').toLowerCase();
  const text = await c.req.text();
  if (!text) return params;
  if (isJsonBody(type, text)) {
    addJson(params, text, options.nested === 'skip');
  } else if (type.includes('x-www-form-urlencoded') || type.startsWith('text/plain') || !type) {
    addFirst(params, new URLSearchParams(text));
  } else if (!type.includes('xml')) {
    throw new HTTPException(415, {
      message: `Content-Type ${type} is not accepted: send application/x-www-form-urlencoded or application/json`,
    });
  }
  return params;
}

/** A body is JSON when its type says so, or when it is text/plain holding a JSON object (d.js and
 * sendBeacon send that, to stay a CORS simple request). The one rule for reading and answering. */
export function isJsonBody(type: string, text: string): boolean {
  return type.includes('json') || (type.startsWith('text/plain') && text.trimStart().startsWith('{'));
}

/** The query string's parameters, the first of a repeated key winning. The map has no prototype,
 * so that keys such as `constructor` are data like any other. */
export function queryParams(url: string): Params {
  const params: Params = Object.create(null);
  const query = url.indexOf('?');
  if (query >= 0) addFirst(params, new URLSearchParams(url.slice(query + 1)));
  return params;
}

function addFirst(params: Params, search: Iterable<[string, string]>) {
  for (const [key, value] of search) if (!(key in params)) params[key] = value;
}

/** The query string wins over the body for a key in both, as for forms (and as CAKE's ASP.NET reads
 * them: query string first). */
function addJson(params: Params, text: string, skipNested: boolean) {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new BadParams([{ parameter: 'body', message: 'is not valid JSON' }]);
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadParams([{ parameter: 'body', message: 'must be a JSON object of parameter names to values' }]);
  }
  for (const [key, value] of Object.entries(body)) {
    if (value === null || value === undefined) continue;
    if (typeof value === 'object') {
      if (skipNested) continue;
      throw new BadParams([{ parameter: key, message: 'must be a single value, not an object or list' }]);
    }
    if (!(key in params)) params[key] = String(value);
  }
}

/** Checks `params` against `schema` (an object of parameter schemas); throws BadParams. */
export function parseParams<S extends z.ZodObject>(schema: S, params: Params): z.output<S> {
  const result = schema.safeParse(params);
  if (result.success) return result.data;
  throw new BadParams(
    result.error.issues.map((issue) => ({
      parameter: String(issue.path[0] ?? 'parameters'),
      message: issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message,
    })),
  );
}

// ---- parameter schemas ------------------------------------------------------------------------------

const MAX_ID = 2147483647;

/** A positive whole number id such as 12345. */
export const idParam = z
  .string()
  .regex(/^\d{1,10}$/, 'must be a whole number such as 12345')
  .transform(Number)
  .refine((n) => n >= 1 && n <= MAX_ID, `must be between 1 and ${MAX_ID}`);

/** An offer id where 0 means every offer. */
export const offerOrAllParam = z
  .string()
  .regex(/^\d{1,10}$/, 'must be a whole number (0 for every offer)')
  .transform(Number)
  .refine((n) => n <= MAX_ID, `must be at most ${MAX_ID}`);

export function countParam(min: number, max: number) {
  return z
    .string()
    .regex(/^\d{1,10}$/, `must be a whole number between ${min} and ${max}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `must be between ${min} and ${max}`);
}

/** YYYY-MM-DD, as milliseconds at 00:00 UTC of that day. */
export const dateParam = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD')
  .transform((text, ctx) => {
    const ms = Date.parse(`${text}T00:00:00Z`);
    if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== text) {
      ctx.addIssue({ code: 'custom', message: `is not a calendar date (${text})` });
      return z.NEVER;
    }
    return ms;
  });

/** YYYY-MM-DD HH:MM:SS (or YYYY-MM-DDTHH:MM:SS, or a date alone), UTC, as milliseconds. */
export const dateTimeParam = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?Z?$/, 'must be a date and time as YYYY-MM-DD HH:MM:SS (UTC)')
  .transform((text, ctx) => {
    const iso = text.length === 10 ? `${text}T00:00:00Z` : `${text.replace(' ', 'T').replace(/Z$/, '')}Z`;
    const ms = Date.parse(iso);
    if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== text.slice(0, 10)) {
      ctx.addIssue({ code: 'custom', message: `is not a real date and time (${text})` });
      return z.NEVER;
    }
    return ms;
  });

/** A money amount such as 18 or 18.50, as integer cents (half up, never through a float). */
export const moneyParam = z
  .string()
  .regex(/^\d{1,9}(\.\d{1,4})?$/, 'must be an amount such as 18.50')
  .transform((text) => textToCents(text)!);

export const booleanParam = z
  .string()
  .regex(/^(true|false|1|0)$/i, 'must be true or false')
  .transform((text) => text === '1' || text.toLowerCase() === 'true');

/** One of `values`; the error lists them. */
export function enumParam<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: (issue) => (issue.input === undefined ? 'is required' : `must be one of ${values.join(', ')}`) });
}

/** Drops parameters sent empty (`&payout=&t=`, as page and postback templates leave them), so
 * that they count as not sent. */
export function withoutEmpty(params: Params): Params {
  return Object.fromEntries(Object.entries(params).filter(([, v]) => v !== ''));
}

const DAY = 86_400_000;

/** A report's start_date and end_date as a time range: end_date is inclusive (the whole of that
 * day) and may not come before start_date. */
export function dateRange(p: { start_date?: number; end_date?: number }): { from?: number; to?: number } {
  if (p.start_date !== undefined && p.end_date !== undefined && p.end_date < p.start_date) {
    throw new BadParams([{ parameter: 'end_date', message: 'must not be before start_date' }]);
  }
  return { from: p.start_date, to: p.end_date === undefined ? undefined : p.end_date + DAY };
}

/** A report's start_date and end_date as a time range of at most `maxDays` days (`call` names
 * the list in the error). Without end_date the range ends today (by `now`); without start_date it
 * starts `maxDays` days before its end, so that no call reads an unbounded range. */
export function cappedRange(p: { start_date?: number; end_date?: number }, maxDays: number, now: number, call: string): { from: number; to: number } {
  const end = p.end_date ?? Math.floor(now / DAY) * DAY;
  const start = p.start_date ?? end - (maxDays - 1) * DAY;
  const { from, to } = dateRange({ start_date: start, end_date: end });
  if ((to! - from!) / DAY > maxDays) {
    throw new BadParams([
      {
        parameter: 'end_date',
        message: `makes a range of ${(to! - from!) / DAY} days; ${call} covers at most ${maxDays} days (start_date to end_date, both included): ask for the rest in further calls`,
      },
    ]);
  }
  return { from: from!, to: to! };
}

/** The most rows start_at_row may skip: a skip costs as many rows as it skips, so past this a
 * list is paged by key (start_after, each page's next_start_after). */
export const MAX_SKIP = 100_000;

/** A report's start_at_row (at most MAX_SKIP) and row_limit (default 100, at most `maxRows`). */
export function pagingParams(maxRows: number) {
  return {
    start_at_row: z
      .string()
      .regex(/^\d{1,10}$/, `must be a whole number between 0 and ${MAX_SKIP}`)
      .transform(Number)
      .refine((n) => n <= MAX_SKIP, `must be at most ${MAX_SKIP}: page on with start_after (the next_start_after of the previous page)`)
      .optional(),
    row_limit: countParam(1, maxRows).optional(),
  };
}

/** The filters click.json and leads.json share: dates, offer, affiliate, paging. */
export function reportParams(maxRows: number) {
  return {
    start_date: dateParam.optional(),
    end_date: dateParam.optional(),
    offer_id: idParam.optional(),
    affiliate_id: idParam.optional(),
    ...pagingParams(maxRows),
  };
}

export function paging(p: { start_at_row?: number; row_limit?: number }): { offset: number; limit: number } {
  return { offset: p.start_at_row ?? 0, limit: p.row_limit ?? 100 };
}

/** Text of at most `max` characters. */
export function textParam(max: number) {
  return z.string().max(max, `must be at most ${max} characters`);
}

/** 'YYYY-MM-DD HH:MM:SS' in UTC, the API's answer format. */
export function formatDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** Cents as the API's decimal amount. */
export function money(cents: number): number {
  return cents / 100;
}
