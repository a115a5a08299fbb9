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
import { clickKeyRange } from '../reqid.js';
import { pageSteps, type Counted } from '../reports/page.js';
import { drive } from '../slices.js';
import * as list from './list-sql.js';
import * as report from './report-sql.js';
import { byPending, sqliteReader, type Reader } from './sqlite-reader.js';
import * as net from './network-sql.js';
import type { Statement } from './network-sql.js';
import * as privacy from './privacy-sql.js';
import { NETWORK_ENTITIES } from './types.js';
import { CANCELLED, definedOnly, EarlierLead, notApplied, withHost } from './columns.js';
import { MAX_QUEUED_WRITES, StoreOverloaded } from './errors.js';
import { migrations, MIGRATIONS_TABLE, RECORD_MIGRATION } from './sqlite-schema.js';
import {
  BY_POSITION,
  claimParams,
  clickRow,
  conversionParams,
  conversionRow,
  conversionValues,
  leadRow,
  leadValues,
  STATEMENTS,
  type Row,
  type StatementName,
} from './sqlite-sql.js';
import type {
  ApiKeyRecord,
  Attempt,
  AttemptOutcome,
  ClickRow,
  ConversionRow,
  DeliveriesFor,
  DeliveryQuery,
  DeliveryRow,
  LeadResult,
  LeadUpdate,
  NewConversion,
  NetworkRows,
  PostbackQuery,
  PostbackRow,
  ResendResult,
  Store,
} from './types.js';

export interface SqliteOptions {
  /** `:memory:` for a throwaway store. */
  path: string;
  synchronous?: 'NORMAL' | 'FULL';
  /** Most jobs in one transaction; the rest wait for the next. */
  maxBatch?: number;
  /** Most writes waiting at once; past it a write fails at once with StoreOverloaded. */
  maxQueued?: number;
  /** Run summary reports and list pages on a reader thread with its own read-only connection (sqlite-reader.ts),
   * off the event loop. Not for `:memory:`. The server turns it on (store/index.ts). */
  readerThread?: boolean;
}


export function openSqliteStore(options: SqliteOptions): Store {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  const db = new Database(options.path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  migrate(db);

  const write = writeQueue(db, options.maxBatch ?? 1000, options.maxQueued ?? MAX_QUEUED_WRITES);
  const sql = statements(db);
  // By position (sqlite-sql.ts BY_POSITION); the click read as values, named by clickRow: better-sqlite3's
  // own objects cost that read about 1.5 µs more (bench/RESULTS.md, profile finding 9).
  const insertClick = db.prepare(BY_POSITION.insertClick);
  const getClick = db.prepare(BY_POSITION.getClick).raw();
  const insertLead = db.prepare(BY_POSITION.insertLead);
  const insertConversion = db.prepare(BY_POSITION.insertConversion).pluck();
  /** The conversion and its outbox rows; undefined (nothing written) when an earlier one holds its
   * dedupe key or its click's slot. */
  const insertConversionRow = (conversion: NewConversion, deliveries: DeliveriesFor): ConversionRow | undefined => {
    const conversion_id = insertConversion.get(conversionValues(conversion)) as number | undefined;
    if (conversion_id === undefined) return undefined;
    const row: ConversionRow = { ...conversion, conversion_id };
    for (const d of deliveries(row)) sql.insertDelivery.run(withHost(d));
    return row;
  };
  // Statements by their text, for the SQL the stores share (network-sql.ts, list-sql.ts).
  const prepared = new Map<string, Database.Statement>();
  const prepare = (text: string) => {
    let statement = prepared.get(text);
    if (!statement) prepared.set(text, (statement = db.prepare(text)));
    return statement;
  };
  const all = (s: Statement) => prepare(s.sql).all(...s.params) as Row[];
  const counted = (s: Statement) => (prepare(s.sql).get(...s.params) as { n: number }).n;
  // Two reader threads, each started at its first read and ended when idle (sqlite-reader.ts).
  const readers: Reader[] = options.readerThread && options.path !== ':memory:' ? [sqliteReader(options.path), sqliteReader(options.path)] : [];
  // Heavy reads (reports, and the lists' pages and counts: up to 10,000 rows and a capped count)
  // run on a reader thread, in one snapshot, so that they never hold the loop that answers clicks.
  // Not kept in `prepared`: a report's text holds its zone's offsets, which vary by range.
  const readHeavy = async (statements: Statement[]) =>
    readers.length ? byPending(readers)[0]!.read(statements) : db.transaction(() => statements.map((st) => db.prepare(st.sql).all(...st.params)))();
  /** A list's page and its count, read together. */
  const readList = async (list: { count: Statement; rows: Statement }) => {
    const [count, rows] = await readHeavy([list.count, list.rows]);
    return { rows: rows as Row[], total: (count![0] as { n: number }).n };
  };

  return {
    kind: 'sqlite',

    async secret(generate) {
      return write(() => {
        sql.insertMeta.run('reqid_secret', generate());
        return (sql.getMeta.get('reqid_secret') as { value: string }).value;
      });
    },

    recordClick(c) {
      return write(() => {
        insertClick.run(c.reqid, c.click_time, c.affiliate_id, c.offer_id, c.campaign_id, c.creative_id, c.s1, c.s2, c.s3, c.s4, c.s5, c.ip, c.country, c.user_agent, c.referrer, c.tracking_domain_id, c.visitor_id, c.disposition);
      }, ONE_STATEMENT);
    },

    async getClick(reqid) {
      const values = getClick.get(reqid) as unknown[] | undefined;
      return values && clickRow(values);
    },

    async listClicks(q) {
      // reqids begin with their time, so a time range is a key range (reqid.ts: exact where the
      // range holds ids of both formats).
      const range = q.reqid === undefined ? await clickKeyRange(q.from, q.to, async (lo, hi) => sql.anyClick.get(lo, hi) !== undefined) : {};
      const { rows, total } = await readList(list.clickList(q, range));
      return list.page(rows as unknown as ClickRow[], total, q, (r) => r.reqid);
    },

    insertLead(lead, dedupe, conversion) {
      return write((): LeadResult => {
        const lead_id = Number(insertLead.run(leadValues(lead)).lastInsertRowid);
        // The claim names the new lead. When an earlier lead holds the email, the throw makes this
        // job's savepoint undo the insert: duplicates are rare, so the common case is two statements.
        if (dedupe && !sql.claimLeadEmail.get({ offer_id: lead.offer_id, email: dedupe.email, lead_id, created_at: lead.created_at, since: dedupe.since })) {
          throw new EarlierLead(leadRow(sql.leadByEmail.get(lead.offer_id, dedupe.email) as Row));
        }
        let row: ConversionRow | null = null;
        if (conversion) {
          row = insertConversionRow({ ...conversion.conversion, lead_id }, conversion.deliveries) ?? null;
          // A lead's conversion carries no dedupe key and claims no click slot.
          if (!row) throw new Error("a lead's conversion conflicted with another: it must claim no dedupe key or click slot");
          sql.setLeadConversion.run(row.conversion_id, lead_id);
        }
        // The row is what was written, with its id: no need to read it back.
        return { duplicate: false, lead: { ...lead, lead_id, conversion_id: row?.conversion_id ?? null, updated_at: null, erased_at: null }, conversion: row };
      }).catch((error: unknown) => {
        if (error instanceof EarlierLead) return { duplicate: true as const, lead: error.lead };
        throw error;
      });
    },

    async listLeads(q) {
      const { rows, total } = await readList(list.leadList(q));
      return list.page(rows.map(leadRow), total, q, (r) => r.lead_id);
    },

    async getLead(lead_id) {
      const row = sql.getLead.get(lead_id) as Row | undefined;
      return row && leadRow(row);
    },

    updateLead(lead_id, change, dedupe) {
      return write((): LeadUpdate | undefined => {
        const current = sql.getLead.get(lead_id) as Row | undefined;
        if (!current) return undefined;
        // The claim, then the update only where this lead holds the email (or claims none): the
        // same two statements work as a batch without a transaction.
        const claim = dedupe ? { offer_id: current.offer_id, email: dedupe.email, lead_id, created_at: change.updated_at, since: dedupe.since } : null;
        if (claim) sql.claimLeadEmail.get(claim);
        const updated = sql.updateLead.get({
          lead_id,
          patch: JSON.stringify(change.fields),
          email: change.email,
          resell: change.resell === null ? null : change.resell ? 1 : 0,
          updated_at: change.updated_at,
          offer_id: current.offer_id,
          claimed: claim ? claim.email : null,
        }) as Row | undefined;
        if (updated) return { duplicate: false, lead: leadRow(updated) };
        return { duplicate: true, lead: leadRow(sql.leadByEmail.get(current.offer_id, dedupe!.email) as Row) };
      });
    },

    insertConversion(conversion, deliveries) {
      return write(() => {
        const row = insertConversionRow(conversion, deliveries);
        if (row) return { duplicate: false as const, conversion: row };
        return { duplicate: true as const, conversion: conversionRow(sql.earlierConversion.get(conversionParams(conversion)) as Row) };
      });
    },

    async getConversion(conversion_id) {
      const row = sql.getConversion.get(conversion_id) as Row | undefined;
      return row && conversionRow(row);
    },

    async listConversions(q) {
      const { rows, total } = await readList(list.conversionList(q));
      return list.page(rows.map(conversionRow), total, q, (r) => r.conversion_id);
    },

    setConversionStatus(conversion_id, status, deliveries, scope, money) {
      const inScope = list.conversionInScope(conversion_id, scope);
      const setMoney = money && list.conversionMoneyUpdate(conversion_id, money, scope);
      return write(() => {
        // Setting the status it already has changes nothing and causes no postbacks.
        let current = prepare(inScope.sql).get(...inScope.params) as Row | undefined;
        if (!current) return undefined;
        if (setMoney) current = prepare(setMoney.sql).get(...setMoney.params) as Row;
        if (current.status === status) return conversionRow(current);
        const row = conversionRow(sql.setConversionStatus.get({ status, conversion_id }) as Row);
        for (const d of deliveries(row)) sql.insertDelivery.run(withHost(d));
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
        const row = sql.updatePostback.get(next) as PostbackRow;
        if (row.postback_status === 'inactive') sql.cancelDeliveries.run({ postback_id, reason: CANCELLED.deactivated });
        return row;
      });
    },

    deletePostback(postback_id, scope) {
      const inScope = list.postbackScope(scope);
      const statement = prepare(`DELETE FROM postbacks WHERE postback_id = ?${inScope.sql}`);
      return write(() => {
        if (!statement.run(postback_id, ...inScope.params).changes) return false;
        sql.cancelDeliveries.run({ postback_id, reason: CANCELLED.deleted });
        return true;
      });
    },

    async listPostbacks(q: PostbackQuery) {
      return all(list.postbackList(q)) as unknown as PostbackRow[];
    },

    async postbacksFor(affiliate_id, offer_id, fire_on) {
      return sql.postbacksFor.all(affiliate_id, offer_id, fire_on) as PostbackRow[];
    },

    claimDeliveries(claim) {
      // The dispatcher's own writes, bounded by its concurrency: never refused for a full queue
      // (a refused outcome would only make the delivery go out twice).
      return write(() => (sql.claimDeliveries.all(claimParams(claim)) as DeliveryRow[]).sort(byDeliveryId), UNBOUNDED);
    },

    finishAttempt(attempt: Attempt, lease: number, outcome: AttemptOutcome) {
      return write(() => {
        const fence = { delivery_id: attempt.delivery_id, lease };
        const applied = outcome.delivered
          ? sql.deliveryDelivered.run({ ...fence, at: attempt.attempted_at }).changes > 0
          : sql.deliveryFailed.run({
              ...fence,
              status: outcome.retry_in_ms === null ? 'failed' : 'pending',
              retry_in_ms: outcome.retry_in_ms ?? 0,
              error: attempt.error ?? `HTTP ${attempt.status_code}`,
            }).changes > 0;
        sql.insertAttempt.run({ ...attempt, error: applied ? attempt.error : notApplied(attempt) });
        return applied;
      }, UNBOUNDED);
    },

    resendDelivery(delivery_id) {
      return write((): ResendResult => {
        const old = sql.getDelivery.get(delivery_id) as DeliveryRow | undefined;
        if (!old) return { resent: false, reason: 'missing' };
        if (old.status === 'pending' || old.status === 'delivered') return { resent: false, reason: old.status, delivery: old };
        const again = sql.resentAs.get(delivery_id) as { delivery_id: number } | undefined;
        if (again) return { resent: false, reason: 'resent', delivery: old, resent_as: again.delivery_id };
        return { resent: true, delivery: sql.resendDelivery.get(delivery_id) as DeliveryRow };
      });
    },

    async clock() {
      return (sql.now.get() as { now: number }).now;
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
        const claim = net.claimToken();
        const claimed = prepare(net.CLAIM_VERSION).get(claim, base) as { version: number } | undefined;
        if (!claimed) return null;
        for (const statement of net.writeStatements(claimed.version, claim, writes, meta)) prepare(statement.sql).run(...statement.params);
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

    endSession(session_id, expires_at, ended_at) {
      return write(() => {
        prepare(net.END_SESSION).run(session_id, expires_at, ended_at);
      }, ONE_STATEMENT);
    },

    async sessionEnded(session_id) {
      return prepare(net.SESSION_ENDED).get(session_id) !== undefined;
    },

    pruneEndedSessions(now, limit) {
      return write(() => prepare(net.PRUNE_ENDED_SESSIONS).run(now, limit).changes, ONE_STATEMENT);
    },

    async hasHistory(entity, id) {
      // An entity nothing names is proved so by reading whole tables: on the reader thread.
      const [rows] = await readHeavy([net.historyQuery(entity, id)]);
      return (rows![0] as { used: number }).used === 1;
    },

    async summaryReport(q, order) {
      const plan = report.rollupPlan(q, report.watermarkOf(prepare(report.WATERMARK).get() as Row));
      const any = async (lo: string, hi: string) => sql.anyClick.get(lo, hi) !== undefined;
      const range = await clickKeyRange(plan.tail, q.to, any);
      const head = plan.head === undefined ? {} : await clickKeyRange(q.from, plan.head, any);
      const s = report.summaryStatements(q, range, plan, head);
      // The clicks and the conversions on a reader thread each, at once (on two cores the report
      // takes the longer of the two, 0.6 and 0.25 s for a month by sub id at 10M clicks, rather
      // than their sum), then paged there: only the page crosses to the event loop.
      if (readers.length) {
        const [clicks, conversions] = byPending(readers);
        return clicks!.report(s.clicks, s.conversions, order, conversions);
      }
      const [clicks, conversions] = await readHeavy([s.clicks, s.conversions]);
      return drive(pageSteps(clicks as Counted[], conversions as Counted[], order));
    },

    async foldReports(until, window, chunk = report.FOLD_CHUNK.sqlite) {
      const fold = await report.planFold(
        {
          watermark: async () => report.watermarkOf(prepare(report.WATERMARK).get() as Row),
          firstClick: async () => (prepare(report.FIRST_CLICK).get() as { click_time: number } | undefined)?.click_time ?? null,
          anyClick: async (lo, hi) => sql.anyClick.get(lo, hi) !== undefined,
          reqid: async (s) => (prepare(s.sql).get(...s.params) as { reqid: string } | undefined)?.reqid ?? null,
        },
        until,
        window,
        chunk,
      );
      if (!fold) return null;
      return write(() => {
        if (prepare(fold.claim.sql).run(...fold.claim.params).changes === 0) return null;
        for (const f of fold.folds) prepare(f.sql).run(...f.params);
        return fold.answer;
      });
    },

    async outboxStats(now) {
      const row = sql.outboxStats.get(now) as { pending: number; due: number | null; oldest: number | null };
      return { pending: row.pending, due: row.due ?? 0, oldest_created_at: row.oldest };
    },

    retain(kind, before, limit) {
      const { statements, counted } = privacy.retentionBatch(kind, before, limit, Date.now());
      return write(() => {
        let n = 0;
        statements.forEach((s, i) => {
          const { changes } = prepare(s.sql).run(...s.params);
          if (counted.includes(i)) n += changes;
        });
        return n;
      });
    },

    erase(target, at) {
      return write(() => {
        // Inside the write: nothing written between the reads and the writes escapes them.
        const leads = all(privacy.erasureLeads(target)) as unknown as privacy.ErasedLead[];
        const links = privacy.erasureLinks(leads);
        const clicks = all(links.clicks) as { reqid: string; ip: string | null }[];
        const conversions = all(links.conversions) as { conversion_id: number; ip: string | null }[];
        for (const s of privacy.erasureWrites(leads, clicks, conversions, at)) db.prepare(s.sql).run(...s.params);
        return { leads: leads.length, clicks: clicks.length, conversions: conversions.length };
      });
    },

    async ping() {
      sql.ping.get();
    },

    async close() {
      await write.drain();
      await Promise.all(readers.map((r) => r.close()));
      db.close();
    },
  };
}


// ---- group commit ----------------------------------------------------------------------------------

export interface WriteQueue {
  /** Runs `job` in the next group transaction. A job of one statement may say so (`single`): SQLite
   * undoes a failing statement by itself, so it needs no savepoint of its own. Past `maxQueued`
   * waiting jobs a job is refused at once (StoreOverloaded), unless it is `unbounded`. */
  <T>(job: () => T, options?: WriteOptions): Promise<T>;
  drain(): Promise<void>;
}

export interface WriteOptions {
  single?: boolean;
  unbounded?: boolean;
}

const ONE_STATEMENT: WriteOptions = { single: true };
const UNBOUNDED: WriteOptions = { unbounded: true };

export function writeQueue(db: Database.Database, maxBatch: number, maxQueued = Infinity): WriteQueue {
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

  const write = <T>(run: () => T, options: WriteOptions = {}) =>
    new Promise<T>((resolve, reject) => {
      if (queue.length >= maxQueued && !options.unbounded) return reject(new StoreOverloaded('the SQLite write queue', maxQueued));
      queue.push({ run, single: options.single ?? false, resolve: resolve as (value: unknown) => void, reject });
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
  db.exec(MIGRATIONS_TABLE);
  const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
  for (const m of migrations) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare(RECORD_MIGRATION).run(m.version, Date.now());
    }).immediate();
  }
}

/** STATEMENTS prepared, but those SQLite runs by position (BY_POSITION, prepared by the store). */
function statements(db: Database.Database) {
  const named = Object.entries(STATEMENTS).filter(([name]) => !(name in BY_POSITION));
  return Object.fromEntries(named.map(([name, text]) => [name, db.prepare(text)])) as Record<
    Exclude<StatementName, keyof typeof BY_POSITION>,
    Database.Statement
  >;
}

function byDeliveryId(a: DeliveryRow, b: DeliveryRow) {
  return a.delivery_id - b.delivery_id;
}

