-- Generated from server/store/sqlite-schema.ts (version 5) by `npm run build:worker`: do not edit.
CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
CREATE TABLE report_clicks (
  level INTEGER NOT NULL, bucket INTEGER NOT NULL,
  offer_id INTEGER NOT NULL, affiliate_id INTEGER NOT NULL, campaign_id INTEGER NOT NULL,
  clicks INTEGER NOT NULL, total_clicks INTEGER NOT NULL,
  PRIMARY KEY (level, bucket, offer_id, affiliate_id, campaign_id)
) WITHOUT ROWID;
CREATE INDEX report_clicks_affiliate ON report_clicks (affiliate_id, level, bucket);
CREATE TABLE report_watermark (id INTEGER PRIMARY KEY CHECK (id = 1), folded_to INTEGER NOT NULL);
INSERT INTO report_watermark (id, folded_to) VALUES (1, 0);
-- Conversions are read raw (they change status): an index that holds every column a report
-- reads, in time order, so a month of them is one range of it.
CREATE INDEX conversions_report ON conversions (conversion_time, offer_id, affiliate_id, advertiser_id, campaign_id, creative_id, event_id, status, payout_cents, revenue_cents, is_test, reqid);
INSERT INTO schema_migrations (version, applied_at) VALUES (5, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
