// The console's session (server/ARCHITECTURE.md, "The console's session"): an API key exchanged for
// a signed cookie that names the key, and a CSRF token bound to that cookie. Nothing is written per
// sign-in: the cookie's MAC says it is ours and whose, and every request looks the key up in the
// current network snapshot, so a revoked key ends its sessions on every instance as soon as the
// snapshot has the revocation (the same 2 s as the key itself, PROTOCOL.md 10). Sign-out writes the
// session's id (the cookie's nonce) to the store's ended sessions, which every use of a cookie
// reads (one primary-key lookup, on the console's requests only): a copy of the cookie is refused
// at once on every instance of the database. Web Crypto only (Node and Workers alike).
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { isHttps, readCookie } from '../http.js';
import type { ApiKey, Network } from '../network.js';
import type { Store } from '../store/types.js';

export const SESSION_COOKIE = 'crumb_console';
/** The header every cookie-authenticated API call carries: a page of another site can neither
 * read the token nor send a custom header here without a CORS preflight, which Crumb refuses. */
export const CSRF_HEADER = 'x-crumb-csrf';
/** A session ends 12 hours after sign-in, whatever happens. */
export const SESSION_MS = 12 * 3600 * 1000;

export interface Session {
  key: ApiKey;
  /** The cookie's nonce: what sign-out records. */
  id: string;
  /** The token the console sends back in CSRF_HEADER. */
  csrf: string;
  expires: number;
}

export interface Sessions {
  /** A new session for this key: the cookie's value and its CSRF token. */
  issue(key: ApiKey, now: number): Promise<{ value: string; csrf: string; expires: number }>;
  /** The session a cookie's value is, on this network at this time, or null: forged, expired, or
   * its key revoked (or replaced by another with the same id), or signed out. */
  verify(network: Network, value: string | undefined, now: number): Promise<Session | null>;
  /** Ends a session everywhere: its cookie, and every copy of it, is refused from now on. */
  end(session: Session, now: number): Promise<void>;
}

const encoder = new TextEncoder();

function base64url(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The console's sessions, signed with a key derived from the server's secret (the reqid secret):
 * one secret to keep, and a session MAC can never be taken for a reqid MAC (another label). */
export function consoleSessions(secret: string, store: Pick<Store, 'endSession' | 'sessionEnded'>): Sessions {
  const key = crypto.subtle.importKey('raw', encoder.encode(`crumb console session v1\0${secret}`), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = async (text: string) => base64url(new Uint8Array(await crypto.subtle.sign('HMAC', await key, encoder.encode(text))));
  // The key's hash is in what is signed, not in the cookie: a key replaced under the same id (a
  // file re-imported with another key) does not inherit the sessions of the one it replaced.
  const signed = (apiKey: ApiKey, expires: string, nonce: string) => mac(`session.${apiKey.key_id}.${expires}.${nonce}.${apiKey.key_hash}`);
  const csrfOf = (value: string) => mac(`csrf.${value}`);

  return {
    async issue(apiKey, now) {
      const expires = now + SESSION_MS;
      const nonce = base64url(crypto.getRandomValues(new Uint8Array(12)));
      const head = `${apiKey.key_id}.${expires.toString(36)}.${nonce}`;
      const value = `${head}.${await signed(apiKey, expires.toString(36), nonce)}`;
      return { value, csrf: await csrfOf(value), expires };
    },
    async verify(network, value, now) {
      if (!value || value.length > 200) return null;
      const parts = value.split('.');
      if (parts.length !== 4) return null;
      const [id, expiresText, nonce, given] = parts as [string, string, string, string];
      const expires = parseInt(expiresText, 36);
      if (!Number.isFinite(expires) || expires <= now) return null;
      const apiKey = keyById(network, Number(id));
      if (!apiKey || apiKey.revoked_at !== null) return null;
      // Both MACs are compared as MACs of themselves under a fresh key, so the comparison's time
      // says nothing about how much of a forgery was right.
      const expected = await signed(apiKey, expiresText, nonce);
      if (!(await sameMac(expected, given))) return null;
      // Last, and only for a cookie of ours: a forged one costs no store read.
      if (await store.sessionEnded(nonce)) return null;
      return { key: apiKey, id: nonce, csrf: await csrfOf(value), expires };
    },
    async end(session, now) {
      await store.endSession(session.id, session.expires, now);
    },
  };
}

const byId = new WeakMap<Map<string, ApiKey>, Map<number, ApiKey>>();

/** The network's keys by id (its map is by hash), computed once per snapshot. */
function keyById(network: Network, id: number): ApiKey | undefined {
  let index = byId.get(network.keys);
  if (!index) {
    index = new Map([...network.keys.values()].map((k) => [k.key_id, k]));
    byId.set(network.keys, index);
  }
  return index.get(id);
}

/** Made on first use: Workers allow no random values in the global scope. */
let compareKey: ReturnType<typeof newCompareKey> | undefined;
const newCompareKey = () => crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);

/** Equal texts, compared in time that does not depend on where they differ. */
export async function sameMac(a: string, b: string): Promise<boolean> {
  const k = await (compareKey ??= newCompareKey());
  const [x, y] = await Promise.all([a, b].map((t) => crypto.subtle.sign('HMAC', k, encoder.encode(t))));
  const u = new Uint8Array(x!);
  const v = new Uint8Array(y!);
  let diff = 0;
  for (let i = 0; i < u.length; i++) diff |= u[i]! ^ v[i]!;
  return diff === 0;
}

/** `Set-Cookie` for a session: HttpOnly (no script reads it), SameSite=Strict (no other site's
 * page, link or form carries it here), Secure when the browser came over https. */
export function sessionCookie(c: Context, value: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${isHttps(c) ? '; Secure' : ''}`;
}

/** The API key a cookie-carrying API request signs in with, or null when it carries no session
 * cookie. A session without the CSRF header, or with a wrong one, is a 403: the request may be
 * another site's. */
export async function sessionKey(c: Context, sessions: Sessions, network: Network, now: number): Promise<ApiKey | null> {
  const value = readCookie(c, SESSION_COOKIE);
  if (!value) return null;
  const session = await sessions.verify(network, value, now);
  if (!session) {
    throw new HTTPException(401, { message: 'The console session has ended (signed out, expired, or its API key was revoked): sign in again at /console/' });
  }
  const token = c.req.header(CSRF_HEADER);
  if (!token || !(await sameMac(token, session.csrf))) {
    throw new HTTPException(403, { message: `A request with the console's session cookie needs its ${CSRF_HEADER} header: send the csrf token GET /console/session answers` });
  }
  return session.key;
}
