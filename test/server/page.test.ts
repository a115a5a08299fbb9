// reports/page.ts: a summary report's page from its two counts — merged, totalled, sorted and cut
// as Array.prototype.sort and a plain sum would — and the same answer from the functions' own text
// run where nothing is imported (what the SQLite reader thread does).
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { finish, firstSteps, pageSteps, sortSteps, THREAD_CODE, type Counted } from '../../server/reports/page.js';
import { drive } from '../../server/slices.js';
import type { ReportOrder, ReportPage } from '../../server/store/types.js';

/** A small seeded generator, so a failure can be replayed. */
function random(seed: number) {
  return () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
}

describe('sortSteps', () => {
  it('gives Array.prototype.sort’s order, ties in their first order, for every size around its runs', () => {
    const rand = random(7);
    for (const n of [0, 1, 100, 4095, 4096, 4097, 8193, 20_000]) {
      // Few distinct values, so that ties are many and stability shows.
      const items = Array.from({ length: n }, (_, i) => ({ v: Math.floor(rand() * 10), i }));
      const expected = [...items].sort((a, b) => a.v - b.v);
      expect(finish(sortSteps([...items], (a, b) => a.v - b.v))).toEqual(expected);
    }
  });

  it('lets what waits in the event loop run before a long sort is done', async () => {
    const items = Array.from({ length: 50_000 }, (_, i) => (i * 7919) % 50_000);
    let ran = false;
    setImmediate(() => (ran = true));
    const sorted = drive(sortSteps(items, (a, b) => a - b));
    expect(ran).toBe(false);
    const out = await sorted;
    expect(ran).toBe(true);
    expect(out).toEqual(Array.from({ length: 50_000 }, (_, i) => i));
  });
});

describe('firstSteps', () => {
  it('gives the first items of Array.prototype.sort’s order, ties in their first order, whatever the count', () => {
    const rand = random(11);
    for (const n of [0, 1, 10, 100, 1000, 9000]) {
      const items = Array.from({ length: n }, (_, i) => ({ v: Math.floor(rand() * 20), i }));
      const expected = [...items].sort((a, b) => b.v - a.v);
      // 1 and 10 keep a buffer (where n is large enough); n/4 and n (and past n) sort everything.
      for (const count of [1, 10, Math.ceil(n / 4), n, n + 5]) {
        expect(finish(firstSteps(items, (a, b) => b.v - a.v, count))).toEqual(expected.slice(0, count));
      }
    }
  });

  it('keeps the best ones when they come last (every item displaces one)', () => {
    const items = Array.from({ length: 10_000 }, (_, i) => i);
    expect(finish(firstSteps(items, (a, b) => b - a, 100))).toEqual(Array.from({ length: 100 }, (_, i) => 9_999 - i));
  });
});

// Clicks of keys a, b, c and none; conversions of b, c and d (a conversion's click outside the
// range). PostgreSQL gives sums as text: b's are.
const clicks: Counted[] = [
  { k: 'a', clicks: 10, total_clicks: 12 },
  { k: 'b', clicks: '4', total_clicks: '4' },
  { k: 'c', clicks: 10, total_clicks: 10 },
  { k: null, clicks: 1, total_clicks: 1 },
];
const conversions: Counted[] = [
  { k: 'b', macro_event_conversions: '2', micro_events: '1', paid: '2', pending: '0', rejected: '1', cost_cents: '300', revenue_cents: '900' },
  { k: 'c', macro_event_conversions: 1, micro_events: 0, paid: 1, pending: 0, rejected: 0, cost_cents: 500, revenue_cents: 600 },
  { k: 'd', macro_event_conversions: 1, micro_events: 0, paid: 0, pending: 1, rejected: 0, cost_cents: 0, revenue_cents: 0 },
];
const order = (o: Partial<ReportOrder>): ReportOrder => ({ sort: 'key', descending: false, affiliate: false, offset: 0, limit: 100, ...o });
const keys = (page: ReportPage) => page.rows.map((r) => r.key);

describe('pageSteps', () => {
  it('merges both counts by key, and totals and counts every group whatever the page', () => {
    const page = finish(pageSteps(clicks, conversions, order({ limit: 1 })));
    expect(page.count).toBe(5);
    expect(page.totals).toEqual({ clicks: 25, total_clicks: 27, macro_event_conversions: 4, micro_events: 1, paid: 3, pending: 1, rejected: 1, cost_cents: 800, revenue_cents: 1500 });
    expect(page.rows).toEqual([{ key: null, clicks: 1, total_clicks: 1, macro_event_conversions: 0, micro_events: 0, paid: 0, pending: 0, rejected: 0, cost_cents: 0, revenue_cents: 0 }]);
    const b = finish(pageSteps(clicks, conversions, order({ offset: 2, limit: 1 }))).rows[0];
    expect(b).toEqual({ key: 'b', clicks: 4, total_clicks: 4, macro_event_conversions: 2, micro_events: 1, paid: 2, pending: 0, rejected: 1, cost_cents: 300, revenue_cents: 900 });
  });

  it('sorts on a metric either way, ties by key ascending, and cuts the page', () => {
    expect(keys(finish(pageSteps(clicks, conversions, order({ sort: 'clicks', descending: true }))))).toEqual(['a', 'c', 'b', null, 'd']);
    expect(keys(finish(pageSteps(clicks, conversions, order({ sort: 'clicks' }))))).toEqual(['d', null, 'b', 'a', 'c']);
    expect(keys(finish(pageSteps(clicks, conversions, order({ sort: 'clicks', descending: true, offset: 1, limit: 2 }))))).toEqual(['c', 'b']);
    expect(keys(finish(pageSteps(clicks, conversions, order({ sort: 'key', descending: true }))))).toEqual(['d', 'c', 'b', 'a', null]);
  });

  it('sorts on epc as the role sees it: the network over revenue, an affiliate over its payout', () => {
    // Revenue per click: b 2.25, c 0.60; payout per click: b 0.75, c 0.50.
    expect(keys(finish(pageSteps(clicks, conversions, order({ sort: 'epc', descending: true, limit: 2 }))))).toEqual(['b', 'c']);
    const moreCost = conversions.map((v) => (v.k === 'c' ? { ...v, cost_cents: 1000 } : v));
    expect(keys(finish(pageSteps(clicks, moreCost, order({ sort: 'epc', descending: true, limit: 2 }))))).toEqual(['b', 'c']);
    expect(keys(finish(pageSteps(clicks, moreCost, order({ sort: 'epc', descending: true, affiliate: true, limit: 2 }))))).toEqual(['c', 'b']);
  });

  it('sorts on the names it is given, groups without one first', () => {
    const names = { a: 'Zulu', b: 'Alpha', c: 'Mike' };
    expect(keys(finish(pageSteps(clicks, conversions, order({ sort: 'name', names }))))).toEqual([null, 'd', 'b', 'c', 'a']);
  });

  it('answers the same page driven on the event loop as run straight through, letting what waits run between slices', async () => {
    const rand = random(3);
    const many: Counted[] = Array.from({ length: 30_000 }, (_, i) => ({ k: `s${i}`, clicks: Math.floor(rand() * 50), total_clicks: 50 }));
    const o = order({ sort: 'clicks', descending: true, offset: 40, limit: 60 });
    let ranBefore = false;
    let finished = false;
    setImmediate(() => (ranBefore = !finished));
    const driven = await drive(pageSteps(many, conversions, o));
    finished = true;
    expect(ranBefore).toBe(true);
    expect(driven).toEqual(finish(pageSteps(many, conversions, o)));
  });
});

describe('THREAD_CODE', () => {
  it('runs on its own, with nothing imported, and answers what the module answers, as tested and as built', async () => {
    const rand = random(5);
    const many: Counted[] = Array.from({ length: 20_000 }, (_, i) => ({ k: i % 7 ? `s${i}` : i, clicks: Math.floor(rand() * 9), total_clicks: 9 }));
    // The text the server ships (tsc's output, built by the suite's global setup), and this one's.
    const built = ((await import(new URL('../../dist/server/reports/page.js', import.meta.url).href)) as { THREAD_CODE: string }).THREAD_CODE;
    for (const code of [THREAD_CODE, built]) {
      for (const o of [order({ sort: 'margin', descending: true, limit: 10 }), order({ sort: 'name', names: { 7: 'x' }, offset: 5000, limit: 2000 }), order({ limit: Infinity })]) {
        const answered = runInNewContext(`${code}\nfinish(pageSteps(many, conversions, o))`, { many, conversions, o });
        // Compared as JSON: the objects were made in another realm.
        expect(JSON.stringify(answered)).toBe(JSON.stringify(finish(pageSteps(many, conversions, o))));
      }
    }
  });
});
