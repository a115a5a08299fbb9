// GET /api/2/reports/summary.json (PROTOCOL.md 11): clicks, conversions and money grouped by day,
// hour, offer, affiliate, campaign, creative, advertiser, country or a sub id, in the report's time
// zone. The store counts the groups inside the key's scope (store/report-sql.ts) and answers the
// page in the order asked (reports/page.ts); this module checks the parameters, turns the sort
// field into that order, names the page's groups, derives their rates and money, and writes JSON
// or CSV. An affiliate key sees `payout` for `cost` and never revenue, profit or margin (nor the
// advertisers).
import { z } from 'zod';
import type { Context } from 'hono';
import type { AppDeps } from '../app.js';
import { checkAsked, outOfScope } from '../auth.js';
import type { Network } from '../network.js';
import { BadParams, booleanParam, countParam, dateParam, enumParam, idParam, MAX_SKIP, parseParams, withoutEmpty } from '../params.js';
import { dayName, hourName, isTimeZone, offsetPieces, startOfDay } from '../reports/zone.js';
import { metricOf } from '../reports/page.js';
import { REPORT_GROUPS, type ReportCounts, type ReportGroup, type ReportMetric, type ReportOrder, type ReportRow } from '../store/types.js';
import { successList, type Api, type ApiEnv } from './index.js';

const DAY = 86_400_000;
/** The longest range one call covers (section 11). */
export const REPORT_DAYS = 366;

export const summaryParams = z.object({
  start_date: dateParam,
  end_date: dateParam,
  group_by: enumParam(REPORT_GROUPS),
  offer_id: idParam.optional(),
  affiliate_id: idParam.optional(),
  advertiser_id: idParam.optional(),
  campaign_id: idParam.optional(),
  creative_id: idParam.optional(),
  country: z
    .string()
    .regex(/^[A-Za-z]{2}$/, 'must be a two-letter country code such as US')
    .transform((c) => c.toUpperCase())
    .optional(),
  time_zone: z.string().refine(isTimeZone, 'must be an IANA time zone name such as America/New_York or UTC').optional(),
  include_tests: booleanParam.optional(),
  sort_field: z.string().optional(),
  sort_descending: booleanParam.optional(),
  start_at_row: countParam(0, MAX_SKIP).optional(),
  row_limit: countParam(1, 10_000).optional(),
  format: enumParam(['json', 'csv']).optional(),
});

/** The key's fields per group: the id or value, and the entity's name where it has one. */
const KEY_FIELDS: Record<ReportGroup, string[]> = {
  day: ['date'],
  hour: ['hour'],
  offer: ['offer_id', 'offer_name'],
  affiliate: ['affiliate_id', 'affiliate_name'],
  campaign: ['campaign_id'],
  creative: ['creative_id', 'creative_name'],
  advertiser: ['advertiser_id', 'advertiser_name'],
  country: ['country'],
  sub_id_1: ['sub_id_1'],
  sub_id_2: ['sub_id_2'],
  sub_id_3: ['sub_id_3'],
  sub_id_4: ['sub_id_4'],
  sub_id_5: ['sub_id_5'],
};

const NETWORK_METRICS = ['clicks', 'total_clicks', 'macro_event_conversions', 'micro_events', 'conversion_rate', 'paid', 'pending', 'rejected', 'cost', 'revenue', 'profit', 'margin', 'epc'] as const;
const AFFILIATE_METRICS = ['clicks', 'total_clicks', 'macro_event_conversions', 'micro_events', 'conversion_rate', 'paid', 'pending', 'rejected', 'payout', 'epc'] as const;

type Metrics = Record<string, number>;
type Key = Record<string, string | number | null>;
export interface SummaryRow {
  key: Key;
  [metric: string]: number | Key;
}

/** The metrics of counted rows, as the role sees them. */
export function metricsOf(r: ReportCounts, affiliate: boolean): Metrics {
  const out: Metrics = {};
  for (const m of affiliate ? AFFILIATE_METRICS : NETWORK_METRICS) out[m] = metricOf(m, r, affiliate);
  return out;
}

function keyOf(group: ReportGroup, value: ReportRow['key'], network: Network): Key {
  const id = value === null ? null : Number(value);
  switch (group) {
    case 'day':
      return { date: value === null ? null : dayName(Number(value)) };
    case 'hour':
      return { hour: value === null ? null : hourName(Number(value)) };
    case 'offer':
      return { offer_id: id, offer_name: (id !== null && network.offers.get(id)?.offer_name) || null };
    case 'affiliate':
      return { affiliate_id: id, affiliate_name: (id !== null && network.affiliates.get(id)?.affiliate_name) || null };
    case 'campaign':
      return { campaign_id: id };
    case 'creative':
      return { creative_id: id, creative_name: (id !== null && network.creatives.get(id)?.creative_name) || null };
    case 'advertiser':
      return { advertiser_id: id, advertiser_name: (id !== null && network.advertisers.get(id)?.advertiser_name) || null };
    default:
      return { [group]: value === null ? null : String(value) };
  }
}

const isMetric = (field: string): field is ReportMetric => (NETWORK_METRICS as readonly string[]).includes(field) || field === 'payout';

/** What the store sorts the groups on for `sort_field`: the key (a day or hour sorts by its number
 * as by its name), a metric, or the entities' names, which the network here holds. */
function orderOf(group: ReportGroup, sortField: string, network: Network): Pick<ReportOrder, 'sort' | 'names'> {
  if (sortField === KEY_FIELDS[group][0]) return { sort: 'key' };
  if (isMetric(sortField)) return { sort: sortField };
  // The key's name field (offer_name, …): the entities' names, from the network.
  const names: Record<string, string> = {};
  const add = (id: number, name: string | undefined) => void (name && (names[id] = name));
  if (group === 'offer') for (const [id, o] of network.offers) add(id, o.offer_name);
  if (group === 'affiliate') for (const [id, a] of network.affiliates) add(id, a.affiliate_name);
  if (group === 'creative') for (const [id, k] of network.creatives) add(id, k.creative_name);
  if (group === 'advertiser') for (const [id, a] of network.advertisers) add(id, a.advertiser_name);
  return { sort: 'name', names };
}

export function reportApi(api: Api, deps: AppDeps) {
  api.get('/reports/summary.json', async (c) => {
    const { network } = deps;
    const key = c.get('key');
    const p = parseParams(summaryParams, withoutEmpty(c.get('params')));
    checkAsked(key, network, p);
    const affiliate = key.role === 'affiliate';
    if (affiliate && (p.group_by === 'advertiser' || p.advertiser_id !== undefined)) {
      throw outOfScope(key, 'advertisers are not shown to an affiliate key');
    }
    if (p.end_date < p.start_date) throw new BadParams([{ parameter: 'end_date', message: 'must not be before start_date' }]);
    const days = (p.end_date - p.start_date) / DAY + 1;
    if (days > REPORT_DAYS) {
      throw new BadParams([{ parameter: 'end_date', message: `makes a range of ${days} days; a summary report covers at most ${REPORT_DAYS} days: ask for the rest in further calls` }]);
    }
    const metrics: readonly string[] = affiliate ? AFFILIATE_METRICS : NETWORK_METRICS;
    const keyFields = KEY_FIELDS[p.group_by];
    const timed = p.group_by === 'day' || p.group_by === 'hour';
    const sortField = p.sort_field ?? (timed ? keyFields[0]! : 'clicks');
    if (!metrics.includes(sortField) && !keyFields.includes(sortField)) {
      throw new BadParams([{ parameter: 'sort_field', message: `must be one of ${[...keyFields, ...metrics].join(', ')}` }]);
    }
    const descending = p.sort_descending ?? (p.sort_field === undefined && !timed);

    const zone = p.time_zone ?? network.time_zone;
    const from = startOfDay(zone, p.start_date);
    const to = startOfDay(zone, p.end_date + DAY);
    const offset = p.start_at_row ?? 0;
    const limit = p.row_limit ?? 100;
    const page = await deps.store.summaryReport(
      {
        from,
        to,
        group_by: p.group_by,
        zone: offsetPieces(zone, from, to),
        offer_id: p.offer_id,
        affiliate_id: p.affiliate_id,
        advertiser_id: p.advertiser_id,
        campaign_id: p.campaign_id,
        creative_id: p.creative_id,
        country: p.country,
        include_tests: p.include_tests ?? false,
        scope: c.get('scope'),
      },
      { ...orderOf(p.group_by, sortField, network), descending, affiliate, offset, limit },
    );
    const shown: SummaryRow[] = page.rows.map((r) => ({ key: keyOf(p.group_by, r.key, network), ...metricsOf(r, affiliate) }));

    if (p.format === 'csv') return csv(c, [...keyFields, ...metrics], shown, `summary-${p.group_by}-${dayName(p.start_date / DAY)}-${dayName(p.end_date / DAY)}.csv`);
    return successList(c, (rows) => ({ time_zone: zone, total_rows: page.count, totals: metricsOf(page.totals, affiliate), rows }), shown, (row) => row);
  });
}

/** A CSV file (RFC 4180) of the JSON page's rows: the key's fields, then the metrics. A text cell
 * beginning with =, +, -, @ or a control character is prefixed with ' so that a spreadsheet shows
 * it as text, never runs it (sub ids are what affiliates send). */
function csv(c: Context<ApiEnv>, columns: string[], rows: SummaryRow[], filename: string): Response {
  const cell = (v: unknown): string => {
    if (v === null || v === undefined) return '';
    if (typeof v === 'number') return String(v);
    let text = String(v);
    if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const lines = [columns.join(',')];
  for (const r of rows) lines.push(columns.map((col) => cell(col in r.key ? r.key[col] : r[col])).join(','));
  return c.body(lines.join('\r\n') + '\r\n', 200, { 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': `attachment; filename="${filename}"` });
}
