-- Generated from server/store/sqlite-schema.ts (version 9) by `npm run build:worker`: do not edit.
CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
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
INSERT INTO schema_migrations (version, applied_at) VALUES (9, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
