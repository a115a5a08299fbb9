// slices.ts: long work a slice at a time gives what the one-go version gives, and lets the event
// loop turn between slices.
import { describe, expect, it, vi } from 'vitest';
import { firstInOrder, mapInSlices, sortInSlices, yieldLoop } from '../../server/slices.js';

/** A small seeded generator, so a failure can be replayed. */
function random(seed: number) {
  return () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
}

describe('sortInSlices', () => {
  it('gives Array.prototype.sort’s order, ties in their first order, for every size around the slices', async () => {
    const rand = random(7);
    for (const n of [0, 1, 5, 16, 17, 33, 64, 100, 1000]) {
      // Few distinct values, so that ties are many and stability shows.
      const items = Array.from({ length: n }, (_, i) => ({ v: Math.floor(rand() * 10), i }));
      const expected = [...items].sort((a, b) => a.v - b.v);
      expect(await sortInSlices([...items], (a, b) => a.v - b.v, 16)).toEqual(expected);
    }
  });

  it('lets what waits in the event loop run before a long sort is done', async () => {
    const items = Array.from({ length: 50_000 }, (_, i) => (i * 7919) % 50_000);
    let ran = false;
    setImmediate(() => (ran = true));
    const sorted = sortInSlices(items, (a, b) => a - b, 1000);
    expect(ran).toBe(false);
    const out = await sorted;
    expect(ran).toBe(true);
    expect(out).toEqual(Array.from({ length: 50_000 }, (_, i) => i));
  });
});

describe('mapInSlices', () => {
  it('maps every item in order, a slice at a time', async () => {
    let ran = false;
    setImmediate(() => (ran = true));
    const out = mapInSlices(Array.from({ length: 10 }, (_, i) => i), (i) => {
      // The first slice runs at once; what waits runs at the first turn of the loop.
      if (i < 4) expect(ran).toBe(false);
      return i * 2;
    }, 4);
    expect(await out).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(ran).toBe(true);
  });
});

describe('firstInOrder', () => {
  it('gives the first items of Array.prototype.sort’s order, ties in their first order, whatever the count', async () => {
    const rand = random(11);
    for (const n of [0, 1, 10, 100, 1000, 5000]) {
      const items = Array.from({ length: n }, (_, i) => ({ v: Math.floor(rand() * 20), i }));
      const expected = [...items].sort((a, b) => b.v - a.v);
      // 1 and 10 keep a buffer; n/4 and n (and past n) sort everything.
      for (const count of [1, 10, Math.ceil(n / 4), n, n + 5]) {
        expect(await firstInOrder(items, (a, b) => b.v - a.v, count, 64)).toEqual(expected.slice(0, count));
      }
    }
  });

  it('keeps the best ones when they come last (every item displaces one)', async () => {
    const items = Array.from({ length: 10_000 }, (_, i) => i);
    expect(await firstInOrder(items, (a, b) => b - a, 100)).toEqual(Array.from({ length: 100 }, (_, i) => 9_999 - i));
  });
});

describe('yieldLoop', () => {
  it('waits for no timer: a slice follows the next turn of the loop, not a clamped setTimeout', { timeout: 5_000 }, async () => {
    // With setTimeout faked and never advanced, a yield made of a timer would never end.
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    try {
      await yieldLoop();
      expect(await mapInSlices(Array.from({ length: 100 }, (_, i) => i), (i) => i + 1, 10)).toHaveLength(100);
    } finally {
      vi.useRealTimers();
    }
  });
});
