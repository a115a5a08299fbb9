// The SQLite store's reader thread (sqlite-reader.ts): a summary report read there answers what the
// store's own connection answers, and the event loop keeps turning while it runs.
import { readdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../server/store/sqlite.js';
import { sqliteReader } from '../../server/store/sqlite-reader.js';
import type { ReportOrder, ReportQuery, Store } from '../../server/store/types.js';
import { EVERY_GROUP } from '../../server/reports/page.js';
import { tempDbPath } from '../support/app.js';
import { click } from '../support/reports.js';

const T0 = Date.UTC(2026, 10, 20);
const stores: Store[] = [];
afterAll(() => Promise.all(stores.map((s) => s.close())));

describe('the SQLite reader thread', () => {
  it('answers the same report as the main connection, while the event loop turns', async () => {
    const path = tempDbPath();
    const main = openSqliteStore({ path });
    stores.push(main);
    for (let i = 0; i < 20_000; i += 2000) {
      const batch = [];
      for (let j = i; j < i + 2000; j++) batch.push(click(main, T0 + j * 1000, { s1: `sub-${j % 5000}`, affiliate_id: 67890 + (j % 3) }));
      await Promise.all(batch);
    }
    await click(main, T0 + 20_000_000);
    const threaded = openSqliteStore({ path, readerThread: true });
    stores.push(threaded);
    const q: ReportQuery = { from: T0, to: T0 + 86_400_000, group_by: 'sub_id_1', zone: [{ since: T0, offset: 0 }], include_tests: false };
    const orders: ReportOrder[] = [
      { sort: 'clicks', descending: true, affiliate: false, offset: 0, limit: 100 },
      { sort: 'key', descending: false, affiliate: false, offset: 4_990, limit: 50 },
      EVERY_GROUP,
    ];
    const expected = await Promise.all(orders.map((o) => main.summaryReport(q, o)));
    expect(expected[2]!.count).toBe(5001);
    expect(expected[2]!.rows).toHaveLength(5001);

    let turns = 0;
    let done = false;
    const spin = () => {
      if (done) return;
      turns++;
      setImmediate(spin);
    };
    setImmediate(spin);
    const answered = await Promise.all(orders.map((o) => threaded.summaryReport(q, o)));
    done = true;
    // The same pages, rows, counts and totals: merged and paged on the thread as on the loop.
    expect(answered).toEqual(expected);
    expect(answered[1]!.rows).toHaveLength(11);
    // The report ran beside the event loop: other work went on meanwhile.
    expect(turns).toBeGreaterThan(0);
  });
});

describe('the reader thread answers large results in slices', () => {
  it('gives back every row of every statement, in order, however many slices they take', async () => {
    const path = tempDbPath();
    const store = openSqliteStore({ path });
    stores.push(store);
    const reader = sqliteReader(path);
    try {
      const numbers = (n: number) => ({
        sql: 'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) SELECT i, printf(\'row-%d\', i) AS name FROM n',
        params: [n],
      });
      const [many, one, none] = await reader.read([numbers(1_234), numbers(1), { sql: 'SELECT 1 AS i WHERE 0', params: [] }]);
      expect(many).toEqual(Array.from({ length: 1_234 }, (_, k) => ({ i: k + 1, name: `row-${k + 1}` })));
      expect(one).toEqual([{ i: 1, name: 'row-1' }]);
      expect(none).toEqual([]);
    } finally {
      await reader.close();
    }
  });
});

describe('the reader thread starts when it is needed and ends when idle', () => {
  // The process's threads, as Linux lists them.
  const threads = () => readdirSync('/proc/self/task').length;

  it.runIf(process.platform === 'linux')('starts at the first read, ends after its idle time, and starts again at the next read', async () => {
    const path = tempDbPath();
    const store = openSqliteStore({ path });
    stores.push(store);
    const before = threads();
    const reader = sqliteReader(path, 50);
    try {
      const one = { sql: 'SELECT 1 AS i', params: [] };
      expect(threads()).toBe(before);
      expect(await reader.read([one])).toEqual([[{ i: 1 }]]);
      const running = threads();
      expect(running).toBeGreaterThan(before);
      await expect.poll(threads, { timeout: 5_000 }).toBeLessThan(running);
      const ended = threads();
      expect(await reader.read([one])).toEqual([[{ i: 1 }]]);
      expect(threads()).toBeGreaterThan(ended);
    } finally {
      await reader.close();
    }
  });

  it('a read just after the idle thread was ended is answered by the next thread, not failed by the old one', async () => {
    const path = tempDbPath();
    const store = openSqliteStore({ path });
    stores.push(store);
    const reader = sqliteReader(path, 1);
    try {
      const one = { sql: 'SELECT 1 AS i', params: [] };
      for (let round = 0; round < 20; round++) {
        expect(await reader.read([one])).toEqual([[{ i: 1 }]]);
        // The idle timer has fired and the thread is ending: its exit arrives while the next read waits.
        await new Promise((resolve) => setTimeout(resolve, 2 + (round % 5)));
        expect(await reader.read([one])).toEqual([[{ i: 1 }]]);
      }
    } finally {
      await reader.close();
    }
  });
});
