// Who is asking and what they may do (PROTOCOL.md section 10): an API key, looked up by its hash in
// the network snapshot (the store keeps only hashes); what each role may call; the rows it may see
// (its Scope, which every store query takes and turns into a condition of its WHERE clause); the
// fields of an answer it never sees. Every route of the v2 API asks here, none decides by itself.
import { HTTPException } from 'hono/http-exception';
import type { ApiKey, Network, Role } from './network.js';
import type { Scope, Store } from './store/types.js';

/** The hex SHA-256 of a text: how a key is kept and looked up, and a network file's identity. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  let hex = '';
  for (const byte of digest) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/** The key behind `given`, or null. A lookup of its hash: no comparison of the key itself, so
 * the time taken tells nothing about how close a guess was. */
export async function authenticate(network: Network, given: string | undefined): Promise<ApiKey | null> {
  if (!given || given.length > 200) return null;
  let hash = knownHashes.get(given);
  if (hash === undefined) {
    hash = await sha256Hex(given);
    if (!network.keys.has(hash)) return null;
    if (knownHashes.size >= KNOWN_HASHES) knownHashes.clear();
    knownHashes.set(given, hash);
  }
  return network.keys.get(hash) ?? null;
}

// WebCrypto's digest runs on a thread pool, about 20 µs of every conversion.json call
// (bench/RESULTS.md, profile finding 9), so the hashes of keys that were valid are kept. Only
// those: a wrong guess is hashed every time and never fills the map. The snapshot is still asked
// on every call, so a revoked key stops at once. A hit is a map lookup of a string that V8 finds
// by its hash: it tells nothing about keys that are not held.
const KNOWN_HASHES = 1024;
const knownHashes = new Map<string, string>();

/** What the change log and the API name a key by: never the key. */
export function keySource(key: ApiKey): string {
  return `key ${key.key_id}`;
}

// ---- what each role may do ------------------------------------------------------------------------

export const ACTIONS = [
  'clicks.read',
  'leads.read',
  'conversions.read',
  'conversion.record',
  'conversion.status',
  'campaigns.read',
  'postbacks.read',
  'postbacks.write',
  'deliveries.read',
  'tracking_domains.read',
  'reports.read',
  /** Erasing a person's data (PROTOCOL.md 12): admin keys only. */
  'leads.erase',
  /** Everything else: the network's entities, its settings, the change log, API keys. */
  'network.manage',
] as const;
export type Action = (typeof ACTIONS)[number];

/** Section 10's table. An advertiser records and reads its offers' conversions, reads their clicks
 * and leads (personal fields included: they are its customers); an affiliate reads its own clicks,
 * conversions and campaigns, and manages its own postbacks. */
const GRANTS: Record<Role, ReadonlySet<Action>> = {
  admin: new Set(ACTIONS),
  advertiser: new Set(['conversion.record', 'conversion.status', 'clicks.read', 'leads.read', 'conversions.read', 'tracking_domains.read', 'reports.read']),
  affiliate: new Set(['clicks.read', 'conversions.read', 'campaigns.read', 'postbacks.read', 'postbacks.write', 'deliveries.read', 'tracking_domains.read', 'reports.read']),
};

/** What each call of the v2 API needs (method and path under /api/2). A call not listed here
 * needs `network.manage`, an admin key: a new route is closed to scoped keys until it is listed. */
const CALLS: Record<string, Action> = {
  'GET /click.json': 'clicks.read',
  'GET /leads.json': 'leads.read',
  'DELETE /lead.json': 'leads.erase',
  'GET /conversion.json': 'conversion.record',
  'POST /conversion.json': 'conversion.record',
  'PUT /conversion.json': 'conversion.status',
  'GET /conversions.json': 'conversions.read',
  'GET /campaigns.json': 'campaigns.read',
  'GET /affiliate_postback.json': 'postbacks.read',
  'POST /affiliate_postback.json': 'postbacks.write',
  'PUT /affiliate_postback.json': 'postbacks.write',
  'DELETE /affiliate_postback.json': 'postbacks.write',
  'POST /affiliate_postback_test.json': 'postbacks.write',
  'GET /postback_deliveries.json': 'deliveries.read',
  'GET /tracking_domains.json': 'tracking_domains.read',
  'GET /reports/summary.json': 'reports.read',
};

/** The action a call needs. HEAD is GET's. */
export function actionOf(method: string, path: string): Action {
  return CALLS[`${method === 'HEAD' ? 'GET' : method} ${path}`] ?? 'network.manage';
}

/** The roles whose keys may make a call (the API reference lists them). */
export function rolesFor(method: string, path: string): Role[] {
  const action = actionOf(method, path);
  return (Object.keys(GRANTS) as Role[]).filter((r) => GRANTS[r].has(action));
}

export function may(key: ApiKey, action: Action): boolean {
  return GRANTS[key.role].has(action);
}

/** The rows a key may see: the whole network for an admin key. */
export function scopeOf(key: ApiKey): Scope {
  if (key.role === 'advertiser') return { advertiser_id: key.advertiser_id! };
  if (key.role === 'affiliate') return { affiliate_id: key.affiliate_id! };
  return {};
}

/** "affiliate 67890", "advertiser 5", "the whole network". */
export function describeScope(key: Pick<ApiKey, 'role' | 'advertiser_id' | 'affiliate_id'>): string {
  if (key.role === 'advertiser') return `advertiser ${key.advertiser_id}`;
  if (key.role === 'affiliate') return `affiliate ${key.affiliate_id}`;
  return 'the whole network';
}

/** A 403 naming the key's scope. */
export function outOfScope(key: ApiKey, what: string): HTTPException {
  return new HTTPException(403, { message: `${what}: this key is scoped to ${describeScope(key)}` });
}

/** The key's scope for a call, or a 403 naming the roles that may make it and this key's scope. */
export function permit(key: ApiKey, method: string, path: string): Scope {
  const action = actionOf(method, path);
  if (!may(key, action)) {
    const roles = (Object.keys(GRANTS) as Role[]).filter((r) => GRANTS[r].has(action));
    const who = roles.length === 1 ? `an ${roles[0]} key` : `an ${roles.slice(0, -1).join(', ')} or ${roles.at(-1)} key`;
    throw outOfScope(key, `${method} /api/2${path} needs ${who}`);
  }
  return scopeOf(key);
}

/** The filters a call was asked for, as far as they bear on scope. */
export interface Asked {
  affiliate_id?: number;
  advertiser_id?: number;
  offer_id?: number;
}

/** Refuses (403) filters that reach outside the key's scope: another affiliate's id for an
 * affiliate key; another advertiser, or another advertiser's offer, for an advertiser key. A
 * filter inside the scope narrows it; the store applies the scope whatever the filters say. */
export function checkAsked(key: ApiKey, network: Network, asked: Asked): void {
  if (key.role === 'affiliate' && asked.affiliate_id !== undefined && asked.affiliate_id !== key.affiliate_id) {
    throw outOfScope(key, `affiliate_id ${asked.affiliate_id} is outside this key's scope`);
  }
  if (key.role === 'advertiser') {
    if (asked.advertiser_id !== undefined && asked.advertiser_id !== key.advertiser_id) {
      throw outOfScope(key, `advertiser_id ${asked.advertiser_id} is outside this key's scope`);
    }
    const offer = asked.offer_id === undefined || asked.offer_id === 0 ? undefined : network.offers.get(asked.offer_id);
    if (offer && offer.advertiser_id !== key.advertiser_id) throw outOfScope(key, `offer_id ${asked.offer_id} is another advertiser's offer`);
  }
}

/** Entities every key may read: affiliates build their links with the tracking domains. */
const NETWORK_WIDE = new Set<string>(['tracking_domains']);

/** Whether an entity of the network (a campaign, an offer, …) is inside the scope: its own
 * affiliate_id for an affiliate key; its advertiser_id, or its offer's, for an advertiser key. */
export function entityInScope(network: Network, kind: string, entity: object, scope: Scope): boolean {
  if (NETWORK_WIDE.has(kind)) return true;
  const e = entity as { affiliate_id?: number; advertiser_id?: number; offer_id?: number };
  if (scope.affiliate_id !== undefined && e.affiliate_id !== scope.affiliate_id) return false;
  if (scope.advertiser_id !== undefined) {
    const advertiser = e.advertiser_id ?? (e.offer_id === undefined ? undefined : network.offers.get(e.offer_id)?.advertiser_id);
    if (advertiser !== scope.advertiser_id) return false;
  }
  return true;
}

/** Fields the key's role may not set and the key fixes instead: an affiliate's postbacks are its own. */
export function forced(key: ApiKey): { affiliate_id?: number } {
  return key.role === 'affiliate' ? { affiliate_id: key.affiliate_id! } : {};
}

/** Answers (and sort fields) a role never sees: an affiliate is shown its payout, never the
 * network's revenue nor the advertiser's sale amount, custom fields or customer's address. */
const HIDDEN: Record<Role, { conversion: readonly string[] }> = {
  admin: { conversion: [] },
  advertiser: { conversion: [] },
  affiliate: { conversion: ['revenue', 'sale_amount', 'adv1', 'adv2', 'adv3', 'adv4', 'adv5', 'ip_address'] },
};

/** `row` without the fields the key's role does not see. */
export function shown<T extends Record<string, unknown>>(key: ApiKey, view: keyof (typeof HIDDEN)['admin'], row: T): Partial<T> {
  const hidden = HIDDEN[key.role][view];
  if (!hidden.length) return row;
  const out: Record<string, unknown> = {};
  for (const name in row) if (!hidden.includes(name)) out[name] = row[name];
  return out as Partial<T>;
}

/** Whether the key's role sees a field of a view (a sort by a field it cannot see is refused:
 * the order alone would tell it). */
export function sees(key: ApiKey, view: keyof (typeof HIDDEN)['admin'], field: string): boolean {
  return !HIDDEN[key.role][view].includes(field);
}

// ---- keys ------------------------------------------------------------------------------------------

/** Parameters that carry secrets: never written to a log line. */
export const SECRET_PARAMS = ['api_key', 'ckm_key'] as const;

/** A URL as a log line may show it: the values of secret parameters replaced. */
export function loggable(url: string): string {
  return url.replace(/([?&](?:api_key|ckm_key)=)[^&#]*/gi, '$1[redacted]');
}

/** How long a key's last use may go unwritten: `last_used_at` is kept to the minute. */
export const KEY_USE_PRECISION = 60_000;

export interface KeyUses {
  /** Notes a use of the key; writes it (off the request path) at most once a minute per key. */
  note(key: ApiKey, at: number): void;
  /** The latest use this instance saw, written or not yet. */
  seen(key_id: number): number | undefined;
}

/** Records keys' last use without a write per call: the first use of each minute is written to the
 * store in the background (not awaited: the call does not wait for it), and is no network change. */
export function keyUses(store: Store, onError: (error: unknown) => void = (e) => console.error('recording API key use failed:', e)): KeyUses {
  const written = new Map<number, number>();
  const latest = new Map<number, number>();
  return {
    note(key, at) {
      latest.set(key.key_id, at);
      const last = written.get(key.key_id);
      if (last !== undefined && at - last < KEY_USE_PRECISION) return;
      written.set(key.key_id, at);
      store.touchApiKey(key.key_id, at).catch(onError);
    },
    seen: (key_id) => latest.get(key_id),
  };
}

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A new random secret of `length` characters (62 symbols: about 5.95 bits each). */
export function randomSecret(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length * 2));
  let out = '';
  // Rejection sampling: bytes of 248 and above would make the first symbols likelier.
  for (const byte of bytes) {
    if (byte < 248 && out.length < length) out += KEY_ALPHABET[byte % 62];
  }
  return out.length === length ? out : out + randomSecret(length - out.length);
}
