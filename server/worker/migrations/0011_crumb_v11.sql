-- Generated from server/store/sqlite-schema.ts (version 11) by `npm run build:worker`: do not edit.
CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
CREATE TABLE report_affiliate_sub_ids (
  sub INTEGER NOT NULL, level INTEGER NOT NULL, bucket INTEGER NOT NULL, affiliate_id INTEGER NOT NULL, value TEXT NOT NULL,
  clicks INTEGER NOT NULL, total_clicks INTEGER NOT NULL,
  PRIMARY KEY (sub, level, bucket, affiliate_id, value)
) WITHOUT ROWID;
ALTER TABLE report_watermark ADD COLUMN affiliate_subs_from INTEGER NOT NULL DEFAULT 0;
UPDATE report_watermark SET affiliate_subs_from = coalesce(folding_to, folded_to);
INSERT INTO schema_migrations (version, applied_at) VALUES (11, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
