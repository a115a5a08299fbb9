// Time-zone arithmetic for the summary reports, with Intl (a web standard: Node, Workers and
// browsers carry the IANA database). A report cuts days and hours in its zone, so it needs, over its
// range, the zone's offset from UTC at every instant: a zone's offset is constant between its
// transitions (daylight saving changes), and a range of a year holds a handful of them. The store
// gets those pieces and computes each row's local time as `time + offset` in SQL, so a 23- or
// 25-hour day and a +05:30 or +05:45 zone are cut exactly, with no zone database in the database.

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** From `since` on (until the next piece), local time is UTC plus `offset` ms. */
export interface OffsetPiece {
  since: number;
  offset: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Whether `zone` is an IANA time zone name this runtime knows. */
export function isTimeZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** The zone's offset from UTC at instant `t`, in ms (to the minute: real offsets are). */
export function offsetAt(zone: string, t: number): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(zone).formatToParts(new Date(t))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const local = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return Math.round((local - Math.floor(t / 1000) * 1000) / MINUTE) * MINUTE;
}

/** The instant local midnight begins `day` (ms at 00:00 UTC of that calendar date) in the zone;
 * when a transition skips midnight, the first instant of that date. */
export function startOfDay(zone: string, day: number): number {
  let t = day - offsetAt(zone, day);
  for (let i = 0; i < 3; i++) {
    const next = day - offsetAt(zone, t);
    if (next === t) break;
    t = next;
  }
  // A skipped midnight: t may land before the day began locally; step to where it has.
  while (t + offsetAt(zone, t) < day) t += 15 * MINUTE;
  return t;
}

/** The zone's offset pieces over [from, to): found by sampling every 6 hours (transitions are
 * months apart) and narrowing each change to the minute. */
export function offsetPieces(zone: string, from: number, to: number): OffsetPiece[] {
  const pieces: OffsetPiece[] = [{ since: from, offset: offsetAt(zone, from) }];
  const step = 6 * HOUR;
  for (let t = from; t < to; t += step) {
    const end = Math.min(t + step, to);
    const before = pieces[pieces.length - 1]!.offset;
    if (offsetAt(zone, end) === before) continue;
    let lo = t;
    let hi = end; // offset(lo) === before, offset(hi) !== before
    while (hi - lo > MINUTE) {
      const mid = lo + Math.max(1, Math.floor((hi - lo) / 2 / MINUTE)) * MINUTE;
      if (offsetAt(zone, mid) === before) lo = mid;
      else hi = mid;
    }
    // Transitions fall on whole minutes: the first one after lo.
    const at = Math.ceil((lo + 1) / MINUTE) * MINUTE;
    if (at < to) pieces.push({ since: at, offset: offsetAt(zone, at) });
  }
  return pieces;
}

/** A local day number (days since 1970-01-01 in the zone) as its date. */
export function dayName(n: number): string {
  return new Date(n * DAY).toISOString().slice(0, 10);
}

/** A local hour number (hours since 1970-01-01 00:00 in the zone) as "YYYY-MM-DD HH:00". */
export function hourName(n: number): string {
  return new Date(n * HOUR).toISOString().slice(0, 13).replace('T', ' ') + ':00';
}

export const UNITS = { day: DAY, hour: HOUR } as const;
