// The postback dispatcher: delivers the outbox (server-to-server affiliate postbacks, written by
// the store in the same transaction as their conversion) to the affiliates' servers.
//
// - At least once: a delivery is leased while it is attempted (store.claimDeliveries), so several
//   dispatchers, in one process or many, never attempt the same one at once; a lease that runs out
//   without an outcome (a crash, a kill) makes it due again. Affiliates may see a postback twice
//   in that case, never zero times.
// - Retries until the server answers 2xx: the first within seconds, then backing off
//   exponentially to hours, up to a number of attempts; then the delivery is `failed`.
// - Every attempt is logged (time, status code, latency, error) with its outcome, in one
//   transaction (store.finishAttempt), and readable at /api/2/postback_deliveries.json.
// - Nobody waits on it: recording a conversion only wakes it (AppOptions.onDeliveries).
// - Runtime-agnostic: web fetch, AbortController and timers only. A long-lived process (node.ts)
//   starts it and stops it before closing the store; a runtime without one (worker.ts: a Worker's
//   waitUntil after a conversion, and its Cron trigger) calls drain() instead, with the same claims,
//   attempts, backoff and log.
import type { DeliveryRow, Store } from '../store/types.js';

const SECOND = 1000;
const HOUR = 3_600_000;

export interface DispatcherOptions {
  store: Store;
  /** The HTTP client (the runtime's fetch by default). */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** Milliseconds since the epoch, for attempt times and retry times (Date.now by default). */
  clock?: () => number;
  /** Milliseconds to wait after `failed` unsuccessful attempts before the next one. */
  retryDelay?: (failed: number) => number;
  /** Attempts before a delivery is given up as `failed`. */
  maxAttempts?: number;
  /** Time allowed to one attempt, until the answer's status arrives. */
  timeoutMs?: number;
  /** How long a claimed delivery is reserved for its attempt; longer than `timeoutMs`. */
  leaseMs?: number;
  /** Attempts in flight at once. */
  concurrency?: number;
  /** How often to look for deliveries falling due (retries, other instances' leases). */
  pollMs?: number;
  /** How long stop() lets attempts in flight finish before it interrupts them. */
  stopGraceMs?: number;
  /** Where unexpected errors (the store failing) are reported. */
  onError?: (error: unknown) => void;
}

export interface Dispatcher {
  /** Delivers what is due now (after a restart: what was left), then whatever falls due. */
  start(): void;
  /** Looks for new deliveries now (called when a conversion queued some). */
  wake(): void;
  /** Claims nothing more and lets attempts in flight finish (their outcome is logged). */
  stop(): Promise<void>;
  /** Attempts what is due now, `concurrency` at a time and at most `limit` deliveries, and resolves
   * with how many were attempted once every outcome is logged. Needs no start(). */
  drain(limit?: number): Promise<number>;
}

/** 5 s, 15 s, 45 s, 2¼ min, … ×3 each time, capped at 6 hours, give or take 10% so that a burst
 * of failures does not come back as a burst. */
export function defaultRetryDelay(failed: number): number {
  const base = Math.min(6 * HOUR, 5 * SECOND * 3 ** Math.max(0, failed - 1));
  return Math.round(base * (0.9 + Math.random() * 0.2));
}

/** With the default delays, 14 attempts span about a day and a half. */
export const DEFAULT_MAX_ATTEMPTS = 14;

const USER_AGENT = 'Crumb-Postback/1';
const MAX_ERROR = 500;

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { store } = options;
  const send = options.fetch ?? ((url: string, init: RequestInit) => fetch(url, init));
  const clock = options.clock ?? Date.now;
  const retryDelay = options.retryDelay ?? defaultRetryDelay;
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const timeoutMs = options.timeoutMs ?? 10 * SECOND;
  const leaseMs = Math.max(options.leaseMs ?? timeoutMs + 30 * SECOND, timeoutMs + SECOND);
  const concurrency = options.concurrency ?? 16;
  const pollMs = options.pollMs ?? SECOND;
  const stopGraceMs = options.stopGraceMs ?? 5 * SECOND;
  const onError = options.onError ?? ((error: unknown) => console.error('postback dispatcher:', error));

  let running = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pumping: Promise<void> | undefined;
  let busy = false;
  let again = false;
  const inFlight = new Set<Promise<void>>();
  const controllers = new Set<AbortController>();

  function schedule(ms: number) {
    if (!running) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void pump();
    }, ms);
    // Never keep a process alive on its own (Node); the server does that.
    (timer as { unref?: () => void }).unref?.();
  }

  /** Claims due deliveries while there is room, then looks again after pollMs. One at a time:
   * a wake during a pump makes it go round once more. */
  function pump(): Promise<void> {
    if (busy) {
      again = true;
      return pumping!;
    }
    // `busy`, not `pumping`: with every slot taken the body finishes before `pumping` is assigned.
    busy = true;
    pumping = (async () => {
      try {
        do {
          again = false;
          while (running && inFlight.size < concurrency) {
            const room = concurrency - inFlight.size;
            const now = clock();
            const due = await store.claimDeliveries(now, now + leaseMs, room);
            for (const delivery of due) track(attempt(delivery));
            if (due.length < room) break;
          }
        } while (again && running);
      } catch (error) {
        onError(error);
      } finally {
        busy = false;
        // Look again after pollMs, unless a wake is already due sooner.
        if (timer === undefined) schedule(pollMs);
      }
    })();
    return pumping;
  }

  function track(job: Promise<void>) {
    inFlight.add(job);
    void job.finally(() => {
      inFlight.delete(job);
      // A slot is free: take the next due delivery without waiting for the poll.
      if (running) schedule(0);
    });
  }

  /** One attempt; never throws. */
  async function attempt(delivery: DeliveryRow): Promise<void> {
    const controller = new AbortController();
    controllers.add(controller);
    let timedOut = false;
    const timeout = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const attempted_at = clock();
    const started = performance.now();
    let status_code: number | null = null;
    let error: string | null = null;
    let interrupted = false;
    try {
      const res = await send(delivery.url, {
        method: 'GET',
        headers: { 'User-Agent': USER_AGENT },
        redirect: 'follow',
        signal: controller.signal,
      });
      status_code = res.status;
      await res.body?.cancel().catch(() => {});
    } catch (e) {
      interrupted = !timedOut && controller.signal.aborted;
      error = timedOut ? `timed out after ${timeoutMs} ms` : interrupted ? 'interrupted: the dispatcher stopped' : describe(e);
    } finally {
      clearTimeout(timeout);
      controllers.delete(controller);
    }
    const latency_ms = Math.round(performance.now() - started);
    const delivered = status_code !== null && status_code >= 200 && status_code < 300;
    const attempts = delivery.attempts + 1;
    try {
      await store.finishAttempt(
        { delivery_id: delivery.delivery_id, attempted_at, status_code, latency_ms, error },
        delivered
          ? { delivered: true }
          : // Interrupted by a shutdown: due again at once, for whichever dispatcher runs next, and
            // never the attempt that gives up (the affiliate's server did not answer at all).
            { delivered: false, retry_at: interrupted ? clock() : attempts >= maxAttempts ? null : clock() + retryDelay(attempts) },
      );
    } catch (e) {
      // Not logged: the lease runs out and the delivery is attempted again.
      onError(e);
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      schedule(0);
    },
    wake() {
      if (running) schedule(0);
    },
    async stop() {
      running = false;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      await pumping;
      if (inFlight.size) {
        let grace: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          Promise.allSettled([...inFlight]),
          new Promise<void>((resolve) => {
            grace = setTimeout(resolve, stopGraceMs);
          }),
        ]);
        clearTimeout(grace);
        for (const controller of controllers) controller.abort();
        await Promise.allSettled([...inFlight]);
      }
    },
    async drain(limit = Infinity) {
      let attempted = 0;
      while (attempted < limit) {
        const room = Math.min(concurrency, limit - attempted);
        const now = clock();
        const due = await store.claimDeliveries(now, now + leaseMs, room);
        await Promise.all(due.map(attempt));
        attempted += due.length;
        if (due.length < room) break;
      }
      return attempted;
    },
  };
}

/** "ECONNREFUSED", "getaddrinfo ENOTFOUND p.example", … from fetch's error and its cause. */
function describe(error: unknown): string {
  const e = error as { message?: string; cause?: { code?: string; message?: string } };
  const cause = e?.cause;
  const text = cause?.message ? `${e.message}: ${cause.message}` : (e?.message ?? String(error));
  const withCode = cause?.code && !text.includes(cause.code) ? `${text} (${cause.code})` : text;
  return withCode.slice(0, MAX_ERROR);
}
