// The background job that keeps the report rollups current (store/report-sql.ts): every second it
// folds the clicks past the watermark into the rollups, a window of 15 minutes at a time and a
// chunk of its clicks per transaction (FOLD_CHUNK), for at most `budgetMs` of a turn, and stops
// `lagMs` short of the database's clock, so that a click committed a little after its own time
// (group commit, another instance) is never left behind a watermark that passed it. Reports read the raw clicks after the watermark: they are exact
// however far behind this job is. It adds nothing to the click path: clicks are written as before.
import type { Store } from '../store/types.js';

export interface FoldOptions {
  /** How far behind the database's clock the watermark stays (default 5 minutes). */
  lagMs?: number;
  /** Most click time in one window (default 15 minutes); its clicks are folded FOLD_CHUNK per transaction. */
  windowMs?: number;
  intervalMs?: number;
  /** Most time one turn keeps folding windows (default 50 ms). */
  budgetMs?: number;
  onError?: (error: unknown) => void;
}

export interface FoldJob {
  start(): void;
  stop(): Promise<void>;
  /** Folds until the watermark is `lagMs` behind the clock (tests, the seed tool). */
  catchUp(): Promise<void>;
}

export function foldJob(store: Store, options: FoldOptions = {}): FoldJob {
  const lag = options.lagMs ?? 5 * 60_000;
  const window = options.windowMs ?? 15 * 60_000;
  const interval = options.intervalMs ?? 1000;
  const budget = options.budgetMs ?? 50;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = true;

  const turn = async (limit: number) => {
    const until = (await store.clock()) - lag;
    const started = Date.now();
    while (Date.now() - started < limit) {
      if ((await store.foldReports(until, window)) === null) break;
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = turn(budget)
        .catch((error: unknown) => (options.onError ?? ((e) => console.error('folding the report rollups failed:', e)))(error))
        .finally(schedule);
    }, interval);
    (timer as { unref?: () => void }).unref?.();
  };
  return {
    start() {
      if (!stopped) return;
      stopped = false;
      schedule();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
    catchUp: () => turn(Number.POSITIVE_INFINITY),
  };
}
