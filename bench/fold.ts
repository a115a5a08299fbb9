// How long one fold transaction takes (the server's fold job, reports/fold.ts; on SQLite, how long
// it holds the event loop), and how fast a day is folded: on a store the seed tool filled, the
// watermark is set back to a day's start and the day is folded again as the server's job folds it
// (the store's own chunk size, or `--chunk` clicks a transaction), each transaction timed.
//   node dist/bench/fold.js --db COPY-OF-SEED.db --day 2026-12-01 [--chunk 250]
//   node dist/bench/fold.js --url 'postgres://…?search_path=seed' --day 2026-12-01
// It writes to the store (the day's clicks are folded again over what the rollups hold): run it on
// a copy, never on a store a server or a report is read from.
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';

const DAY = 86_400_000;
const dist = (path: string) => new URL(`../server/${path}`, import.meta.url).href;

async function main() {
  const { values } = parseArgs({ options: { db: { type: 'string' }, url: { type: 'string' }, day: { type: 'string' }, chunk: { type: 'string' } }, strict: true });
  const location = values.url ?? values.db;
  if (!location || !values.day) throw new Error('usage: node dist/bench/fold.js (--db COPY.db | --url postgres://…) --day YYYY-MM-DD [--chunk 250]');
  const from = Date.parse(`${values.day}T00:00:00Z`);
  const reset = 'UPDATE report_watermark SET folded_to = $1, folding_to = NULL, folding_key = NULL WHERE id = 1';
  const count = 'SELECT count(*) AS n FROM clicks WHERE click_time >= $1 AND click_time < $2';
  let n: number;
  if (values.url) {
    const { default: postgres } = await import('postgres');
    const sql = postgres(values.url, { onnotice: () => {} });
    await sql.unsafe(reset, [from]);
    n = Number((await sql.unsafe(count, [from, from + DAY]))[0]!.n);
    await sql.end();
  } else {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(values.db!);
    db.prepare(reset.replace('$1', '?')).run(from);
    n = (db.prepare(count.replace('$1', '?').replace('$2', '?')).get(from, from + DAY) as { n: number }).n;
    db.close();
  }
  const { openStore } = await import(dist('store/index.js'));
  const store = await openStore(location);
  const chunk = values.chunk === undefined ? undefined : Number(values.chunk);
  const times: number[] = [];
  const started = performance.now();
  for (;;) {
    const t0 = performance.now();
    if ((await store.foldReports(from + DAY, 15 * 60_000, chunk)) === null) break;
    times.push(performance.now() - t0);
  }
  const total = (performance.now() - started) / 1000;
  await store.close();
  times.sort((a, b) => a - b);
  const at = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!.toFixed(1);
  console.log(
    `${values.day}: ${n} clicks in ${times.length} transactions (${chunk ?? "the store's"} clicks each), ${total.toFixed(1)} s, ` +
      `${Math.round(n / total)} clicks/s; a transaction: median ${at(0.5)} ms, p90 ${at(0.9)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
