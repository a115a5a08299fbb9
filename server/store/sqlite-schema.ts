// Versioned migrations for the SQLite dialect, applied in order: by sqlite.ts at open, and on D1 by
// `wrangler d1 migrations apply` from the files generated from this list into
// server/worker/migrations/ (server/worker/migrations.ts). Never edit a shipped one: add the next
// version.

/** The table that records which versions a database has. */
export const MIGRATIONS_TABLE = 'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)';
export const RECORD_MIGRATION = 'INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)';

export const migrations: { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

      -- Keyed by reqid, which begins with its time: inserts append, and a time range is a key range.
      CREATE TABLE clicks (
        reqid TEXT PRIMARY KEY,
        click_time INTEGER NOT NULL,
        affiliate_id INTEGER, offer_id INTEGER, campaign_id INTEGER, creative_id INTEGER,
        s1 TEXT, s2 TEXT, s3 TEXT, s4 TEXT, s5 TEXT,
        ip TEXT, country TEXT, user_agent TEXT, referrer TEXT,
        tracking_domain_id INTEGER, visitor_id TEXT,
        disposition TEXT NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE leads (
        lead_id INTEGER PRIMARY KEY,
        offer_id INTEGER NOT NULL, affiliate_id INTEGER NOT NULL, campaign_id INTEGER, creative_id INTEGER,
        reqid TEXT, method TEXT NOT NULL, email TEXT, fields TEXT NOT NULL,
        s1 TEXT, s2 TEXT, s3 TEXT, s4 TEXT, s5 TEXT,
        ip TEXT, user_agent TEXT,
        created_at INTEGER NOT NULL, is_test INTEGER NOT NULL, attributed INTEGER NOT NULL,
        conversion_id INTEGER
      );
      CREATE INDEX leads_created ON leads (created_at);

      -- One row per (offer, email): the latest accepted lead, for the duplicate check.
      CREATE TABLE lead_emails (
        offer_id INTEGER NOT NULL, email TEXT NOT NULL, lead_id INTEGER NOT NULL, created_at INTEGER NOT NULL,
        PRIMARY KEY (offer_id, email)
      ) WITHOUT ROWID;

      CREATE TABLE conversions (
        conversion_id INTEGER PRIMARY KEY,
        offer_id INTEGER NOT NULL, advertiser_id INTEGER NOT NULL, affiliate_id INTEGER NOT NULL,
        campaign_id INTEGER, creative_id INTEGER, reqid TEXT, lead_id INTEGER, event_id INTEGER NOT NULL,
        conversion_time INTEGER NOT NULL, click_time INTEGER,
        payout_cents INTEGER NOT NULL, revenue_cents INTEGER NOT NULL, amount_cents INTEGER,
        status TEXT NOT NULL, scrub_reason TEXT,
        dedupe_key TEXT, transaction_id TEXT, unique_id TEXT, order_id TEXT,
        adv1 TEXT, adv2 TEXT, adv3 TEXT, adv4 TEXT, adv5 TEXT,
        source TEXT NOT NULL, ip TEXT, is_test INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX conversions_dedupe ON conversions (offer_id, event_id, dedupe_key) WHERE dedupe_key IS NOT NULL;
      CREATE INDEX conversions_reqid ON conversions (reqid) WHERE reqid IS NOT NULL;
      CREATE INDEX conversions_time ON conversions (conversion_time);

      CREATE TABLE postbacks (
        postback_id INTEGER PRIMARY KEY,
        affiliate_id INTEGER NOT NULL, offer_id INTEGER NOT NULL, postback_url TEXT NOT NULL,
        postback_status TEXT NOT NULL, postback_type_id INTEGER NOT NULL, fire_on TEXT NOT NULL
      );
      CREATE INDEX postbacks_affiliate ON postbacks (affiliate_id, offer_id);

      -- The outbox: one row per server-to-server postback to deliver.
      CREATE TABLE deliveries (
        delivery_id INTEGER PRIMARY KEY,
        postback_id INTEGER NOT NULL, conversion_id INTEGER NOT NULL, fire_on TEXT NOT NULL, url TEXT NOT NULL,
        status TEXT NOT NULL, attempts INTEGER NOT NULL, created_at INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL, delivered_at INTEGER, last_error TEXT
      );
      CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
      CREATE INDEX deliveries_conversion ON deliveries (conversion_id);

      CREATE TABLE attempts (
        attempt_id INTEGER PRIMARY KEY,
        delivery_id INTEGER NOT NULL, attempted_at INTEGER NOT NULL,
        status_code INTEGER, latency_ms INTEGER NOT NULL, error TEXT
      );
      CREATE INDEX attempts_delivery ON attempts (delivery_id);
    `,
  },
  {
    // Leads: resale flag and updates (ckm_lead_id). Conversions: the money they earn when approved,
    // kept beside the money counted now (money follows status), and one conversion per click and
    // event (a unique index over the conversions that claim their click's slot).
    version: 2,
    sql: `
      ALTER TABLE leads ADD COLUMN resell INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE leads ADD COLUMN updated_at INTEGER;

      ALTER TABLE conversions ADD COLUMN computed_payout_cents INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE conversions ADD COLUMN computed_revenue_cents INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE conversions ADD COLUMN once_per_click INTEGER NOT NULL DEFAULT 0;
      -- Conversions recorded before knew only the money they counted.
      UPDATE conversions SET computed_payout_cents = payout_cents, computed_revenue_cents = revenue_cents;
      UPDATE conversions SET payout_cents = 0, revenue_cents = 0 WHERE status <> 'approved' OR is_test = 1;
      -- The first real conversion of each click and event (not a lead's) holds its slot.
      UPDATE conversions SET once_per_click = 1 WHERE conversion_id IN (
        SELECT min(conversion_id) FROM conversions WHERE reqid IS NOT NULL AND is_test = 0 AND source <> 'lead' GROUP BY reqid, event_id);
      CREATE UNIQUE INDEX conversions_per_click ON conversions (reqid, event_id) WHERE once_per_click = 1;
    `,
  },
  {
    // The network (issue 13): each entity as its validated JSON, with the columns queries filter
    // on; the version every instance polls (bumped once per change, serialising changes); the
    // change log, which is also how other instances learn what changed; and the API keys, kept
    // as hashes only.
    version: 3,
    sql: `
      CREATE TABLE advertisers (advertiser_id INTEGER PRIMARY KEY, status TEXT NOT NULL, data TEXT NOT NULL);
      CREATE TABLE affiliates (affiliate_id INTEGER PRIMARY KEY, status TEXT NOT NULL, data TEXT NOT NULL);
      CREATE TABLE offers (offer_id INTEGER PRIMARY KEY, advertiser_id INTEGER NOT NULL, status TEXT NOT NULL, data TEXT NOT NULL);
      CREATE INDEX offers_advertiser ON offers (advertiser_id);
      CREATE TABLE creatives (creative_id INTEGER PRIMARY KEY, offer_id INTEGER NOT NULL, status TEXT NOT NULL, data TEXT NOT NULL);
      CREATE TABLE campaigns (
        campaign_id INTEGER PRIMARY KEY, affiliate_id INTEGER NOT NULL, offer_id INTEGER NOT NULL,
        status TEXT NOT NULL, data TEXT NOT NULL
      );
      CREATE INDEX campaigns_affiliate ON campaigns (affiliate_id);
      CREATE TABLE tracking_domains (tracking_domain_id INTEGER PRIMARY KEY, domain TEXT NOT NULL, status TEXT NOT NULL, data TEXT NOT NULL);
      CREATE TABLE network_settings (id INTEGER PRIMARY KEY CHECK (id = 1), data TEXT NOT NULL);
      CREATE TABLE api_keys (
        key_id INTEGER PRIMARY KEY, key_hash TEXT NOT NULL UNIQUE, role TEXT NOT NULL,
        advertiser_id INTEGER, affiliate_id INTEGER, label TEXT, source TEXT NOT NULL,
        created_at INTEGER NOT NULL, revoked_at INTEGER, last_used_at INTEGER
      );
      CREATE TABLE network_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL, claim TEXT);
      INSERT INTO network_version (id, version) VALUES (1, 0);
      CREATE TABLE network_changes (
        change_id INTEGER PRIMARY KEY, version INTEGER NOT NULL, changed_at INTEGER NOT NULL,
        source TEXT NOT NULL, entity TEXT NOT NULL, entity_id TEXT NOT NULL, before TEXT, after TEXT
      );
      CREATE INDEX network_changes_version ON network_changes (version);
      CREATE INDEX network_changes_entity ON network_changes (entity, entity_id);
      CREATE INDEX network_changes_time ON network_changes (changed_at);
      CREATE INDEX leads_offer ON leads (offer_id);
      CREATE INDEX leads_affiliate ON leads (affiliate_id);
      CREATE INDEX conversions_offer ON conversions (offer_id);
      CREATE INDEX conversions_affiliate ON conversions (affiliate_id);
    `,
  },
  {
    // Deliveries under contention: the URL's host (the dispatcher's per-host limit; rows written
    // before share ''), the lease's fencing token, and the delivery a re-send repeats (at most one
    // re-send per delivery).
    version: 4,
    sql: `
      ALTER TABLE deliveries ADD COLUMN host TEXT NOT NULL DEFAULT '';
      ALTER TABLE deliveries ADD COLUMN lease INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE deliveries ADD COLUMN resend_of INTEGER;
      CREATE UNIQUE INDEX deliveries_resend ON deliveries (resend_of) WHERE resend_of IS NOT NULL;
      CREATE INDEX deliveries_postback ON deliveries (postback_id);
    `,
  },
  {
    // Summary reports (issue 15): attributed clicks folded into rollups behind a watermark
    // (report-sql.ts): 15-minute, hourly and daily UTC buckets per campaign, offer and affiliate.
    // A report reads whole buckets before the watermark and the raw clicks after it.
    version: 5,
    sql: `
      CREATE TABLE report_clicks (
        level INTEGER NOT NULL, bucket INTEGER NOT NULL,
        offer_id INTEGER NOT NULL, affiliate_id INTEGER NOT NULL, campaign_id INTEGER NOT NULL,
        clicks INTEGER NOT NULL, total_clicks INTEGER NOT NULL,
        PRIMARY KEY (level, bucket, offer_id, affiliate_id, campaign_id)
      ) WITHOUT ROWID;
      CREATE INDEX report_clicks_affiliate ON report_clicks (affiliate_id, level, bucket);
      CREATE TABLE report_watermark (id INTEGER PRIMARY KEY CHECK (id = 1), folded_to INTEGER NOT NULL);
      INSERT INTO report_watermark (id, folded_to) VALUES (1, 0);
      -- Conversions are read raw (they change status): an index that holds every column a report
      -- reads, in time order, so a month of them is one range of it.
      CREATE INDEX conversions_report ON conversions (conversion_time, offer_id, affiliate_id, advertiser_id, campaign_id, creative_id, event_id, status, payout_cents, revenue_cents, is_test, reqid);
    `,
  },
  {
    // Retention and erasure (PROTOCOL.md 12): when a lead's personal fields were removed, and the
    // indexes that let the retention job take each batch of the oldest rows without a scan: the
    // leads still holding personal fields by age, attempts by time, finished deliveries by age;
    // and leads by email, for an erasure request.
    version: 6,
    sql: `
      ALTER TABLE leads ADD COLUMN erased_at INTEGER;
      CREATE INDEX leads_personal ON leads (created_at, lead_id) WHERE erased_at IS NULL;
      CREATE INDEX leads_email ON leads (email) WHERE email IS NOT NULL;
      CREATE INDEX attempts_time ON attempts (attempted_at);
      CREATE INDEX deliveries_finished ON deliveries (created_at) WHERE status <> 'pending';
    `,
  },
  {
    // Leads and conversions written with no index keyed by offer or affiliate: such an index takes
    // each new row at a random place, so on a network whose traffic is spread over thousands of
    // offers every write dirtied pages of its own in each (measured: a lead store twice as slow
    // on 10,000 offers as on one; bench/RESULTS.md). Time-ordered indexes take new rows at their
    // end. A lead list's offer, affiliate or scope is read within its time range from the time
    // index, which now holds them; conversions have conversions_report (time first, with the ids).
    version: 7,
    sql: `
      DROP INDEX leads_offer;
      DROP INDEX leads_affiliate;
      DROP INDEX conversions_offer;
      DROP INDEX conversions_affiliate;
      DROP INDEX leads_created;
      CREATE INDEX leads_created ON leads (created_at, affiliate_id, offer_id);
    `,
  },
  {
    // Console sign-out that holds on every instance (console/session.ts): the sessions signed out
    // before their cookie expired, by id, until it would have (the retention job removes them then).
    version: 8,
    sql: `
      CREATE TABLE ended_sessions (session_id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL, ended_at INTEGER NOT NULL) WITHOUT ROWID;
      CREATE INDEX ended_sessions_expiry ON ended_sessions (expires_at);
    `,
  },
  {
    // Summary reports by sub id (issue 15): conversions carry their click's sub ids (so that a
    // report by sub id is not a join of the conversions to their clicks), filled in for the
    // conversions recorded before, and the conversions' covering index holds them; and the
    // clicks' sub ids folded per UTC day and per 8 UTC days behind the same watermark as
    // report_clicks (report-sql.ts), '' standing for none (the click path never stores an empty
    // sub id: spillSubIds makes it null).
    // The clicks already folded are folded again, their sub ids with them, by the fold job in the
    // background (reports read the raw clicks past the watermark meanwhile: exact, slower); folded
    // here, they held the start of a database of 10M clicks for minutes.
    version: 9,
    sql: `
      ALTER TABLE conversions ADD COLUMN s1 TEXT;
      ALTER TABLE conversions ADD COLUMN s2 TEXT;
      ALTER TABLE conversions ADD COLUMN s3 TEXT;
      ALTER TABLE conversions ADD COLUMN s4 TEXT;
      ALTER TABLE conversions ADD COLUMN s5 TEXT;
      DROP INDEX conversions_report;
      CREATE INDEX conversions_report ON conversions (conversion_time, offer_id, affiliate_id, advertiser_id, campaign_id, creative_id, event_id, status, payout_cents, revenue_cents, is_test, reqid, s1, s2, s3, s4, s5);
      UPDATE conversions SET (s1, s2, s3, s4, s5) = (SELECT c.s1, c.s2, c.s3, c.s4, c.s5 FROM clicks c WHERE c.reqid = conversions.reqid) WHERE reqid IS NOT NULL;
      CREATE TABLE report_sub_ids (
        sub INTEGER NOT NULL, level INTEGER NOT NULL, bucket INTEGER NOT NULL, value TEXT NOT NULL,
        clicks INTEGER NOT NULL, total_clicks INTEGER NOT NULL,
        PRIMARY KEY (sub, level, bucket, value)
      ) WITHOUT ROWID;
      DELETE FROM report_clicks;
      UPDATE report_watermark SET folded_to = 0 WHERE id = 1;
    `,
  },
  {
    // Folds in bounded transactions (report-sql.ts foldStatements): a window of clicks is folded
    // a chunk of keys at a time, and the watermark row says how far into the window
    // [folded_to, folding_to) the keys below folding_key have been folded. One transaction over a
    // whole 15-minute window held the event loop for seconds on a busy SQLite store.
    version: 10,
    sql: `
      ALTER TABLE report_watermark ADD COLUMN folding_to INTEGER;
      ALTER TABLE report_watermark ADD COLUMN folding_key TEXT;
    `,
  },
  {
    // An affiliate's sub ids from a rollup of their own (report-sql.ts rollupPlan): one affiliate's
    // month read 3.3M raw clicks on the 10M seed (1.7 to 2.4 s). Its rows begin with the fold
    // under way (affiliate_subs_from): the clicks already folded are not folded again, and reports
    // read the raw clicks before it, so they stay exact without a refold at start. The bucket
    // comes before the affiliate in the key so that a fold's upserts stay on the pages of their
    // day (by affiliate first they touched pages across the table: 250 clicks took 50 to 60 ms a
    // transaction instead of 31 to 36).
    version: 11,
    sql: `
      CREATE TABLE report_affiliate_sub_ids (
        sub INTEGER NOT NULL, level INTEGER NOT NULL, bucket INTEGER NOT NULL, affiliate_id INTEGER NOT NULL, value TEXT NOT NULL,
        clicks INTEGER NOT NULL, total_clicks INTEGER NOT NULL,
        PRIMARY KEY (sub, level, bucket, affiliate_id, value)
      ) WITHOUT ROWID;
      ALTER TABLE report_watermark ADD COLUMN affiliate_subs_from INTEGER NOT NULL DEFAULT 0;
      UPDATE report_watermark SET affiliate_subs_from = coalesce(folding_to, folded_to);
    `,
  },
];
