// The embedded store: SQLite through better-sqlite3, in WAL mode.
//
// Group commit: every write is a job in a queue. All jobs queued during one turn of the event loop
// run in one transaction (each inside its own savepoint, so one failing job rolls back alone), and
// each job's promise settles only after COMMIT. A click is therefore committed before its 302 is
// sent, at the price of one commit per turn instead of one per click.
//
// Durability: `synchronous=NORMAL` (the default here) keeps every committed transaction through a
// crash or `kill -9` of the process; `FULL` also syncs the WAL on every commit, for power loss.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { reqidFloor } from '../reqid.js';
import { CLICK_COLUMNS, CONVERSION_COLUMNS, definedOnly, DELIVERY_COLUMNS, EarlierLead, LEAD_COLUMNS, POSTBACK_COLUMNS, SORT_COLUMNS } from './columns.js';
import { migrations } from './sqlite-schema.js';
import type {
  Attempt,
  AttemptOutcome,
  ClickRecord,
  ClickRow,
  ConversionRow,
  ConversionStatus,
  DeliveriesFor,
  DeliveryQuery,
  DeliveryRow,
  LeadResult,
  LeadRow,
  NewConversion,
  NewDelivery,
  NewLead,
  Page,
  PostbackQuery,
  PostbackRow,
  Store,
} from './types.js';

export interface SqliteOptions {
  /** `:memory:` for a throwaway store. */
  path: string;
  synchronous?: 'NORMAL' | 'FULL';
  /** Most jobs in one transaction; the rest wait for the next. */
  maxBatch?: number;
}

type Row = Record<string, unknown>;

export function openSqliteStore(options: SqliteOptions): Store {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  const db = new Database(options.path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  migrate(db);

  const write = writeQueue(db, options.maxBatch ?? 1000);
  const sql = statements(db);

  return {
    kind: 'sqlite',

    async secret(generate) {
      return write(() => {
        sql.insertMeta.run('reqid_secret', generate());
        return (sql.getMeta.get('reqid_secret') as { value: string }).value;
      });
    },

    recordClick(click) {
      return write(() => {
        sql.insertClick.run(click);
      }, ONE_STATEMENT);
    },

    async getClick(reqid) {
      return sql.getClick.get(reqid) as ClickRecord | undefined;
    },

    async listClicks(q) {
      const where: string[] = [];
      const params: Row = {};
      if (q.reqid !== undefined) {
        where.push('c.reqid = @reqid');
        params.reqid = q.reqid;
      } else {
        // reqids begin with their time, so a time range is a key range: no index on click_time.
        if (q.from !== undefined) {
          where.push('c.reqid >= @from');
          params.from = reqidFloor(q.from);
        }
        if (q.to !== undefined) {
          where.push('c.reqid < @to');
          params.to = reqidFloor(q.to);
        }
        addEquals(where, params, q, ['offer_id', 'affiliate_id'], 'c.');
      }
      const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
      const total = (db.prepare(`SELECT count(*) AS n FROM clicks c ${clause}`).get(params) as { n: number }).n;
      const rows = db
        .prepare(
          `SELECT c.*, (SELECT min(v.conversion_id) FROM conversions v WHERE v.reqid = c.reqid AND v.is_test = 0) AS conversion_id
           FROM clicks c ${clause} ORDER BY c.reqid LIMIT @limit OFFSET @offset`,
        )
        .all({ ...params, limit: q.limit, offset: q.offset }) as ClickRow[];
      return { rows, total };
    },

    insertLead(lead, dedupe, conversion) {
      return write((): LeadResult => {
        const lead_id = Number(sql.insertLead.run(leadParams(lead)).lastInsertRowid);
        // The claim names the new lead. When an earlier lead holds the email, the throw makes this
        // job's savepoint undo the insert: duplicates are rare, so the common case is two statements.
        if (dedupe && !sql.claimLeadEmail.get({ offer_id: lead.offer_id, email: dedupe.email, lead_id, created_at: lead.created_at, since: dedupe.since })) {
          throw new EarlierLead(leadRow(sql.leadByEmail.get(lead.offer_id, dedupe.email) as Row));
        }
        let row: ConversionRow | null = null;
        if (conversion) {
          row = insertConversionRow(sql, { ...conversion.conversion, lead_id }, conversion.deliveries);
          sql.setLeadConversion.run(row.conversion_id, lead_id);
        }
        // The row is what was written, with its id: no need to read it back.
        return { duplicate: false, lead: { ...lead, lead_id, conversion_id: row?.conversion_id ?? null }, conversion: row };
      }).catch((error: unknown) => {
        if (error instanceof EarlierLead) return { duplicate: true as const, lead: error.lead };
        throw error;
      });
    },

    async listLeads(q) {
      const where: string[] = [];
      const params: Row = {};
      if (q.lead_id !== undefined) {
        where.push('lead_id = @lead_id');
        params.lead_id = q.lead_id;
      } else {
        addRange(where, params, q, 'created_at');
        addEquals(where, params, q, ['offer_id', 'affiliate_id']);
        if (!q.include_tests) where.push('is_test = 0');
      }
      return page(db, 'leads', where, params, 'lead_id', false, q, leadRow);
    },

    insertConversion(conversion, deliveries) {
      return write(() => {
        if (conversion.dedupe_key !== null) {
          const earlier = sql.conversionByKey.get(conversion.offer_id, conversion.event_id, conversion.dedupe_key) as Row | undefined;
          if (earlier) return { duplicate: true as const, conversion: conversionRow(earlier) };
        }
        return { duplicate: false as const, conversion: insertConversionRow(sql, conversion, deliveries) };
      });
    },

    async getConversion(conversion_id) {
      const row = sql.getConversion.get(conversion_id) as Row | undefined;
      return row && conversionRow(row);
    },

    async listConversions(q) {
      const where: string[] = [];
      const params: Row = {};
      if (q.conversion_id !== undefined) {
        where.push('conversion_id = @conversion_id');
        params.conversion_id = q.conversion_id;
      } else {
        addRange(where, params, q, 'conversion_time');
        addEquals(where, params, q, ['offer_id', 'affiliate_id', 'advertiser_id']);
        if (q.status) {
          where.push('status = @status');
          params.status = q.status;
        }
        if (!q.include_tests) where.push('is_test = 0');
      }
      return page(db, 'conversions', where, params, SORT_COLUMNS[q.sort], q.descending, q, conversionRow);
    },

    setConversionStatus(conversion_id, status, deliveries) {
      return write(() => {
        // Setting the status it already has changes nothing and causes no postbacks.
        const current = sql.getConversion.get(conversion_id) as Row | undefined;
        if (!current) return undefined;
        if (current.status === status) return conversionRow(current);
        const row = conversionRow(sql.setConversionStatus.get(status, conversion_id) as Row);
        for (const d of deliveries(row)) sql.insertDelivery.run(deliveryParams(d, Date.now()));
        return row;
      });
    },

    createPostback(p) {
      return write(() => sql.insertPostback.get(p) as PostbackRow);
    },

    updatePostback(postback_id, change) {
      return write(() => {
        const current = sql.getPostback.get(postback_id) as PostbackRow | undefined;
        if (!current) return undefined;
        const next = { ...current, ...definedOnly(change), postback_id };
        return sql.updatePostback.get(next) as PostbackRow;
      });
    },

    deletePostback(postback_id) {
      return write(() => sql.deletePostback.run(postback_id).changes > 0);
    },

    async listPostbacks(q: PostbackQuery) {
      const where: string[] = [];
      const params: Row = {};
      addEquals(where, params, q, ['postback_id', 'affiliate_id', 'offer_id', 'postback_status']);
      const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
      return db.prepare(`SELECT * FROM postbacks ${clause} ORDER BY postback_id`).all(params) as PostbackRow[];
    },

    async postbacksFor(affiliate_id, offer_id, fire_on) {
      return sql.postbacksFor.all(affiliate_id, offer_id, fire_on) as PostbackRow[];
    },

    claimDeliveries(now, lease_until, limit) {
      return write(() => (sql.claimDeliveries.all({ now, lease_until, limit }) as DeliveryRow[]).sort(byDeliveryId));
    },

    finishAttempt(attempt: Attempt, outcome: AttemptOutcome) {
      return write(() => {
        sql.insertAttempt.run(attempt);
        if (outcome.delivered) {
          sql.deliveryDelivered.run({ delivery_id: attempt.delivery_id, at: attempt.attempted_at });
        } else {
          sql.deliveryFailed.run({
            delivery_id: attempt.delivery_id,
            status: outcome.retry_at === null ? 'failed' : 'pending',
            next: outcome.retry_at ?? attempt.attempted_at,
            error: attempt.error ?? `HTTP ${attempt.status_code}`,
          });
        }
      });
    },

    async listDeliveries(q: DeliveryQuery) {
      const where: string[] = [];
      const params: Row = {};
      addEquals(where, params, q, ['delivery_id', 'conversion_id', 'postback_id', 'status']);
      const result = page(db, 'deliveries', where, params, 'delivery_id', false, q, (r) => r as unknown as DeliveryRow);
      return {
        total: result.total,
        rows: result.rows.map((d) => ({ ...d, attempt_log: sql.attemptsOf.all(d.delivery_id) as Attempt[] })),
      };
    },

    async outboxStats(now) {
      const row = sql.outboxStats.get(now) as { pending: number; due: number | null; oldest: number | null };
      return { pending: row.pending, due: row.due ?? 0, oldest_created_at: row.oldest };
    },

    async ping() {
      sql.ping.get();
    },

    async close() {
      await write.drain();
      db.close();
    },
  };
}


// ---- group commit ----------------------------------------------------------------------------------

export interface WriteQueue {
  /** Runs `job` in the next group transaction. A job of one statement may say so (`single`): SQLite
   * undoes a failing statement by itself, so it needs no savepoint of its own. */
  <T>(job: () => T, single?: boolean): Promise<T>;
  drain(): Promise<void>;
}

const ONE_STATEMENT = true;

export function writeQueue(db: Database.Database, maxBatch: number): WriteQueue {
  type Job = { run: () => unknown; single: boolean; resolve: (value: unknown) => void; reject: (error: unknown) => void };
  let queue: Job[] = [];
  let scheduled = false;
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const savepoint = db.prepare('SAVEPOINT job');
  const release = db.prepare('RELEASE job');
  const undo = db.prepare('ROLLBACK TO job');

  function flush() {
    scheduled = false;
    const jobs = queue.length > maxBatch ? queue.splice(0, maxBatch) : queue;
    if (jobs === queue) queue = [];
    if (queue.length) schedule();
    const results: Array<{ ok: boolean; value: unknown }> = [];
    try {
      begin.run();
      for (const job of jobs) {
        // Some errors (disk full, I/O) make SQLite roll back the whole transaction by itself: then
        // nothing of this batch is kept, and every job of it must fail, not run on in autocommit.
        if (job.single) {
          try {
            results.push({ ok: true, value: job.run() });
          } catch (error) {
            if (!db.inTransaction) throw error;
            results.push({ ok: false, value: error });
          }
          continue;
        }
        savepoint.run();
        try {
          results.push({ ok: true, value: job.run() });
          release.run();
        } catch (error) {
          if (!db.inTransaction) throw error;
          undo.run();
          release.run();
          results.push({ ok: false, value: error });
        }
      }
      commit.run();
    } catch (error) {
      // The transaction itself failed (disk full, database locked): nothing of it is kept.
      if (db.inTransaction) db.exec('ROLLBACK');
      for (const job of jobs) job.reject(error);
      return;
    }
    jobs.forEach((job, i) => (results[i]!.ok ? job.resolve(results[i]!.value) : job.reject(results[i]!.value)));
  }

  function schedule() {
    scheduled = true;
    setImmediate(flush);
  }

  const write = <T>(run: () => T, single = false) =>
    new Promise<T>((resolve, reject) => {
      queue.push({ run, single, resolve: resolve as (value: unknown) => void, reject });
      if (!scheduled) schedule();
    });
  return Object.assign(write, {
    drain: async () => {
      while (queue.length) flush();
    },
  });
}

// ---- schema and statements -------------------------------------------------------------------------

function migrate(db: Database.Database) {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
  for (const m of migrations) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(m.version, Date.now());
    }).immediate();
  }
}

const insertInto = (table: string, columns: readonly string[]) =>
  `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`;

function statements(db: Database.Database) {
  return {
    insertMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING'),
    getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
    insertClick: db.prepare(insertInto('clicks', CLICK_COLUMNS)),
    getClick: db.prepare('SELECT * FROM clicks WHERE reqid = ?'),
    // Claims (offer, email) for a new lead unless an earlier lead holds it since `since`.
    claimLeadEmail: db.prepare(
      `INSERT INTO lead_emails (offer_id, email, lead_id, created_at) VALUES (@offer_id, @email, @lead_id, @created_at)
       ON CONFLICT (offer_id, email) DO UPDATE SET lead_id = excluded.lead_id, created_at = excluded.created_at
       WHERE lead_emails.created_at < @since RETURNING 1`,
    ),
    leadByEmail: db.prepare(
      'SELECT l.* FROM lead_emails e JOIN leads l ON l.lead_id = e.lead_id WHERE e.offer_id = ? AND e.email = ?',
    ),
    insertLead: db.prepare(insertInto('leads', LEAD_COLUMNS)),
    setLeadConversion: db.prepare('UPDATE leads SET conversion_id = ? WHERE lead_id = ?'),
    insertConversion: db.prepare(`${insertInto('conversions', CONVERSION_COLUMNS)} RETURNING *`),
    conversionByKey: db.prepare('SELECT * FROM conversions WHERE offer_id = ? AND event_id = ? AND dedupe_key = ?'),
    getConversion: db.prepare('SELECT * FROM conversions WHERE conversion_id = ?'),
    setConversionStatus: db.prepare('UPDATE conversions SET status = ? WHERE conversion_id = ? RETURNING *'),
    insertPostback: db.prepare(
      `${insertInto('postbacks', POSTBACK_COLUMNS)} RETURNING *`,
    ),
    getPostback: db.prepare('SELECT * FROM postbacks WHERE postback_id = ?'),
    updatePostback: db.prepare(
      `UPDATE postbacks SET affiliate_id = @affiliate_id, offer_id = @offer_id, postback_url = @postback_url,
       postback_status = @postback_status, postback_type_id = @postback_type_id, fire_on = @fire_on
       WHERE postback_id = @postback_id RETURNING *`,
    ),
    deletePostback: db.prepare('DELETE FROM postbacks WHERE postback_id = ?'),
    postbacksFor: db.prepare(
      `SELECT * FROM postbacks WHERE affiliate_id = ? AND offer_id IN (?, 0) AND fire_on = ? AND postback_status = 'active'
       ORDER BY postback_id`,
    ),
    insertDelivery: db.prepare(
      insertInto('deliveries', DELIVERY_COLUMNS),
    ),
    claimDeliveries: db.prepare(
      `UPDATE deliveries SET next_attempt_at = @lease_until WHERE delivery_id IN (
         SELECT delivery_id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= @now
         ORDER BY next_attempt_at LIMIT @limit)
       RETURNING *`,
    ),
    insertAttempt: db.prepare(insertInto('attempts', ['delivery_id', 'attempted_at', 'status_code', 'latency_ms', 'error'])),
    deliveryDelivered: db.prepare(
      `UPDATE deliveries SET status = 'delivered', attempts = attempts + 1, delivered_at = @at, last_error = NULL
       WHERE delivery_id = @delivery_id`,
    ),
    deliveryFailed: db.prepare(
      `UPDATE deliveries SET status = @status, attempts = attempts + 1, next_attempt_at = @next, last_error = @error
       WHERE delivery_id = @delivery_id`,
    ),
    // Pending rows only, through the deliveries_due index; a few even when an affiliate is down.
    outboxStats: db.prepare(
      `SELECT count(*) AS pending, sum(next_attempt_at <= ?) AS due, min(created_at) AS oldest FROM deliveries WHERE status = 'pending'`,
    ),
    ping: db.prepare('SELECT 1'),
    attemptsOf: db.prepare(
      'SELECT delivery_id, attempted_at, status_code, latency_ms, error FROM attempts WHERE delivery_id = ? ORDER BY attempt_id',
    ),
  };
}

type Statements = ReturnType<typeof statements>;

function insertConversionRow(sql: Statements, conversion: NewConversion, deliveries: DeliveriesFor): ConversionRow {
  const row = conversionRow(sql.insertConversion.get({ ...conversion, is_test: conversion.is_test ? 1 : 0 }) as Row);
  const now = Date.now();
  for (const d of deliveries(row)) sql.insertDelivery.run(deliveryParams(d, now));
  return row;
}

function deliveryParams(d: NewDelivery, now: number) {
  return { ...d, status: 'pending', attempts: 0, created_at: now, next_attempt_at: now };
}

function leadParams(lead: NewLead) {
  return { ...lead, fields: JSON.stringify(lead.fields), is_test: lead.is_test ? 1 : 0, attributed: lead.attributed ? 1 : 0 };
}

function leadRow(r: Row): LeadRow {
  return { ...(r as unknown as LeadRow), fields: JSON.parse(r.fields as string), is_test: r.is_test === 1, attributed: r.attributed === 1 };
}

function conversionRow(r: Row): ConversionRow {
  return { ...(r as unknown as ConversionRow), is_test: r.is_test === 1, status: r.status as ConversionStatus };
}

function addEquals<Q extends object>(where: string[], params: Row, q: Q, keys: (keyof Q & string)[], prefix = '') {
  for (const key of keys) {
    if (q[key] === undefined) continue;
    where.push(`${prefix}${key} = @${key}`);
    params[key] = q[key];
  }
}

function addRange(where: string[], params: Row, q: { from?: number; to?: number }, column: string) {
  if (q.from !== undefined) {
    where.push(`${column} >= @from`);
    params.from = q.from;
  }
  if (q.to !== undefined) {
    where.push(`${column} < @to`);
    params.to = q.to;
  }
}

function page<T>(
  db: Database.Database,
  table: string,
  where: string[],
  params: Row,
  orderBy: string,
  descending: boolean,
  q: { offset: number; limit: number },
  map: (row: Row) => T,
): Page<T> {
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const total = (db.prepare(`SELECT count(*) AS n FROM ${table} ${clause}`).get(params) as { n: number }).n;
  const direction = descending ? 'DESC' : 'ASC';
  const rows = db
    .prepare(`SELECT * FROM ${table} ${clause} ORDER BY ${orderBy} ${direction}, rowid ${direction} LIMIT @limit OFFSET @offset`)
    .all({ ...params, limit: q.limit, offset: q.offset }) as Row[];
  return { total, rows: rows.map(map) };
}

function byDeliveryId(a: DeliveryRow, b: DeliveryRow) {
  return a.delivery_id - b.delivery_id;
}

