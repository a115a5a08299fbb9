-- Generated from server/store/sqlite-schema.ts (version 3) by `npm run build:worker`: do not edit.
CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
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
INSERT INTO schema_migrations (version, applied_at) VALUES (3, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
