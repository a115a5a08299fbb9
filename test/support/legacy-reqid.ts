// Request ids as Crumb minted them before their first character changed (issue 12.6): the time
// field was the milliseconds alone, so every id began with '-'. A copy of that minting, byte for
// byte, so that tests can put such ids in a store and check they still verify, sort and list.
import { webCryptoMac } from '../../server/reqid.js';

const ALPHABET = '-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz';

export async function legacyReqid(secret: string, ms: number, random = crypto.getRandomValues(new Uint8Array(9))): Promise<string> {
  const bytes = new Uint8Array(24);
  let t = Math.floor(ms);
  for (let i = 5; i >= 0; i--) {
    bytes[i] = t % 256;
    t = Math.floor(t / 256);
  }
  bytes.set(random, 6);
  bytes.set((await webCryptoMac(secret)(bytes.subarray(0, 15))).subarray(0, 9), 15);
  let out = '';
  for (let i = 0; i < 24; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
  }
  return out;
}
