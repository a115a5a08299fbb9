// A summary report's answer worked out from its two counts (clicks, conversions; report-sql.ts):
// the groups merged, totalled, counted, sorted and cut to the page asked for, so that a report by
// sub id of 100,000 groups hands back a page of 100 rows. Written as generators that pause between
// slices: driven on an event loop (`drive` in slices.ts), the loop answers clicks between slices;
// on the SQLite reader thread they run straight through, and only the page crosses to the event
// loop's heap (sqlite-reader.ts: the rows of a whole report crossing made the young-generation
// collections that held the click path). That thread runs these functions' own text, so nothing
// here may use what a module imports (types aside), nor anything outside the function itself but
// SLICE and the other functions of THREAD_CODE.
import type { ReportCounts as Counts, ReportMetric, ReportOrder, ReportPage, ReportRow } from '../store/types.js';

/** Items between pauses: about a millisecond of work. */
const SLICE = 4096;
/** A row of the clicks or the conversions statement: the group's key as `k`, and its sums. */
export type Counted = { k: unknown } & Record<string, unknown>;

/** Each metric of the summary report (PROTOCOL.md 11) from the counted sums, as the role sees it:
 * money in units with two decimals (counted in cents, so sums are exact), rates as fractions with
 * 4 decimals (0 over 0 is 0). */
export function metricOf(name: ReportMetric, r: Counts, affiliate: boolean): number {
  const fraction = (n: number, d: number) => (d === 0 ? 0 : Math.round((n / d) * 10_000) / 10_000);
  switch (name) {
    case 'clicks':
    case 'total_clicks':
    case 'macro_event_conversions':
    case 'micro_events':
    case 'paid':
    case 'pending':
    case 'rejected':
      return r[name];
    case 'conversion_rate':
      return fraction(r.macro_event_conversions, r.clicks);
    case 'payout':
    case 'cost':
      return r.cost_cents / 100;
    case 'revenue':
      return r.revenue_cents / 100;
    case 'profit':
      return (r.revenue_cents - r.cost_cents) / 100;
    case 'margin':
      return fraction(r.revenue_cents - r.cost_cents, r.revenue_cents);
    case 'epc':
      return r.clicks === 0 ? 0 : Math.round((affiliate ? r.cost_cents : r.revenue_cents) / r.clicks) / 100;
  }
}

/** Every sum at zero. */
export function noCounts(): Counts {
  return { clicks: 0, total_clicks: 0, macro_event_conversions: 0, micro_events: 0, paid: 0, pending: 0, rejected: 0, cost_cents: 0, revenue_cents: 0 };
}

/** Nulls first, numbers by value, text by code unit: the same order on every store. */
export function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : 1;
}

/** The groups of the two counts, merged by key (numbers and strings as the database gave them:
 * PostgreSQL's sums arrive as text), 4,096 rows between pauses. */
export function* mergeSteps(clicks: readonly Counted[], conversions: readonly Counted[]): Generator<void, ReportRow[]> {
  const sums = ['macro_event_conversions', 'micro_events', 'paid', 'pending', 'rejected', 'cost_cents', 'revenue_cents'] as const;
  const groups = new Map<unknown, ReportRow>();
  const group = (k: unknown): ReportRow => {
    const key = k === null || k === undefined ? null : typeof k === 'string' ? k : Number(k);
    let row = groups.get(key);
    if (!row) {
      row = { key, clicks: 0, total_clicks: 0, macro_event_conversions: 0, micro_events: 0, paid: 0, pending: 0, rejected: 0, cost_cents: 0, revenue_cents: 0 };
      groups.set(key, row);
    }
    return row;
  };
  for (let i = 0; i < clicks.length; i++) {
    if (i > 0 && i % SLICE === 0) yield;
    const r = clicks[i]!;
    const row = group(r.k);
    row.clicks += Number(r.clicks);
    row.total_clicks += Number(r.total_clicks);
  }
  for (let i = 0; i < conversions.length; i++) {
    if (i % SLICE === 0) yield;
    const r = conversions[i]!;
    const row = group(r.k);
    for (const m of sums) row[m] += Number(r[m] ?? 0);
  }
  return [...groups.values()];
}

/** The order `items.sort(compare)` gives (stable), sorting runs of 4,096 then merging them
 * pairwise, with a pause after each run and every 16,384 items merged. Sorts in place when the
 * array is a single run; else answers a new array. */
export function* sortSteps<T>(items: T[], compare: (a: T, b: T) => number): Generator<void, T[]> {
  if (items.length <= SLICE) return items.sort(compare);
  let runs: T[][] = [];
  for (let at = 0; at < items.length; at += SLICE) {
    if (at > 0) yield;
    runs.push(items.slice(at, at + SLICE).sort(compare));
  }
  while (runs.length > 1) {
    const merged: T[][] = [];
    for (let r = 0; r < runs.length; r += 2) {
      const a = runs[r]!;
      const b = runs[r + 1];
      if (!b) {
        merged.push(a);
        continue;
      }
      const out = new Array<T>(a.length + b.length);
      let i = 0;
      let j = 0;
      let k = 0;
      while (i < a.length && j < b.length) {
        // Ties keep a's first: the order stays stable.
        out[k++] = compare(b[j]!, a[i]!) < 0 ? b[j++]! : a[i++]!;
        if (k % (SLICE * 4) === 0) yield;
      }
      while (i < a.length) out[k++] = a[i++]!;
      while (j < b.length) out[k++] = b[j++]!;
      merged.push(out);
    }
    runs = merged;
  }
  return runs[0]!;
}

/** The first `count` items of the order `items.sort(compare)` gives (stable). A page of 100 out of
 * 100,000 groups keeps the best `count` in a sorted buffer of at most 1,000 (each insertion moves
 * at most that many) rather than sorting them all; a page reaching further sorts them all. */
export function* firstSteps<T>(items: readonly T[], compare: (a: T, b: T) => number, count: number): Generator<void, T[]> {
  if (count > 1000 || count * 8 >= items.length) return (yield* sortSteps([...items], compare)).slice(0, count);
  const best: T[] = [];
  for (let i = 0; i < items.length; i++) {
    if (i > 0 && i % SLICE === 0) yield;
    const item = items[i]!;
    // Ties go after what is kept: an earlier item stays first, as in a stable sort.
    if (best.length === count && compare(item, best[count - 1]!) >= 0) continue;
    let lo = 0;
    let hi = best.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compare(item, best[mid]!) < 0) hi = mid;
      else lo = mid + 1;
    }
    best.splice(lo, 0, item);
    if (best.length > count) best.pop();
  }
  return best;
}

/** The report's page in the order asked for (ties by key, ascending), how many groups it has, and
 * the totals over all of them. */
export function* pageSteps(clicks: readonly Counted[], conversions: readonly Counted[], order: ReportOrder): Generator<void, ReportPage> {
  const groups = yield* mergeSteps(clicks, conversions);
  const totals = noCounts();
  const fields = Object.keys(totals) as (keyof Counts)[];
  const names = order.names ?? {};
  const sortValue = (r: ReportRow) => {
    if (order.sort === 'key') return r.key;
    if (order.sort === 'name') return r.key === null ? null : names[r.key] ?? null;
    return metricOf(order.sort, r, order.affiliate);
  };
  // Each group's sort value computed once, not in the comparison (which runs n log n times).
  const decorated = new Array<{ r: ReportRow; value: unknown }>(groups.length);
  for (let i = 0; i < groups.length; i++) {
    if (i > 0 && i % SLICE === 0) yield;
    const r = groups[i]!;
    for (const f of fields) totals[f] += r[f];
    decorated[i] = { r, value: sortValue(r) };
  }
  const first = yield* firstSteps(
    decorated,
    (a, b) => {
      const by = compareValues(a.value, b.value);
      return (order.descending ? -by : by) || compareValues(a.r.key, b.r.key);
    },
    order.offset + order.limit,
  );
  return { rows: first.slice(order.offset).map((d) => d.r), count: groups.length, totals };
}

/** Runs steps to their end without pausing (where nothing else waits: the reader thread). */
export function finish<T>(steps: Generator<void, T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Every group, ordered by key: what a caller that lists them all asks for (the classic API). */
export const EVERY_GROUP: ReportOrder = { sort: 'key', descending: false, affiliate: false, offset: 0, limit: Infinity };

/** The text of the functions above and the constant they share, for a thread that runs them
 * (sqlite-reader.ts). */
export const THREAD_CODE = [`const SLICE = ${SLICE};`, ...[metricOf, noCounts, compareValues, mergeSteps, sortSteps, firstSteps, pageSteps, finish].map(String)].join('\n');
