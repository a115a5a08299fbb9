// Retention and erasure (PROTOCOL.md 12): the SQL every store runs, the same text in SQLite's and
// PostgreSQL's dialect (`?` placeholders; postgres.ts numbers them with `numbered`).
//
// A retention batch touches at most `limit` rows, the oldest first, found through an index made
// for it (sqlite-schema.ts version 6), so a batch costs what its rows cost however large the
// tables are, and a store's writer is held for milliseconds, not for a purge. The statements of a
// batch run in one transaction (D1: one batch()), in order.
import { anonymizeIp } from '../address.js';
import { reqidFloor } from '../reqid.js';
import type { Statement } from './network-sql.js';
import type { ErasureTarget, Millis, RetentionKind } from './types.js';

/** What a lead keeps once its personal fields are removed: the ids, sub ids, times, flags; never
 * the email, the posted fields, the address or the browser. */
const STRIP_LEAD = "email = NULL, fields = '{}', ip = NULL, user_agent = NULL";

/** The statements of one retention batch of `kind` before `before`, and which of them count the
 * rows (their changes are added up). */
export function retentionBatch(kind: RetentionKind, before: Millis, limit: number, now: Millis): { statements: Statement[]; counted: number[] } {
  switch (kind) {
    case 'clicks':
      // reqids begin with their time: the oldest clicks are the first keys (ids of the older
      // format sort before all of them), and click_time makes the bound exact.
      return {
        statements: [
          {
            sql: 'DELETE FROM clicks WHERE reqid IN (SELECT reqid FROM clicks WHERE reqid < ? AND click_time < ? ORDER BY reqid LIMIT ?)',
            params: [reqidFloor(before), before, limit],
          },
        ],
        counted: [0],
      };
    case 'delivery_attempts':
      // The attempt log by time, and finished deliveries (their URLs carry the conversion's
      // macros) by age; pending ones are never touched.
      return {
        statements: [
          {
            sql: 'DELETE FROM attempts WHERE attempt_id IN (SELECT attempt_id FROM attempts WHERE attempted_at < ? ORDER BY attempted_at LIMIT ?)',
            params: [before, limit],
          },
          {
            sql: "DELETE FROM deliveries WHERE delivery_id IN (SELECT delivery_id FROM deliveries WHERE status <> 'pending' AND created_at < ? ORDER BY created_at LIMIT ?)",
            params: [before, limit],
          },
        ],
        counted: [0, 1],
      };
    case 'lead_fields': {
      // The duplicate check's claims of these leads go first (while the leads still name their
      // email); a claim a later lead holds now is that lead's and stays.
      const oldest = 'SELECT %s FROM leads WHERE erased_at IS NULL AND created_at < ? ORDER BY created_at, lead_id LIMIT ?';
      return {
        statements: [
          {
            sql: `DELETE FROM lead_emails WHERE (offer_id, email, lead_id) IN (${oldest.replace('%s', 'offer_id, email, lead_id')})`,
            params: [before, limit],
          },
          { sql: `UPDATE leads SET ${STRIP_LEAD}, erased_at = ? WHERE lead_id IN (${oldest.replace('%s', 'lead_id')})`, params: [now, before, limit] },
        ],
        counted: [1],
      };
    }
  }
}

/** The first read of an erasure: the leads it names. */
export function erasureLeads(target: ErasureTarget): Statement {
  return 'email' in target
    ? { sql: 'SELECT lead_id, offer_id, email, reqid, ip FROM leads WHERE email = ?', params: [target.email.trim().toLowerCase()] }
    : {
        sql: 'SELECT lead_id, offer_id, email, reqid, ip FROM leads WHERE lead_id = ? OR email = (SELECT email FROM leads WHERE lead_id = ?)',
        params: [target.lead_id, target.lead_id],
      };
}

export interface ErasedLead {
  lead_id: number;
  offer_id: number;
  email: string | null;
  reqid: string | null;
  ip: string | null;
}

/** The second read: the clicks and conversions of those leads (by reqid and lead id). */
export function erasureLinks(leads: ErasedLead[]): { clicks: Statement; conversions: Statement } {
  const reqids = [...new Set(leads.map((l) => l.reqid).filter((r): r is string => r !== null))];
  const ids = leads.map((l) => l.lead_id);
  const marks = (n: number) => (n ? Array(n).fill('?').join(', ') : 'NULL');
  return {
    clicks: { sql: `SELECT reqid, ip FROM clicks WHERE reqid IN (${marks(reqids.length)})`, params: reqids },
    conversions: {
      sql: `SELECT conversion_id, ip FROM conversions WHERE lead_id IN (${marks(ids.length)}) OR reqid IN (${marks(reqids.length)})`,
      params: [...ids, ...reqids],
    },
  };
}

/** The writes of an erasure, from what the reads found: the leads' personal fields removed and
 * their claims on (offer, email) dropped; every address of theirs (the lead's, its click's, its
 * conversions') anonymised. Money rows stay as they are, but for their address. */
export function erasureWrites(
  leads: ErasedLead[],
  clicks: { reqid: string; ip: string | null }[],
  conversions: { conversion_id: number; ip: string | null }[],
  now: Millis,
): Statement[] {
  const out: Statement[] = [];
  for (const l of leads) {
    if (l.email !== null) out.push({ sql: 'DELETE FROM lead_emails WHERE offer_id = ? AND email = ? AND lead_id = ?', params: [l.offer_id, l.email, l.lead_id] });
    out.push({
      sql: `UPDATE leads SET ${STRIP_LEAD}, ip = ?, erased_at = ? WHERE lead_id = ?`.replace('ip = NULL, ', ''),
      params: [anonymizeIp(l.ip), now, l.lead_id],
    });
  }
  for (const c of clicks) if (c.ip !== null) out.push({ sql: 'UPDATE clicks SET ip = ? WHERE reqid = ?', params: [anonymizeIp(c.ip), c.reqid] });
  for (const c of conversions) {
    if (c.ip !== null) out.push({ sql: 'UPDATE conversions SET ip = ? WHERE conversion_id = ?', params: [anonymizeIp(c.ip), c.conversion_id] });
  }
  return out;
}
