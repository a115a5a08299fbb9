// What the store commits, seen from outside it: a store that forwards every call to the real one and
// tells observers (metrics, the log) what each write did and how long it took to commit. So the
// request paths and the dispatcher count nothing themselves, and both stores are observed alike.
import type { Attempt, AttemptOutcome, ClickRecord, ConversionResult, ConversionRow, LeadResult, RetentionKind, Store } from '../store/types.js';

/** The writes, by what they write. */
export const WRITES = ['click', 'lead', 'conversion', 'status', 'claim', 'attempt', 'postback', 'retention', 'erasure'] as const;
export type Write = (typeof WRITES)[number];

export interface StoreObserver {
  /** A write was handed to the store. */
  begin?(write: Write): void;
  /** It settled (committed, or failed), `seconds` after it began: the commit latency the caller
   * waited, queueing included. */
  end?(write: Write, seconds: number, ok: boolean): void;
  click?(click: ClickRecord): void;
  lead?(result: LeadResult): void;
  conversion?(result: ConversionResult): void;
  statusChanged?(conversion: ConversionRow | undefined): void;
  attempt?(attempt: Attempt, outcome: AttemptOutcome): void;
  /** A retention batch removed (or stripped) `rows` rows of `kind`. */
  retained?(kind: RetentionKind, rows: number): void;
}

/** The store, observed. Reads and any method not listed here go straight to `store`. */
export function observeStore(store: Store, ...observers: StoreObserver[]): Store {
  const begins = observers.flatMap((o) => (o.begin ? [o.begin.bind(o)] : []));
  const ends = observers.flatMap((o) => (o.end ? [o.end.bind(o)] : []));
  const observed: Store = Object.create(store);

  /** `store[name]`, timed, and `after` called with its result and arguments once it committed. */
  function wrap<K extends keyof Store>(name: K, write: Write, after?: (result: never, a: never, b: never, c: never) => void) {
    const method = store[name] as unknown as (a: unknown, b: unknown, c: unknown) => Promise<unknown>;
    (observed as unknown as Record<string, unknown>)[name] = (a: unknown, b: unknown, c: unknown) => {
      const started = performance.now();
      for (const begin of begins) begin(write);
      return method.call(store, a, b, c).then(
        (result) => {
          const seconds = (performance.now() - started) / 1000;
          for (const end of ends) end(write, seconds, true);
          after?.(result as never, a as never, b as never, c as never);
          return result;
        },
        (error: unknown) => {
          const seconds = (performance.now() - started) / 1000;
          for (const end of ends) end(write, seconds, false);
          throw error;
        },
      );
    };
  }
  /** The observers' handlers of one event, called in turn. */
  function each<A extends unknown[]>(pick: (o: StoreObserver) => ((...args: A) => void) | undefined): ((...args: A) => void) | undefined {
    const handlers = observers.flatMap((o) => {
      const handler = pick(o);
      return handler ? [handler.bind(o)] : [];
    });
    if (!handlers.length) return undefined;
    if (handlers.length === 1) return handlers[0];
    return (...args) => {
      for (const handler of handlers) handler(...args);
    };
  }

  const clicked = each<[ClickRecord]>((o) => o.click);
  wrap('recordClick', 'click', clicked && ((_: void, click: ClickRecord) => clicked(click)));
  wrap('insertLead', 'lead', each<[LeadResult]>((o) => o.lead));
  wrap('insertConversion', 'conversion', each<[ConversionResult]>((o) => o.conversion));
  wrap('setConversionStatus', 'status', each<[ConversionRow | undefined]>((o) => o.statusChanged));
  wrap('claimDeliveries', 'claim');
  const attempted = each<[Attempt, AttemptOutcome]>((o) => o.attempt);
  // Told only of outcomes that applied: an attempt that lost its lease changed nothing.
  wrap('finishAttempt', 'attempt', attempted && ((applied: boolean, attempt: Attempt, _lease: number, outcome: AttemptOutcome) => void (applied && attempted(attempt, outcome))));
  wrap('createPostback', 'postback');
  wrap('updatePostback', 'postback');
  wrap('deletePostback', 'postback');
  const retained = each<[RetentionKind, number]>((o) => o.retained);
  wrap('retain', 'retention', retained && ((rows: number, kind: RetentionKind) => retained(kind, rows)));
  wrap('erase', 'erasure');
  return observed;
}
