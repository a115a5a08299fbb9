// The network's state as the store keeps it, and changes to it: reading the store's rows into a
// checked state, and applying writes (a change being checked, or changes other instances made)
// to a copy of a state. One function applies writes for both, so what an instance checks is what
// every instance ends up with.
import { checkNetwork, ENTITIES, ENTITY_KINDS, settingsSchema, type ApiKey, type EntityKind, type NetworkState, type Problem } from '../network.js';
import type { ApiKeyRecord, NetworkRows, NetworkWrite } from '../store/types.js';

/** The store's rows as a state, every entity checked against its schema again (so that a field
 * added since it was written takes its default). Null when the store holds no network yet. */
export function stateFromRows(rows: NetworkRows): NetworkState | null {
  if (rows.settings === null) return null;
  const state = emptyState(parseSettings(rows.settings));
  for (const kind of ENTITY_KINDS) {
    const map = state[kind] as Map<number, unknown>;
    for (const row of rows.entities[kind]) {
      const entity = parse(kind, row) as unknown as Record<string, number>;
      map.set(entity[ENTITIES[kind].key]!, entity);
    }
  }
  for (const key of rows.api_keys) state.keys.set(key.key_hash, key as ApiKey);
  return state;
}

export function emptyState(settings: NetworkState['settings']): NetworkState {
  return {
    settings,
    advertisers: new Map(),
    affiliates: new Map(),
    offers: new Map(),
    creatives: new Map(),
    campaigns: new Map(),
    tracking_domains: new Map(),
    keys: new Map(),
  };
}

/** A copy of `state` with the writes applied (each `after` checked against its schema); the maps
 * a write touches are copied, the rest shared. */
export function applyWrites(state: NetworkState, writes: Pick<NetworkWrite, 'entity' | 'id' | 'after'>[]): NetworkState {
  const next: NetworkState = { ...state };
  const copied = new Set<string>();
  const own = <K extends EntityKind | 'keys'>(kind: K): NetworkState[K] => {
    if (!copied.has(kind)) {
      copied.add(kind);
      (next as unknown as Record<string, unknown>)[kind] = new Map(state[kind] as Map<unknown, unknown>);
    }
    return next[kind];
  };
  for (const w of writes) {
    if (w.entity === 'network') {
      next.settings = parseSettings(w.after);
    } else if (w.entity === 'api_keys') {
      const keys = own('keys');
      for (const [hash, key] of keys) if (key.key_id === w.id) keys.delete(hash);
      if (w.after !== null) {
        const key = w.after as ApiKeyRecord;
        keys.set(key.key_hash, key as ApiKey);
      }
    } else {
      const map = own(w.entity) as Map<number, unknown>;
      if (w.after === null) map.delete(w.id);
      else map.set(w.id, parse(w.entity, w.after));
    }
  }
  return next;
}

/** The problems the writes would bring: those of the changed network not there before (a
 * stored network normally has none, so the network before is checked only when there are some). */
export function newProblems(state: NetworkState, writes: NetworkWrite[]): Problem[] {
  const after = checkNetwork(applyWrites(state, writes));
  if (!after.length) return after;
  const before = new Set(checkNetwork(state).map((p) => JSON.stringify(p)));
  return after.filter((p) => !before.has(JSON.stringify(p)));
}

function parseSettings(value: unknown): NetworkState['settings'] {
  const result = settingsSchema.safeParse(value);
  if (!result.success) throw stale('network settings', result.error, value);
  return result.data;
}

function parse(kind: EntityKind, value: unknown) {
  const result = ENTITIES[kind].schema.safeParse(value);
  if (!result.success) throw stale(kind, result.error, value);
  return result.data;
}

function stale(what: string, error: { issues: { message: string }[] }, value: unknown): Error {
  return new Error(`The stored ${what} do not match this version of Crumb (${error.issues[0]?.message}): ${JSON.stringify(value).slice(0, 200)}`);
}
