-- Generated from server/store/sqlite-schema.ts (version 2) by `npm run build:worker`: do not edit.
CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
ALTER TABLE leads ADD COLUMN resell INTEGER NOT NULL DEFAULT 0;
ALTER TABLE leads ADD COLUMN updated_at INTEGER;

ALTER TABLE conversions ADD COLUMN computed_payout_cents INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversions ADD COLUMN computed_revenue_cents INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversions ADD COLUMN once_per_click INTEGER NOT NULL DEFAULT 0;
-- Conversions recorded before knew only the money they counted.
UPDATE conversions SET computed_payout_cents = payout_cents, computed_revenue_cents = revenue_cents;
UPDATE conversions SET payout_cents = 0, revenue_cents = 0 WHERE status <> 'approved' OR is_test = 1;
-- The first real conversion of each click and event (not a lead's) holds its slot.
UPDATE conversions SET once_per_click = 1 WHERE conversion_id IN (
  SELECT min(conversion_id) FROM conversions WHERE reqid IS NOT NULL AND is_test = 0 AND source <> 'lead' GROUP BY reqid, event_id);
CREATE UNIQUE INDEX conversions_per_click ON conversions (reqid, event_id) WHERE once_per_click = 1;
INSERT INTO schema_migrations (version, applied_at) VALUES (2, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
