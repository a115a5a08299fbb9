// The shared store: PostgreSQL through the `postgres` client (porsager/postgres), for several server
// instances on one database. Same semantics as sqlite.ts, checked by the same conformance suite.
//
// Clicks are group-committed: the clicks recorded during one turn of the event loop go to the
// database as one multi-row INSERT (one statement, so one transaction), and each click's promise
// resolves only after that statement has committed. A click is therefore durable before its 302 is
// sent, at the price of one commit per batch instead of one per click. While a batch is in flight
// the next one gathers, so batches grow with the load.
//
// Every other write is its own transaction on a pooled connection. Correctness across instances
// rests on the database, never on this process: conversion dedupe is a unique index
// (INSERT … ON CONFLICT DO NOTHING), the lead duplicate check is an atomic upsert on (offer, email),
// the reqid secret is an INSERT … ON CONFLICT DO NOTHING, and dispatchers claim deliveries with
// FOR UPDATE SKIP LOCKED, so each postback is delivered by one instance.
import postgres from 'postgres';
import { clickKeyRange } from '../reqid.js';
import { pageSteps, type Counted } from '../reports/page.js';
import { drive } from '../slices.js';
import { CANCELLED, CONVERSION_COLUMNS, EarlierLead, LEAD_COLUMNS, notApplied, POSTBACK_COLUMNS, withHost } from './columns.js';
import { MAX_QUEUED_WRITES, StoreOverloaded } from './errors.js';
import * as list from './list-sql.js';
import * as report from './report-sql.js';
import { migrate } from './postgres-schema.js';
import * as net from './network-sql.js';
import * as privacy from './privacy-sql.js';
import { NETWORK_ENTITIES, ReadTimeout } from './types.js';
import { redact } from './url.js';
import type {
  ApiKeyRecord,
  Attempt,
  AttemptOutcome,
  ClickRecord,
  ClickRow,
  ConversionResult,
  ConversionRow,
  DeliveriesFor,
  DeliveryClaim,
  DeliveryRow,
  LeadResult,
  LeadRow,
  LeadUpdate,
  NewConversion,
  NewDelivery,
  NetworkRows,
  PostbackRow,
  ResendResult,
  Store,
} from './types.js';

export interface PostgresOptions {
  /** postgres://user:password@host:port/database[?search_path=schema&max=10&…] */
  url: string;
  /** Connections in the pool (default: `max` in the URL, else 10). */
  max?: number;
  /** Most clicks in one INSERT; the rest go in the next. */
  maxBatch?: number;
  /** Click batches in flight at once; more gather meanwhile. */
  batchesInFlight?: number;
  /** Most clicks waiting for a batch, and most other writes in flight; past either a write fails
   * at once with StoreOverloaded. */
  maxQueued?: number;
  /** The statement timeout of list queries (click.json, conversions.json, …), in ms. */
  readTimeoutMs?: number;
}

/** A list query running longer is stopped (and answered as such): long enough for a month of
 * clicks read by key, short enough that no call holds a connection for long. */
export const READ_TIMEOUT_MS = 5000;

/** PostgreSQL's clock, in milliseconds: every due time and lease is read from it, never from the
 * instance's (several instances' clocks disagree). */
const NOW = 'floor(extract(epoch from now()) * 1000)::bigint';

type Sql = postgres.Sql<{ bigint: number; text: string }>;
type Tx = postgres.ReservedSql<{ bigint: number; text: string }>;

const NUL = /\u0000/g;

/** Opens a pool on the database, applies the migrations it lacks, and answers the store. */
export async function openPostgresStore(options: PostgresOptions): Promise<Store> {
  const max = options.max ?? poolSizeOf(options.url);
  const sql: Sql = postgres(options.url, {
    ...(max !== undefined ? { max } : {}),
    types: {
      // bigint (ids, times in ms, money in cents) as JavaScript numbers: all stay below 2^53.
      bigint: { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) },
      // PostgreSQL text cannot hold U+0000 and refuses the whole statement; a client can send one
      // (?s1=%00), and must not turn a click into an error. It is stored as U+FFFD.
      text: { to: 25, from: [25, 1043], serialize: (x: unknown) => String(x).replace(NUL, '\uFFFD'), parse: (x: string) => x },
    },
    // Named in pg_stat_activity; `?application_name=` in the URL wins.
    connection: { application_name: 'crumb' },
    onnotice: () => {},
  });
  try {
    await migrate(sql);
  } catch (error) {
    await sql.end({ timeout: 1 });
    throw new Error(`Cannot open the PostgreSQL database ${redact(options.url)}: ${(error as Error).message}`, { cause: error });
  }

  // Writes in progress, so that close() lets them finish before it ends the pool; past the bound a
  // write is refused before it starts (the dispatcher's own, few and bounded by its concurrency,
  // always go: a refused outcome would only make a delivery go out twice).
  const maxQueued = options.maxQueued ?? MAX_QUEUED_WRITES;
  const inFlight = new Set<Promise<unknown>>();
  const track = <T>(start: () => Promise<T>, bounded = true): Promise<T> => {
    if (bounded && inFlight.size >= maxQueued) return Promise.reject(new StoreOverloaded('PostgreSQL writes in flight', maxQueued));
    const work = start();
    inFlight.add(work);
    const forget = () => inFlight.delete(work);
    work.then(forget, forget);
    return work;
  };
  const now = sql.unsafe(NOW);
  const clicks = clickBatcher(sql, options.maxBatch ?? 1000, options.batchesInFlight ?? 2, maxQueued);
  // List queries take at most half the pool, so that however many run at once, clicks, leads
  // and conversions always find a connection; each runs under a statement timeout.
  const readTimeout = options.readTimeoutMs ?? READ_TIMEOUT_MS;
  const reads = gate(Math.max(1, Math.floor((max ?? 10) / 2)));
  const reading = <T>(work: (tx: Tx) => Promise<T>): Promise<T> =>
    reads(() =>
      transaction(sql, async (tx) => {
        // One snapshot for the count and the page; the timeout ends with the transaction.
        await Promise.all([tx.unsafe('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY'), tx.unsafe(`SET LOCAL statement_timeout = ${readTimeout}`)]);
        return work(tx);
      }),
    ).catch((error: unknown) => {
      if ((error as { code?: unknown }).code === QUERY_CANCELED) throw new ReadTimeout(readTimeout);
      throw error;
    });
  const conversionIds = idBlocks(sql, 'conversions', 'conversion_id');
  let closing: Promise<void> | undefined;

  return {
    kind: 'postgres',

    secret(generate) {
      return track(() =>
        (async () => {
          // Every instance offers one; the first committed wins and all read it back.
          await sql`INSERT INTO meta (key, value) VALUES ('reqid_secret', ${generate()}) ON CONFLICT (key) DO NOTHING`;
          const [row] = await sql`SELECT value FROM meta WHERE key = 'reqid_secret'`;
          return row!.value as string;
        })(),
        false,
      );
    },

    recordClick(click) {
      return clicks.add(click);
    },

    async getClick(reqid) {
      const [row] = await sql`SELECT * FROM clicks WHERE reqid = ${reqid}`;
      return row as ClickRecord | undefined;
    },

    async listClicks(q) {
      // reqids begin with their time, so a time range is a key range (reqid.ts: exact where the
      // range holds ids of both formats).
      // The probes run in the read transaction too: under its timeout and its snapshot.
      return reading(async (tx) => {
        const range =
          q.reqid === undefined
            ? await clickKeyRange(q.from, q.to, async (lo, hi) => (await tx`SELECT 1 FROM clicks WHERE reqid >= ${lo} AND reqid < ${hi} LIMIT 1`).length > 0)
            : {};
        const { count, rows } = list.clickList(q, range);
        const [n, found] = await Promise.all([run(tx, count), run(tx, rows)]);
        return list.page(found as unknown as ClickRow[], Number(n[0]!.n), q, (r) => r.reqid);
      });
    },

    insertLead(lead, dedupe, conversion) {
      return track(() =>
        transaction(sql, async (tx): Promise<LeadResult> => {
          const [inserted] = await tx`INSERT INTO leads ${tx(lead, LEAD_COLUMNS)} RETURNING *`;
          let stored = inserted as LeadRow;
          if (dedupe) {
            // Claims (offer, email) for this lead unless an earlier lead holds it since `since`. A
            // concurrent claimer of the same pair waits for this transaction, then sees its row.
            // When the claim fails, the throw rolls the lead back: duplicates are the rare case.
            const claimed = await tx`
              INSERT INTO lead_emails (offer_id, email, lead_id, created_at)
              VALUES (${lead.offer_id}, ${dedupe.email}, ${stored.lead_id}, ${lead.created_at})
              ON CONFLICT (offer_id, email) DO UPDATE SET lead_id = excluded.lead_id, created_at = excluded.created_at
              WHERE lead_emails.created_at < ${dedupe.since}
              RETURNING 1`;
            if (!claimed.length) {
              const [earlier] = await tx`
                SELECT l.* FROM lead_emails e JOIN leads l ON l.lead_id = e.lead_id
                WHERE e.offer_id = ${lead.offer_id} AND e.email = ${dedupe.email}`;
              throw new EarlierLead(earlier as LeadRow);
            }
          }
          let row: ConversionRow | null = null;
          if (conversion) {
            row = await insertConversionRow(tx, { ...conversion.conversion, lead_id: stored.lead_id }, conversion.deliveries);
            const [updated] = await tx`UPDATE leads SET conversion_id = ${row.conversion_id} WHERE lead_id = ${stored.lead_id} RETURNING *`;
            stored = updated as LeadRow;
          }
          return { duplicate: false, lead: stored, conversion: row };
        }).catch((error: unknown) => {
          if (error instanceof EarlierLead) return { duplicate: true as const, lead: error.lead };
          throw error;
        }),
      );
    },

    listLeads(q) {
      const { count, rows } = list.leadList(q);
      return reading(async (tx) => {
        const [n, found] = await Promise.all([run(tx, count), run(tx, rows)]);
        return list.page(found as unknown as LeadRow[], Number(n[0]!.n), q, (r) => r.lead_id);
      });
    },

    async getLead(lead_id) {
      const [row] = await sql`SELECT * FROM leads WHERE lead_id = ${lead_id}`;
      return row as LeadRow | undefined;
    },

    updateLead(lead_id, change, dedupe) {
      return track(() =>
        transaction(sql, async (tx): Promise<LeadUpdate | undefined> => {
          const [current] = await tx`SELECT offer_id FROM leads WHERE lead_id = ${lead_id}`;
          if (!current) return undefined;
          const offer_id = current.offer_id as number;
          // The claim, then the update only where this lead holds the email (or claims none): as
          // in sqlite.ts, two statements that need no read of their own between them.
          if (dedupe) {
            await tx`
              INSERT INTO lead_emails (offer_id, email, lead_id, created_at)
              VALUES (${offer_id}, ${dedupe.email}, ${lead_id}, ${change.updated_at})
              ON CONFLICT (offer_id, email) DO UPDATE SET lead_id = excluded.lead_id, created_at = excluded.created_at
              WHERE lead_emails.created_at < ${dedupe.since}`;
          }
          const patch = JSON.stringify(change.fields);
          const claimed = dedupe ? dedupe.email : null;
          // The merged fields keep the lead's order, new ones after them (json keeps order; jsonb's
          // || would not).
          const [updated] = await tx`
            UPDATE leads l SET
              fields = (
                SELECT coalesce(json_object_agg(m.k, m.v ORDER BY m.o), '{}'::json) FROM (
                  SELECT e.key AS k, coalesce(p.value, e.value) AS v, e.o
                  FROM json_each(l.fields) WITH ORDINALITY AS e(key, value, o)
                  LEFT JOIN json_each(${patch}::text::json) AS p ON p.key = e.key
                  UNION ALL
                  SELECT p.key, p.value, 1000000000 + p.o FROM json_each(${patch}::text::json) WITH ORDINALITY AS p(key, value, o)
                  WHERE NOT EXISTS (SELECT 1 FROM json_each(l.fields) AS x WHERE x.key = p.key)
                ) m),
              email = coalesce(${change.email}::text, l.email),
              resell = coalesce(${change.resell}::boolean, l.resell),
              updated_at = ${change.updated_at}
            WHERE l.lead_id = ${lead_id} AND (${claimed}::text IS NULL OR EXISTS (
              SELECT 1 FROM lead_emails e WHERE e.offer_id = ${offer_id} AND e.email = ${claimed}::text AND e.lead_id = ${lead_id}))
            RETURNING *`;
          if (updated) return { duplicate: false, lead: updated as LeadRow };
          const [earlier] = await tx`
            SELECT l.* FROM lead_emails e JOIN leads l ON l.lead_id = e.lead_id WHERE e.offer_id = ${offer_id} AND e.email = ${claimed}`;
          return { duplicate: true, lead: earlier as LeadRow };
        }),
      );
    },

    insertConversion(conversion, deliveries) {
      return track(() =>
        (async (): Promise<ConversionResult> => {
          // The id first, so that the outbox rows (whose URLs name it) are rendered before anything
          // is written; then the conversion and its outbox rows go in one statement, atomic by
          // itself: one round trip, no transaction to hold a connection for. A twin arriving at the
          // same moment waits on the unique index, then inserts nothing, and reads this one back.
          const row = { ...conversion, conversion_id: await conversionIds() } as ConversionRow;
          const outbox = deliveries(row);
          const values = sql(row, [...CONVERSION_COLUMNS, 'conversion_id']);
          const [inserted] = outbox.length
            ? await sql`
                WITH c AS (
                  INSERT INTO conversions ${values}
                  ON CONFLICT DO NOTHING
                  RETURNING *
                ), d AS (
                  INSERT INTO deliveries (postback_id, conversion_id, fire_on, url, host, status, attempts, created_at, next_attempt_at)
                  SELECT x.postback_id, c.conversion_id, x.fire_on, x.url, x.host, 'pending', 0, ${now}, ${now}
                  FROM c, json_to_recordset(${JSON.stringify(outbox.map(withHost))}::text::json) AS x(postback_id bigint, fire_on text, url text, host text)
                )
                SELECT * FROM c`
            : await sql`
                INSERT INTO conversions ${values}
                ON CONFLICT DO NOTHING
                RETURNING *`;
          if (inserted) return { duplicate: false, conversion: inserted as ConversionRow };
          // Without a conflict target, DO NOTHING covers both unique indexes: the dedupe key and the
          // click's slot. The earlier conversion holding one of them, the dedupe key's first.
          const [earlier] = await sql`
            SELECT * FROM conversions
            WHERE (offer_id = ${conversion.offer_id} AND event_id = ${conversion.event_id} AND dedupe_key = ${conversion.dedupe_key})
               OR (${conversion.once_per_click}::boolean AND once_per_click AND reqid = ${conversion.reqid} AND event_id = ${conversion.event_id})
            ORDER BY CASE WHEN dedupe_key = ${conversion.dedupe_key} THEN 0 ELSE 1 END, conversion_id LIMIT 1`;
          if (!earlier) throw new Error('A conversion conflicted with one that is not there: retry it');
          return { duplicate: true, conversion: earlier as ConversionRow };
        })(),
      );
    },

    async getConversion(conversion_id) {
      const [row] = await sql`SELECT * FROM conversions WHERE conversion_id = ${conversion_id}`;
      return row as ConversionRow | undefined;
    },

    listConversions(q) {
      const { count, rows } = list.conversionList(q);
      return reading(async (tx) => {
        const [n, found] = await Promise.all([run(tx, count), run(tx, rows)]);
        return list.page(found as unknown as ConversionRow[], Number(n[0]!.n), q, (r) => r.conversion_id);
      });
    },

    setConversionStatus(conversion_id, status, deliveries, scope, money) {
      const where = list.conversionWhere(conversion_id, scope);
      const inScope = list.conversionInScope(conversion_id, scope);
      return track(() =>
        transaction(sql, async (tx) => {
          // The money first (it locks the row), so that a conversion approved here counts it.
          if (money && !(await run(tx, list.conversionMoneyUpdate(conversion_id, money, scope))).length) return undefined;
          // Setting the status it already has changes nothing and causes no postbacks. A concurrent
          // identical change waits on the row lock, then finds the status set and writes nothing.
          // Only a conversion inside the scope is changed (the same condition as its list). Money
          // follows status: counted while approved (never for a test), 0 otherwise.
          const [changed] = await run(tx, {
            sql: `UPDATE conversions v SET status = ?,
                    payout_cents = CASE WHEN ? = 'approved' AND NOT v.is_test THEN v.computed_payout_cents ELSE 0 END,
                    revenue_cents = CASE WHEN ? = 'approved' AND NOT v.is_test THEN v.computed_revenue_cents ELSE 0 END
                  ${where.sql} AND v.status <> ? RETURNING v.*`,
            params: [status, status, status, ...where.params, status],
          });
          if (!changed) {
            const [current] = await run(tx, inScope);
            return current as unknown as ConversionRow | undefined;
          }
          const row = changed as unknown as ConversionRow;
          await insertDeliveries(tx, deliveries(row));
          return row;
        }),
      );
    },

    async createPostback(p) {
      const [row] = await track(() => sql`INSERT INTO postbacks ${sql(p, POSTBACK_COLUMNS)} RETURNING *`.execute());
      return row as PostbackRow;
    },

    async updatePostback(postback_id, change, scope) {
      const columns = POSTBACK_COLUMNS.filter((c) => change[c] !== undefined);
      const inScope = list.postbackScope(scope);
      // One statement: a deactivated postback's pending deliveries are cancelled with it.
      const [row] = columns.length
        ? await track(() =>
            sql
              .unsafe(
                net.numbered(
                  `WITH p AS (UPDATE postbacks SET ${columns.map((c) => `${c} = ?`).join(', ')} WHERE postback_id = ?${inScope.sql} RETURNING *), c AS (
                     UPDATE deliveries SET status = 'cancelled', last_error = ?
                     WHERE status = 'pending' AND postback_id IN (SELECT postback_id FROM p WHERE postback_status = 'inactive')
                   )
                   SELECT * FROM p`,
                ),
                [...columns.map((c) => change[c]), postback_id, ...inScope.params, CANCELLED.deactivated] as never[],
              )
              .execute(),
          )
        : await run(sql, list.postbackList({ postback_id, scope }));
      return row as PostbackRow | undefined;
    },

    async deletePostback(postback_id, scope) {
      const inScope = list.postbackScope(scope);
      const [row] = await track(() =>
        sql
          .unsafe(
            net.numbered(
              `WITH p AS (DELETE FROM postbacks WHERE postback_id = ?${inScope.sql} RETURNING postback_id), c AS (
                 UPDATE deliveries SET status = 'cancelled', last_error = ?
                 WHERE status = 'pending' AND postback_id IN (SELECT postback_id FROM p)
               )
               SELECT count(*) AS n FROM p`,
            ),
            [postback_id, ...inScope.params, CANCELLED.deleted] as never[],
          )
          .execute(),
      );
      return Number(row!.n) > 0;
    },

    async listPostbacks(q) {
      return (await run(sql, list.postbackList(q))) as unknown as PostbackRow[];
    },

    async postbacksFor(affiliate_id, offer_id, fire_on) {
      return (await sql`
        SELECT * FROM postbacks
        WHERE affiliate_id = ${affiliate_id} AND offer_id IN (${offer_id}, 0) AND fire_on = ${fire_on} AND postback_status = 'active'
        ORDER BY postback_id`) as unknown as PostbackRow[];
    },

    async loadNetwork() {
      // One REPEATABLE READ snapshot: a change committed meanwhile is either all in it or not at all.
      return transaction(sql, async (tx): Promise<NetworkRows> => {
        await tx`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY`;
        const entities = {} as NetworkRows['entities'];
        for (const entity of NETWORK_ENTITIES) {
          entities[entity] = (await tx.unsafe(net.entityRows(entity))).map((r) => JSON.parse(r.data as string));
        }
        const [settings] = await tx.unsafe(net.NETWORK_SETTINGS);
        const [version] = await tx.unsafe(net.NETWORK_VERSION);
        const applied = net.fileApplied((await tx.unsafe(net.FILE_APPLIED)) as unknown as { key: string; value: string }[]);
        return {
          version: Number(version!.version),
          settings: settings ? JSON.parse(settings.data as string) : null,
          entities,
          api_keys: (await tx.unsafe(net.API_KEYS)).map(apiKeyRow),
          ...applied,
        };
      });
    },

    async networkVersion() {
      const [row] = await sql.unsafe(net.NETWORK_VERSION, [], { prepare: true });
      return Number(row!.version);
    },

    async networkChanges(after, upto) {
      return (await sql.unsafe(net.numbered(net.NETWORK_CHANGES), [after, upto])).map(net.changeRow);
    },

    writeNetwork(base, writes, meta) {
      return track(() =>
        transaction(sql, async (tx) => {
          // The version row is locked until COMMIT: a concurrent change waits, then finds the
          // version moved and claims nothing.
          const claim = net.claimToken();
          const [claimed] = await tx.unsafe(net.numbered(net.CLAIM_VERSION), [claim, base]);
          if (!claimed) return null;
          const version = Number(claimed.version);
          // Sent together, so a large import is one pipeline rather than a round trip per row.
          await Promise.all(net.writeStatements(version, claim, writes, meta).map((s) => tx.unsafe(net.numbered(s.sql), s.params as never[])));
          return version;
        }),
      );
    },

    async listChanges(q) {
      const { count, rows } = net.changeQueries(q);
      const [n] = await sql.unsafe(net.numbered(count.sql), count.params as never[]);
      const found = await sql.unsafe(net.numbered(rows.sql), rows.params as never[]);
      return { total: Number(n!.n), rows: found.map(net.changeRow) };
    },

    async touchApiKey(key_id, at) {
      await track(() => sql.unsafe(net.numbered(net.TOUCH_API_KEY), [at, key_id, at]).execute());
    },

    async apiKeyUses() {
      const rows = await sql.unsafe(net.API_KEY_USES);
      return new Map(rows.map((r) => [Number(r.key_id), Number(r.last_used_at)]));
    },

    async endSession(session_id, expires_at, ended_at) {
      await track(() => sql.unsafe(net.numbered(net.END_SESSION), [session_id, expires_at, ended_at]).execute());
    },

    async sessionEnded(session_id) {
      return (await sql.unsafe(net.numbered(net.SESSION_ENDED), [session_id])).length > 0;
    },

    async pruneEndedSessions(now, limit) {
      const done = await track(() => sql.unsafe(net.numbered(net.PRUNE_ENDED_SESSIONS), [now, limit]).execute());
      return done.count;
    },

    async hasHistory(entity, id) {
      const q = net.historyQuery(entity, id);
      const [row] = await sql.unsafe(net.numbered(q.sql), q.params as never[]);
      return Number(row!.used) === 1;
    },

    async claimDeliveries(claim: DeliveryClaim) {
      const per_host = claim.per_host ?? claim.limit;
      const busy = claim.busy ?? {};
      const full = Object.keys(busy).filter((host) => busy[host]! >= per_host);
      // The `limit` deliveries due longest, skipping hosts at their limit (SKIP LOCKED: rows another
      // claimer is taking right now are left to it; a row it has already leased is re-checked after
      // its commit and no longer due); of those, at most the room each host has left. Each claim
      // raises the lease, the fencing token of finishAttempt.
      const rows = await track(
        () => sql`
          WITH due AS (
            SELECT delivery_id, host, next_attempt_at FROM deliveries
            WHERE status = 'pending' AND next_attempt_at <= ${now} AND NOT (host = ANY(${full}::text[]))
            ORDER BY next_attempt_at, delivery_id LIMIT ${claim.limit}
            FOR UPDATE SKIP LOCKED
          ), ranked AS (
            SELECT delivery_id, host, row_number() OVER (PARTITION BY host ORDER BY next_attempt_at, delivery_id) AS n FROM due
          ), chosen AS (
            SELECT r.delivery_id FROM ranked r LEFT JOIN json_each_text(${JSON.stringify(busy)}::text::json) b ON b.key = r.host
            WHERE r.n <= ${per_host} - coalesce(b.value::integer, 0)
          )
          UPDATE deliveries d SET next_attempt_at = ${now} + ${claim.lease_ms}, lease = d.lease + 1
          FROM chosen WHERE d.delivery_id = chosen.delivery_id
          RETURNING d.*`.execute(),
        false,
      );
      return (rows as unknown as DeliveryRow[]).sort((a, b) => a.delivery_id - b.delivery_id);
    },

    async finishAttempt(attempt: Attempt, lease: number, outcome: AttemptOutcome) {
      // One statement, so the log line and the outcome commit together. Only the attempt holding
      // the latest lease of a pending delivery writes its outcome; any other writes its log line.
      const fence = sql`delivery_id = ${attempt.delivery_id} AND lease = ${lease} AND status = 'pending'`;
      const change = outcome.delivered
        ? sql`status = 'delivered', attempts = attempts + 1, delivered_at = ${attempt.attempted_at}, last_error = NULL`
        : sql`status = ${outcome.retry_in_ms === null ? 'failed' : 'pending'}, attempts = attempts + 1,
              next_attempt_at = ${now} + ${outcome.retry_in_ms ?? 0}, last_error = ${attempt.error ?? `HTTP ${attempt.status_code}`}`;
      const [result] = await track(
        () => sql`
          WITH applied AS (UPDATE deliveries SET ${change} WHERE ${fence} RETURNING 1), logged AS (
            INSERT INTO attempts (delivery_id, attempted_at, status_code, latency_ms, error)
            SELECT ${attempt.delivery_id}, ${attempt.attempted_at}, ${attempt.status_code}, ${Math.round(attempt.latency_ms)},
              CASE WHEN EXISTS (SELECT 1 FROM applied) THEN ${attempt.error}::text ELSE ${notApplied(attempt)} END
          )
          SELECT EXISTS (SELECT 1 FROM applied) AS applied`.execute(),
        false,
      );
      return result!.applied as boolean;
    },

    async resendDelivery(delivery_id) {
      // At most one re-send per delivery: the unique index on resend_of decides between two at once.
      const [again] = await track(
        () => sql`
          INSERT INTO deliveries (postback_id, conversion_id, fire_on, url, host, status, attempts, created_at, next_attempt_at, resend_of)
          SELECT postback_id, conversion_id, fire_on, url, host, 'pending', 0, ${now}, ${now}, delivery_id FROM deliveries
          WHERE delivery_id = ${delivery_id} AND status IN ('failed', 'cancelled')
          ON CONFLICT (resend_of) WHERE resend_of IS NOT NULL DO NOTHING
          RETURNING *`.execute(),
      );
      if (again) return { resent: true, delivery: again as DeliveryRow };
      const [old] = await sql`SELECT * FROM deliveries WHERE delivery_id = ${delivery_id}`;
      if (!old) return { resent: false, reason: 'missing' };
      const delivery = old as DeliveryRow;
      if (delivery.status === 'pending' || delivery.status === 'delivered') return { resent: false, reason: delivery.status, delivery };
      const [resent] = await sql`SELECT delivery_id FROM deliveries WHERE resend_of = ${delivery_id}`;
      return { resent: false, reason: 'resent', delivery, resent_as: resent?.delivery_id as number | undefined } satisfies ResendResult;
    },

    async clock() {
      const [row] = await sql`SELECT ${now} AS now`;
      return row!.now as number;
    },

    listDeliveries(q) {
      const { count, rows } = list.deliveryList(q);
      return reading(async (tx) => {
        const [n, found] = await Promise.all([run(tx, count), run(tx, rows)]);
        const result = list.page(found as unknown as DeliveryRow[], Number(n[0]!.n), q, (d) => d.delivery_id);
        const attempts = result.rows.length ? ((await run(tx, list.attemptsOf(result.rows.map((d) => d.delivery_id)))) as unknown as Attempt[]) : [];
        return { ...result, rows: result.rows.map((d) => ({ ...d, attempt_log: attempts.filter((a) => a.delivery_id === d.delivery_id) })) };
      });
    },

    async summaryReport(q, order) {
      // Under the lists' read rules (a statement timeout, at most half the pool); the clicks and
      // the conversions are separate counts, read at once on two connections (the report takes
      // the longer of the two, not their sum). The rollup needs no snapshot shared with the
      // watermark read: a fold only adds to buckets past the watermark (report-sql.ts).
      const s = await reading(async (tx) => {
        const [mark] = await tx.unsafe(report.WATERMARK);
        const plan = report.rollupPlan(q, report.watermarkOf(mark!));
        const any = async (lo: string, hi: string) => (await tx`SELECT 1 FROM clicks WHERE reqid >= ${lo} AND reqid < ${hi} LIMIT 1`).length > 0;
        const range = await clickKeyRange(plan.tail, q.to, any);
        const head = plan.head === undefined ? {} : await clickKeyRange(q.from, plan.head, any);
        return report.summaryStatements(q, range, plan, head);
      });
      // Merged once the transactions have ended: their connections go back to the pool first.
      const [clicks, conversions] = await Promise.all([reading((tx) => run(tx, s.clicks)), reading((tx) => run(tx, s.conversions))]);
      return drive(pageSteps(clicks as unknown as Counted[], conversions as unknown as Counted[], order));
    },

    async foldReports(until, window, chunk = report.FOLD_CHUNK.postgres) {
      const fold = await report.planFold(
        {
          watermark: async () => report.watermarkOf((await sql.unsafe(report.WATERMARK))[0]!),
          firstClick: async () => {
            const [first] = await sql.unsafe(report.FIRST_CLICK);
            return first ? Number(first.click_time) : null;
          },
          anyClick: async (lo, hi) => (await sql`SELECT 1 FROM clicks WHERE reqid >= ${lo} AND reqid < ${hi} LIMIT 1`).length > 0,
          reqid: async (s) => ((await run(sql, s))[0]?.reqid as string | undefined) ?? null,
        },
        until,
        window,
        chunk,
      );
      if (!fold) return null;
      return track(() =>
        transaction(sql, async (tx) => {
          // The claim first: another instance folding the same clicks waits on the row, then
          // finds it changed and writes nothing.
          const claimed = await run(tx, fold.claim);
          if (claimed.count === 0) return null;
          for (const f of fold.folds) await run(tx, f);
          return fold.answer;
        }),
      );
    },

    async outboxStats(now) {
      const [row] = await sql`
        SELECT count(*) AS pending, count(*) FILTER (WHERE next_attempt_at <= ${now}) AS due, min(created_at) AS oldest
        FROM deliveries WHERE status = 'pending'`;
      return { pending: row!.pending as number, due: row!.due as number, oldest_created_at: (row!.oldest as number | null) ?? null };
    },

    retain(kind, before, limit) {
      const { statements, counted } = privacy.retentionBatch(kind, before, limit, Date.now());
      return track(() =>
        transaction(sql, async (tx) => {
          let n = 0;
          for (const [i, s] of statements.entries()) {
            const result = await tx.unsafe(net.numbered(s.sql), s.params as never[]);
            if (counted.includes(i)) n += result.count;
          }
          return n;
        }),
      );
    },

    erase(target, at) {
      return track(() =>
        transaction(sql, async (tx) => {
          const q = privacy.erasureLeads(target);
          // Locked, so a concurrent update of these leads waits for the erasure.
          const leads = (await tx.unsafe(`${net.numbered(q.sql)} FOR UPDATE`, q.params as never[])) as unknown as privacy.ErasedLead[];
          const links = privacy.erasureLinks(leads);
          const clicks = (await tx.unsafe(net.numbered(links.clicks.sql), links.clicks.params as never[])) as unknown as { reqid: string; ip: string | null }[];
          const conversions = (await tx.unsafe(net.numbered(links.conversions.sql), links.conversions.params as never[])) as unknown as {
            conversion_id: number;
            ip: string | null;
          }[];
          for (const s of privacy.erasureWrites([...leads], [...clicks], [...conversions], at)) await tx.unsafe(net.numbered(s.sql), s.params as never[]);
          return { leads: leads.length, clicks: clicks.length, conversions: conversions.length };
        }),
      );
    },

    async ping() {
      await sql`SELECT 1`;
    },

    close() {
      closing ??= (async () => {
        await clicks.drain();
        while (inFlight.size) await Promise.allSettled([...inFlight]);
        await sql.end({ timeout: 5 });
      })();
      return closing;
    },
  };
}

/** SQLSTATE of a statement stopped by statement_timeout. */
const QUERY_CANCELED = '57014';

/** A shared statement (list-sql.ts, network-sql.ts) on a pool or a transaction's connection. */
function run(sql: Sql | Tx, statement: { sql: string; params: unknown[] }) {
  return sql.unsafe(net.numbered(statement.sql), statement.params as never[]);
}

/** Runs at most `limit` works at once; the others wait their turn, in order. */
function gate(limit: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(work: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else active++;
    try {
      return await work();
    } finally {
      // The turn passes to the next in line, or is given back.
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

/** Runs `work` in one transaction on a connection reserved for it: BEGIN, the statements, COMMIT (or
 * ROLLBACK when `work` throws).
 *
 * Not `sql.begin`: in postgres 3.4.9 it sends BEGIN first and marks the connection as the
 * transaction's afterwards, and under load (BEGIN queued behind other queries on a busy connection)
 * that marking can be skipped (porsager/postgres#823, #1189; fixes proposed in #1207 and #1218, not
 * released). BEGIN then runs on a connection the pool still hands to other queries: the request
 * fails with UNSAFE_TRANSACTION (a 5xx; seen in the duplicate-storm test), and the transaction is
 * left open on a connection that other queries go on using. `sql.reserve()` takes an idle
 * connection out of the pool before anything is sent, so every statement here runs on it alone. */
/** Ids from a table's identity sequence, drawn a block at a time (one round trip per block), so
 * that a row's id is known before it is written. Ids stay unique across instances; they are no
 * longer in the order the rows were written, which nothing relies on (reports sort by time). */
function idBlocks(sql: Sql, table: string, column: string, size = 64): () => Promise<number> {
  const ids: number[] = [];
  let refill: Promise<void> | null = null;
  return async () => {
    while (!ids.length) {
      refill ??= (async () => {
        const rows = await sql`SELECT nextval(pg_get_serial_sequence(${table}, ${column})) AS id FROM generate_series(1, ${size})`;
        for (const r of rows) ids.push(Number(r.id));
      })().finally(() => {
        refill = null;
      });
      await refill;
    }
    return ids.shift()!;
  };
}

/** Runs `work` in a transaction on one reserved connection, committed, or rolled back if it throws. */
async function transaction<T>(sql: Sql, work: (tx: Tx) => Promise<T>): Promise<T> {
  const tx = await sql.reserve();
  let reusable = true;
  try {
    await tx`BEGIN`;
    const result = await work(tx);
    await tx`COMMIT`;
    return result;
  } catch (error) {
    // Ends what is left open (after a failed COMMIT PostgreSQL has already rolled back, and this
    // only warns). A connection that cannot take it is broken: the pool has counted it closed, and
    // it must not be handed back as open.
    await tx`ROLLBACK`.catch(() => (reusable = false));
    throw error;
  } finally {
    if (reusable) tx.release();
  }
}

/** `?max=` of the URL as a number. The client reads it from the URL as a string, and a string
 * pool size gives a pool of one connection (postgres 3.4: `[...Array("8")]` has one element), so
 * it is read here and passed as an option, which wins over the URL. */
function poolSizeOf(url: string): number | undefined {
  const match = /[?&]max=([^&#]*)/.exec(url);
  if (!match) return undefined;
  const max = Number(decodeURIComponent(match[1]!));
  if (!Number.isInteger(max) || max < 1) {
    throw new Error(`Cannot open the PostgreSQL database ${redact(url)}: max must be a whole number of connections (1 or more), not "${match[1]}"`);
  }
  return max;
}

// ---- group commit of clicks ------------------------------------------------------------------------

const CLICK_TYPES: Record<keyof ClickRecord, 'text' | 'bigint'> = {
  reqid: 'text',
  click_time: 'bigint',
  affiliate_id: 'bigint',
  offer_id: 'bigint',
  campaign_id: 'bigint',
  creative_id: 'bigint',
  s1: 'text',
  s2: 'text',
  s3: 'text',
  s4: 'text',
  s5: 'text',
  ip: 'text',
  country: 'text',
  user_agent: 'text',
  referrer: 'text',
  tracking_domain_id: 'bigint',
  visitor_id: 'text',
  disposition: 'text',
};
const CLICK_COLUMNS = Object.keys(CLICK_TYPES) as (keyof ClickRecord)[];
// One array per column, unnested into rows: the same statement text (prepared once per connection)
// whatever the batch size, and one parameter per column rather than one per value.
const INSERT_CLICKS = `INSERT INTO clicks (${CLICK_COLUMNS.join(', ')}) SELECT * FROM unnest(${CLICK_COLUMNS.map(
  (c, i) => `$${i + 1}::${CLICK_TYPES[c]}[]`,
).join(', ')})`;

interface ClickBatcher {
  add(click: ClickRecord): Promise<void>;
  /** Sends what is queued and waits for every batch in flight. */
  drain(): Promise<void>;
}

function clickBatcher(sql: Sql, maxBatch: number, maxInFlight: number, maxQueued: number): ClickBatcher {
  type Pending = { click: ClickRecord; resolve: () => void; reject: (error: unknown) => void };
  const queue: Pending[] = [];
  let scheduled = false;
  const inFlight = new Set<Promise<void>>();

  function schedule() {
    if (scheduled || !queue.length || inFlight.size >= maxInFlight) return;
    scheduled = true;
    setImmediate(flush);
  }

  function flush() {
    scheduled = false;
    while (queue.length && inFlight.size < maxInFlight) send(queue.splice(0, maxBatch));
  }

  function send(batch: Pending[]) {
    const done = insertBatch(batch).finally(() => {
      inFlight.delete(done);
      schedule();
    });
    inFlight.add(done);
  }

  async function insertBatch(batch: Pending[]) {
    try {
      await insertClicks(batch.map((p) => p.click));
      for (const p of batch) p.resolve();
    } catch (error) {
      if (batch.length === 1 || !isDataError(error)) {
        for (const p of batch) p.reject(error);
        return;
      }
      // One bad click (a reqid already stored) fails the statement: the others go one by one, so
      // that only it fails, as a savepoint per job does in sqlite.ts.
      await Promise.all(
        batch.map((p) =>
          insertClicks([p.click]).then(
            () => p.resolve(),
            (e: unknown) => p.reject(e),
          ),
        ),
      );
    }
  }

  function insertClicks(clicks: ClickRecord[]) {
    return sql.unsafe(
      INSERT_CLICKS,
      CLICK_COLUMNS.map((c) => clicks.map((k) => k[c]) as never),
      { prepare: true },
    );
  }

  return {
    add(click) {
      return new Promise<void>((resolve, reject) => {
        if (queue.length >= maxQueued) return reject(new StoreOverloaded('the PostgreSQL click queue', maxQueued));
        queue.push({ click, resolve, reject });
        schedule();
      });
    },
    async drain() {
      while (queue.length || inFlight.size) {
        while (queue.length) send(queue.splice(0, maxBatch));
        await Promise.allSettled([...inFlight]);
      }
    },
  };
}

/** A statement refused for what it carried (SQLSTATE classes 22 and 23), not for the connection. */
function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

// ---- rows ------------------------------------------------------------------------------------------

async function insertConversionRow(tx: Tx, conversion: NewConversion, deliveries: DeliveriesFor): Promise<ConversionRow> {
  const [row] = await tx`INSERT INTO conversions ${tx(conversion, CONVERSION_COLUMNS)} RETURNING *`;
  await insertDeliveries(tx, deliveries(row as ConversionRow));
  return row as ConversionRow;
}

async function insertDeliveries(tx: Tx, deliveries: NewDelivery[]) {
  if (!deliveries.length) return;
  await tx`
    INSERT INTO deliveries (postback_id, conversion_id, fire_on, url, host, status, attempts, created_at, next_attempt_at)
    SELECT x.postback_id, x.conversion_id, x.fire_on, x.url, x.host, 'pending', 0, ${tx.unsafe(NOW)}, ${tx.unsafe(NOW)}
    FROM json_to_recordset(${JSON.stringify(deliveries.map(withHost))}::text::json)
      AS x(postback_id bigint, conversion_id bigint, fire_on text, url text, host text)`;
}

function apiKeyRow(r: postgres.Row): ApiKeyRecord {
  return {
    key_id: Number(r.key_id),
    key_hash: r.key_hash,
    role: r.role,
    advertiser_id: r.advertiser_id === null ? null : Number(r.advertiser_id),
    affiliate_id: r.affiliate_id === null ? null : Number(r.affiliate_id),
    label: r.label,
    source: r.source,
    created_at: Number(r.created_at),
    revoked_at: r.revoked_at === null ? null : Number(r.revoked_at),
  };
}
