// Who is asking: an API key, looked up by its hash in the network snapshot (the store keeps only
// hashes). Roles and what each may see are PROTOCOL.md section 10.
import type { ApiKey, Network } from './network.js';

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
  return network.keys.get(await sha256Hex(given)) ?? null;
}

/** What the change log and the API name a key by: never the key. */
export function keySource(key: ApiKey): string {
  return `key ${key.key_id}`;
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
