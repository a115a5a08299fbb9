// The order the targets run in each round. A Crumb run right after another one ran slower in our
// measurements (lead posts, large network ÷ small: 0.75 and 0.82 with the small one always run
// first, 0.92 with the large one first, 0.93 to 0.96 in a balanced order; bench/RESULTS.md), and
// a plain rotation ran the large network right after the small one in every round. A Williams
// design balances that: over n rounds (2n for an odd n) each target runs right after every other
// one as often, and once in each position.

/** The order of `n` targets in round `round` (0-based): indexes into the targets. */
export function roundOrder(n: number, round: number): number[] {
  // The first row 0, 1, n-1, 2, n-2, …; the others shift it by one a round.
  const first = [0];
  for (let lo = 1, hi = n - 1; first.length < n; ) {
    first.push(lo++);
    if (first.length < n) first.push(hi--);
  }
  const rows = n % 2 === 0 ? n : 2 * n;
  const r = round % rows;
  const row = first.map((x) => (x + (r % n)) % n);
  // An odd n needs each row reversed too: a row's own pairs cover only half the orders.
  return r < n ? row : row.reverse();
}
