// The seed tool: a realistic network's traffic written straight into a store, for the report
// benchmark and for tests that need volume.
//   npm run seed -- --clicks 10000000 --days 90 [--db FILE | --store postgres --url URL] [--seed N]
// Skewed like real traffic (Zipf): a few offers, affiliates and campaigns carry most clicks; sub_id_1
// takes ~100,000 values; about 3 % of clicks convert (most approved, some pending or rejected), a
// few fire an event. Clicks are written in time order, as the click path writes them, with reqids
// minted under the database's own secret, bypassing the request path: SQLite in large
// transactions, PostgreSQL by COPY. The network (offers, affiliates, campaigns, an admin key) is
// applied as a network file, so a server started on the store serves it.
import { createHmac } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { NetworkFile } from './network.js';
import { syncNetwork } from './network/import.js';
import { generateSecret, reqids, type Mac } from './reqid.js';
import { openStore } from './store/index.js';
import type { ClickRecord, Store } from './store/types.js';

const USAGE = `Usage: npm run seed -- --clicks N --days D [--db FILE | --store postgres --url URL] [--seed N] [--end YYYY-MM-DD]
  --clicks N   clicks to write (default 1000000)
  --days D     spread over the D days before --end (default 90)
  --db FILE    the SQLite file (default data/seed.db); or --store postgres --url postgres://…
  --end DATE   the day after the last click (default: now)
  --no-fold    leave the report rollups unfolded (the server's job folds them)
  --seed N     the random seed (default 1): the same seed writes the same traffic
  --api-key K  the network's admin key (default seed-admin-key)`;

const DAY = 86_400_000;

/** A small, fast, seedable generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws 0..n-1 with Zipf weights 1/(k+1)^s. */
function zipf(n: number, s: number, rand: () => number): () => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < n; k++) cdf[k] = total += 1 / Math.pow(k + 1, s);
  return () => {
    const x = rand() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

export interface SeedOptions {
  clicks: number;
  days: number;
  /** The instant after the last click. */
  end: number;
  seed: number;
  apiKey: string;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface SeedShape {
  offers: number;
  affiliates: number;
  campaigns: number;
}

const COUNTRIES = ['US', 'GB', 'DE', 'FR', 'CA', 'AU', 'IN', 'BR', 'ES', 'IT', 'NL', 'SE', 'PL', 'MX', 'JP', 'KR', 'ZA', 'NG', 'AR', 'TR'];
const SUB_VALUES = 100_000;

/** The network the traffic runs on: 10 advertisers, 50 offers, 500 affiliates, each running a few
 * offers (a campaign per pair), 2 creatives per offer. */
export function seedNetwork(apiKey: string, rand: () => number): { file: NetworkFile; pairs: { campaign_id: number; affiliate_id: number; offer_id: number }[] } {
  const offers = Array.from({ length: 50 }, (_, i) => ({
    offer_id: 1000 + i,
    offer_name: `Seed offer ${i + 1}`,
    advertiser_id: 1 + (i % 10),
    offer_url: `https://lp${i % 5}.example.com/?reqid=#reqid#`,
    payout: 1 + (i % 20) * 2.5,
    revenue: Math.round((1 + (i % 20) * 2.5) * 130) / 100,
  }));
  const pickOffer = zipf(offers.length, 1.1, rand);
  const pairs: { campaign_id: number; affiliate_id: number; offer_id: number }[] = [];
  const affiliates = Array.from({ length: 500 }, (_, i) => ({ affiliate_id: 2000 + i, affiliate_name: `Seed affiliate ${i + 1}` }));
  for (const a of affiliates) {
    const runs = new Set<number>();
    const count = 1 + Math.floor(rand() * 5);
    for (let j = 0; j < count; j++) runs.add(offers[pickOffer()]!.offer_id);
    for (const offer_id of runs) pairs.push({ campaign_id: 10_000 + pairs.length, affiliate_id: a.affiliate_id, offer_id });
  }
  const file: NetworkFile = {
    network: { name: 'Seed Network', internal_affiliate_id: 1 },
    api_keys: [apiKey],
    tracking_domains: [{ tracking_domain_id: 1, domain: 'track.seed.example', is_default: true }],
    affiliates: [{ affiliate_id: 1, affiliate_name: 'Internal' }, ...affiliates],
    advertisers: Array.from({ length: 10 }, (_, i) => ({ advertiser_id: 1 + i, advertiser_name: `Seed advertiser ${i + 1}` })),
    offers,
    creatives: offers.flatMap((o) => [
      { creative_id: o.offer_id * 10, offer_id: o.offer_id },
      { creative_id: o.offer_id * 10 + 1, offer_id: o.offer_id },
    ]),
    campaigns: pairs.map((p) => ({ ...p, ckm_key: `seed-key-${p.campaign_id}` })),
  } as unknown as NetworkFile;
  return { file, pairs };
}

/** Rows for a bulk writer, in time order. */
export interface SeedConversion {
  offer_id: number;
  advertiser_id: number;
  affiliate_id: number;
  campaign_id: number;
  creative_id: number;
  reqid: string;
  event_id: number;
  conversion_time: number;
  click_time: number;
  payout_cents: number;
  revenue_cents: number;
  computed_payout_cents: number;
  computed_revenue_cents: number;
  status: 'approved' | 'pending' | 'rejected';
  /** Its click's sub ids, as conversion.json records them. */
  s1: string | null;
  s2: string | null;
}

export interface BulkWriter {
  clicks(rows: ClickRecord[]): Promise<void>;
  conversions(rows: SeedConversion[]): Promise<void>;
  finish(): Promise<void>;
}

/** Generates the traffic into `writer`, in batches. Answers the counts written. */
export async function seedTraffic(options: SeedOptions, network: ReturnType<typeof seedNetwork>, mac: Mac, writer: BulkWriter, rand: () => number) {
  const ids = reqids(mac);
  const start = options.end - options.days * DAY;
  const span = options.end - start;
  const pickPair = zipf(network.pairs.length, 1.05, rand);
  const pickSub = zipf(SUB_VALUES, 0.9, rand);
  const pickCountry = zipf(COUNTRIES.length, 1.2, rand);
  const offers = new Map(network.file.offers.map((o) => [o.offer_id, o]));
  const BATCH = 20_000;
  let clicks: ClickRecord[] = [];
  let conversions: SeedConversion[] = [];
  let written = { clicks: 0, conversions: 0 };
  for (let i = 0; i < options.clicks; i++) {
    const at = start + Math.floor(((i + rand()) / options.clicks) * span);
    const refused = rand() < 0.01;
    const pair = network.pairs[pickPair()]!;
    const roll = rand();
    const disposition = refused ? 'missing_affiliate_id' : roll < 0.05 ? 'repeat -' : roll < 0.08 ? 'pixel' : 'redirect';
    const creative_id = pair.offer_id * 10 + (rand() < 0.7 ? 0 : 1);
    const click: ClickRecord = {
      reqid: await ids.mint(at),
      click_time: at,
      affiliate_id: refused ? null : pair.affiliate_id,
      offer_id: refused ? null : pair.offer_id,
      campaign_id: refused ? null : pair.campaign_id,
      creative_id: refused ? null : creative_id,
      s1: rand() < 0.9 ? `s${pickSub()}` : null,
      s2: rand() < 0.5 ? `placement-${Math.floor(rand() * 10)}` : null,
      s3: null,
      s4: null,
      s5: null,
      ip: `198.51.${i % 256}.${(i >> 8) % 256}`,
      country: COUNTRIES[pickCountry()]!,
      user_agent: 'Mozilla/5.0 (seed)',
      referrer: null,
      tracking_domain_id: 1,
      visitor_id: null,
      disposition,
    };
    clicks.push(click);
    if (!refused && disposition !== 'repeat -') {
      const offer = offers.get(pair.offer_id)!;
      const payout = Math.round(offer.payout! * 100);
      const revenue = Math.round(offer.revenue! * 100);
      const add = (event_id: number, p: number, r: number) => {
        const delay = Math.floor(-Math.log(1 - rand()) * 2 * 3_600_000);
        const s = rand();
        const status = s < 0.82 ? 'approved' : s < 0.94 ? 'pending' : 'rejected';
        conversions.push({
          offer_id: pair.offer_id,
          advertiser_id: offer.advertiser_id,
          affiliate_id: pair.affiliate_id,
          campaign_id: pair.campaign_id,
          creative_id,
          reqid: click.reqid,
          event_id,
          conversion_time: Math.min(at + delay, options.end - 1),
          click_time: at,
          payout_cents: status === 'approved' ? p : 0,
          revenue_cents: status === 'approved' ? r : 0,
          computed_payout_cents: p,
          computed_revenue_cents: r,
          status,
          s1: click.s1,
          s2: click.s2,
        });
      };
      if (rand() < 0.031) add(0, payout, revenue);
      if (rand() < 0.004) add(1, 50, 100);
    }
    if (clicks.length >= BATCH) {
      await writer.clicks(clicks);
      written.clicks += clicks.length;
      clicks = [];
      if (conversions.length >= BATCH / 10) {
        await writer.conversions(conversions);
        written.conversions += conversions.length;
        conversions = [];
      }
      if (written.clicks % 1_000_000 === 0) options.log?.(`${written.clicks} clicks, ${written.conversions} conversions`);
    }
  }
  await writer.clicks(clicks);
  await writer.conversions(conversions);
  written = { clicks: written.clicks + clicks.length, conversions: written.conversions + conversions.length };
  await writer.finish();
  return written;
}

const CLICK_COLUMNS = ['reqid', 'click_time', 'affiliate_id', 'offer_id', 'campaign_id', 'creative_id', 's1', 's2', 's3', 's4', 's5', 'ip', 'country', 'user_agent', 'referrer', 'tracking_domain_id', 'visitor_id', 'disposition'] as const;
const CONVERSION_COLUMNS = ['offer_id', 'advertiser_id', 'affiliate_id', 'campaign_id', 'creative_id', 'reqid', 'event_id', 'conversion_time', 'click_time', 'payout_cents', 'revenue_cents', 'computed_payout_cents', 'computed_revenue_cents', 'status', 's1', 's2'] as const;
const CONVERSION_FIXED = { source: 'api', is_test: false, once_per_click: false, amount_cents: null, lead_id: null } as const;

/** The seed writes clicks in the past, behind the rollups' watermark: the rollups are emptied and
 * folded again from the first click (by the seed, or by the server's job with --no-fold). Seed a
 * store no server is running on. */
const RESET_ROLLUPS =
  'DELETE FROM report_clicks; DELETE FROM report_sub_ids; DELETE FROM report_affiliate_sub_ids; UPDATE report_watermark SET folded_to = 0, folding_to = NULL, folding_key = NULL, affiliate_subs_from = 0 WHERE id = 1';

async function sqliteWriter(path: string): Promise<BulkWriter> {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.exec(RESET_ROLLUPS);
  const fixed = Object.keys(CONVERSION_FIXED);
  const insertClick = db.prepare(`INSERT INTO clicks (${CLICK_COLUMNS.join(', ')}) VALUES (${CLICK_COLUMNS.map((c) => `@${c}`).join(', ')})`);
  const insertConversion = db.prepare(
    `INSERT INTO conversions (${[...CONVERSION_COLUMNS, ...fixed].join(', ')}) VALUES (${CONVERSION_COLUMNS.map((c) => `@${c}`).join(', ')}, 'api', 0, 0, NULL, NULL)`,
  );
  const clicks = db.transaction((rows: ClickRecord[]) => {
    for (const r of rows) insertClick.run(r);
  });
  const conversions = db.transaction((rows: SeedConversion[]) => {
    for (const r of rows) insertConversion.run(r);
  });
  return {
    async clicks(rows) {
      clicks(rows);
    },
    async conversions(rows) {
      conversions(rows);
    },
    async finish() {
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.exec('ANALYZE');
      db.close();
    },
  };
}

async function postgresWriter(url: string): Promise<BulkWriter> {
  const { default: postgres } = await import('postgres');
  const sql = postgres(url, { max: 2, onnotice: () => {} });
  await sql.unsafe(RESET_ROLLUPS);
  const cell = (v: unknown) => (v === null || v === undefined ? '\\N' : typeof v === 'boolean' ? (v ? 't' : 'f') : String(v).replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!));
  const copy = async (table: string, columns: readonly string[], rows: Record<string, unknown>[]) => {
    if (!rows.length) return;
    const stream = await sql.unsafe(`COPY ${table} (${columns.join(', ')}) FROM STDIN`).writable();
    const text = rows.map((r) => columns.map((c) => cell(r[c])).join('\t')).join('\n') + '\n';
    await new Promise<void>((resolve, reject) => {
      stream.on('error', reject);
      stream.on('finish', resolve);
      stream.end(text);
    });
  };
  const fixed = Object.keys(CONVERSION_FIXED);
  return {
    clicks: (rows) => copy('clicks', CLICK_COLUMNS, rows as unknown as Record<string, unknown>[]),
    conversions: (rows) => copy('conversions', [...CONVERSION_COLUMNS, ...fixed], rows.map((r) => ({ ...r, ...CONVERSION_FIXED }))),
    async finish() {
      await sql.unsafe('ANALYZE clicks');
      await sql.unsafe('ANALYZE conversions');
      await sql.end();
    },
  };
}

/** Opens (and migrates) the store, applies the seed network and answers the database's secret. */
async function prepare(location: string, file: NetworkFile): Promise<string> {
  const store: Store = await openStore(location);
  try {
    await syncNetwork(store, { text: JSON.stringify(file), source: 'file seed' });
    return await store.secret(generateSecret);
  } finally {
    await store.close();
  }
}

/** Clicks per fold transaction in the seed: more than any day holds. */
const SEED_FOLD_CHUNK = 10_000_000;

/** Folds the seeded clicks into the report rollups a day at a time, up to where the server's job
 * takes over (5 minutes behind the database's clock). */
async function fold(location: string, log: (line: string) => void) {
  const store: Store = await openStore(location);
  try {
    const until = (await store.clock()) - 5 * 60_000;
    let windows = 0;
    let last = -1;
    let mark: number | null;
    // The seed serves no clicks: a day per transaction (the server's job takes a few hundred clicks
    // at a time, to keep its event loop free), which folds about three times faster.
    while ((mark = await store.foldReports(until, DAY, SEED_FOLD_CHUNK)) !== null) {
      if (mark !== last && ++windows % 30 === 0) log(`rollups folded to ${new Date(mark).toISOString()}`);
      last = mark;
    }
  } finally {
    await store.close();
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      clicks: { type: 'string', default: '1000000' },
      days: { type: 'string', default: '90' },
      db: { type: 'string', default: 'data/seed.db' },
      store: { type: 'string', default: 'sqlite' },
      url: { type: 'string' },
      end: { type: 'string' },
      seed: { type: 'string', default: '1' },
      'no-fold': { type: 'boolean' },
      'api-key': { type: 'string', default: 'seed-admin-key' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return console.log(USAGE);
  const clicks = Number(values.clicks);
  const days = Number(values.days);
  if (!Number.isInteger(clicks) || clicks < 1 || !Number.isInteger(days) || days < 1 || days > 3660) {
    console.error(`--clicks and --days must be whole numbers of at least 1\n${USAGE}`);
    process.exit(2);
  }
  const end = values.end ? Date.parse(`${values.end}T00:00:00Z`) : Math.floor(Date.now() / 60_000) * 60_000;
  const postgres = values.store === 'postgres';
  if (postgres && !values.url) {
    console.error(`--store postgres needs --url postgres://…\n${USAGE}`);
    process.exit(2);
  }
  const location = postgres ? values.url! : values.db;
  const rand = random(Number(values.seed));
  const network = seedNetwork(values['api-key'], rand);
  const started = Date.now();
  const secret = await prepare(location, network.file);
  const writer = postgres ? await postgresWriter(location) : await sqliteWriter(location);
  const mac: Mac = (data) => createHmac('sha256', secret).update(data).digest();
  const written = await seedTraffic({ clicks, days, end, seed: Number(values.seed), apiKey: values['api-key'], log: (l) => console.log(l) }, network, mac, writer, rand);
  const seeded = Date.now();
  if (!values['no-fold']) await fold(location, (l) => console.log(l));
  console.log(
    `seeded ${written.clicks} clicks and ${written.conversions} conversions over ${days} days (${network.file.offers.length} offers, ${network.file.affiliates.length - 1} affiliates, ${network.pairs.length} campaigns) in ${((seeded - started) / 1000).toFixed(1)} s, rollups folded in ${((Date.now() - seeded) / 1000).toFixed(1)} s; admin key: ${values['api-key']}`,
  );
}

if (process.argv[1] && import.meta.url === new URL(process.argv[1], 'file://').href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
