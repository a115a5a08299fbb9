// Shared by the reliability tests (crash, dead receiver, hostile input, abuse): the network they run
// on, reading the store's row counts, calling the v2 API of a server process, and printing figures.
import Database from 'better-sqlite3';
import { appendFileSync, writeFileSync } from 'node:fs';
import type { NetworkFile } from '../../server/network.js';
import type { Store } from '../../server/store/types.js';
import { builtDJs, makeApp, tempDbPath, type TestApp } from '../support/app.js';
import { API_KEY, conversionNetworkFile, leadNetworkFile } from '../support/network.js';

/** The test network with everything the conversion and lead tests added: every kind of offer
 * (CPA, CPL, RevShare, no duplicate check, another advertiser's) and campaign. */
export function reliabilityNetworkFile(): NetworkFile {
  const file = conversionNetworkFile();
  const leads = leadNetworkFile();
  const known = new Set(file.offers.map((o) => o.offer_id));
  for (const o of leads.offers) if (!known.has(o.offer_id)) file.offers.push(o);
  const campaigns = new Set(file.campaigns.map((c) => c.campaign_id));
  for (const c of leads.campaigns) if (!campaigns.has(c.campaign_id)) file.campaigns.push(c);
  return file;
}

/** makeApp with every route the Node entry can serve: /d.js (when built) and the demo pages. */
export function makeFullApp(options: { file?: NetworkFile; store?: Store } = {}): TestApp {
  return makeApp({ file: options.file ?? reliabilityNetworkFile(), store: options.store, dJs: builtDJs(), demo: { api_key: API_KEY } });
}

/** Writes a network file for a server process; answers its path. */
export function writeNetworkFile(file: NetworkFile = reliabilityNetworkFile()): string {
  const path = `${tempDbPath()}.network.json`;
  writeFileSync(path, JSON.stringify(file));
  return path;
}

export interface Counts {
  clicks: number;
  /** Clicks credited to an affiliate (refused clicks are recorded too, unattributed). */
  attributed: number;
  leads: number;
  lead_emails: number;
  conversions: number;
  postbacks: number;
  deliveries: number;
  attempts: number;
}

export const COUNT_NAMES = ['clicks', 'attributed', 'leads', 'lead_emails', 'conversions', 'postbacks', 'deliveries', 'attempts'] as const;

/** Row counts of a SQLite store, read through a connection of our own (read-only, WAL: it sees
 * what the server committed, as any reader would). */
export function sqliteCounts(dbPath: string): { read(): Counts; close(): void } {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  const statement = db.prepare(`SELECT
    (SELECT count(*) FROM clicks) AS clicks,
    (SELECT count(affiliate_id) FROM clicks) AS attributed,
    (SELECT count(*) FROM leads) AS leads,
    (SELECT count(*) FROM lead_emails) AS lead_emails,
    (SELECT count(*) FROM conversions) AS conversions,
    (SELECT count(*) FROM postbacks) AS postbacks,
    (SELECT count(*) FROM deliveries) AS deliveries,
    (SELECT count(*) FROM attempts) AS attempts`);
  return { read: () => statement.get() as Counts, close: () => db.close() };
}

export function delta(before: Counts, after: Counts): Counts {
  return Object.fromEntries(COUNT_NAMES.map((k) => [k, after[k] - before[k]])) as unknown as Counts;
}

/** Prints a test's figures on one line, `[reliability] name: key=value, …`, and appends them as
 * JSON to CRUMB_RELIABILITY_FIGURES when that names a file (docs/reliability.md is written from it). */
export function report(name: string, figures: Record<string, number | string>) {
  console.log(`[reliability] ${name}: ${Object.entries(figures).map(([k, v]) => `${k}=${v}`).join(', ')}`);
  const file = process.env.CRUMB_RELIABILITY_FIGURES;
  if (file) appendFileSync(file, `${JSON.stringify({ name, ...figures, at: new Date().toISOString() })}\n`);
}

// ---- the v2 API of a server process ----------------------------------------------------------------

export async function apiGet<T = any>(base: string, path: string, params: Record<string, string | number> = {}): Promise<T> {
  const query = new URLSearchParams({ api_key: API_KEY, ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])) });
  const res = await fetch(`${base}/api/2/${path}?${query}`);
  const body = (await res.json()) as any;
  if (res.status !== 200 || body.request_status !== 'Success') throw new Error(`${path} answered ${res.status}: ${JSON.stringify(body)}`);
  return body as T;
}

/** Every row of a paged API list (start_at_row / row_limit), in order. */
export async function apiAll<T>(
  base: string,
  path: string,
  params: Record<string, string | number>,
  rows: (body: any) => { rows: T[]; total: number },
  pageSize = 500,
): Promise<T[]> {
  const out: T[] = [];
  for (;;) {
    const page = rows(await apiGet(base, path, { ...params, start_at_row: out.length, row_limit: pageSize }));
    out.push(...page.rows);
    if (!page.rows.length || out.length >= page.total) return out;
  }
}

/** YYYY-MM-DD, `days` from today (UTC). */
function isoDay(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

/** Every lead, test leads included. */
export function allLeads(base: string) {
  return apiAll<any>(base, 'leads.json', { include_tests: 'true' }, (b) => ({ rows: b.response.leads, total: b.response.total_rows }), 10_000);
}

/** Every conversion of these few days (the run's), test conversions included: a report reads at
 * most 366 days a call. */
export function allConversions(base: string) {
  return apiAll<any>(
    base,
    'conversions.json',
    { start_date: isoDay(-2), end_date: isoDay(2), include_tests: 'true', sort_field: 'conversion_id' },
    (b) => ({ rows: b.conversions.map((c: any) => c.conversion), total: b.total_rows }),
  );
}

/** Every postback delivery with its attempt log. */
export function allDeliveries(base: string) {
  return apiAll<any>(base, 'postback_deliveries.json', {}, (b) => ({ rows: b.deliveries, total: b.total_rows }));
}

/** Runs `work` over `items` with at most `limit` at once; answers the results in order. */
export async function pool<T, R>(items: T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await work(items[i]!, i);
      }
    }),
  );
  return out;
}
