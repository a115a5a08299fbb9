// slices.ts: long work a slice at a time gives what the one-go version gives, and lets the event
// loop turn between slices.
import { describe, expect, it } from 'vitest';
import { mapInSlices, sortInSlices } from '../../server/slices.js';

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

  it('lets a timer run before a long sort is done', async () => {
    const items = Array.from({ length: 50_000 }, (_, i) => (i * 7919) % 50_000);
    let ran = false;
    setTimeout(() => (ran = true), 0);
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
    setTimeout(() => (ran = true), 0);
    const out = mapInSlices(Array.from({ length: 10 }, (_, i) => i), (i) => {
      // The first slice runs at once; the timer waits for the first turn of the loop.
      if (i < 4) expect(ran).toBe(false);
      return i * 2;
    }, 4);
    expect(await out).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(ran).toBe(true);
  });
});
