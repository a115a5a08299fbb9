// The list queries' SQL (click.json, leads.json, conversions.json, postbacks and their deliveries),
// shared by every store as network-sql.ts is for the network tables: `?` placeholders (`numbered`
// turns them into `$n` for PostgreSQL) and text both dialects read alike, so that the rules of a
// list live here once: its filters, the key's scope (a condition of the WHERE clause, never a
// filter applied to the answer), keyset paging, and a count that stops at a cap. Plain statements,
// so that a store may run them wherever it likes (under a statement timeout, off the event loop).
import type { KeyRange } from '../reqid.js';
import type { Statement } from './network-sql.js';
import type { ClickQuery, ConversionQuery, ConversionSort, DeliveryQuery, LeadQuery, Page, PostbackQuery, Scope } from './types.js';

/** total_rows is exact up to this many rows; past it the count stops (`capped`), so that no call
 * counts a huge range. */
export const COUNT_CAP = 100_000;

/** A list: the count of the whole list (cursor and offset aside) and one page of rows, one more
 * than the limit (the extra row says another page follows; `page` drops it). */
export interface ListStatements {
  count: Statement;
  rows: Statement;
}

/** conversions.json's sort_field, as a column. */
export const SORT_COLUMNS: Record<ConversionSort, string> = {
  conversion_id: 'conversion_id',
  conversion_date: 'conversion_time',
  offer_id: 'offer_id',
  affiliate_id: 'affiliate_id',
  payout: 'payout_cents',
  revenue: 'revenue_cents',
};

/** A statement's conditions and their parameters, in order (the lists' and the reports' SQL). */
export class Where {
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
  range(column: string, q: { from?: number; to?: number }): this {
    if (q.from !== undefined) this.add(`${column} >= ?`, q.from);
    if (q.to !== undefined) this.add(`${column} < ?`, q.to);
    return this;
  }
  copy(): Where {
    const w = new Where();
    w.conds.push(...this.conds);
    w.params.push(...this.params);
    return w;
  }
  get sql(): string {
    return this.conds.length ? `WHERE ${this.conds.join(' AND ')}` : '';
  }
}

/** How a table's rows belong to an affiliate and to an advertiser. */
interface Owners {
  affiliate: string;
  advertiser: string;
}

const OFFERS_OF = 'IN (SELECT offer_id FROM offers WHERE advertiser_id = ?)';

/** The scope of each table. Clicks and leads belong to an advertiser through their offer (the
 * offers table); a conversion names the advertiser it was recorded for, which an offer handed to
 * another advertiser later does not change; a delivery and a postback belong to an affiliate. */
const OWNERS = {
  clicks: { affiliate: 'c.affiliate_id = ?', advertiser: `c.offer_id ${OFFERS_OF}` },
  leads: { affiliate: 'l.affiliate_id = ?', advertiser: `l.offer_id ${OFFERS_OF}` },
  conversions: { affiliate: 'v.affiliate_id = ?', advertiser: 'v.advertiser_id = ?' },
  postbacks: { affiliate: 'p.affiliate_id = ?', advertiser: `p.offer_id ${OFFERS_OF}` },
  // A delivery is the affiliate's whose conversion it reports (also once its postback is deleted).
  deliveries: {
    affiliate: 'EXISTS (SELECT 1 FROM conversions o WHERE o.conversion_id = d.conversion_id AND o.affiliate_id = ?)',
    advertiser: 'EXISTS (SELECT 1 FROM conversions o WHERE o.conversion_id = d.conversion_id AND o.advertiser_id = ?)',
  },
} satisfies Record<string, Owners>;

function scoped(w: Where, owners: Owners, scope: Scope | undefined): Where {
  if (scope?.affiliate_id !== undefined) w.add(owners.affiliate, scope.affiliate_id);
  if (scope?.advertiser_id !== undefined) w.add(owners.advertiser, scope.advertiser_id);
  return w;
}

function countOf(from: string, w: Where, cap: number | undefined): Statement {
  return { sql: `SELECT count(*) AS n FROM (SELECT 1 FROM ${from} ${w.sql} LIMIT ?) AS counted`, params: [...w.params, (cap ?? COUNT_CAP) + 1] };
}

/** click.json: in time order (reqids begin with their time, so a time range is a key range of
 * the primary key, and so is the cursor). `range`: the key range of the time range, found by the
 * caller with one or two index probes (reqid.ts clickKeyRange); the time filter makes it exact
 * where it holds ids of both formats. `conversion_id` is the click's base conversion (not an
 * event's, not a test's). */
export function clickList(q: ClickQuery, range: KeyRange): ListStatements {
  const w = new Where();
  if (q.reqid !== undefined) {
    w.add('c.reqid = ?', q.reqid);
  } else {
    if (range.lo !== undefined) w.add('c.reqid >= ?', range.lo);
    if (range.hi !== undefined) w.add('c.reqid < ?', range.hi);
    w.range('c.click_time', q);
    w.equals('c.offer_id', q.offer_id).equals('c.affiliate_id', q.affiliate_id).equals('c.campaign_id', q.campaign_id).equals('c.creative_id', q.creative_id);
  }
  scoped(w, OWNERS.clicks, q.scope);
  const page = w.copy();
  if (q.after !== undefined) page.add('c.reqid > ?', q.after);
  return {
    count: countOf('clicks c', w, q.count_cap),
    rows: {
      sql: `SELECT c.*, (SELECT min(x.conversion_id) FROM conversions x WHERE x.reqid = c.reqid AND x.event_id = 0 AND NOT x.is_test) AS conversion_id
            FROM clicks c ${page.sql} ORDER BY c.reqid LIMIT ? OFFSET ?`,
      params: [...page.params, q.limit + 1, q.offset],
    },
  };
}

/** leads.json: by lead id. */
export function leadList(q: LeadQuery): ListStatements {
  const w = new Where();
  if (q.lead_id !== undefined) {
    w.add('l.lead_id = ?', q.lead_id);
  } else {
    w.range('l.created_at', q).equals('l.offer_id', q.offer_id).equals('l.affiliate_id', q.affiliate_id);
    if (!q.include_tests) w.add('NOT l.is_test');
  }
  scoped(w, OWNERS.leads, q.scope);
  const page = w.copy();
  if (q.after !== undefined) page.add('l.lead_id > ?', q.after);
  return {
    count: countOf('leads l', w, q.count_cap),
    rows: { sql: `SELECT l.* FROM leads l ${page.sql} ORDER BY l.lead_id LIMIT ? OFFSET ?`, params: [...page.params, q.limit + 1, q.offset] },
  };
}

/** conversions.json: by the sort column, ties by id in the same direction (so pages never
 * overlap). The cursor is the last conversion of the previous page: the rows after its
 * (sort value, id) in that order, the cursor itself read inside the scope. */
export function conversionList(q: ConversionQuery): ListStatements {
  const w = new Where();
  if (q.conversion_id !== undefined) {
    w.add('v.conversion_id = ?', q.conversion_id);
  } else {
    w.range('v.conversion_time', q).equals('v.offer_id', q.offer_id).equals('v.affiliate_id', q.affiliate_id).equals('v.advertiser_id', q.advertiser_id).equals('v.status', q.status);
    w.equals('v.campaign_id', q.campaign_id).equals('v.creative_id', q.creative_id).equals('v.event_id', q.event_id);
    if (q.kind === 'conversions') w.add('v.event_id = 0');
    if (q.kind === 'events') w.add('v.event_id <> 0');
    if (!q.include_tests) w.add('NOT v.is_test');
  }
  scoped(w, OWNERS.conversions, q.scope);
  const column = SORT_COLUMNS[q.sort];
  const direction = q.descending ? 'DESC' : 'ASC';
  const beyond = q.descending ? '<' : '>';
  const page = w.copy();
  if (q.after !== undefined) {
    if (column === 'conversion_id') {
      page.add(`v.conversion_id ${beyond} ?`, q.after);
    } else {
      const cursor = scoped(new Where().add('v.conversion_id = ?', q.after), OWNERS.conversions, q.scope);
      const of = (columns: string) => `(SELECT ${columns} FROM conversions v ${cursor.sql})`;
      // The row comparison decides; the plain one on the sort column alone lets an index on it
      // start the scan at the cursor.
      page.add(`(v.${column}, v.conversion_id) ${beyond} ${of(`v.${column}, v.conversion_id`)}`, ...cursor.params);
      page.add(`v.${column} ${beyond}= ${of(`v.${column}`)}`, ...cursor.params);
    }
  }
  return {
    count: countOf('conversions v', w, q.count_cap),
    rows: {
      sql: `SELECT v.* FROM conversions v ${page.sql} ORDER BY v.${column} ${direction}, v.conversion_id ${direction} LIMIT ? OFFSET ?`,
      params: [...page.params, q.limit + 1, q.offset],
    },
  };
}

/** The WHERE clause of one conversion (as `v`) inside the scope: for reading it and for changing it. */
export function conversionWhere(conversion_id: number, scope: Scope | undefined): Statement {
  const w = scoped(new Where().add('v.conversion_id = ?', conversion_id), OWNERS.conversions, scope);
  return { sql: w.sql, params: w.params };
}

/** Sets what a conversion earns (its computed money) inside the scope; the money counted follows,
 * as for a status change: the computed money while approved (never for a test), else 0. */
export function conversionMoneyUpdate(conversion_id: number, money: { payout_cents: number; revenue_cents: number }, scope: Scope | undefined): Statement {
  const where = conversionWhere(conversion_id, scope);
  const counted = "CASE WHEN v.status = 'approved' AND NOT v.is_test THEN ? ELSE 0 END";
  return {
    sql: `UPDATE conversions AS v SET computed_payout_cents = ?, computed_revenue_cents = ?, payout_cents = ${counted}, revenue_cents = ${counted} ${where.sql} RETURNING *`,
    params: [money.payout_cents, money.revenue_cents, money.payout_cents, money.revenue_cents, ...where.params],
  };
}

/** One conversion, if it is inside the scope. */
export function conversionInScope(conversion_id: number, scope: Scope | undefined): Statement {
  const where = conversionWhere(conversion_id, scope);
  return { sql: `SELECT v.* FROM conversions v ${where.sql}`, params: where.params };
}

/** Affiliate postbacks, by id; at most `limit` (plus one, to tell whether more follow). */
export function postbackList(q: PostbackQuery): Statement {
  const w = new Where()
    .equals('p.postback_id', q.postback_id)
    .equals('p.affiliate_id', q.affiliate_id)
    .equals('p.offer_id', q.offer_id)
    .equals('p.postback_status', q.postback_status);
  scoped(w, OWNERS.postbacks, q.scope);
  if (q.after !== undefined) w.add('p.postback_id > ?', q.after);
  const limit = q.limit === undefined ? '' : ' LIMIT ?';
  return { sql: `SELECT p.* FROM postbacks p ${w.sql} ORDER BY p.postback_id${limit}`, params: q.limit === undefined ? w.params : [...w.params, q.limit + 1] };
}

/** The condition that keeps a write to one postback inside the scope: `AND …`, or nothing. */
export function postbackScope(scope: Scope | undefined): Statement {
  const w = scoped(new Where(), { affiliate: 'affiliate_id = ?', advertiser: `offer_id ${OFFERS_OF}` }, scope);
  return { sql: w.conds.map((c) => ` AND ${c}`).join(''), params: w.params };
}

/** postback_deliveries.json: by delivery id. */
export function deliveryList(q: DeliveryQuery): ListStatements {
  const w = new Where()
    .equals('d.delivery_id', q.delivery_id)
    .equals('d.conversion_id', q.conversion_id)
    .equals('d.postback_id', q.postback_id)
    .equals('d.status', q.status);
  scoped(w, OWNERS.deliveries, q.scope);
  const page = w.copy();
  if (q.after !== undefined) page.add('d.delivery_id > ?', q.after);
  return {
    count: countOf('deliveries d', w, q.count_cap),
    rows: { sql: `SELECT d.* FROM deliveries d ${page.sql} ORDER BY d.delivery_id LIMIT ? OFFSET ?`, params: [...page.params, q.limit + 1, q.offset] },
  };
}

/** The attempts of some deliveries, in the order they were made. */
export function attemptsOf(delivery_ids: number[]): Statement {
  return {
    sql: `SELECT delivery_id, attempted_at, status_code, latency_ms, error FROM attempts
          WHERE delivery_id IN (${delivery_ids.map(() => '?').join(', ')}) ORDER BY attempt_id`,
    params: delivery_ids,
  };
}

/** A page from the rows a list statement answered (one more than `limit` when more follow) and
 * its count (up to the cap plus one). */
export function page<T, K>(rows: T[], counted: number, q: { limit: number; count_cap?: number }, keyOf: (row: T) => K): Page<T, K> {
  const cap = q.count_cap ?? COUNT_CAP;
  const more = rows.length > q.limit;
  const shown = more ? rows.slice(0, q.limit) : rows;
  return { rows: shown, total: Math.min(counted, cap), capped: counted > cap, next: more ? keyOf(shown[shown.length - 1]!) : null };
}
