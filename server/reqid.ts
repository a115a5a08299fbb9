// Request ids (PROTOCOL.md section 1): 24 bytes written as 32 characters.
//   6 bytes  milliseconds since the epoch plus 2^42, big-endian: ids sort by time, so the store's
//            index appends
//   9 bytes  random: unguessable
//   9 bytes  HMAC-SHA256(secret, first 15 bytes), truncated: forged or mistyped ids fail without a lookup
// The 64 characters are base64's in ASCII order, so the text sorts exactly as the bytes do. 24 bytes
// are 32 characters with no padding bits: every character counts, and any changed one breaks the MAC.
//
// The first character is the top 6 bits of the time field. Milliseconds alone leave them 0 until
// 2109, which is '-': spreadsheets read a leading '-' as a formula and command lines as an option.
// The 2^42 added sets them to 1, so ids begin with '0' (then '1' from 2109, and so on) and never
// with '-' or '_' before the year 6987, keeping their time order.
//
// Ids minted before that change (time field = milliseconds, so a leading '-') still verify: their
// time field is below 2^42, which no id of today's format has, so verify() reads either. All of
// them sort before every id of today's format; clickKeyRange() finds both kinds in a time range.

const ALPHABET = '-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz';
const DECODE = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

export const REQID_LENGTH = 32;
const TIME_BYTES = 6;
const BODY_BYTES = 15;
const TAG_BYTES = 9;
/** Added to the milliseconds: the first character is never '-' (see above). */
const TIME_MARK = 2 ** 42;

/** A keyed MAC of `data`. The core uses Web Crypto; the Node entry injects a synchronous one. */
export type Mac = (data: Uint8Array) => Uint8Array | Promise<Uint8Array>;

export function webCryptoMac(secret: string): Mac {
  const key = crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  return async (data) => new Uint8Array(await crypto.subtle.sign('HMAC', await key, data as Uint8Array<ArrayBuffer>));
}

// Each getRandomValues call costs about as much as the rest of minting an id, so ids draw from a
// pooled buffer of the same CSPRNG's output; no byte is handed out twice.
const pool = new Uint8Array(4096);
let poolAt = pool.length;

/** Fills `target` with random bytes. */
function fillRandom(target: Uint8Array): Uint8Array {
  if (poolAt + target.length > pool.length) {
    crypto.getRandomValues(pool);
    poolAt = 0;
  }
  target.set(pool.subarray(poolAt, (poolAt += target.length)));
  return target;
}

/** A new secret for a database that has none: 33 random bytes (264 bits; the text encoding takes
 * whole groups of 3), as 44 characters. */
export function generateSecret(): string {
  return encode(crypto.getRandomValues(new Uint8Array(33)));
}

export interface Reqids {
  mint(now: number): Promise<string>;
  /** The time the id was minted, or null when it is not one of ours (malformed or forged). */
  verify(reqid: string): Promise<number | null>;
}

/** Ids minted with `mac`, verified with it or any of `others` (keys being rotated out, tried in
 * order after it: a forged id costs one MAC per key). */
export function reqids(mac: Mac, others: Mac[] = []): Reqids {
  const verifiers = [mac, ...others];
  return {
    async mint(now) {
      const bytes = new Uint8Array(BODY_BYTES + TAG_BYTES);
      writeTime(bytes, TIME_MARK + Math.floor(now));
      fillRandom(bytes.subarray(TIME_BYTES, BODY_BYTES));
      bytes.set((await mac(bytes.subarray(0, BODY_BYTES))).subarray(0, TAG_BYTES), BODY_BYTES);
      return encode(bytes);
    },
    async verify(reqid) {
      if (typeof reqid !== 'string' || reqid.length !== REQID_LENGTH) return null;
      const bytes = decode(reqid);
      if (!bytes) return null;
      for (const verifier of verifiers) {
        const tag = await verifier(bytes.subarray(0, BODY_BYTES));
        let diff = 0;
        for (let i = 0; i < TAG_BYTES; i++) diff |= tag[i]! ^ bytes[BODY_BYTES + i]!;
        if (diff === 0) return reqidTime(bytes);
      }
      return null;
    },
  };
}

/** A request-id key of the network's rotation list (settings `reqid_keys`). `base` has no secret
 * of its own: it is the key kept outside the list (reqid_secret, CRUMB_REQID_SECRET, the store's). */
export interface ReqidKey {
  key_id: string;
  secret?: string;
  status: 'current' | 'retired';
}

/** The reqids of whatever key list the network holds now (key rotation, PROTOCOL.md 12): without
 * a list, the base key alone; with one, the current key mints and every listed key verifies. Built
 * once per list (the snapshot's list is replaced whole by a change, so a new list is a new array),
 * so the click path pays one comparison. Every instance reads the list from its live snapshot:
 * a rotation reaches them all as any network change does, without a restart. */
export function keyring(base: Mac, macFor: (secret: string) => Mac): (keys: readonly ReqidKey[] | undefined) => Reqids {
  const baseOnly = reqids(base);
  let list: readonly ReqidKey[] | undefined;
  let built = baseOnly;
  const macs = new Map<string, Mac>();
  const macOf = (key: ReqidKey) => {
    if (key.key_id === 'base' || key.secret === undefined) return base;
    let mac = macs.get(key.secret);
    if (!mac) macs.set(key.secret, (mac = macFor(key.secret)));
    return mac;
  };
  return (keys) => {
    if (!keys?.length) return baseOnly;
    if (keys !== list) {
      const current = keys.find((k) => k.status === 'current') ?? keys[0]!;
      built = reqids(macOf(current), keys.filter((k) => k !== current).map(macOf));
      list = keys;
    }
    return built;
  };
}

/** The smallest reqid string minted at or after `ms`: a time bound for range scans over reqids. */
export function reqidFloor(ms: number): string {
  return floor(TIME_MARK + Math.max(0, Math.floor(ms)));
}

/** The same bound for the ids minted before the first character changed (a leading '-'). */
export function legacyReqidFloor(ms: number): string {
  return floor(Math.min(TIME_MARK, Math.max(0, Math.floor(ms))));
}

/** Every legacy id sorts before this, every id of today's format at or after it. */
const LEGACY_END = floor(TIME_MARK);

/** A key range of reqids (`lo` inclusive, `hi` exclusive; undefined: open). */
export interface KeyRange {
  lo?: string;
  hi?: string;
}

/** The one key range that holds every click minted in [from, to), of both id formats, for a
 * store's range scan (the caller also filters on click_time, which makes it exact). `any(lo, hi)`
 * answers whether the store holds a reqid in [lo, hi): one index probe each, at most two. A store
 * without legacy ids in the range gets exactly the range of today's format, and one holding only
 * legacy ids there the legacy range: the scan stays as tight as before. */
export async function clickKeyRange(
  from: number | undefined,
  to: number | undefined,
  any: (lo: string, hi: string) => Promise<boolean>,
): Promise<KeyRange> {
  const range: KeyRange = {};
  if (from !== undefined) range.lo = (await any(legacyReqidFloor(from), LEGACY_END)) ? legacyReqidFloor(from) : reqidFloor(from);
  if (to !== undefined) range.hi = (await any(LEGACY_END, reqidFloor(to))) ? reqidFloor(to) : legacyReqidFloor(to);
  return range;
}

function floor(t: number): string {
  const bytes = new Uint8Array(BODY_BYTES + TAG_BYTES);
  writeTime(bytes, t);
  return encode(bytes);
}

function writeTime(bytes: Uint8Array, time: number) {
  let t = time;
  for (let i = TIME_BYTES - 1; i >= 0; i--) {
    bytes[i] = t % 256;
    t = Math.floor(t / 256);
  }
}

/** The milliseconds of an id of either format. */
function reqidTime(bytes: Uint8Array): number {
  let t = 0;
  for (let i = 0; i < TIME_BYTES; i++) t = t * 256 + bytes[i]!;
  return t >= TIME_MARK ? t - TIME_MARK : t;
}

/** Base64 over the ordered alphabet; `bytes.length` must be a multiple of 3. */
function encode(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
  }
  return out;
}

function decode(text: string): Uint8Array | null {
  const bytes = new Uint8Array((text.length / 4) * 3);
  for (let i = 0, j = 0; i < text.length; i += 4, j += 3) {
    let n = 0;
    for (let k = 0; k < 4; k++) {
      const code = text.charCodeAt(i + k);
      const v = code < 128 ? DECODE[code]! : -1;
      if (v < 0) return null;
      n = (n << 6) | v;
    }
    bytes[j] = n >> 16;
    bytes[j + 1] = (n >> 8) & 255;
    bytes[j + 2] = n & 255;
  }
  return bytes;
}
