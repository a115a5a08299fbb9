// Errors every store throws the same way, so that callers (the app's one error path) can answer them
// the same way whichever backend is underneath.

/** A write refused at once because the store already holds as many as it may (its queue is full):
 * the server answers 503 with Retry-After rather than letting the queue, and its memory and
 * latency, grow without limit. Nothing of the refused write was stored. */
export class StoreOverloaded extends Error {
  /** How long to wait before trying again, in seconds. */
  readonly retryAfter = 1;

  constructor(what: string, bound: number) {
    super(`The server is busy: ${what} already holds ${bound} writes waiting for the database; retry in a second`);
  }
}

/** Writes waiting (or in flight) at once, by default, in every store: more than a second of the
 * heaviest load a store takes, and a bounded amount of memory. */
export const MAX_QUEUED_WRITES = 10_000;
