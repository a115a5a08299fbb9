// Request ids (PROTOCOL.md section 1): 24 bytes written as 32 characters.
//   6 bytes  milliseconds since the epoch, big-endian: ids sort by time, so the store's index appends
//   9 bytes  random: unguessable
//   9 bytes  HMAC-SHA256(secret, first 15 bytes), truncated: forged or mistyped ids fail without a lookup
// The 64 characters are base64's in ASCII order, so the text sorts exactly as the bytes do. 24 bytes
// are 32 characters with no padding bits: every character counts, and any changed one breaks the MAC.

const ALPHABET = '-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz';
const DECODE = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

export const REQID_LENGTH = 32;
const TIME_BYTES = 6;
const BODY_BYTES = 15;
const TAG_BYTES = 9;

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

export function reqids(mac: Mac): Reqids {
  return {
    async mint(now) {
      const bytes = new Uint8Array(BODY_BYTES + TAG_BYTES);
      let t = Math.floor(now);
      for (let i = TIME_BYTES - 1; i >= 0; i--) {
        bytes[i] = t % 256;
        t = Math.floor(t / 256);
      }
      fillRandom(bytes.subarray(TIME_BYTES, BODY_BYTES));
      bytes.set((await mac(bytes.subarray(0, BODY_BYTES))).subarray(0, TAG_BYTES), BODY_BYTES);
      return encode(bytes);
    },
    async verify(reqid) {
      if (typeof reqid !== 'string' || reqid.length !== REQID_LENGTH) return null;
      const bytes = decode(reqid);
      if (!bytes) return null;
      const tag = await mac(bytes.subarray(0, BODY_BYTES));
      let diff = 0;
      for (let i = 0; i < TAG_BYTES; i++) diff |= tag[i]! ^ bytes[BODY_BYTES + i]!;
      return diff === 0 ? reqidTime(bytes) : null;
    },
  };
}

/** The smallest reqid string minted at or after `ms`: a time bound for range scans over reqids. */
export function reqidFloor(ms: number): string {
  const bytes = new Uint8Array(BODY_BYTES + TAG_BYTES);
  let t = Math.max(0, Math.floor(ms));
  for (let i = TIME_BYTES - 1; i >= 0; i--) {
    bytes[i] = t % 256;
    t = Math.floor(t / 256);
  }
  return encode(bytes);
}

function reqidTime(bytes: Uint8Array): number {
  let t = 0;
  for (let i = 0; i < TIME_BYTES; i++) t = t * 256 + bytes[i]!;
  return t;
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
