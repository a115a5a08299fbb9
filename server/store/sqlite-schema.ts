// Versioned migrations for the SQLite store, applied in order at open. Never edit a shipped one:
// add the next version.
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
];
