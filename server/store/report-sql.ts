// The summary report's SQL (PROTOCOL.md 11), shared by every store as list-sql.ts is for the lists:
// `?` placeholders (PostgreSQL numbers them) and text both dialects read alike. Two statements, one
// over clicks and one over conversions, each grouped by the report's key, merged and paged by
// reports/page.ts: the key's scope is a condition of each WHERE clause, as for the lists, never a filter applied to
// the answer. Local days and hours are `(time + offset) / unit` in integer arithmetic, the offset
// chosen by a CASE over the zone's pieces (reports/zone.ts), so any zone is cut exactly.
import { clickKeyRange, type KeyRange } from '../reqid.js';
import { Where } from './list-sql.js';
import type { Statement } from './network-sql.js';
import type { ReportGroup, ReportQuery } from './types.js';

const UNIT = { day: 86_400_000, hour: 3_600_000 } as const;

/** Which clicks count: attributed ones (an offer and affiliate found) that are unique (redirect,
 * pixel) or repeats first touch kept (`repeat <reqid>`). Refused clicks count nowhere. */
const UNIQUE = "c.disposition IN ('redirect', 'pixel')";
const COUNTED = `(${UNIQUE} OR c.disposition LIKE 'repeat %')`;

/** Conversions that stand: not rejected, reversed or scrubbed. */
const STANDING = "v.status IN ('approved', 'pending')";

const OFFERS_OF = 'IN (SELECT o.offer_id FROM offers o WHERE o.advertiser_id = ?)';

/** `time + offset` of its piece, as SQL: the offsets are integers the server computed (never
 * request text), written into the statement so that both dialects do integer arithmetic. */
function local(column: string, zone: ReportQuery['zone']): string {
  const checked = zone.map((p) => {
    if (!Number.isSafeInteger(p.since) || !Number.isSafeInteger(p.offset)) throw new Error('a zone piece must be whole milliseconds');
    return p;
  });
  if (checked.length <= 1) return `(${column} + ${checked[0]?.offset ?? 0})`;
  const whens = checked.slice(1).map((p, i) => `WHEN ${column} < ${p.since} THEN ${checked[i]!.offset}`);
  return `(${column} + CASE ${whens.join(' ')} ELSE ${checked.at(-1)!.offset} END)`;
}

/** The group's key over clicks (`c`) and over conversions (`v`, with their click as `c`). */
function keys(group: ReportGroup, zone: ReportQuery['zone']): { click: string; conversion: string; needsClick: boolean } {
  switch (group) {
    case 'day':
    case 'hour':
      return { click: `${local('c.click_time', zone)} / ${UNIT[group]}`, conversion: `${local('v.conversion_time', zone)} / ${UNIT[group]}`, needsClick: false };
    case 'offer':
    case 'affiliate':
    case 'campaign':
    case 'creative':
      // `+ 0`: so that SQLite reads conversions by time (conversions_report) rather than by the
      // group's own index, which would scan them all.
      return { click: `c.${group}_id`, conversion: `v.${group}_id + 0`, needsClick: false };
    // A click's advertiser is its offer's; a conversion names the advertiser it was recorded for
    // (as conversions.json and the advertiser key's scope read it).
    case 'advertiser':
      return { click: '(SELECT o.advertiser_id FROM offers o WHERE o.offer_id = c.offer_id)', conversion: 'v.advertiser_id + 0', needsClick: false };
    // A conversion's country is its click's; its sub ids are its click's too, copied onto it when
    // it was recorded (migration 7), so that a report by sub id reads no click for them.
    case 'country':
      return { click: 'c.country', conversion: 'c.country', needsClick: true };
    default: {
      const n = subOf(group)!;
      return { click: `c.s${n}`, conversion: `v.s${n}`, needsClick: false };
    }
  }
}

// ---- rollups (issue 15: fast at millions of clicks) -------------------------------------------------
//
// Attributed clicks are folded, behind a watermark, into report_clicks: per bucket of 15 minutes,
// an hour and a day (UTC), per offer, affiliate and campaign, the unique and total clicks (and
// each bucket's totals, at the level's negative width). Every
// real zone's offset is a whole number of quarter hours, so local days and hours are unions of
// buckets; a report takes whole buckets before the watermark (the largest that fit its cuts) and the
// raw clicks after it, so it stays exact while clicks arrive. A fold only ever adds to buckets that
// reach past the watermark, and a report reads only buckets that end before the watermark it read,
// so a fold running meanwhile changes nothing it reads.

export const QUARTER = 900_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** The rollup levels, by bucket width. */
export const LEVELS = [DAY_MS, HOUR_MS, QUARTER] as const;

/** Groups and filters the rollup holds; a report asking for another (creative, country, a sub id)
 * reads the raw clicks. */
const ROLLUP_GROUPS = new Set<ReportGroup>(['day', 'hour', 'offer', 'affiliate', 'campaign', 'advertiser']);

/** The sub id a group names (1 to 5), or null. */
function subOf(group: ReportGroup): number | null {
  return group.startsWith('sub_id_') ? Number(group.slice(-1)) : null;
}
const SUBS = [1, 2, 3, 4, 5] as const;
/** report_sub_ids' levels: 8-day and 1-day UTC buckets (a month is three or so of the first and
 * the days at its edges: about half the rows of days alone, measured in bench/RESULTS.md). */
export const SUB_LEVELS = [8 * DAY_MS, DAY_MS] as const;

export interface Span {
  level: number;
  lo: number;
  hi: number;
}

/** Where a report reads the rollups and where the raw clicks: `spans` before the watermark, raw
 * from `tail` to the report's end, and (sub ids in a zone whose day is not a UTC day, or before
 * the by-affiliate rows begin) raw from the report's start to `head` too. `affiliate_id`: the sub
 * ids' spans are one affiliate's (report_affiliate_sub_ids) rather than the network's. */
export interface RollupPlan {
  spans: Span[];
  tail: number;
  head?: number;
  affiliate_id?: number;
}

/** [a, b) (quarter-aligned) as the fewest whole buckets of the widths given, largest first. */
export function spans(a: number, b: number, widths: readonly number[]): Span[] {
  if (a >= b) return [];
  const [w, ...smaller] = widths;
  if (!smaller.length) return [{ level: w!, lo: a, hi: b }];
  const lo = Math.ceil(a / w!) * w!;
  const hi = Math.floor(b / w!) * w!;
  if (lo >= hi) return spans(a, b, smaller);
  return [...spans(a, lo, smaller), { level: w!, lo, hi }, ...spans(hi, b, smaller)];
}

/** Where a report reads the rollup (`spans`, before the watermark) and where the raw clicks
 * (from `tail`): all raw when the rollup cannot cut the report's groups exactly. */
export function rollupPlan(q: ReportQuery, mark: Pick<Watermark, 'folded_to' | 'affiliate_subs_from'>): RollupPlan {
  const raw = { spans: [], tail: q.from };
  const folded_to = mark.folded_to;
  if (subOf(q.group_by) !== null) {
    // report_sub_ids holds whole UTC days (and 8-day blocks) of the network's clicks, and
    // report_affiliate_sub_ids the same per affiliate, from affiliate_subs_from on (migration 11):
    // an affiliate's sub ids (its key's scope or the filter) read the second, any other filter
    // reads raw. Buckets are read between the first and the last UTC midnight of the range (and
    // before the watermark); the hours at either edge are read raw.
    const affiliate = q.scope?.affiliate_id ?? q.affiliate_id;
    const other = [q.offer_id, q.advertiser_id, q.campaign_id, q.creative_id, q.country, q.scope?.advertiser_id].some((f) => f !== undefined);
    // A filter and a scope that name different affiliates match no click: read raw, it answers none.
    if (other || (q.affiliate_id !== undefined && q.affiliate_id !== affiliate)) return raw;
    const start = affiliate === undefined ? q.from : Math.max(q.from, mark.affiliate_subs_from);
    const lo = Math.ceil(start / DAY_MS) * DAY_MS;
    const hi = Math.floor(Math.min(q.to, folded_to) / DAY_MS) * DAY_MS;
    if (hi <= lo) return raw;
    return { spans: spans(lo, hi, SUB_LEVELS), tail: hi, ...(lo > q.from ? { head: lo } : {}), ...(affiliate === undefined ? {} : { affiliate_id: affiliate }) };
  }
  if (!ROLLUP_GROUPS.has(q.group_by) || q.creative_id !== undefined || q.country !== undefined) return raw;
  const end = Math.min(q.to, folded_to);
  if (end <= q.from || q.from % QUARTER !== 0 || end % QUARTER !== 0) return raw;
  let widths: readonly number[] = LEVELS;
  if (q.group_by === 'day' || q.group_by === 'hour') {
    // A bucket must not straddle a local day or hour: hours do where every offset is whole hours
    // (and days only where the zone is UTC).
    // Each offset and each change of offset falls on whole `unit`s (the first piece starts at
    // `from`, which the spans cut themselves).
    const whole = (unit: number) => q.zone.every((p, i) => p.offset % unit === 0 && (i === 0 || p.since % unit === 0));
    if (!whole(QUARTER)) return raw;
    widths = q.group_by === 'day' && q.zone.length === 1 && q.zone[0]!.offset === 0 ? LEVELS : whole(HOUR_MS) ? [HOUR_MS, QUARTER] : [QUARTER];
  }
  return { spans: spans(q.from, end, widths), tail: end };
}

/** Clicks folded in one transaction, at most, by store. SQLite folds on the event loop, so a busy
 * 15-minute window in one transaction held it for seconds (measured on a store of 10M clicks, a day
 * of 111,000 clicks: 2.4 s). On that store 250 clicks held it 14 ms (median) before the
 * by-affiliate sub ids (migration 11) and 33 ms with them, whose upserts land on other pages of
 * their day than the network's: 100 clicks hold it 17 ms (p90 34, the WAL's checkpoints), and
 * fold about 4,800 clicks a second of folding against 15,000 (`bench/fold.ts`, bench/RESULTS.md).
 * Smaller chunks gain little more: a transaction's fixed work (its statements, its commit) stays.
 * PostgreSQL folds in the database, off the loop: larger chunks keep the work per click lower and
 * each transaction still short. */
export const FOLD_CHUNK = { sqlite: 100, postgres: 5_000 } as const;

/** The watermark row: rollups hold every click before `folded_to`; while a window is part-way
 * folded, `folding_to` is its end and its clicks with keys below `folding_key` are folded. */
export interface Watermark {
  folded_to: number;
  folding_to: number | null;
  folding_key: string | null;
  /** Where report_affiliate_sub_ids begins: the fold in progress when migration 11 added it (0 on
   * a store created since, or whose rollups were folded again from the start). */
  affiliate_subs_from: number;
}

export const WATERMARK = 'SELECT folded_to, folding_to, folding_key, affiliate_subs_from FROM report_watermark WHERE id = 1';

/** The row as either driver gives it (PostgreSQL's bigints come as strings). */
export function watermarkOf(row: Record<string, unknown>): Watermark {
  return {
    folded_to: Number(row.folded_to),
    folding_to: row.folding_to === null || row.folding_to === undefined ? null : Number(row.folding_to),
    folding_key: (row.folding_key as string | null | undefined) ?? null,
    affiliate_subs_from: Number(row.affiliate_subs_from ?? 0),
  };
}

/** The window to fold: the one part-way folded, or the next. */
function foldWindow(mark: Watermark, first_click: number | null, until: number, window: number): { from: number; to: number } | null {
  if (mark.folding_to !== null) return { from: mark.folded_to, to: mark.folding_to };
  return nextWindow(mark.folded_to, first_click, until, window);
}

/** The key `chunk` clicks past `lo` in the window: where this transaction stops (no row: the rest
 * of the window fits in one). */
function chunkEnd(lo: string | undefined, range: KeyRange, chunk: number): Statement {
  const w = new Where();
  if (lo !== undefined) w.add('reqid >= ?', lo);
  if (range.hi !== undefined) w.add('reqid < ?', range.hi);
  return { sql: `SELECT reqid FROM clicks ${w.sql} ORDER BY reqid LIMIT 1 OFFSET ?`, params: [...w.params, chunk] };
}

/** The reads a fold is planned from, in the store's own driver. */
export interface FoldReads {
  watermark(): Promise<Watermark>;
  /** The first click's time (FIRST_CLICK), or null for none. */
  firstClick(): Promise<number | null>;
  /** Whether a reqid lies in [lo, hi), for clickKeyRange. */
  anyClick(lo: string, hi: string): Promise<boolean>;
  /** The reqid of the statement's row, if any (chunkEnd). */
  reqid(statement: Statement): Promise<string | null>;
}

/** The next fold transaction, the same on every store: its statements (claim first) and the
 * watermark to answer once it committed; null when there is nothing to fold. */
export async function planFold(reads: FoldReads, until: number, window: number, chunk: number): Promise<{ claim: Statement; folds: Statement[]; answer: number } | null> {
  const mark = await reads.watermark();
  const first = mark.folded_to > 0 || mark.folding_to !== null ? null : await reads.firstClick();
  const next = foldWindow(mark, first, until, window);
  if (!next) return null;
  const range = await clickKeyRange(next.from, next.to, reads.anyClick);
  const end = await reads.reqid(chunkEnd(mark.folding_key ?? range.lo, range, chunk));
  return { ...foldStatements(next, range, mark, end), answer: end === null ? next.to : next.from };
}

/** Folds the attributed clicks of the window [from, to) (quarter-aligned) whose keys are in
 * [folding_key or the range's start, end) (`end` null: to the window's end) into every level of the rollup, as one
 * transaction with `claim`, which records that progress only if the watermark row is still `mark`
 * (run it first: when it changes no row, another instance folded these clicks; write nothing).
 * The watermark moves to `to` with the window's last chunk; until then reports read the window raw,
 * and the part folded only adds to buckets that reach past the watermark, which no report reads. */
function foldStatements(next: { from: number; to: number }, range: KeyRange, mark: Watermark, end: string | null): { claim: Statement; folds: Statement[] } {
  const { from, to } = next;
  const lo = mark.folding_key ?? range.lo;
  const hi = end ?? range.hi;
  const c = new Where();
  if (lo !== undefined) c.add('c.reqid >= ?', lo);
  if (hi !== undefined) c.add('c.reqid < ?', hi);
  c.add('c.click_time >= ?', from).add('c.click_time < ?', to).add('c.offer_id IS NOT NULL').add('c.affiliate_id IS NOT NULL').add(COUNTED);
  // Each sub id per level's bucket ('' for none), one statement per sub id and level: the
  // network's, and each affiliate's.
  const subs = SUBS.flatMap((n) => SUB_LEVELS.flatMap((w) => {
    // Each key column and its value in the chunk's clicks.
    const bucket = ['bucket', `(c.click_time / ${w}) * ${w}`];
    const value = ['value', `coalesce(c.s${n}, '')`];
    return [
      { table: 'report_sub_ids', keys: [bucket, value] },
      { table: 'report_affiliate_sub_ids', keys: [bucket, ['affiliate_id', 'c.affiliate_id'], value] },
    ].map(({ table, keys }) => ({
      sql: `INSERT INTO ${table} (sub, level, ${keys.map(([k]) => k).join(', ')}, clicks, total_clicks)
            SELECT ${n}, ${w}, ${keys.map(([, v]) => v).join(', ')}, sum(CASE WHEN ${UNIQUE} THEN 1 ELSE 0 END), count(*)
            FROM clicks c ${c.sql} GROUP BY ${keys.map((_, i) => i + 3).join(', ')}
            ON CONFLICT (sub, level, ${keys.map(([k]) => k).join(', ')})
            DO UPDATE SET clicks = ${table}.clicks + excluded.clicks, total_clicks = ${table}.total_clicks + excluded.total_clicks`,
      params: c.params,
    }));
  }));
  const progress = end === null ? [to, null, null] : [from, to, end];
  return {
    claim: {
      sql: `UPDATE report_watermark SET folded_to = ?, folding_to = ?, folding_key = ?
            WHERE id = 1 AND folded_to = ? AND coalesce(folding_key, '') = ?`,
      params: [...progress, mark.folded_to, mark.folding_key ?? ''],
    },
    // Per level: the rows per offer, affiliate and campaign; and the level's totals (level -width,
    // keys 0), which a report over time without filters reads: one row per bucket.
    folds: LEVELS.flatMap((w) => [
      { level: w, keys: 'c.offer_id, c.affiliate_id, coalesce(c.campaign_id, 0)' },
      { level: -w, keys: '0, 0, 0' },
    ]).map(({ level, keys }) => ({
      sql: `INSERT INTO report_clicks (level, bucket, offer_id, affiliate_id, campaign_id, clicks, total_clicks)
            SELECT ${level}, (c.click_time / ${Math.abs(level)}) * ${Math.abs(level)}, ${keys},
                   sum(CASE WHEN ${UNIQUE} THEN 1 ELSE 0 END), count(*)
            FROM clicks c ${c.sql} GROUP BY 2, 3, 4, 5
            ON CONFLICT (level, bucket, offer_id, affiliate_id, campaign_id)
            DO UPDATE SET clicks = report_clicks.clicks + excluded.clicks, total_clicks = report_clicks.total_clicks + excluded.total_clicks`,
      params: c.params,
    })).concat(subs),
  };
}

/** The first click's time (reqids sort by time): where a first fold starts. */
export const FIRST_CLICK = 'SELECT click_time FROM clicks ORDER BY reqid LIMIT 1';

/** The next window to fold: from the watermark (or the first click) up to `window` ms, ending
 * before `until`, quarter-aligned; null when there is nothing to fold yet. */
export function nextWindow(folded_to: number, first_click: number | null, until: number, window: number): { from: number; to: number } | null {
  const from = folded_to > 0 ? folded_to : first_click === null ? Math.floor(until / QUARTER) * QUARTER : Math.floor(first_click / QUARTER) * QUARTER;
  const to = Math.floor(Math.min(from + Math.max(window, QUARTER), until) / QUARTER) * QUARTER;
  if (folded_to === 0 && first_click === null) return to > 0 ? { from: 0, to } : null;
  return to > from ? { from, to } : null;
}

/** A span's buckets. */
function bucketsOf(span: Span): number[] {
  const out: number[] = [];
  for (let b = span.lo; b < span.hi; b += span.level) out.push(b);
  return out;
}

/** A sub id rollup's rows as the report's parts read them. */
function subRows(table: string, r: Where): Statement {
  return { sql: `SELECT NULLIF(r.value, '') AS k, r.clicks AS u, r.total_clicks AS t FROM ${table} r ${r.sql}`, params: r.params };
}

export interface ReportStatements {
  clicks: Statement;
  conversions: Statement;
}

/** The report's two statements. `range`: the key range of [plan.tail, to) over clicks (reqid.ts
 * clickKeyRange, found by the caller), so that the time range is a range of the primary key;
 * `headRange` that of [from, plan.head) when the plan has a head. */
export function summaryStatements(q: ReportQuery, range: KeyRange, plan: RollupPlan = { spans: [], tail: q.from }, headRange: KeyRange = {}): ReportStatements {
  const key = keys(q.group_by, q.zone);
  const sub = subOf(q.group_by);

  const c = new Where();
  if (range.lo !== undefined) c.add('c.reqid >= ?', range.lo);
  if (range.hi !== undefined) c.add('c.reqid < ?', range.hi);
  c.add('c.click_time >= ?', plan.tail).add('c.click_time < ?', q.to);
  c.add('c.offer_id IS NOT NULL').add(COUNTED);
  c.equals('c.offer_id', q.offer_id).equals('c.affiliate_id', q.affiliate_id).equals('c.campaign_id', q.campaign_id).equals('c.creative_id', q.creative_id).equals('c.country', q.country);
  if (q.advertiser_id !== undefined) c.add(`c.offer_id ${OFFERS_OF}`, q.advertiser_id);
  if (q.scope?.affiliate_id !== undefined) c.add('c.affiliate_id = ?', q.scope.affiliate_id);
  if (q.scope?.advertiser_id !== undefined) c.add(`c.offer_id ${OFFERS_OF}`, q.scope.advertiser_id);

  const v = new Where();
  v.add('v.conversion_time >= ?', q.from).add('v.conversion_time < ?', q.to);
  if (!q.include_tests) v.add('NOT v.is_test');
  v.equals('v.offer_id', q.offer_id).equals('v.affiliate_id', q.affiliate_id).equals('v.advertiser_id', q.advertiser_id);
  v.equals('v.campaign_id', q.campaign_id).equals('v.creative_id', q.creative_id).equals('c.country', q.country);
  if (q.scope?.affiliate_id !== undefined) v.add('v.affiliate_id = ?', q.scope.affiliate_id);
  if (q.scope?.advertiser_id !== undefined) v.add('v.advertiser_id = ?', q.scope.advertiser_id);
  const join = key.needsClick || q.country !== undefined ? 'LEFT JOIN clicks c ON c.reqid = v.reqid' : '';

  let clicks: Statement = {
    sql: `SELECT ${key.click} AS k, sum(CASE WHEN ${UNIQUE} THEN 1 ELSE 0 END) AS clicks, count(*) AS total_clicks
          FROM clicks c ${c.sql} GROUP BY k`,
    params: c.params,
  };
  if (plan.spans.length && sub !== null) {
    // The sub id's days (rollupPlan asked no filter but the affiliate), the raw tail and the raw head.
    const h = new Where();
    if (headRange.lo !== undefined) h.add('c.reqid >= ?', headRange.lo);
    if (headRange.hi !== undefined) h.add('c.reqid < ?', headRange.hi);
    h.add('c.click_time >= ?', q.from).add('c.click_time < ?', plan.head ?? q.from).add('c.offer_id IS NOT NULL').add(COUNTED);
    h.equals('c.affiliate_id', plan.affiliate_id);
    // The network's rows: a range of buckets per span. One affiliate's: a SELECT per bucket, each
    // a seek to (bucket, affiliate) in the key (report_affiliate_sub_ids keys the bucket first).
    const parts = plan.affiliate_id === undefined
      ? plan.spans.map((span) => subRows('report_sub_ids', new Where().add('r.sub = ?', sub).add('r.level = ?', span.level).add('r.bucket >= ?', span.lo).add('r.bucket < ?', span.hi)))
      : plan.spans.flatMap((span) => bucketsOf(span).map((bucket) =>
          subRows('report_affiliate_sub_ids', new Where().add('r.sub = ?', sub).add('r.level = ?', span.level).add('r.bucket = ?', bucket).add('r.affiliate_id = ?', plan.affiliate_id))));
    const raw = (w: Where) => `SELECT ${key.click} AS k, CASE WHEN ${UNIQUE} THEN 1 ELSE 0 END AS u, 1 AS t FROM clicks c ${w.sql}`;
    clicks = {
      sql: `SELECT k, sum(u) AS clicks, sum(t) AS total_clicks FROM (
              ${parts.map((p) => p.sql).join('\n              UNION ALL ')}
              UNION ALL ${raw(c)}
              ${plan.head === undefined ? '' : `UNION ALL ${raw(h)}`}
            ) AS x GROUP BY k`,
      params: [...parts.flatMap((p) => p.params), ...c.params, ...(plan.head === undefined ? [] : h.params)],
    };
  } else if (plan.spans.length) {
    const rollupKey = key.click.replaceAll('c.click_time', 'r.bucket').replaceAll('c.campaign_id', 'NULLIF(r.campaign_id, 0)').replaceAll('c.', 'r.');
    // One SELECT per span, so that each is a range of the primary key (an OR of them is not).
    // Days and hours of the whole network read the levels' totals.
    const totals =
      (q.group_by === 'day' || q.group_by === 'hour') &&
      q.offer_id === undefined && q.affiliate_id === undefined && q.campaign_id === undefined && q.advertiser_id === undefined &&
      q.scope?.affiliate_id === undefined && q.scope?.advertiser_id === undefined;
    const parts = plan.spans.map((span) => {
      const r = new Where().add('r.level = ?', totals ? -span.level : span.level).add('r.bucket >= ?', span.lo).add('r.bucket < ?', span.hi);
      r.equals('r.offer_id', q.offer_id).equals('r.affiliate_id', q.affiliate_id).equals('r.campaign_id', q.campaign_id);
      if (q.advertiser_id !== undefined) r.add(`r.offer_id ${OFFERS_OF}`, q.advertiser_id);
      if (q.scope?.affiliate_id !== undefined) r.add('r.affiliate_id = ?', q.scope.affiliate_id);
      if (q.scope?.advertiser_id !== undefined) r.add(`r.offer_id ${OFFERS_OF}`, q.scope.advertiser_id);
      return { sql: `SELECT ${rollupKey} AS k, r.clicks AS u, r.total_clicks AS t FROM report_clicks r ${r.sql}`, params: r.params };
    });
    clicks = {
      sql: `SELECT k, sum(u) AS clicks, sum(t) AS total_clicks FROM (
              ${parts.map((p) => p.sql).join('\n              UNION ALL ')}
              UNION ALL
              SELECT ${key.click} AS k, CASE WHEN ${UNIQUE} THEN 1 ELSE 0 END AS u, 1 AS t FROM clicks c ${c.sql}
            ) AS x GROUP BY k`,
      params: [...parts.flatMap((p) => p.params), ...c.params],
    };
  }

  return {
    clicks,
    conversions: {
      sql: `SELECT ${key.conversion} AS k,
              sum(CASE WHEN v.event_id = 0 AND ${STANDING} THEN 1 ELSE 0 END) AS macro_event_conversions,
              sum(CASE WHEN v.event_id <> 0 AND ${STANDING} THEN 1 ELSE 0 END) AS micro_events,
              sum(CASE WHEN v.status = 'approved' AND v.payout_cents > 0 THEN 1 ELSE 0 END) AS paid,
              sum(CASE WHEN v.status = 'pending' THEN 1 ELSE 0 END) AS pending,
              sum(CASE WHEN v.status = 'rejected' THEN 1 ELSE 0 END) AS rejected,
              sum(v.payout_cents) AS cost_cents, sum(v.revenue_cents) AS revenue_cents
            FROM conversions v ${join} ${v.sql} GROUP BY k`,
      params: v.params,
    },
  };
}

