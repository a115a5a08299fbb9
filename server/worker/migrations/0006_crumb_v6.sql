-- Generated from server/store/sqlite-schema.ts (version 6) by `npm run build:worker`: do not edit.
CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
ALTER TABLE leads ADD COLUMN erased_at INTEGER;
CREATE INDEX leads_personal ON leads (created_at, lead_id) WHERE erased_at IS NULL;
CREATE INDEX leads_email ON leads (email) WHERE email IS NOT NULL;
CREATE INDEX attempts_time ON attempts (attempted_at);
CREATE INDEX deliveries_finished ON deliveries (created_at) WHERE status <> 'pending';
INSERT INTO schema_migrations (version, applied_at) VALUES (6, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
