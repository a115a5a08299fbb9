// The summary report benchmark (issue 15): report timings on a store the seed tool filled.
//   npm run seed -- --clicks 10000000 --days 90 --db data/seed.db
//   npm run bench:reports -- --db data/seed.db [--days 30] [--runs 5]
//   npm run bench:reports -- --store postgres --url postgres://…
// Each report goes through the API in-process (parameters, the store's query, naming, sorting, the
// JSON), with the seed's admin key: the median and the slowest of `runs` calls, after one warm-up.
// The range is the last `days` days of the seed (it ends at --end, default: tomorrow, UTC, as the
// seed's does).
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';

const DAY = 86_400_000;

const dist = (path: string) => new URL(`../server/${path}`, import.meta.url).href;

async function main() {
  const { values } = parseArgs({
    options: {
      db: { type: 'string', default: 'data/seed.db' },
      store: { type: 'string', default: 'sqlite' },
      url: { type: 'string' },
      days: { type: 'string', default: '30' },
      runs: { type: 'string', default: '5' },
      end: { type: 'string' },
      'api-key': { type: 'string', default: 'seed-admin-key' },
      only: { type: 'string' },
    },
    strict: true,
  });
  const { openStore } = await import(dist('store/index.js'));
  const { openNetwork } = await import(dist('network/import.js'));
  const { createApp } = await import(dist('app.js'));
  const location = values.store === 'postgres' ? values.url! : values.db;
  const store = await openStore(location);
  const live = await openNetwork(store);
  const app = createApp({ store, network: live, secret: 'bench-reports-secret-0123456789abcdef', clientIp: () => '127.0.0.1' });
  const end = values.end ? Date.parse(`${values.end}T00:00:00Z`) : Math.floor(Date.now() / DAY) * DAY + DAY;
  const date = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const range = { start_date: date(end - Number(values.days) * DAY), end_date: date(end - DAY) };
  const cases: [string, Record<string, string>][] = [
    ['by day', { group_by: 'day' }],
    ['by offer', { group_by: 'offer' }],
    ['by affiliate', { group_by: 'affiliate' }],
    ['by sub_id_1', { group_by: 'sub_id_1' }],
    ['by sub_id_1, one affiliate', { group_by: 'sub_id_1', affiliate_id: '2000' }],
    ['by sub_id_1, America/New_York', { group_by: 'sub_id_1', time_zone: 'America/New_York' }],
    ['by day, America/New_York', { group_by: 'day', time_zone: 'America/New_York' }],
    ['by day, Asia/Kolkata', { group_by: 'day', time_zone: 'Asia/Kolkata' }],
    ['by hour, last day', { group_by: 'hour', start_date: range.end_date }],
  ];
  console.log(`store ${store.kind}, ${range.start_date} to ${range.end_date} (${values.days} days), ${values.runs} runs each`);
  console.log('| report | rows | median ms | max ms |');
  console.log('|---|---|---|---|');
  for (const [name, params] of cases) {
    if (values.only && !name.includes(values.only)) continue;
    const query = new URLSearchParams({ api_key: values['api-key'], ...range, row_limit: '100', ...params });
    const call = async () => {
      const res = await app.request(`http://bench.local/api/2/reports/summary.json?${query}`);
      const body = (await res.json()) as { request_status: string; total_rows: number; message?: string };
      if (body.request_status !== 'Success') throw new Error(`${name}: ${JSON.stringify(body)}`);
      return body.total_rows;
    };
    let rows = await call();
    const times: number[] = [];
    for (let i = 0; i < Number(values.runs); i++) {
      const t0 = performance.now();
      rows = await call();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    console.log(`| ${name} | ${rows} | ${times[Math.floor(times.length / 2)]!.toFixed(0)} | ${times.at(-1)!.toFixed(0)} |`);
  }
  await live.close?.();
  await store.close();
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
