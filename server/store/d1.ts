// The edge store: Cloudflare D1 (SQLite behind the Workers binding), for server/worker.ts. Same
// schema (sqlite-schema.ts, applied by `wrangler d1 migrations apply` from the files generated into
// server/worker/migrations/), same statements and listing queries (sqlite-sql.ts) as sqlite.ts,
// checked by the same conformance suite under workerd.
//
// D1 has no interactive transactions: a statement cannot wait for JavaScript to look at the result
// of the one before. What it has is batch(): a list of statements run in order as one transaction,
// all or nothing (a failing statement rolls back the others), with D1's one writer taking batches
// one at a time. So every write that sqlite.ts decides in JavaScript inside its transaction is
// decided here in SQL inside one batch:
// - Ids first. A conversion's outbox rows are rendered (their URLs name its id, and a lead's id)
//   before anything is written, from ids reserved a block at a time in `meta` (as postgres.ts draws
//   them from its sequence), so the conversion and its outbox rows go in one batch.
// - Conditions in SQL. Each statement that must not run when an earlier one found a duplicate is
//   an INSERT … SELECT … WHERE guarded on what that statement left: a lead and its conversion and
//   outbox rows only if the lead's claim on (offer, email) is its own; outbox rows only if their
//   conversion was inserted (a unique index refused a duplicate with ON CONFLICT DO NOTHING); a
//   status change's outbox rows only while the status it was rendered from still holds, and the
//   change itself compares and sets.
// - Single statements stay single: a click, a claim of deliveries (UPDATE … RETURNING).
import { CANCELLED, definedOnly, CONVERSION_COLUMNS, LEAD_COLUMNS, notApplied, POSTBACK_COLUMNS, withHost } from './columns.js';
import { MAX_QUEUED_WRITES, StoreOverloaded } from './errors.js';
import { migrations } from './sqlite-schema.js';
import { clickKeyRange } from '../reqid.js';
import { pageSteps, type Counted } from '../reports/page.js';
import { drive } from '../slices.js';
import {
  claimParams,
  conversionParams,
  conversionRow,
  insertInto,
  insertDeliveryWhere,
  insertWhere,
  leadParams,
  leadRow,
  STATEMENTS,
  type Row,
} from './sqlite-sql.js';
import * as list from './list-sql.js';
import * as report from './report-sql.js';
import * as net from './network-sql.js';
import * as privacy from './privacy-sql.js';
import { NETWORK_ENTITIES } from './types.js';
import type {
  ApiKeyRecord,
  Attempt,
  ClickRecord,
  ClickRow,
  ConversionResult,
  ConversionRow,
  DeliveryRow,
  LeadResult,
  LeadRow,
  LeadUpdate,
  NetworkRows,
  Page,
  PostbackRow,
  Store,
} from './types.js';

// The part of the Workers D1 API this store uses (@cloudflare/workers-types has all of it).
export interface D1Database {
  prepare(query: string): D1PreparedStatement;
  batch<T = Row>(statements: D1PreparedStatement[]): Promise<D1Result<T>[]>;
}
export interface D1PreparedStatement {
  bind(...values: unknown[]): D1PreparedStatement;
  first<T = Row>(): Promise<T | null>;
  all<T = Row>(): Promise<D1Result<T>>;
  run<T = Row>(): Promise<D1Result<T>>;
}
export interface D1Result<T = Row> {
  results: T[];
  meta: { changes: number };
}

export interface D1Options {
  /** Ids reserved per round trip for new leads and conversions. */
  idBlock?: number;
  /** Most writes of this isolate in flight at once; past it a write fails at once with
   * StoreOverloaded (default: MAX_QUEUED_WRITES, as sqlite.ts). */
  maxQueued?: number;
}

/** The newest schema version this code needs (the last migration of sqlite-schema.ts). */
export const SCHEMA_VERSION = Math.max(...migrations.map((m) => m.version));

// ---- what only D1 runs: the guarded forms of the shared statements --------------------------------

const OWN_LEAD = 'EXISTS (SELECT 1 FROM leads WHERE lead_id = @lead_id)';
const OWN_CLAIM = 'EXISTS (SELECT 1 FROM lead_emails WHERE offer_id = @offer_id AND email = @dedupe_email AND lead_id = @lead_id)';
const D1_STATEMENTS = {
  insertLead: insertInto('leads', ['lead_id', 'conversion_id', ...LEAD_COLUMNS]),
  insertLeadIfClaimed: insertWhere('leads', ['lead_id', 'conversion_id', ...LEAD_COLUMNS], OWN_CLAIM),
  insertConversionForLead: insertWhere('conversions', ['conversion_id', ...CONVERSION_COLUMNS], OWN_LEAD),
  insertDeliveryForLead: insertDeliveryWhere(OWN_LEAD),
  // A twin (same dedupe key, or the same click's slot) inserts nothing and its outbox rows find no
  // conversion. No conflict target: DO NOTHING covers both unique indexes.
  insertConversion: `${insertInto('conversions', ['conversion_id', ...CONVERSION_COLUMNS])} ON CONFLICT DO NOTHING RETURNING *`,
  insertDeliveryForConversion: insertDeliveryWhere('EXISTS (SELECT 1 FROM conversions WHERE conversion_id = @conversion_id)'),
  // Rendered from the status `was`: written only while it still holds, before the change itself.
  insertDeliveryForStatus: insertDeliveryWhere('EXISTS (SELECT 1 FROM conversions WHERE conversion_id = @conversion_id AND status = @was)'),
  // A postback's pending deliveries, cancelled in the batch that deactivates or deletes it: only
  // when that statement left it inactive, or gone.
  cancelIfInactive: `UPDATE deliveries SET status = 'cancelled', last_error = @reason WHERE postback_id = @postback_id AND status = 'pending'
    AND EXISTS (SELECT 1 FROM postbacks WHERE postback_id = @postback_id AND postback_status = 'inactive')`,
  cancelIfDeleted: `UPDATE deliveries SET status = 'cancelled', last_error = @reason WHERE postback_id = @postback_id AND status = 'pending'
    AND NOT EXISTS (SELECT 1 FROM postbacks WHERE postback_id = @postback_id)`,
  // The attempt's log line, after its outcome in the same batch: changes() says whether the
  // fenced outcome applied (the lease was still this attempt's).
  insertAttemptAfter: `INSERT INTO attempts (delivery_id, attempted_at, status_code, latency_ms, error)
    SELECT @delivery_id, @attempted_at, @status_code, @latency_ms, CASE WHEN changes() > 0 THEN @error ELSE @not_applied END WHERE 1
    RETURNING error IS @error AS applied`,
  // Money follows status, as sqlite-sql.ts's setConversionStatus; and only from the status it was read in.
  changeStatus: `UPDATE conversions SET status = @status,
      payout_cents = CASE WHEN @status = 'approved' AND is_test = 0 THEN computed_payout_cents ELSE 0 END,
      revenue_cents = CASE WHEN @status = 'approved' AND is_test = 0 THEN computed_revenue_cents ELSE 0 END
    WHERE conversion_id = @conversion_id AND status = @was RETURNING *`,
  schemaVersion: 'SELECT max(version) AS version FROM schema_migrations',
} as const;

/** Reserves the next `?2` ids of a table's key, above every id already in it. */
const reserveIds = (table: string, column: string) =>
  `INSERT INTO meta (key, value) VALUES (?1, (SELECT coalesce(max(${column}), 0) FROM ${table}) + ?2)
   ON CONFLICT (key) DO UPDATE SET value = max(CAST(value AS INTEGER), (SELECT coalesce(max(${column}), 0) FROM ${table})) + ?2
   RETURNING CAST(value AS INTEGER) AS last`;

/** Opens the store on a D1 binding, once its migrations are applied. */
export async function openD1Store(db: D1Database, options: D1Options = {}): Promise<Store> {
  let version: number | null = null;
  try {
    version = (await db.prepare(D1_STATEMENTS.schemaVersion).first<{ version: number | null }>())?.version ?? null;
  } catch {
    // No schema_migrations table: nothing applied yet.
  }
  if (version === null || version < SCHEMA_VERSION) {
    throw new Error(
      `The D1 database has schema version ${version ?? 'none'}, and this Crumb needs ${SCHEMA_VERSION}: ` +
        'apply the migrations first (npx wrangler d1 migrations apply DATABASE --remote, with the wrangler.jsonc of server/worker/)',
    );
  }

  const run = (sql: string, params: object | unknown[] = []) => bound(db, sql, params);
  const idBlock = options.idBlock ?? 32;
  const leadIds = idBlocks(db, 'leads', 'lead_id', idBlock);
  const conversionIds = idBlocks(db, 'conversions', 'conversion_id', idBlock);

  // Writes in progress, so that close() lets them finish.
  const inFlight = new Set<Promise<unknown>>();
  const maxQueued = options.maxQueued ?? MAX_QUEUED_WRITES;
  // Bounded as sqlite.ts's queue is (the dispatcher's own writes exempt: a refused outcome would
  // only send a postback twice). The work starts only once admitted.
  const track = <T>(start: () => Promise<T>, bounded = true): Promise<T> => {
    if (bounded && inFlight.size >= maxQueued) return Promise.reject(new StoreOverloaded('D1 writes in flight', maxQueued));
    const work = start();
    inFlight.add(work);
    const forget = () => inFlight.delete(work);
    work.then(forget, forget);
    return work;
  };
  // The shared list SQL (list-sql.ts): the count and the page in one batch, one snapshot.
  const listed = async <T, K>(
    statements: list.ListStatements,
    q: { limit: number; count_cap?: number },
    map: (row: Row) => T,
    keyOf: (row: T) => K,
  ): Promise<Page<T, K>> => {
    const [count, rows] = await db.batch([run(statements.count.sql, statements.count.params), run(statements.rows.sql, statements.rows.params)]);
    return list.page(rows!.results.map(map), Number((count!.results[0] as { n: number }).n), q, keyOf);
  };

  return {
    kind: 'd1',

    secret(generate) {
      return track(() =>
        (async () => {
          // Every instance offers one; the first committed wins and all read it back.
          const [, read] = await db.batch<{ value: string }>([
            run(STATEMENTS.insertMeta, ['reqid_secret', generate()]),
            run(STATEMENTS.getMeta, ['reqid_secret']),
          ]);
          return read!.results[0]!.value;
        })(),
      );
    },

    async recordClick(click) {
      await track(() => run(STATEMENTS.insertClick, click).run());
    },

    async getClick(reqid) {
      return (await run(STATEMENTS.getClick, [reqid]).first<ClickRecord>()) ?? undefined;
    },

    async listClicks(q) {
      // reqids begin with their time, so a time range is a key range (reqid.ts: exact where the
      // range holds ids of both formats).
      const range =
        q.reqid === undefined ? await clickKeyRange(q.from, q.to, async (lo, hi) => (await run(STATEMENTS.anyClick, [lo, hi]).first()) !== null) : {};
      return listed(list.clickList(q, range), q, (r) => r as unknown as ClickRow, (r) => r.reqid);
    },

    insertLead(lead, dedupe, conversion) {
      return track(() =>
        (async (): Promise<LeadResult> => {
          const lead_id = await leadIds();
          const conversion_id = conversion ? await conversionIds() : null;
          // Everything is rendered before anything is written: a throw here writes nothing.
          const convRow: ConversionRow | null = conversion && { ...conversion.conversion, lead_id, conversion_id: conversion_id! };
          const outbox = convRow ? conversion!.deliveries(convRow) : [];
          const written: LeadRow = { ...lead, lead_id, conversion_id, updated_at: null, erased_at: null };
          const leadValues = { ...leadParams(lead), lead_id, conversion_id, dedupe_email: dedupe?.email ?? null };

          const statements = [];
          if (dedupe) {
            statements.push(
              run(STATEMENTS.claimLeadEmail, { offer_id: lead.offer_id, email: dedupe.email, lead_id, created_at: lead.created_at, since: dedupe.since }),
              run(D1_STATEMENTS.insertLeadIfClaimed, leadValues),
            );
          } else {
            statements.push(run(D1_STATEMENTS.insertLead, leadValues));
          }
          if (convRow) {
            statements.push(run(D1_STATEMENTS.insertConversionForLead, { ...conversionParams(convRow), lead_id }));
            for (const d of outbox) statements.push(run(D1_STATEMENTS.insertDeliveryForLead, { ...withHost(d), lead_id }));
          }
          if (dedupe) statements.push(run(STATEMENTS.leadByEmail, [lead.offer_id, dedupe.email]));

          const results = await db.batch(statements);
          if (!dedupe || results[0]!.results.length) return { duplicate: false, lead: written, conversion: convRow };
          const holder = results[results.length - 1]!.results[0];
          if (!holder) throw new Error('A lead was refused as a duplicate of one that is not there: retry it');
          return { duplicate: true, lead: leadRow(holder) };
        })(),
      );
    },

    listLeads(q) {
      return listed(list.leadList(q), q, leadRow, (r) => r.lead_id);
    },

    async getLead(lead_id) {
      const row = await run(STATEMENTS.getLead, [lead_id]).first();
      return row ? leadRow(row) : undefined;
    },

    updateLead(lead_id, change, dedupe) {
      return track(() =>
        (async (): Promise<LeadUpdate | undefined> => {
          const current = await run(STATEMENTS.getLead, [lead_id]).first();
          if (!current) return undefined;
          const offer_id = current.offer_id as number;
          // The claim, then the update only where this lead holds the email (or claims none): two
          // statements that need no read between them, so one batch (sqlite.ts runs the same two).
          const statements = [];
          if (dedupe) {
            statements.push(run(STATEMENTS.claimLeadEmail, { offer_id, email: dedupe.email, lead_id, created_at: change.updated_at, since: dedupe.since }));
          }
          statements.push(
            run(STATEMENTS.updateLead, {
              lead_id,
              patch: JSON.stringify(change.fields),
              email: change.email,
              resell: change.resell === null ? null : change.resell ? 1 : 0,
              updated_at: change.updated_at,
              offer_id,
              claimed: dedupe ? dedupe.email : null,
            }),
          );
          if (dedupe) statements.push(run(STATEMENTS.leadByEmail, [offer_id, dedupe.email]));
          const results = await db.batch(statements);
          const updated = results[dedupe ? 1 : 0]!.results[0];
          if (updated) return { duplicate: false, lead: leadRow(updated) };
          return { duplicate: true, lead: leadRow(results[2]!.results[0]!) };
        })(),
      );
    },

    insertConversion(conversion, deliveries) {
      return track(() =>
        (async (): Promise<ConversionResult> => {
          const row: ConversionRow = { ...conversion, conversion_id: await conversionIds() };
          const outbox = deliveries(row);
          const params = conversionParams(row);
          const statements = [run(D1_STATEMENTS.insertConversion, params)];
          for (const d of outbox) statements.push(run(D1_STATEMENTS.insertDeliveryForConversion, withHost(d)));
          // Read in the same batch: the earlier conversion holding the dedupe key or the click's slot.
          statements.push(run(STATEMENTS.earlierConversion, params));
          const results = await db.batch(statements);
          const inserted = results[0]!.results[0];
          if (inserted) return { duplicate: false, conversion: conversionRow(inserted) };
          const earlier = results[results.length - 1]!.results[0];
          if (!earlier) throw new Error('A conversion conflicted with one that is not there: retry it');
          return { duplicate: true, conversion: conversionRow(earlier) };
        })(),
      );
    },

    async getConversion(conversion_id) {
      const row = await run(STATEMENTS.getConversion, [conversion_id]).first();
      return row ? conversionRow(row) : undefined;
    },

    listConversions(q) {
      return listed(list.conversionList(q), q, conversionRow, (r) => r.conversion_id);
    },

    setConversionStatus(conversion_id, status, deliveries, scope, money) {
      const inScope = list.conversionInScope(conversion_id, scope);
      const setMoney = money && list.conversionMoneyUpdate(conversion_id, money, scope);
      return track(() =>
        (async () => {
          // Compare and set: when another change lands between the read and the batch, nothing of
          // this one is written, and it starts again from what that change left.
          for (let tries = 0; tries < 10; tries++) {
            // Read inside the scope; the change below names the status read, so it stays inside too.
            const current = await run(inScope.sql, inScope.params).first();
            if (!current) return undefined;
            const was = current.status as string;
            // Setting the status it already has changes nothing and causes no postbacks. The money
            // (absolute values, so a retry sets the same) goes first in the same batch.
            if (was === status) {
              if (!setMoney) return conversionRow(current);
              const row = await run(setMoney.sql, setMoney.params).first();
              return row ? conversionRow(row) : undefined;
            }
            // The row as the batch leaves it (money follows status), for the postbacks' macros.
            const next = conversionRow({ ...current, status, ...(money && { computed_payout_cents: money.payout_cents, computed_revenue_cents: money.revenue_cents }) });
            const counts = status === 'approved' && !next.is_test;
            const outbox = deliveries({ ...next, payout_cents: counts ? next.computed_payout_cents : 0, revenue_cents: counts ? next.computed_revenue_cents : 0 });
            const statements = outbox.map((d) => run(D1_STATEMENTS.insertDeliveryForStatus, { ...withHost(d), was }));
            if (setMoney) statements.unshift(run(setMoney.sql, setMoney.params));
            statements.push(run(D1_STATEMENTS.changeStatus, { status, conversion_id, was }));
            const results = await db.batch(statements);
            const changed = results[results.length - 1]!.results[0];
            if (changed) return conversionRow(changed);
          }
          throw new Error(`The status of conversion ${conversion_id} kept changing under this change: retry it`);
        })(),
      );
    },

    async createPostback(p) {
      return (await track(() => run(STATEMENTS.insertPostback, p).first<PostbackRow>()))!;
    },

    async updatePostback(postback_id, change, scope) {
      const given = definedOnly(change);
      const fields = POSTBACK_COLUMNS.map((c) => given[c] ?? null);
      const inScope = list.postbackScope(scope);
      const [updated] = await track(() =>
        db.batch([
          run(
            `UPDATE postbacks SET ${POSTBACK_COLUMNS.map((c) => `${c} = coalesce(?, ${c})`).join(', ')} WHERE postback_id = ?${inScope.sql} RETURNING *`,
            [...fields, postback_id, ...inScope.params],
          ),
          run(D1_STATEMENTS.cancelIfInactive, { postback_id, reason: CANCELLED.deactivated }),
        ]),
      );
      return (updated!.results[0] as PostbackRow | undefined) ?? undefined;
    },

    async deletePostback(postback_id, scope) {
      const inScope = list.postbackScope(scope);
      const [deleted] = await track(() =>
        db.batch([
          run(`DELETE FROM postbacks WHERE postback_id = ?${inScope.sql}`, [postback_id, ...inScope.params]),
          run(D1_STATEMENTS.cancelIfDeleted, { postback_id, reason: CANCELLED.deleted }),
        ]),
      );
      return deleted!.meta.changes > 0;
    },

    async listPostbacks(q) {
      const { sql, params } = list.postbackList(q);
      return (await run(sql, params).all<PostbackRow>()).results;
    },

    async touchApiKey(key_id, at) {
      await track(() => run(net.TOUCH_API_KEY, [at, key_id, at]).run());
    },

    async apiKeyUses() {
      const { results } = await run(net.API_KEY_USES).all<{ key_id: number; last_used_at: number }>();
      return new Map(results.map((r) => [r.key_id, r.last_used_at]));
    },

    async endSession(session_id, expires_at, ended_at) {
      await track(() => run(net.END_SESSION, [session_id, expires_at, ended_at]).run());
    },

    async sessionEnded(session_id) {
      return (await run(net.SESSION_ENDED, [session_id]).first()) !== null;
    },

    async pruneEndedSessions(now, limit) {
      const done = await track(() => run(net.PRUNE_ENDED_SESSIONS, [now, limit]).run());
      return done.meta.changes;
    },

    async postbacksFor(affiliate_id, offer_id, fire_on) {
      return (await run(STATEMENTS.postbacksFor, [affiliate_id, offer_id, fire_on]).all<PostbackRow>()).results;
    },

    async claimDeliveries(claim) {
      const { results } = await track(() => run(STATEMENTS.claimDeliveries, claimParams(claim)).all<DeliveryRow>(), false);
      return results.sort((a, b) => a.delivery_id - b.delivery_id);
    },

    async finishAttempt(attempt, lease, outcome) {
      // One batch, so the log line and the outcome commit together; the outcome only under the lease.
      const fence = { delivery_id: attempt.delivery_id, lease };
      const [, logged] = await track(
        () =>
          db.batch([
          outcome.delivered
            ? run(STATEMENTS.deliveryDelivered, { ...fence, at: attempt.attempted_at })
            : run(STATEMENTS.deliveryFailed, {
                ...fence,
                status: outcome.retry_in_ms === null ? 'failed' : 'pending',
                retry_in_ms: outcome.retry_in_ms ?? 0,
                error: attempt.error ?? `HTTP ${attempt.status_code}`,
              }),
          run(D1_STATEMENTS.insertAttemptAfter, { ...attempt, not_applied: notApplied(attempt) }),
          ]),
        false,
      );
      return Number((logged!.results[0] as { applied: number }).applied) === 1;
    },

    async resendDelivery(delivery_id) {
      // The unique resend_of lets one re-send in; the reads in the same batch say what happened.
      const [inserted, old, again] = await track(() =>
        db.batch([run(STATEMENTS.resendDelivery, [delivery_id]), run(STATEMENTS.getDelivery, [delivery_id]), run(STATEMENTS.resentAs, [delivery_id])]),
      );
      const made = inserted!.results[0] as DeliveryRow | undefined;
      if (made) return { resent: true, delivery: made };
      const before = old!.results[0] as DeliveryRow | undefined;
      if (!before) return { resent: false, reason: 'missing' };
      if (before.status === 'pending' || before.status === 'delivered') return { resent: false, reason: before.status, delivery: before };
      const as = again!.results[0] as { delivery_id: number } | undefined;
      return { resent: false, reason: 'resent', delivery: before, resent_as: as?.delivery_id };
    },

    async summaryReport(q, order) {
      const range = await clickKeyRange(q.from, q.to, async (lo, hi) => (await run(STATEMENTS.anyClick, [lo, hi]).first()) !== null);
      const s = report.summaryStatements(q, range);
      // One batch: one snapshot for both.
      const [clicks, conversions] = await db.batch([run(s.clicks.sql, s.clicks.params), run(s.conversions.sql, s.conversions.params)]);
      return drive(pageSteps(clicks!.results as Counted[], conversions!.results as Counted[], order));
    },

    async foldReports() {
      // Not on D1: a batch cannot stop its folds when its claim fails, so two isolates could fold
      // one window twice. D1's reports read the raw clicks (the watermark stays at 0).
      return null;
    },

    async outboxStats(now) {
      const row = (await run(STATEMENTS.outboxStats, [now]).first<{ pending: number; due: number | null; oldest: number | null }>())!;
      return { pending: row.pending, due: row.due ?? 0, oldest_created_at: row.oldest };
    },

    async retain(kind, before, limit) {
      const { statements, counted } = privacy.retentionBatch(kind, before, limit, Date.now());
      const results = await track(() => db.batch(statements.map((s) => run(s.sql, s.params))));
      return counted.reduce((n, i) => n + results[i]!.meta.changes, 0);
    },

    async erase(target, at) {
      // No interactive transaction: the reads, then the writes in one batch. A click or conversion
      // of theirs written in between (a lead post of theirs at this very moment) is not covered.
      const found = privacy.erasureLeads(target);
      const leads = (await run(found.sql, found.params).all<privacy.ErasedLead>()).results;
      // D1 binds at most 100 parameters to a statement: the links are read 40 leads at a time.
      const c: { reqid: string; ip: string | null }[] = [];
      const v: { conversion_id: number; ip: string | null }[] = [];
      for (let i = 0; i < leads.length; i += 40) {
        const links = privacy.erasureLinks(leads.slice(i, i + 40));
        const [clicks, conversions] = await db.batch([run(links.clicks.sql, links.clicks.params), run(links.conversions.sql, links.conversions.params)]);
        for (const row of clicks!.results as typeof c) if (!c.some((x) => x.reqid === row.reqid)) c.push(row);
        for (const row of conversions!.results as typeof v) if (!v.some((x) => x.conversion_id === row.conversion_id)) v.push(row);
      }
      const writes = privacy.erasureWrites(leads, c, v, at);
      if (writes.length) await track(() => db.batch(writes.map((s) => run(s.sql, s.params))));
      return { leads: leads.length, clicks: c.length, conversions: v.length };
    },

    async ping() {
      await run(STATEMENTS.ping).first();
    },

    async clock() {
      return Number((await run(STATEMENTS.now).first<{ now: number }>())!.now);
    },

    async listDeliveries(q) {
      const result = await listed(list.deliveryList(q), q, (r) => r as unknown as DeliveryRow, (d) => d.delivery_id);
      // Every page's attempt logs in one round trip (a statement per delivery: D1 binds at most
      // 100 parameters to one).
      const logs = result.rows.length ? await db.batch<Attempt>(result.rows.map((d) => run(STATEMENTS.attemptsOf, [d.delivery_id]))) : [];
      return { ...result, rows: result.rows.map((d, i) => ({ ...d, attempt_log: logs[i]!.results })) };
    },

    async loadNetwork() {
      // One batch: one transaction, so a change committed meanwhile is all in it or not at all.
      const results = await db.batch([
        ...NETWORK_ENTITIES.map((entity) => run(net.entityRows(entity))),
        run(net.NETWORK_SETTINGS),
        run(net.NETWORK_VERSION),
        run(net.API_KEYS),
        run(net.FILE_APPLIED),
      ]);
      const entities = {} as NetworkRows['entities'];
      NETWORK_ENTITIES.forEach((entity, i) => (entities[entity] = results[i]!.results.map((r) => JSON.parse((r as { data: string }).data))));
      const [settings, version, keys, applied] = results.slice(NETWORK_ENTITIES.length) as D1Result<Row>[];
      const data = settings!.results[0]?.data as string | undefined;
      return {
        version: Number(version!.results[0]!.version),
        settings: data === undefined ? null : JSON.parse(data),
        entities,
        api_keys: keys!.results as unknown as ApiKeyRecord[],
        ...net.fileApplied(applied!.results as unknown as { key: string; value: string }[]),
      };
    },

    async networkVersion() {
      return Number((await run(net.NETWORK_VERSION).first<{ version: number }>())!.version);
    },

    async networkChanges(after, upto) {
      return (await run(net.NETWORK_CHANGES, [after, upto]).all()).results.map(net.changeRow);
    },

    writeNetwork(base, writes, meta) {
      return track(() =>
        (async () => {
          // The claim and the writes in one batch: D1 cannot wait for the claim's answer, so each
          // write is conditioned on the claim being this change's own (network-sql.ts).
          const claim = net.claimToken();
          // The version the claim takes if it succeeds; the writes name it in the change log.
          const statements = net.writeStatements(base + 1, claim, writes, meta);
          const [claimed] = await db.batch([run(net.CLAIM_VERSION, [claim, base]), ...statements.map((st) => run(st.sql, st.params))]);
          const row = claimed!.results[0] as { version: number } | undefined;
          return row ? Number(row.version) : null;
        })(),
      );
    },

    async listChanges(q) {
      const { count, rows } = net.changeQueries(q);
      const [n, found] = await db.batch([run(count.sql, count.params), run(rows.sql, rows.params)]);
      return { total: Number((n!.results[0] as { n: number }).n), rows: found!.results.map(net.changeRow) };
    },

    async hasHistory(entity, id) {
      const q = net.historyQuery(entity, id);
      return Number((await run(q.sql, q.params).first<{ used: number }>())!.used) === 1;
    },

    async close() {
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },
  };
}

/** A statement of the shared dialect bound for D1: named parameters (`@name`) become D1's numbered
 * ones, bound from `params` by name; plain `?` ones are bound from an array in order. */
function bound(db: D1Database, sql: string, params: object | unknown[]): D1PreparedStatement {
  if (Array.isArray(params)) return db.prepare(sql).bind(...params.map(value));
  const { text, names } = numbered(sql);
  return db.prepare(text).bind(...names.map((name) => value((params as Row)[name])));
}

const numberedCache = new Map<string, { text: string; names: string[] }>();

/** `@name` → `?N`, the same number for each use of a name. */
export function numbered(sql: string): { text: string; names: string[] } {
  let cached = numberedCache.get(sql);
  if (!cached) {
    const names: string[] = [];
    const text = sql.replace(/@([A-Za-z_][A-Za-z0-9_]*)/g, (_, name: string) => {
      let i = names.indexOf(name);
      if (i < 0) i = names.push(name) - 1;
      return `?${i + 1}`;
    });
    cached = { text, names };
    numberedCache.set(sql, cached);
  }
  return cached;
}

/** D1 binds null, numbers, strings and bytes; not undefined or booleans. */
function value(v: unknown): unknown {
  if (v === undefined) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v;
}

/** Ids for a table's key, reserved `size` at a time in one statement, so that a row's id is known
 * before its batch. Ids stay unique across isolates; those an isolate reserved and never used are
 * skipped, and ids are not in the order rows were written, which nothing relies on. */
function idBlocks(db: D1Database, table: string, column: string, size: number): () => Promise<number> {
  const ids: number[] = [];
  let refill: Promise<void> | null = null;
  const sql = reserveIds(table, column);
  return async () => {
    while (!ids.length) {
      refill ??= (async () => {
        const row = await db.prepare(sql).bind(`next_${column}`, size).first<{ last: number }>();
        for (let id = row!.last - size + 1; id <= row!.last; id++) ids.push(id);
      })().finally(() => {
        refill = null;
      });
      await refill;
    }
    return ids.shift()!;
  };
}
