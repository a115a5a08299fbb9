// Dates as CAKE's clients send them and read them. CAKE reads dates with .NET's en-US
// DateTime.Parse, so clients send every form of it (CAKE-CLASSIC-API.md 1): 2016-01-31T10:00:00,
// 01/31/2016 10:00:00, 1/31/2016, 01/31/16, 01-31-2016, Jan-31-2016, 2016-01-31 10:00:00.123456,
// with a trailing space or a 12-hour clock. Times carry no zone: they are the network's time
// (its time_zone setting, the zone of the summary reports; UTC by default), in both directions.
import { offsetAt } from '../reports/zone.js';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

const TIME = String.raw`(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?\s*([AaPp][Mm])?)?`;
const ISO = new RegExp(String.raw`^(\d{4})-(\d{1,2})-(\d{1,2})${TIME}Z?$`);
const US = new RegExp(String.raw`^(\d{1,2})[/-](\d{1,2})[/-](\d{2}|\d{4})${TIME}$`);
const NAMED = new RegExp(String.raw`^([A-Za-z]{3})[a-z]*[- ](\d{1,2}),?[- ](\d{4})${TIME}$`);

/** The instant of a date in any of those forms, read as local time in `zone`; null when it is
 * none of them. */
export function parseCakeDate(input: string, zone = 'UTC'): number | null {
  const local = parseLocal(input);
  if (local === null || zone === 'UTC') return local;
  // The offset at the instant, which depends on the instant: twice settles it (a time skipped by
  // a daylight-saving change reads as the instant after the change).
  let t = local - offsetAt(zone, local);
  t = local - offsetAt(zone, t);
  return t;
}

function parseLocal(input: string): number | null {
  const s = input.trim();
  let y: number, mo: number, d: number, rest: string[];
  let m = ISO.exec(s);
  if (m) {
    [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    rest = m.slice(4);
  } else if ((m = US.exec(s))) {
    [mo, d, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
    // Two-digit years as .NET reads them: 00-29 are 2000s, 30-99 the 1900s.
    if (m[3]!.length === 2) y += y < 30 ? 2000 : 1900;
    rest = m.slice(4);
  } else if ((m = NAMED.exec(s))) {
    mo = MONTHS.indexOf(m[1]!.toLowerCase()) + 1;
    if (!mo) return null;
    [d, y] = [Number(m[2]), Number(m[3])];
    rest = m.slice(4);
  } else return null;
  let hour = rest[0] === undefined ? 0 : Number(rest[0]);
  const minute = rest[1] === undefined ? 0 : Number(rest[1]);
  const second = rest[2] === undefined ? 0 : Number(rest[2]);
  const ms = rest[3] === undefined ? 0 : Math.floor(Number(`0.${rest[3]}`) * 1000);
  const half = rest[4]?.toLowerCase();
  if (half) {
    if (hour < 1 || hour > 12) return null;
    hour = (hour % 12) + (half === 'pm' ? 12 : 0);
  }
  if (hour > 23 || minute > 59 || second > 59) return null;
  const at = Date.UTC(y, mo - 1, d, hour, minute, second, ms);
  const check = new Date(at);
  // 02/31/2016 is no date (Date.UTC would roll it over to March).
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return null;
  return at;
}

/** 2026-11-21T12:00:00.000, as CAKE's answers write dates: local time in `zone`, no offset. */
export function formatCakeDate(ms: number, zone = 'UTC'): string {
  return new Date(zone === 'UTC' ? ms : ms + offsetAt(zone, ms)).toISOString().slice(0, 23);
}
