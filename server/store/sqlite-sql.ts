// The SQL of the SQLite dialect, shared by both stores that speak it: sqlite.ts (better-sqlite3, in
// the Node process) and d1.ts (Cloudflare D1, SQLite behind an HTTP API). One text per statement and
// one builder per listing query, so that a change to a query is made once for both. Rows are mapped
// here too (SQLite has no booleans and no JSON type).
//
// Parameters are named (`@name`), as better-sqlite3 binds them from an object; d1.ts numbers them
// for D1 (`?1`, `?2`, …) with `numbered()`. A statement uses either names or plain `?`, never both.
import { CLICK_COLUMNS, CONVERSION_COLUMNS, DELIVERY_COLUMNS, LEAD_COLUMNS, POSTBACK_COLUMNS } from './columns.js';
import type {
  ClickRecord,
  ConversionRow,
  ConversionStatus,
  DeliveryClaim,
  LeadRow,
  NewConversion,
  NewLead,
} from './types.js';

export type Row = Record<string, unknown>;

export const insertInto = (table: string, columns: readonly string[]) =>
  `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`;

export const insertByPosition = (table: string, columns: readonly string[]) =>
  `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;

/** An insert of one row that writes nothing unless `condition` holds: a batch's way (d1.ts) of making
 * a write depend on what an earlier statement of the same batch left. */
export const insertWhere = (table: string, columns: readonly string[], condition: string) =>
  `INSERT INTO ${table} (${columns.join(', ')}) SELECT ${columns.map((c) => `@${c}`).join(', ')} WHERE ${condition}`;

/** SQLite's own clock, in milliseconds: every due time and lease is read from it (the database's
 * clock, not an instance's). */
export const NOW = "CAST(unixepoch('subsec') * 1000 AS INTEGER)";

/** A new outbox row (DELIVERY_COLUMNS), pending and due now, when `condition` holds (`1` always). */
export const insertDeliveryWhere = (condition: string) =>
  `INSERT INTO deliveries (${DELIVERY_COLUMNS.join(', ')}, status, attempts, created_at, next_attempt_at)
   SELECT ${DELIVERY_COLUMNS.map((c) => `@${c}`).join(', ')}, 'pending', 0, ${NOW}, ${NOW} WHERE ${condition}`;

/** The statements both stores run as they are. */
export const STATEMENTS = {
  insertMeta: 'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING',
  getMeta: 'SELECT value FROM meta WHERE key = ?',
  insertClick: insertInto('clicks', CLICK_COLUMNS),
  getClick: 'SELECT * FROM clicks WHERE reqid = ?',
  anyClick: 'SELECT 1 FROM clicks WHERE reqid >= ? AND reqid < ? LIMIT 1',
  // Claims (offer, email) for a new lead unless an earlier lead holds it since `since`.
  claimLeadEmail: `INSERT INTO lead_emails (offer_id, email, lead_id, created_at) VALUES (@offer_id, @email, @lead_id, @created_at)
       ON CONFLICT (offer_id, email) DO UPDATE SET lead_id = excluded.lead_id, created_at = excluded.created_at
       WHERE lead_emails.created_at < @since RETURNING 1`,
  leadByEmail: 'SELECT l.* FROM lead_emails e JOIN leads l ON l.lead_id = e.lead_id WHERE e.offer_id = ? AND e.email = ?',
  insertLead: insertInto('leads', LEAD_COLUMNS),
  getLead: 'SELECT * FROM leads WHERE lead_id = ?',
  // json_patch keeps the lead's fields in their order and adds new ones after them. With a claim,
  // only where this lead holds the email now: otherwise an earlier lead does, and nothing changes.
  updateLead: `UPDATE leads SET fields = json_patch(fields, @patch), email = coalesce(@email, email), resell = coalesce(@resell, resell),
         updated_at = @updated_at
       WHERE lead_id = @lead_id AND (@claimed IS NULL OR EXISTS (
         SELECT 1 FROM lead_emails e WHERE e.offer_id = @offer_id AND e.email = @claimed AND e.lead_id = @lead_id))
       RETURNING *`,
  setLeadConversion: 'UPDATE leads SET conversion_id = ? WHERE lead_id = ?',
  // Without a conflict target, DO NOTHING covers both unique indexes: the dedupe key and the
  // click's slot. Nothing returned: an earlier conversion holds one of them.
  insertConversion: `${insertInto('conversions', CONVERSION_COLUMNS)} ON CONFLICT DO NOTHING RETURNING *`,
  earlierConversion: `SELECT * FROM conversions
       WHERE (@dedupe_key IS NOT NULL AND offer_id = @offer_id AND event_id = @event_id AND dedupe_key = @dedupe_key)
          OR (@once_per_click = 1 AND once_per_click = 1 AND reqid = @reqid AND event_id = @event_id)
       ORDER BY CASE WHEN dedupe_key = @dedupe_key THEN 0 ELSE 1 END, conversion_id LIMIT 1`,
  getConversion: 'SELECT * FROM conversions WHERE conversion_id = ?',
  // Money follows status: counted while approved (never for a test), 0 otherwise.
  setConversionStatus: `UPDATE conversions SET status = @status,
         payout_cents = CASE WHEN @status = 'approved' AND is_test = 0 THEN computed_payout_cents ELSE 0 END,
         revenue_cents = CASE WHEN @status = 'approved' AND is_test = 0 THEN computed_revenue_cents ELSE 0 END
       WHERE conversion_id = @conversion_id RETURNING *`,
  insertPostback: `${insertInto('postbacks', POSTBACK_COLUMNS)} RETURNING *`,
  getPostback: 'SELECT * FROM postbacks WHERE postback_id = ?',
  updatePostback: `UPDATE postbacks SET affiliate_id = @affiliate_id, offer_id = @offer_id, postback_url = @postback_url,
       postback_status = @postback_status, postback_type_id = @postback_type_id, fire_on = @fire_on
       WHERE postback_id = @postback_id RETURNING *`,
  deletePostback: 'DELETE FROM postbacks WHERE postback_id = ?',
  postbacksFor: `SELECT * FROM postbacks WHERE affiliate_id = ? AND offer_id IN (?, 0) AND fire_on = ? AND postback_status = 'active'
       ORDER BY postback_id`,
  insertDelivery: insertDeliveryWhere('1'),
  // One statement, atomic by itself in every store, so two claimers never take the same row: the
  // `limit` deliveries due longest, skipping hosts at their limit; of those, at most the room each
  // host has left. Each claim raises the lease, the fencing token of finishAttempt.
  claimDeliveries: `UPDATE deliveries SET next_attempt_at = ${NOW} + @lease_ms, lease = lease + 1 WHERE delivery_id IN (
         SELECT r.delivery_id FROM (
           SELECT d.delivery_id, d.host, row_number() OVER (PARTITION BY d.host ORDER BY d.next_attempt_at, d.delivery_id) AS n
           FROM (
             SELECT delivery_id, host, next_attempt_at FROM deliveries
             WHERE status = 'pending' AND next_attempt_at <= ${NOW} AND host NOT IN (SELECT value FROM json_each(@full))
             ORDER BY next_attempt_at, delivery_id LIMIT @limit
           ) d
         ) r LEFT JOIN json_each(@busy) b ON b.key = r.host
         WHERE r.n <= @per_host - coalesce(b.value, 0))
       RETURNING *`,
  insertAttempt: insertInto('attempts', ['delivery_id', 'attempted_at', 'status_code', 'latency_ms', 'error']),
  // Only the attempt holding the latest lease of a pending delivery writes its outcome.
  deliveryDelivered: `UPDATE deliveries SET status = 'delivered', attempts = attempts + 1, delivered_at = @at, last_error = NULL
       WHERE delivery_id = @delivery_id AND lease = @lease AND status = 'pending'`,
  deliveryFailed: `UPDATE deliveries SET status = @status, attempts = attempts + 1, next_attempt_at = ${NOW} + @retry_in_ms, last_error = @error
       WHERE delivery_id = @delivery_id AND lease = @lease AND status = 'pending'`,
  cancelDeliveries: `UPDATE deliveries SET status = 'cancelled', last_error = @reason WHERE postback_id = @postback_id AND status = 'pending'`,
  getDelivery: 'SELECT * FROM deliveries WHERE delivery_id = ?',
  resentAs: 'SELECT delivery_id FROM deliveries WHERE resend_of = ?',
  // A failed or cancelled delivery as a new pending one; the unique resend_of makes it once.
  resendDelivery: `INSERT INTO deliveries (${DELIVERY_COLUMNS.join(', ')}, status, attempts, created_at, next_attempt_at, resend_of)
       SELECT ${DELIVERY_COLUMNS.join(', ')}, 'pending', 0, ${NOW}, ${NOW}, delivery_id FROM deliveries
       WHERE delivery_id = ? AND status IN ('failed', 'cancelled')
       ON CONFLICT DO NOTHING RETURNING *`,
  now: `SELECT ${NOW} AS now`,
  // Pending rows only, through the deliveries_due index; a few even when an affiliate is down.
  outboxStats: `SELECT count(*) AS pending, sum(next_attempt_at <= ?) AS due, min(created_at) AS oldest FROM deliveries WHERE status = 'pending'`,
  ping: 'SELECT 1',
  attemptsOf: 'SELECT delivery_id, attempted_at, status_code, latency_ms, error FROM attempts WHERE delivery_id = ? ORDER BY attempt_id',
} as const;

export type StatementName = keyof typeof STATEMENTS;

/** The hot paths' statements as sqlite.ts runs them, values by position in their columns' order:
 * better-sqlite3 reads named values from C++ one by one, about a microsecond more per click and
 * several per conversion (bench/RESULTS.md, profile findings 7 and 9). The same rows as
 * STATEMENTS' insertClick, getClick, insertLead and insertConversion, which D1 binds by name; the
 * conversion insert returns only its id (the row is the one written). */
export const BY_POSITION = {
  insertClick: insertByPosition('clicks', CLICK_COLUMNS),
  getClick: `SELECT ${CLICK_COLUMNS.join(', ')} FROM clicks WHERE reqid = ?`,
  insertLead: insertByPosition('leads', LEAD_COLUMNS),
  insertConversion: `${insertByPosition('conversions', CONVERSION_COLUMNS)} ON CONFLICT DO NOTHING RETURNING conversion_id`,
} as const;

// ---- rows ------------------------------------------------------------------------------------------

/** A claim's parameters: the hosts at their limit, and how many each host has in flight. */
export function claimParams(claim: DeliveryClaim) {
  const per_host = claim.per_host ?? claim.limit;
  const busy = claim.busy ?? {};
  return {
    limit: claim.limit,
    lease_ms: claim.lease_ms,
    per_host,
    full: JSON.stringify(Object.keys(busy).filter((host) => busy[host]! >= per_host)),
    busy: JSON.stringify(busy),
  };
}

/** A value as SQLite takes it: it has no booleans. */
const sqliteValue = (value: unknown) => (typeof value === 'boolean' ? (value ? 1 : 0) : value);

/** BY_POSITION's values: the same rules as conversionParams and leadParams, in the columns' order. */
export const conversionValues = (c: NewConversion) => CONVERSION_COLUMNS.map((column) => sqliteValue(c[column]));
export const leadValues = (lead: NewLead) => LEAD_COLUMNS.map((column) => (column === 'fields' ? JSON.stringify(lead.fields) : sqliteValue(lead[column])));

/** A click from BY_POSITION.getClick's values. */
export function clickRow(values: readonly unknown[]): ClickRecord {
  const row: Row = {};
  for (let i = 0; i < CLICK_COLUMNS.length; i++) row[CLICK_COLUMNS[i]!] = values[i];
  return row as unknown as ClickRecord;
}

export function conversionParams(c: NewConversion) {
  return { ...c, is_test: c.is_test ? 1 : 0, once_per_click: c.once_per_click ? 1 : 0 };
}

export function leadParams(lead: NewLead) {
  return { ...lead, fields: JSON.stringify(lead.fields), is_test: lead.is_test ? 1 : 0, attributed: lead.attributed ? 1 : 0, resell: lead.resell ? 1 : 0 };
}

export function leadRow(r: Row): LeadRow {
  return {
    ...(r as unknown as LeadRow),
    fields: JSON.parse(r.fields as string),
    is_test: r.is_test === 1,
    attributed: r.attributed === 1,
    resell: r.resell === 1,
  };
}

export function conversionRow(r: Row): ConversionRow {
  return { ...(r as unknown as ConversionRow), is_test: r.is_test === 1, once_per_click: r.once_per_click === 1, status: r.status as ConversionStatus };
}
