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
import { CLICK_COLUMNS, CONVERSION_COLUMNS, definedOnly, DELIVERY_COLUMNS, EarlierLead, LEAD_COLUMNS, POSTBACK_COLUMNS } from './columns.js';
import * as list from './list-sql.js';
import { migrations } from './sqlite-schema.js';
import * as net from './network-sql.js';
import type { Statement } from './network-sql.js';
import { NETWORK_ENTITIES } from './types.js';
import type {
  ApiKeyRecord,
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
  NetworkRows,
  NewLead,
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
  // Statements by their text, for the SQL the stores share (network-sql.ts, list-sql.ts).
  const prepared = new Map<string, Database.Statement>();
  const prepare = (text: string) => {
    let statement = prepared.get(text);
    if (!statement) prepared.set(text, (statement = db.prepare(text)));
    return statement;
  };
  const all = (s: Statement) => prepare(s.sql).all(...s.params) as Row[];
  const counted = (s: Statement) => (prepare(s.sql).get(...s.params) as { n: number }).n;

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
      const { count, rows } = list.clickList(q);
      return list.page(all(rows) as unknown as ClickRow[], counted(count), q, (r) => r.reqid);
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
      const { count, rows } = list.leadList(q);
      return list.page(all(rows).map(leadRow), counted(count), q, (r) => r.lead_id);
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
      const { count, rows } = list.conversionList(q);
      return list.page(all(rows).map(conversionRow), counted(count), q, (r) => r.conversion_id);
    },

    setConversionStatus(conversion_id, status, deliveries, scope) {
      const inScope = list.conversionInScope(conversion_id, scope);
      return write(() => {
        // Setting the status it already has changes nothing and causes no postbacks.
        const current = prepare(inScope.sql).get(...inScope.params) as Row | undefined;
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

    updatePostback(postback_id, change, scope) {
      const inScope = list.postbackList({ postback_id, scope });
      return write(() => {
        const current = prepare(inScope.sql).get(...inScope.params) as PostbackRow | undefined;
        if (!current) return undefined;
        const next = { ...current, ...definedOnly(change), postback_id };
        return sql.updatePostback.get(next) as PostbackRow;
      });
    },

    deletePostback(postback_id, scope) {
      const inScope = list.postbackScope(scope);
      const statement = prepare(`DELETE FROM postbacks WHERE postback_id = ?${inScope.sql}`);
      return write(() => statement.run(postback_id, ...inScope.params).changes > 0);
    },

    async listPostbacks(q: PostbackQuery) {
      return all(list.postbackList(q)) as unknown as PostbackRow[];
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
      const { count, rows } = list.deliveryList(q);
      const result = list.page(all(rows) as unknown as DeliveryRow[], counted(count), q, (d) => d.delivery_id);
      const attempts = result.rows.length ? (all(list.attemptsOf(result.rows.map((d) => d.delivery_id))) as unknown as Attempt[]) : [];
      return { ...result, rows: result.rows.map((d) => ({ ...d, attempt_log: attempts.filter((a) => a.delivery_id === d.delivery_id) })) };
    },

    async loadNetwork() {
      // One read transaction: a change committed meanwhile is either all in it or not at all.
      return db.transaction((): NetworkRows => {
        const entities = {} as NetworkRows['entities'];
        for (const entity of NETWORK_ENTITIES) {
          entities[entity] = (prepare(net.entityRows(entity)).all() as { data: string }[]).map((r) => JSON.parse(r.data));
        }
        const settings = prepare(net.NETWORK_SETTINGS).get() as { data: string } | undefined;
        return {
          version: (prepare(net.NETWORK_VERSION).get() as { version: number }).version,
          settings: settings ? JSON.parse(settings.data) : null,
          entities,
          api_keys: prepare(net.API_KEYS).all() as ApiKeyRecord[],
          ...net.fileApplied(prepare(net.FILE_APPLIED).all() as { key: string; value: string }[]),
        };
      }).deferred();
    },

    async networkVersion() {
      return (prepare(net.NETWORK_VERSION).get() as { version: number }).version;
    },

    async networkChanges(after, upto) {
      return (prepare(net.NETWORK_CHANGES).all(after, upto) as Row[]).map(net.changeRow);
    },

    writeNetwork(base, writes, meta) {
      return write(() => {
        const claimed = prepare(net.CLAIM_VERSION).get(base) as { version: number } | undefined;
        if (!claimed) return null;
        for (const statement of net.writeStatements(claimed.version, writes, meta)) prepare(statement.sql).run(...statement.params);
        return claimed.version;
      });
    },

    async listChanges(q) {
      const { count, rows } = net.changeQueries(q);
      return {
        total: (prepare(count.sql).get(...count.params) as { n: number }).n,
        rows: (prepare(rows.sql).all(...rows.params) as Row[]).map(net.changeRow),
      };
    },

    touchApiKey(key_id, at) {
      return write(() => {
        prepare(net.TOUCH_API_KEY).run(at, key_id, at);
      }, ONE_STATEMENT);
    },

    async apiKeyUses() {
      return new Map((prepare(net.API_KEY_USES).all() as { key_id: number; last_used_at: number }[]).map((r) => [r.key_id, r.last_used_at]));
    },

    async hasHistory(entity, id) {
      const q = net.historyQuery(entity, id);
      return (prepare(q.sql).get(...q.params) as { used: number }).used === 1;
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
    updatePostback: db.prepare(
      `UPDATE postbacks SET affiliate_id = @affiliate_id, offer_id = @offer_id, postback_url = @postback_url,
       postback_status = @postback_status, postback_type_id = @postback_type_id, fire_on = @fire_on
       WHERE postback_id = @postback_id RETURNING *`,
    ),
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

function byDeliveryId(a: DeliveryRow, b: DeliveryRow) {
  return a.delivery_id - b.delivery_id;
}

