// The retention job (PROTOCOL.md 12): removes what the network's `retention_days` no longer keeps,
// in small batches (the store's `retain`), one after another with a pause between them, so that the
// clicks, leads and pixels queued behind a batch wait for one batch at most, never for a purge.
// Node runs it on a timer (`start`/`stop`); Workers run `run()` from the Cron trigger, within a
// bounded number of batches per invocation. Web-standard only.
import type { Network } from '../network.js';
import { RETENTION_KINDS, type RetentionKind, type Store } from '../store/types.js';

const DAY = 86_400_000;

export interface RetentionOptions {
  store: Store;
  network: () => Network;
  clock?: () => number;
  /** Rows per batch (default 500: a few milliseconds of the writer). */
  batch?: number;
  /** Pause between two batches, in ms (default 20): the hot paths' writes go in between. */
  pauseMs?: number;
  /** Most batches of one kind in one run (default: no bound; Workers bound it). */
  maxBatches?: number;
  /** How often the timer runs (Node; default 10 minutes). */
  everyMs?: number;
  onError?: (error: unknown) => void;
  /** Told what each pass removed (Node logs the passes that removed something). */
  onRun?: (run: RetentionRun) => void;
}

export interface RetentionRun {
  /** Rows removed or stripped per kind. */
  removed: Record<RetentionKind, number>;
  /** Signed-out console sessions whose cookie has expired, removed (whatever retention_days says:
   * they are of no use once the cookie is). */
  ended_sessions: number;
  /** True when a kind stopped at maxBatches with more left. */
  more: boolean;
}

export interface Retention {
  /** One pass over every kind the network limits. Runs never overlap: a second call while one runs
   * answers that one. */
  run(): Promise<RetentionRun>;
  start(): void;
  /** Stops the timer and waits for the batch in progress (before the store closes). */
  stop(): Promise<void>;
}

/** The cutoff of each kind: rows older than this many days before `now` go. */
export function cutoffs(network: Network, now: number): Partial<Record<RetentionKind, number>> {
  const days = network.state.settings.retention_days;
  const out: Partial<Record<RetentionKind, number>> = {};
  for (const kind of RETENTION_KINDS) {
    const n = days[kind];
    if (n !== null) out[kind] = now - n * DAY;
  }
  return out;
}

export function createRetention(options: RetentionOptions): Retention {
  const { store } = options;
  const clock = options.clock ?? Date.now;
  const batch = options.batch ?? 500;
  const pauseMs = options.pauseMs ?? 20;
  const maxBatches = options.maxBatches ?? Infinity;
  let running: Promise<RetentionRun> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const pause = () => (pauseMs > 0 ? new Promise((resolve) => setTimeout(resolve, pauseMs)) : Promise.resolve());

  async function pass(): Promise<RetentionRun> {
    const removed: Record<RetentionKind, number> = { clicks: 0, delivery_attempts: 0, lead_fields: 0 };
    let ended_sessions = 0;
    let more = false;
    const now = clock();
    const limits = cutoffs(options.network(), now);
    for (const kind of RETENTION_KINDS) {
      const before = limits[kind];
      if (before === undefined) continue;
      for (let i = 0; ; i++) {
        if (stopped) return { removed, ended_sessions, more: true };
        if (i >= maxBatches) {
          more = true;
          break;
        }
        const n = await store.retain(kind, before, batch);
        removed[kind] += n;
        if (n < batch) break;
        await pause();
      }
    }
    for (let i = 0; ; i++) {
      if (stopped) return { removed, ended_sessions, more: true };
      if (i >= maxBatches) {
        more = true;
        break;
      }
      const n = await store.pruneEndedSessions(now, batch);
      ended_sessions += n;
      if (n < batch) break;
      await pause();
    }
    return { removed, ended_sessions, more };
  }

  const retention: Retention = {
    run() {
      running ??= pass()
        .then((done) => {
          options.onRun?.(done);
          return done;
        })
        .finally(() => (running = undefined));
      return running;
    },
    start() {
      stopped = false;
      const every = options.everyMs ?? 10 * 60_000;
      const tick = () => {
        retention.run().then(
          () => {},
          (error: unknown) => options.onError?.(error),
        ).finally(() => {
          if (!stopped) timer = setTimeout(tick, every);
          (timer as { unref?: () => void } | undefined)?.unref?.();
        });
      };
      // The first pass shortly after start, not in the middle of it.
      timer = setTimeout(tick, Math.min(every, 5_000));
      (timer as { unref?: () => void }).unref?.();
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await running?.catch(() => {});
    },
  };
  return retention;
}
