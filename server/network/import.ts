// The network file as an import (PROTOCOL.md 9): `--config FILE` at start, and POST
// /api/2/network.json. A file is applied when its content differs from the last file applied (so
// a restart with the same file does not undo changes made through the API, and an edited file
// does apply), as an upsert of what it names: entities it names are written as the file has them,
// settings it names are merged, nothing it omits is removed. Its `api_keys` are the network's
// admin keys: keys of an earlier file that this one no longer lists are revoked.
import { sha256Hex } from '../auth.js';
import {
  buildNetwork,
  ENTITIES,
  ENTITY_KINDS,
  NetworkError,
  parseNetworkFile,
  type ApiKey,
  type Network,
  type NetworkFile,
  type NetworkState,
  type ParsedFile,
  type Problem,
} from '../network.js';
import type { NetworkWrite, Store } from '../store/types.js';
import { liveNetwork, type LiveNetwork } from './live.js';
import { emptyState, newProblems, stateFromRows } from './state.js';

export interface FileSource {
  /** The file's text, exactly as read. */
  text: string;
  /** Who applies it, for the change log: `file network.json`, or `demo`. */
  source: string;
}

/** Reads and checks a network file's text; throws NetworkError (one line per problem). */
export function parseFileText(text: string, options: { alone?: boolean } = {}): ParsedFile {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    throw new NetworkError([`the file is not valid JSON: ${(error as Error).message}`]);
  }
  return parseNetworkFile(input, options);
}

/** The network of the store, after applying `file` when it is new. Throws NetworkError for a
 * file that does not fit the stored network, Error when there is no network to serve. */
export async function syncNetwork(store: Store, file?: FileSource, now: () => number = Date.now): Promise<Network> {
  const parsed = file ? parseFileText(file.text, { alone: false }) : null;
  const hash = file ? await sha256Hex(file.text) : null;
  const keyHashes = parsed ? await Promise.all(parsed.api_keys.map(sha256Hex)) : [];
  for (let attempt = 0; attempt < 8; attempt++) {
    const rows = await store.loadNetwork();
    const state = stateFromRows(rows);
    if (parsed && file && rows.file_hash !== hash) {
      const writes = fileWrites(state, parsed, keyHashes, now());
      // Another instance applying the same file at once: the later one finds the version moved,
      // reads again, and finds the file applied.
      await store.writeNetwork(rows.version, writes, { source: file.source, at: now(), file_hash: hash! });
      continue;
    }
    if (!state) throw new Error('The database holds no network yet: start with --config FILE (the network file) to load one');
    if (![...state.keys.values()].some((k) => k.role === 'admin' && k.revoked_at === null)) {
      throw new Error('The network has no admin API key: list one in the network file\'s "api_keys" and start with --config FILE');
    }
    return buildNetwork(state, rows.version);
  }
  throw new Error('The network kept changing while the file was applied: start again');
}

/** The network of the store after `file`, as a live network. */
export async function openNetwork(store: Store, file?: FileSource): Promise<LiveNetwork> {
  return liveNetwork(store, await syncNetwork(store, file));
}

/** A live network that answers from the file at once while the file is applied to the store in
 * the background (`ready`): for tests, which build apps synchronously. */
export function openNetworkFromFile(store: Store, file: NetworkFile, source = 'file test'): LiveNetwork {
  const text = JSON.stringify(file);
  const initial = buildNetwork(parseFileText(text).state, 0);
  return liveNetwork(store, initial, { ready: syncNetwork(store, { text, source }) });
}

/** The writes that bring `current` (null: an empty store) in line with a file. Throws
 * NetworkError when the result would not hold together. */
export function fileWrites(current: NetworkState | null, file: ParsedFile, keyHashes: string[], now: number): NetworkWrite[] {
  // Into an empty store the file must hold together on its own (its problems are named by their
  // place in the file); into a stored network, the network it makes must.
  if (!current && file.ownProblems.length) throw new NetworkError(file.ownProblems);
  const base = current ?? emptyState(file.state.settings);
  const writes: NetworkWrite[] = [];
  const settings = current ? { ...current.settings, ...pick(file.state.settings, file.namedSettings) } : file.state.settings;
  if (!current || !same(settings, current.settings)) writes.push({ entity: 'network', id: 1, before: current?.settings ?? null, after: settings });
  for (const kind of ENTITY_KINDS) {
    const stored = base[kind] as Map<number, unknown>;
    for (const [id, entity] of file.state[kind] as Map<number, unknown>) {
      const before = stored.get(id) ?? null;
      if (!before || !same(before, entity)) writes.push({ entity: kind, id, before, after: entity });
    }
  }
  writes.push(...keyWrites(base, keyHashes, now));
  if (current) {
    const problems = newProblems(current, writes);
    if (problems.length) throw new NetworkError(problems.map(problemLine));
  }
  return writes;
}

/** The file's keys as admin keys: new ones added, an earlier file's keys it no longer lists
 * revoked. A key revoked through the API stays revoked. */
function keyWrites(state: NetworkState, keyHashes: string[], now: number): NetworkWrite[] {
  const writes: NetworkWrite[] = [];
  let next = Math.max(0, ...[...state.keys.values()].map((k) => k.key_id)) + 1;
  const listed = new Set(keyHashes);
  for (const hash of listed) {
    if (state.keys.has(hash)) continue;
    const key: ApiKey = { key_id: next++, key_hash: hash, role: 'admin', advertiser_id: null, affiliate_id: null, label: 'network file', source: 'file', created_at: now, revoked_at: null };
    writes.push({ entity: 'api_keys', id: key.key_id, before: null, after: key });
  }
  for (const key of state.keys.values()) {
    if (key.source === 'file' && key.revoked_at === null && !listed.has(key.key_hash)) {
      writes.push({ entity: 'api_keys', id: key.key_id, before: key, after: { ...key, revoked_at: now } });
    }
  }
  return writes;
}

/** "campaigns (campaign_id 3870) affiliate_id: affiliate 998 is not in affiliates" */
function problemLine(p: Problem): string {
  if (p.entity === 'network') return `network ${p.field}: ${p.message}`;
  return `${p.entity}${p.id === null ? '' : ` (${ENTITIES[p.entity].key} ${p.id})`} ${p.field}: ${p.message}`;
}

function pick<T extends object>(value: T, keys: (keyof T)[]): Partial<T> {
  return Object.fromEntries(keys.filter((k) => k in value).map((k) => [k, value[k]])) as Partial<T>;
}

/** Same content, whatever the order of keys. */
function same(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : 1))) : v,
  );
}
