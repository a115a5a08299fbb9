// What a classic method is given and how it reads its parameters with CAKE's sentinels: ids where
// 0 (or empty) means all, start_at_row 1-based (0 also the start), row_limit 0 no limit, booleans
// as TRUE/true/True/1, dates in every form clients send (dates.ts), -1 for "no change" on edits.
// Parameter names arrive lower-cased (route.ts): CAKE matches them case-insensitively.
import type { Context } from 'hono';
import type { AppDeps } from '../app.js';
import type { ApiKey } from '../network.js';
import type { Scope } from '../store/types.js';
import { parseCakeDate } from './dates.js';
import type { Doc } from './envelope.js';

export type Portal = 'admin' | 'affiliates';

export interface ClassicCall {
  deps: AppDeps;
  c: Context;
  portal: Portal;
  version: number;
  method: string;
  /** Lower-cased names; the first value of a repeated name. */
  params: Record<string, string>;
  /** The calling key (absent only for a method that takes none). */
  key: ApiKey;
  /** The rows the key may see, from auth.ts (for the affiliate API: the affiliate's). */
  scope: Scope;
}

export interface Method {
  /** The v2 API call (method and path) whose permission this method needs: auth.ts decides who
   * may make it and with which scope, as for the v2 API. `admin`: admin keys only. */
  v2: string;
  /** The response type's element name (for the answer and for its errors). */
  root: string;
  /** Whether the response type carries row_count (its errors then carry row_count 0). */
  list: boolean;
  /** The versions CAKE has this method in (inclusive). */
  versions: [number, number];
  /** Takes no api_key (get GetAPIKey). */
  keyless?: boolean;
  run(call: ClassicCall): Promise<Doc> | Doc;
}

/** An error answered in CAKE's envelope: success false and this message. */
export class ClassicError extends Error {}

/** A parameter of the wrong type: CAKE's envelope over GET and POST; under SOAP a fault, as
 * ASP.NET answers a SOAP element it cannot convert ("Input string was not in a correct format"). */
export class ClassicParamError extends ClassicError {}

/** A parameter that cannot be read: the message names it and says what it takes. */
function bad(name: string, what: string, value: string): ClassicError {
  return new ClassicParamError(`Invalid ${name}: "${value}" ${what}`);
}

export function str(p: Record<string, string>, name: string): string | undefined {
  const v = p[name];
  return v === undefined || v === '' ? undefined : v;
}

/** A whole number, or undefined when absent or empty. */
export function num(p: Record<string, string>, name: string): number | undefined {
  const v = str(p, name)?.trim();
  if (v === undefined) return undefined;
  if (!/^-?\d{1,10}$/.test(v)) throw bad(name, 'is not a whole number', v);
  return Number(v);
}

/** An id filter: 0, empty or absent mean "all" (undefined). */
export function idFilter(p: Record<string, string>, ...names: string[]): number | undefined {
  for (const name of names) {
    const v = num(p, name);
    if (v !== undefined && v !== 0) {
      if (v < 0) throw bad(name, 'is not an id (0 means all)', String(v));
      return v;
    }
  }
  return undefined;
}

export function flag(p: Record<string, string>, name: string): boolean | undefined {
  const v = str(p, name)?.trim();
  if (v === undefined) return undefined;
  if (/^(true|1|on|yes)$/i.test(v)) return true;
  if (/^(false|0|off|no)$/i.test(v)) return false;
  throw bad(name, 'is not TRUE or FALSE', v);
}

/** A money amount such as 18.5, in cents; undefined when absent or empty. */
export function amountCents(p: Record<string, string>, name: string): number | undefined {
  const v = str(p, name)?.trim();
  if (v === undefined) return undefined;
  if (!/^-?\d{1,9}(\.\d+)?$/.test(v)) throw bad(name, 'is not an amount such as 18.50', v);
  return Math.round(Number(v) * 100);
}

/** A date parameter, read in the network's zone (`zone`: its time_zone). */
export function dateParam(p: Record<string, string>, name: string, zone: string): number | undefined {
  const v = str(p, name);
  if (v === undefined || !v.trim()) return undefined;
  const ms = parseCakeDate(v, zone);
  if (ms === null) throw bad(name, 'is not a date (send it as MM/DD/YYYY HH:MM:SS or YYYY-MM-DDTHH:MM:SS)', v);
  return ms;
}

export function requiredDate(p: Record<string, string>, name: string, zone: string): number {
  const ms = dateParam(p, name, zone);
  if (ms === undefined) throw new ClassicError(`${name} is required (a date such as 01/31/2026)`);
  return ms;
}

/** start_date and end_date: end_date exclusive, as CAKE reads it (a date alone is its midnight). */
export function dateWindow(p: Record<string, string>, zone: string): { from: number; to: number } {
  const from = requiredDate(p, 'start_date', zone);
  const to = requiredDate(p, 'end_date', zone);
  if (to <= from) throw new ClassicError('end_date must be after start_date (end_date is not included: 01/01/2026 to 01/02/2026 is one day)');
  return { from, to };
}

/** The most rows one answer carries when row_limit is 0 ("no limit"). */
export const MAX_ROWS = 10_000;
/** The most rows start_at_row may skip (as the v2 API's start_at_row). */
export const MAX_SKIP = 100_000;

/** start_at_row (1-based; 0 is the start too) and row_limit (0: every row, up to MAX_ROWS). */
export function rows(p: Record<string, string>): { offset: number; limit: number; unlimited: boolean } {
  const start = num(p, 'start_at_row') ?? 0;
  const limit = num(p, 'row_limit') ?? 0;
  if (start < 0) throw bad('start_at_row', 'must be 1 or more (1 is the first row)', String(start));
  if (limit < 0) throw bad('row_limit', 'must be 0 (no limit) or more', String(limit));
  const offset = Math.max(0, start - 1);
  if (offset > MAX_SKIP) throw bad('start_at_row', `skips more than ${MAX_SKIP} rows: narrow the dates or filters instead`, String(start));
  return { offset, limit: limit === 0 ? MAX_ROWS : Math.min(limit, MAX_ROWS), unlimited: limit === 0 };
}

/** A row_limit=0 answer that would hold more than MAX_ROWS rows is refused, not cut silently. */
export function checkUnlimited(paging: { offset: number; unlimited: boolean }, total: number): void {
  if (paging.unlimited && total - paging.offset > MAX_ROWS) {
    throw new ClassicError(`${total} rows match, more than the ${MAX_ROWS} one answer holds: page with start_at_row and row_limit (row_count is the total)`);
  }
}

/** Sorts rows by `field` (a key of the row or a function of it); nulls first, like CAKE's SQL. */
export function sortRows<T>(rows: T[], by: (row: T) => string | number | null | undefined, descending: boolean): T[] {
  const sorted = [...rows].sort((a, b) => {
    const x = by(a) ?? null;
    const y = by(b) ?? null;
    if (x === y) return 0;
    if (x === null) return -1;
    if (y === null) return 1;
    return x < y ? -1 : 1;
  });
  return descending ? sorted.reverse() : sorted;
}
