// The network every request reads: an immutable snapshot of the store's network, replaced whole
// when the store's version moves. An instance that makes a change applies it before answering;
// every other instance on the same database polls the version (one row) and reads the changes
// since its own, so a change is live everywhere within a poll interval.
//
// Why polling a version rather than LISTEN/NOTIFY: it works on every store (a SQLite file, one
// PostgreSQL database, D1), a dropped connection cannot lose a notification, and one indexed read
// of one row every half second is nothing beside the traffic. The hot paths never touch the store
// for the network: they read `current`.
import { buildNetwork, type Network } from '../network.js';
import type { Store } from '../store/types.js';
import { applyWrites, stateFromRows } from './state.js';

export interface LiveNetwork {
  /** The snapshot to read, whole: read it once per request. */
  readonly current: Network;
  /** Settles once `current` is the store's (at once, unless opened from a file in the
   * background, as tests do); rejects when the store could not be brought in line. */
  readonly ready: Promise<void>;
  /** Brings `current` up to the store's version; resolves with it. */
  refresh(): Promise<Network>;
  /** Polls the store's version every `pollMs` (default 500). */
  start(pollMs?: number): void;
  stop(): void;
}

/** More changes than this since our version: read the whole network instead. */
const RELOAD_AFTER = 2000;

export function liveNetwork(
  store: Store,
  initial: Network,
  options: { ready?: Promise<Network>; onError?: (error: unknown) => void } = {},
): LiveNetwork {
  let current = initial;
  let refreshing: Promise<Network> | null = null;
  let timer: ReturnType<typeof setInterval> | undefined;
  const onError = options.onError ?? ((error: unknown) => console.error('network refresh failed:', error));
  const ready = options.ready ? options.ready.then((network) => void (current = network)) : Promise.resolve();
  // A rejected `ready` is answered by whoever awaits it (readiness, the API); no unhandled rejection.
  ready.catch(() => {});

  async function catchUp(): Promise<Network> {
    await ready;
    const version = await store.networkVersion();
    if (version === current.version) return current;
    const changes = version - current.version > RELOAD_AFTER ? null : await store.networkChanges(current.version, version);
    if (changes === null || changes.length > RELOAD_AFTER) {
      const rows = await store.loadNetwork();
      const state = stateFromRows(rows);
      if (state) current = buildNetwork(state, rows.version);
      return current;
    }
    const writes = changes.map((c) => ({ entity: c.entity as never, id: Number(c.entity_id), after: c.after }));
    current = buildNetwork(applyWrites(current.state, writes), version);
    return current;
  }

  const live: LiveNetwork = {
    get current() {
      return current;
    },
    ready,
    refresh() {
      // One at a time; a caller arriving meanwhile waits for the one in flight, then looks again
      // (its change may have committed after that one read the version).
      const run = (refreshing ?? Promise.resolve(current)).catch(() => current).then(catchUp);
      const mine = run.finally(() => {
        if (refreshing === mine) refreshing = null;
      });
      refreshing = mine;
      return mine;
    },
    start(pollMs = 500) {
      if (timer) return;
      timer = setInterval(() => live.refresh().catch(onError), pollMs);
      (timer as { unref?: () => void }).unref?.();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
  return live;
}
