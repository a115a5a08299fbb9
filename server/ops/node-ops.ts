// What the Node entry gives the app for operations: pino's log, prom-client's metrics, and the store
// observed by both (so every commit is counted and every postback given up is logged).
import type { Store } from '../store/types.js';
import type { OpsOptions } from './index.js';
import { deliveryLog, type Log } from './logging.js';
import { createMetrics, type NodeMetrics } from './metrics.js';
import { observeStore } from './observe.js';

export interface NodeOps {
  /** The store to hand to the app and the dispatcher. */
  store: Store;
  ops: OpsOptions & { log: Log; metrics: NodeMetrics };
}

export function nodeOps(options: { store: Store; log: Log; stopping?: () => boolean; processMetrics?: boolean }): NodeOps {
  // Scrape-time figures read the store itself: a scrape is not a write.
  const metrics = createMetrics({ store: options.store, processMetrics: options.processMetrics });
  return {
    store: observeStore(options.store, metrics.storeObserver, deliveryLog(options.log)),
    ops: { log: options.log, metrics, stopping: options.stopping },
  };
}
