// slices.ts: steps driven on the event loop end with their generator's answer, and let the loop
// turn between slices.
import { describe, expect, it, vi } from 'vitest';
import { drive, yieldLoop } from '../../server/slices.js';

function* counting(to: number): Generator<void, number[]> {
  const seen: number[] = [];
  for (let i = 0; i < to; i++) {
    if (i > 0) yield;
    seen.push(i);
  }
  return seen;
}

describe('drive', () => {
  it('answers what the steps return, and lets what waits run between them', async () => {
    let ran = false;
    setImmediate(() => (ran = true));
    const seen: boolean[] = [];
    const steps = (function* () {
      seen.push(ran);
      yield;
      seen.push(ran);
      return 'done';
    })();
    expect(await drive(steps)).toBe('done');
    // The first slice ran at once; what waited ran at the first pause.
    expect(seen).toEqual([false, true]);
  });
});

describe('yieldLoop', () => {
  it('waits for no timer: a slice follows the next turn of the loop, not a clamped setTimeout', { timeout: 5_000 }, async () => {
    // With setTimeout faked and never advanced, a yield made of a timer would never end.
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    try {
      await yieldLoop();
      expect(await drive(counting(100))).toHaveLength(100);
    } finally {
      vi.useRealTimers();
    }
  });
});
