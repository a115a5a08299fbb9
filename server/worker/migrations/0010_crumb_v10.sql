-- Generated from server/store/sqlite-schema.ts (version 10) by `npm run build:worker`: do not edit.
CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
ALTER TABLE report_watermark ADD COLUMN folding_to INTEGER;
ALTER TABLE report_watermark ADD COLUMN folding_key TEXT;
INSERT INTO schema_migrations (version, applied_at) VALUES (10, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
