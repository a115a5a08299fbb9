-- Generated from server/store/sqlite-schema.ts (version 8) by `npm run build:worker`: do not edit.
CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
CREATE TABLE ended_sessions (session_id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL, ended_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX ended_sessions_expiry ON ended_sessions (expires_at);
INSERT INTO schema_migrations (version, applied_at) VALUES (8, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
