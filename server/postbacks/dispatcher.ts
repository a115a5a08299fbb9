// The postback dispatcher: delivers the outbox (server-to-server affiliate postbacks, written by
// the store in the same transaction as their conversion) to the affiliates' servers.
//
// - At least once: a delivery is leased while it is attempted (store.claimDeliveries, on the
//   database's clock), so several dispatchers, in one process or many, never attempt the same one
//   at once; a lease that runs out without an outcome (a crash, a kill) makes it due again.
//   Affiliates may see a postback twice in that case, never zero times.
// - Fenced: every claim raises the delivery's lease token, and an outcome is written only by the
//   attempt holding the latest one (store.finishAttempt). An attempt that outlived its lease (a
//   stalled process) cannot flip a delivery another dispatcher has since delivered; its log line
//   says its outcome was not applied.
// - Fair: at most `perHost` attempts in flight per host, so one slow or hanging affiliate server
//   cannot take every slot; the claim skips hosts at their limit.
// - Only where the rules allow (postbacks/address.ts): each URL, and each redirect hop, is
//   checked before it is requested; the injected fetch checks the address it connects to (the
//   Node entry's nodeSend does). A redirect is followed only to a public address (or a private
//   one the network allows), at most 3 hops.
// - Retries until the server answers 2xx: the first within seconds, then backing off
//   exponentially to hours, up to a number of attempts; then the delivery is `failed`.
// - Every attempt is logged (time, status code, latency, a short error class; never the body nor
//   an address) with its outcome, in one transaction, readable at /api/2/postback_deliveries.json.
// - Nobody waits on it: recording a conversion only wakes it (AppOptions.onDeliveries).
// - Runtime-agnostic: web fetch, AbortController and timers only. A long-lived process (node.ts)
//   starts it and stops it before closing the store; a runtime without one (worker.ts: a Worker's
//   waitUntil after a conversion, and its Cron trigger) calls drain() instead, with the same claims,
//   attempts, backoff and log.
import type { DeliveryRow, Store } from '../store/types.js';
import { checkUrl, DEFAULT_TARGETS, RefusedTarget, type PostbackTargets } from './address.js';

const SECOND = 1000;
const HOUR = 3_600_000;

export interface DispatcherOptions {
  store: Store;
  /** The HTTP client (the runtime's fetch by default; the Node entry gives nodeSend, which checks
   * the address it connects to). Called with redirect: 'manual': redirects are followed here. */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** The network's rules for postback targets, read at every attempt (private addresses refused,
   * ports 80 and 443, by default). */
  targets?: () => PostbackTargets;
  /** Milliseconds since the epoch, for the attempt times in the log (Date.now by default); due
   * times and leases are the database's. */
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
  /** Attempts in flight at once to one host (a quarter of `concurrency` by default). */
  perHost?: number;
  /** How often to look for deliveries falling due (retries, other instances' leases). */
  pollMs?: number;
  /** How long stop() lets attempts in flight finish before it interrupts them. */
  stopGraceMs?: number;
  /** Tests (test()) in flight at once; past it test() refuses with TestsBusy. They are outside
   * the claims' per-host limit, so this bounds what a key calling the test in a loop can open. */
  maxTests?: number;
  /** Where unexpected errors (the store failing) are reported. */
  onError?: (error: unknown) => void;
  /** Told of an attempt whose outcome was not applied: it outlived its lease. */
  onLeaseLost?: (delivery: DeliveryRow) => void;
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
  /** Sends `url` once, exactly as an attempt would (the same rules, sender, redirects and
   * timeout), and answers its outcome. No store row, no retry, nothing logged: the API's "send
   * test" (api/postbacks.ts). Needs no start(). */
  test(url: string): Promise<TestOutcome>;
}

/** One request's outcome, as the attempt log shows it. */
export interface TestOutcome {
  /** 2xx, with no error. */
  delivered: boolean;
  status_code: number | null;
  latency_ms: number;
  /** The short error class (errorClass), or null. */
  error: string | null;
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
/** Redirect hops followed, each checked like the first URL. */
export const MAX_REDIRECTS = 3;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { store } = options;
  const send = options.fetch ?? ((url: string, init: RequestInit) => fetch(url, init));
  const targets = options.targets ?? (() => DEFAULT_TARGETS);
  const clock = options.clock ?? Date.now;
  const retryDelay = options.retryDelay ?? defaultRetryDelay;
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const timeoutMs = options.timeoutMs ?? 10 * SECOND;
  const leaseMs = Math.max(options.leaseMs ?? timeoutMs + 30 * SECOND, timeoutMs + SECOND);
  const concurrency = options.concurrency ?? 32;
  const perHost = Math.max(1, options.perHost ?? Math.ceil(concurrency / 4));
  const pollMs = options.pollMs ?? SECOND;
  const stopGraceMs = options.stopGraceMs ?? 5 * SECOND;
  const maxTests = options.maxTests ?? 4;
  let tests = 0;
  const onError = options.onError ?? ((error: unknown) => console.error('postback dispatcher:', error));
  const onLeaseLost =
    options.onLeaseLost ??
    ((d: DeliveryRow) => console.warn(`postback dispatcher: delivery ${d.delivery_id} outlived its lease; its outcome was logged, not applied`));

  let running = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pumping: Promise<void> | undefined;
  let busy = false;
  let again = false;
  const inFlight = new Set<Promise<void>>();
  const controllers = new Set<AbortController>();
  /** Attempts in flight per host. */
  const perHostBusy = new Map<string, number>();
  const fullHosts = () => [...perHostBusy.values()].filter((n) => n >= perHost).length;

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
            const full = fullHosts();
            const due = await store.claimDeliveries({ limit: room, lease_ms: leaseMs, per_host: perHost, busy: Object.fromEntries(perHostBusy) });
            for (const delivery of due) track(delivery);
            // Fewer than asked: nothing more is due, unless a host just reached its limit (the
            // claim left its other deliveries, and the next one skips that host).
            if (!due.length || (due.length < room && fullHosts() === full)) break;
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

  function track(delivery: DeliveryRow) {
    perHostBusy.set(delivery.host, (perHostBusy.get(delivery.host) ?? 0) + 1);
    const job = attempt(delivery);
    inFlight.add(job);
    void job.finally(() => {
      inFlight.delete(job);
      const left = perHostBusy.get(delivery.host)! - 1;
      if (left) perHostBusy.set(delivery.host, left);
      else perHostBusy.delete(delivery.host);
      // A slot is free: take the next due delivery without waiting for the poll.
      if (running) schedule(0);
    });
  }

  /** One request of `url` under the timeout, as the log records it; never throws. */
  async function once(url: string): Promise<TestOutcome & { interrupted: boolean }> {
    const controller = new AbortController();
    controllers.add(controller);
    let timedOut = false;
    const timeout = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const started = performance.now();
    let status_code: number | null = null;
    let error: string | null = null;
    let interrupted = false;
    try {
      status_code = await deliver(url, controller.signal);
    } catch (e) {
      interrupted = !timedOut && controller.signal.aborted;
      error = timedOut ? 'timeout' : interrupted ? 'interrupted: the dispatcher stopped' : errorClass(e);
      if (e instanceof DeliveryError) status_code = e.status;
    } finally {
      clearTimeout(timeout);
      controllers.delete(controller);
    }
    const latency_ms = Math.round(performance.now() - started);
    const delivered = error === null && status_code !== null && status_code >= 200 && status_code < 300;
    return { delivered, status_code, latency_ms, error, interrupted };
  }

  /** One attempt of a delivery, its outcome logged and applied; never throws. */
  async function attempt(delivery: DeliveryRow): Promise<void> {
    const attempted_at = clock();
    const { delivered, status_code, latency_ms, error, interrupted } = await once(delivery.url);
    const attempts = delivery.attempts + 1;
    try {
      const applied = await store.finishAttempt(
        { delivery_id: delivery.delivery_id, attempted_at, status_code, latency_ms, error },
        delivery.lease,
        delivered
          ? { delivered: true }
          : // Interrupted by a shutdown: due again at once, for whichever dispatcher runs next, and
            // never the attempt that gives up (the affiliate's server did not answer at all).
            { delivered: false, retry_in_ms: interrupted ? 0 : attempts >= maxAttempts ? null : retryDelay(attempts) },
      );
      if (!applied) onLeaseLost(delivery);
    } catch (e) {
      // Not logged: the lease runs out and the delivery is attempted again.
      onError(e);
    }
  }

  /** Requests `url`, following redirects (each hop checked by the rules, and by `send` where it
   * connects); answers the final status. */
  async function deliver(url: string, signal: AbortSignal): Promise<number> {
    let current = url;
    let redirectStatus = 0;
    for (let hop = 0; ; hop++) {
      let res: Response;
      try {
        checkUrl(current, targets());
        res = await send(current, { method: 'GET', headers: { 'User-Agent': USER_AGENT }, redirect: 'manual', signal });
      } catch (e) {
        // A hop the rules refuse: the redirect is what is refused, and the log says no more.
        if (hop > 0 && e instanceof RefusedTarget) throw new DeliveryError('redirect refused', redirectStatus);
        throw e;
      }
      await res.body?.cancel().catch(() => {});
      const location = REDIRECTS.has(res.status) ? res.headers.get('location') : null;
      if (location === null) return res.status;
      if (hop === MAX_REDIRECTS) throw new DeliveryError('too many redirects', res.status);
      redirectStatus = res.status;
      try {
        current = new URL(location, current).href;
      } catch {
        throw new DeliveryError('redirect refused', res.status);
      }
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
        // One batch at a time, so the per-host limit is the claim's alone.
        const due = await store.claimDeliveries({ limit: room, lease_ms: leaseMs, per_host: perHost });
        await Promise.all(due.map(attempt));
        attempted += due.length;
        // Fewer than asked may only be the per-host limit: stop when nothing at all was due.
        if (!due.length) break;
      }
      return attempted;
    },
    async test(url) {
      if (tests >= maxTests) throw new TestsBusy(maxTests);
      tests++;
      try {
        const { interrupted: _, ...outcome } = await once(url);
        return outcome;
      } finally {
        tests--;
      }
    },
  };
}

/** test() while `maxTests` tests are in flight already. */
export class TestsBusy extends Error {
  constructor(readonly max: number) {
    super(`${max} postback tests are being sent already: send this one once one of them has answered`);
  }
}

/** An attempt that got an answer and still failed: a refused or endless redirect. */
class DeliveryError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** The delivery log's short error class: what went wrong, never the body, an address or a host
 * (the log is readable through the API, and a postback URL may point inside). */
export function errorClass(error: unknown): string {
  if (error instanceof DeliveryError) return error.message;
  if (error instanceof RefusedTarget) return `refused: ${error.refusal}`;
  const e = error as { code?: unknown; cause?: { code?: unknown } } | null;
  const code = String(e?.code ?? e?.cause?.code ?? '');
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CLOSED') return 'connection reset';
  if (code === 'ETIMEDOUT' || code === 'ETIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT') return 'timeout';
  if (['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_NODATA', 'EAI_FAIL', 'ENODATA', 'ESERVFAIL', 'ENOTIMP', 'EREFUSED'].includes(code)) return 'dns';
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EADDRNOTAVAIL') return 'unreachable';
  if (/^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|EPROTO$)/.test(code)) return 'tls';
  if (code.startsWith('HPE_') || code === 'UND_ERR_INFO' || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') return 'bad response';
  return 'network error';
}
