// The summary report's SQL (PROTOCOL.md 11), shared by every store as list-sql.ts is for the lists:
// `?` placeholders (PostgreSQL numbers them) and text both dialects read alike. Two statements, one
// over clicks and one over conversions, each grouped by the report's key, merged by `mergeReport`:
// the key's scope is a condition of each WHERE clause, as for the lists, never a filter applied to
// the answer. Local days and hours are `(time + offset) / unit` in integer arithmetic, the offset
// chosen by a CASE over the zone's pieces (reports/zone.ts), so any zone is cut exactly.
import type { KeyRange } from '../reqid.js';
import type { Statement } from './network-sql.js';
import type { ReportGroup, ReportQuery, ReportRow } from './types.js';

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
      return { click: `c.${group}_id`, conversion: `v.${group}_id`, needsClick: false };
    // A click's advertiser is its offer's; a conversion names the advertiser it was recorded for
    // (as conversions.json and the advertiser key's scope read it).
    case 'advertiser':
      return { click: '(SELECT o.advertiser_id FROM offers o WHERE o.offer_id = c.offer_id)', conversion: 'v.advertiser_id', needsClick: false };
    // A conversion's country and sub ids are its click's.
    case 'country':
      return { click: 'c.country', conversion: 'c.country', needsClick: true };
    default: {
      const column = `c.s${group.slice(-1)}`;
      return { click: column, conversion: column, needsClick: true };
    }
  }
}

class Where {
  readonly conds: string[] = [];
  readonly params: unknown[] = [];
  add(cond: string, ...params: unknown[]): this {
    this.conds.push(cond);
    this.params.push(...params);
    return this;
  }
  equals(column: string, value: unknown): this {
    return value === undefined ? this : this.add(`${column} = ?`, value);
  }
  get sql(): string {
    return this.conds.length ? `WHERE ${this.conds.join(' AND ')}` : '';
  }
}

export interface ReportStatements {
  clicks: Statement;
  conversions: Statement;
}

/** The report's two statements. `range`: the key range of [from, to) over clicks (reqid.ts
 * clickKeyRange, found by the caller), so that the time range is a range of the primary key. */
export function summaryStatements(q: ReportQuery, range: KeyRange): ReportStatements {
  const key = keys(q.group_by, q.zone);

  const c = new Where();
  if (range.lo !== undefined) c.add('c.reqid >= ?', range.lo);
  if (range.hi !== undefined) c.add('c.reqid < ?', range.hi);
  c.add('c.click_time >= ?', q.from).add('c.click_time < ?', q.to);
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

  return {
    clicks: {
      sql: `SELECT ${key.click} AS k, sum(CASE WHEN ${UNIQUE} THEN 1 ELSE 0 END) AS clicks, count(*) AS total_clicks
            FROM clicks c ${c.sql} GROUP BY k`,
      params: c.params,
    },
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

type Counted = Record<string, unknown> & { k: unknown };

/** The groups of both statements' answers, by key (numbers and strings as the database gave them:
 * PostgreSQL's sums arrive as text). */
export function mergeReport(clicks: Counted[], conversions: Counted[]): ReportRow[] {
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
  for (const r of clicks) {
    const row = group(r.k);
    row.clicks += Number(r.clicks);
    row.total_clicks += Number(r.total_clicks);
  }
  for (const r of conversions) {
    const row = group(r.k);
    for (const m of ['macro_event_conversions', 'micro_events', 'paid', 'pending', 'rejected', 'cost_cents', 'revenue_cents'] as const) row[m] += Number(r[m] ?? 0);
  }
  return [...groups.values()];
}
