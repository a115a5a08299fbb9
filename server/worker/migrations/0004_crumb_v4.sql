-- Generated from server/store/sqlite-schema.ts (version 4) by `npm run build:worker`: do not edit.
CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
ALTER TABLE deliveries ADD COLUMN host TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN lease INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN resend_of INTEGER;
CREATE UNIQUE INDEX deliveries_resend ON deliveries (resend_of) WHERE resend_of IS NOT NULL;
CREATE INDEX deliveries_postback ON deliveries (postback_id);
INSERT INTO schema_migrations (version, applied_at) VALUES (4, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
