-- Generated from server/store/sqlite-schema.ts (version 7) by `npm run build:worker`: do not edit.
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
INSERT INTO report_sub_ids (sub, level, bucket, value, clicks, total_clicks)
  SELECT n.sub, l.level, (c.click_time / l.level) * l.level,
         coalesce(CASE n.sub WHEN 1 THEN c.s1 WHEN 2 THEN c.s2 WHEN 3 THEN c.s3 WHEN 4 THEN c.s4 ELSE c.s5 END, ''),
         sum(CASE WHEN c.disposition IN ('redirect', 'pixel') THEN 1 ELSE 0 END), count(*)
  FROM clicks c, (SELECT 1 AS sub UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5) n,
       (SELECT 86400000 AS level UNION ALL SELECT 691200000) l
  WHERE c.click_time < (SELECT folded_to FROM report_watermark WHERE id = 1)
    AND c.offer_id IS NOT NULL AND c.affiliate_id IS NOT NULL
    AND (c.disposition IN ('redirect', 'pixel') OR c.disposition LIKE 'repeat %')
  GROUP BY 1, 2, 3, 4;
INSERT INTO schema_migrations (version, applied_at) VALUES (7, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
