// Long work on the event loop, a slice at a time with a turn of the loop between slices, so that a
// report of 100,000 groups (reports/page.ts) or a page of 10,000 rows never holds the loop that
// answers clicks for more than a slice (about a millisecond). Web-standard but for setImmediate,
// used only where it exists.

// setImmediate where the runtime has one (Node: the next turn, after the I/O waiting); else
// setTimeout, which Node would clamp to 1 ms: a report by sub id yields about a hundred times, so
// that was a tenth of a second of an idle loop added to it.
const immediate = (globalThis as { setImmediate?: (f: () => void) => unknown }).setImmediate;
const nextTurn = immediate ?? ((resolve: () => void) => setTimeout(resolve, 0));

/** One turn of the event loop: what is waiting (clicks) runs first. */
export const yieldLoop = () => new Promise<void>((resolve) => nextTurn(resolve));

/** Runs steps (a generator that pauses between slices of its work: reports/page.ts) to their
 * end, one turn of the event loop between slices. */
export async function drive<T>(steps: Generator<void, T>): Promise<T> {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await yieldLoop();
  }
}
