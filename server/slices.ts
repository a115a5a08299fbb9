// Work on long arrays done a slice at a time, the event loop free between slices, so that a report
// of 100,000 groups or a page of 10,000 rows never holds the loop that answers clicks for more than
// a slice (about a millisecond). Web-standard but for setImmediate, used only where it exists.

// setImmediate where the runtime has one (Node: the next turn, after the I/O waiting); else
// setTimeout, which Node would clamp to 1 ms: a report by sub id yields about a hundred times, so
// that was a tenth of a second of an idle loop added to it.
const immediate = (globalThis as { setImmediate?: (f: () => void) => unknown }).setImmediate;
const nextTurn = immediate ?? ((resolve: () => void) => setTimeout(resolve, 0));

/** One turn of the event loop: what is waiting (clicks) runs first. */
export const yieldLoop = () => new Promise<void>((resolve) => nextTurn(resolve));

/** Items per slice of the plain loops below. */
export const SLICE = 4096;

/** `items.forEach(f)`, a slice at a time. */
export async function eachInSlices<T>(items: readonly T[], f: (item: T) => void, slice = SLICE): Promise<void> {
  for (let at = 0; at < items.length; at += slice) {
    if (at > 0) await yieldLoop();
    const end = Math.min(items.length, at + slice);
    for (let i = at; i < end; i++) f(items[i]!);
  }
}

/** `items.map(f)`, a slice at a time. */
export async function mapInSlices<T, U>(items: readonly T[], f: (item: T) => U, slice = SLICE): Promise<U[]> {
  const out = new Array<U>(items.length);
  let i = 0;
  await eachInSlices(items, (item) => void (out[i++] = f(item)), slice);
  return out;
}

/** The order `items.sort(compare)` gives (stable), a slice at a time: runs of a slice sorted, then
 * merged pairwise. Sorts in place when the array is a single slice; else answers a new array. */
export async function sortInSlices<T>(items: T[], compare: (a: T, b: T) => number, slice = SLICE): Promise<T[]> {
  if (items.length <= slice) return items.sort(compare);
  let runs: T[][] = [];
  for (let at = 0; at < items.length; at += slice) {
    if (at > 0) await yieldLoop();
    runs.push(items.slice(at, at + slice).sort(compare));
  }
  while (runs.length > 1) {
    const merged: T[][] = [];
    for (let i = 0; i < runs.length; i += 2) merged.push(i + 1 < runs.length ? await merge(runs[i]!, runs[i + 1]!, compare, slice * 4) : runs[i]!);
    runs = merged;
  }
  return runs[0]!;
}

async function merge<T>(a: T[], b: T[], compare: (a: T, b: T) => number, slice: number): Promise<T[]> {
  const out = new Array<T>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) {
    // Ties keep a's first: the order stays stable.
    out[k++] = compare(b[j]!, a[i]!) < 0 ? b[j++]! : a[i++]!;
    if (k % slice === 0) await yieldLoop();
  }
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}

/** Most items firstInOrder keeps in its buffer: each insertion moves up to this many, so a slice
 * costs at most a few milliseconds whatever the order the items come in. */
const FIRST_MAX = 1000;

/** The first `count` items of the order `items.sort(compare)` gives (stable), a slice at a time.
 * A page of 100 out of a report's 100,000 groups keeps the best `count` in a sorted buffer rather
 * than sorting all of them; a page reaching far into the order sorts them all. */
export async function firstInOrder<T>(items: readonly T[], compare: (a: T, b: T) => number, count: number, slice = SLICE): Promise<T[]> {
  if (count > FIRST_MAX || count * 8 >= items.length) return (await sortInSlices([...items], compare, slice)).slice(0, count);
  const best: T[] = [];
  await eachInSlices(items, (item) => {
    // Ties go after what is kept: an earlier item stays first, as in a stable sort.
    if (best.length === count && compare(item, best[count - 1]!) >= 0) return;
    let lo = 0;
    let hi = best.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compare(item, best[mid]!) < 0) hi = mid;
      else lo = mid + 1;
    }
    best.splice(lo, 0, item);
    if (best.length > count) best.pop();
  }, slice);
  return best;
}
