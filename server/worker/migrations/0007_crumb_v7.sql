-- Generated from server/store/sqlite-schema.ts (version 7) by `npm run build:worker`: do not edit.
CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
DROP INDEX leads_offer;
DROP INDEX leads_affiliate;
DROP INDEX conversions_offer;
DROP INDEX conversions_affiliate;
DROP INDEX leads_created;
CREATE INDEX leads_created ON leads (created_at, affiliate_id, offer_id);
INSERT INTO schema_migrations (version, applied_at) VALUES (7, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
