// How long one fold transaction holds the event loop (the server's fold job, reports/fold.ts), and
// how fast a day is folded: on a SQLite store the seed tool filled, the watermark is set back to a
// day's start and the day is folded again as the server's job folds it (the store's own chunk
// size, or `--chunk` clicks a transaction), each transaction timed.
//   node dist/bench/fold.js --db COPY-OF-SEED.db --day 2026-12-01 [--chunk 250]
// It writes to the store (the day's clicks are folded again over what the rollups hold): run it on
// a copy, never on a store a server or a report is read from.
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';

const DAY = 86_400_000;
const dist = (path: string) => new URL(`../server/${path}`, import.meta.url).href;

async function main() {
  const { values } = parseArgs({ options: { db: { type: 'string' }, day: { type: 'string' }, chunk: { type: 'string' } }, strict: true });
  if (!values.db || !values.day) throw new Error('usage: node dist/bench/fold.js --db COPY.db --day YYYY-MM-DD [--chunk 250]');
  const from = Date.parse(`${values.day}T00:00:00Z`);
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(values.db);
  db.prepare('UPDATE report_watermark SET folded_to = ?, folding_to = NULL, folding_key = NULL WHERE id = 1').run(from);
  const { n } = db.prepare('SELECT count(*) AS n FROM clicks WHERE click_time >= ? AND click_time < ?').get(from, from + DAY) as { n: number };
  db.close();
  const { openStore } = await import(dist('store/index.js'));
  const store = await openStore(values.db);
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
