// The SQLite store's reader thread (sqlite-reader.ts): a summary report read and paged there answers
// what the store's own connection answers.
import { readdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../server/store/sqlite.js';
import { byPending, sqliteReader } from '../../server/store/sqlite-reader.js';
import type { ReportOrder, ReportQuery, Store } from '../../server/store/types.js';
import { EVERY_GROUP } from '../../server/reports/page.js';
import { tempDbPath } from '../support/app.js';
import { click } from '../support/reports.js';

const T0 = Date.UTC(2026, 10, 20);
const stores: Store[] = [];
afterAll(() => Promise.all(stores.map((s) => s.close())));

/** A store in a file of its own (its tables made), closed after the suite. */
function freshStore() {
  const path = tempDbPath();
  const store = openSqliteStore({ path });
  stores.push(store);
  return { path, store };
}

describe('the SQLite reader thread', () => {
  it('answers the same report pages as the main connection, whatever the group and order', async () => {
    const { path, store: main } = freshStore();
    for (let i = 0; i < 20_000; i += 2000) {
      const batch = [];
      for (let j = i; j < i + 2000; j++) batch.push(click(main, T0 + j * 1000, { s1: `sub-${j % 5000}`, affiliate_id: 67890 + (j % 3) }));
      await Promise.all(batch);
    }
    await click(main, T0 + 20_000_000);
    const threaded = openSqliteStore({ path, readerThread: true });
    stores.push(threaded);
    const q: ReportQuery = { from: T0, to: T0 + 86_400_000, group_by: 'sub_id_1', zone: [{ since: T0, offset: 0 }], include_tests: false };
    const byAffiliate: ReportQuery = { ...q, group_by: 'affiliate' };
    const cases: [ReportQuery, ReportOrder][] = [
      [q, { sort: 'clicks', descending: true, affiliate: false, offset: 0, limit: 100 }],
      [q, { sort: 'key', descending: false, affiliate: false, offset: 4_990, limit: 50 }],
      [q, EVERY_GROUP],
      // Numeric keys, names that reverse the ids' order, a metric as an affiliate sees it.
      [byAffiliate, { sort: 'name', descending: false, affiliate: false, names: { 67890: 'c', 67891: 'b', 67892: 'a' }, offset: 0, limit: 10 }],
      [byAffiliate, { sort: 'epc', descending: true, affiliate: true, offset: 1, limit: 1 }],
    ];
    const expected = await Promise.all(cases.map(([query, o]) => main.summaryReport(query, o)));
    expect(expected[2]!.count).toBe(5001);
    expect(expected[2]!.rows).toHaveLength(5001);
    expect(expected[3]!.rows.map((r) => r.key)).toEqual([67892, 67891, 67890]);
    const answered = await Promise.all(cases.map(([query, o]) => threaded.summaryReport(query, o)));
    // The same pages, rows, counts and totals: merged and paged on the thread as on the loop.
    expect(answered).toEqual(expected);
    expect(answered[1]!.rows).toHaveLength(11);
  });

  it('answers a report whose statement fails with the error, and goes on answering', async () => {
    const { path, store } = freshStore();
    await click(store, T0);
    const reader = sqliteReader(path);
    const beside = sqliteReader(path);
    try {
      const clicks = { sql: 'SELECT s1 AS k, count(*) AS clicks, count(*) AS total_clicks FROM clicks GROUP BY s1', params: [] };
      const none = { sql: 'SELECT 1 AS k WHERE 0', params: [] };
      const broken = { sql: 'SELECT k FROM no_such_table', params: [] };
      await expect(reader.report(clicks, broken, EVERY_GROUP, beside)).rejects.toThrow(/no_such_table/);
      await expect(reader.report(broken, none, EVERY_GROUP, beside)).rejects.toThrow(/no_such_table/);
      const page = await reader.report(clicks, none, EVERY_GROUP, beside);
      expect([page.count, page.totals.clicks]).toEqual([1, 1]);
      // One reader for both statements works the same.
      expect(await reader.report(clicks, none, EVERY_GROUP)).toEqual(page);
    } finally {
      await Promise.all([reader.close(), beside.close()]);
    }
  });
});

describe('which reader a read goes to', () => {
  it('the one with the fewest reads waiting, the first on a tie', async () => {
    const { path } = freshStore();
    const [first, second] = [sqliteReader(path), sqliteReader(path)];
    const order = () => byPending([first, second]).map((r) => (r === first ? 'first' : 'second'));
    try {
      expect(order()).toEqual(['first', 'second']);
      const reading = first.read([{ sql: 'SELECT 1 AS one', params: [] }]);
      expect([first.pending, second.pending]).toEqual([1, 0]);
      expect(order()).toEqual(['second', 'first']);
      expect(await reading).toEqual([[{ one: 1 }]]);
      expect(first.pending).toBe(0);
      expect(order()).toEqual(['first', 'second']);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});

describe('the reader thread answers large results in slices', () => {
  it('gives back every row of every statement, in order, however many slices they take', async () => {
    const { path } = freshStore();
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
    const { path } = freshStore();
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
    const { path } = freshStore();
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
