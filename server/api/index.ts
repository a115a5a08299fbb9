// The v2 JSON API (PROTOCOL.md 7): every call takes api_key (query, form or JSON body) and answers
// { request_status: "Success", ... } or { request_status: "Failure", message, errors? } with a 4xx.
import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppDeps } from '../app.js';
import { authenticate, outOfScope, permit } from '../auth.js';
import { SESSION_COOKIE, sessionKey } from '../console/session.js';
import { limitBody, readCookie } from '../http.js';
import { yieldLoop } from '../slices.js';
import type { ApiKey } from '../network.js';
import { readParams, type Params } from '../params.js';
import type { Scope } from '../store/types.js';
import { clickApi } from './clicks.js';
import { erasureApi, leadApi } from './leads.js';
import { conversionApi } from './conversions.js';
import { postbackApi } from './postbacks.js';
import { networkApi } from './network.js';
import { keyApi } from './keys.js';
import { reportApi } from './reports.js';

/** What the middleware hands every handler: the parameters, the calling key, and the rows it may
 * see (its scope, for the store's queries). */
export type ApiEnv = { Variables: { params: Params; key: ApiKey; scope: Scope } };
export type Api = Hono<ApiEnv>;

export const MAX_API_BODY = 64 * 1024;
/** A whole network file posted to network.json: 10,000s of offers and campaigns. */
export const MAX_IMPORT_BODY = 64 * 1024 * 1024;

export function apiRoutes(deps: AppDeps): Api {
  const api: Api = new Hono<ApiEnv>();
  const limit = (max: number) =>
    limitBody(max, (c) => {
      // The rest of the body is not read, so this connection cannot carry another request.
      c.header('Connection', 'close');
      throw new HTTPException(413, { message: `Request body too large: at most ${max} bytes` });
    });
  const small = limit(MAX_API_BODY);
  const large = limit(MAX_IMPORT_BODY);
  api.use('*', (c, next) => (c.req.path.endsWith('/network.json') && c.req.method === 'POST' ? large(c, next) : small(c, next)));
  api.use('*', async (c, next) => {
    const params = await readParams(c, { nested: 'skip' });
    const given = params.api_key;
    // Without api_key, the console's session cookie (with its CSRF header) stands for the key.
    if (!given && !readCookie(c, SESSION_COOKIE)) throw new HTTPException(401, { message: 'api_key is required: pass your API key as the api_key parameter' });
    await deps.live.ready.catch(() => {
      throw new HTTPException(503, { message: 'The network is not loaded yet: retry in a moment' });
    });
    const key = given ? await authenticate(deps.network, given) : await sessionKey(c, deps.sessions, deps.network, deps.clock());
    if (!key) {
      throw new HTTPException(401, { message: 'api_key is not a valid API key for this network: use an admin key of the network file, or a key created with api_keys.json' });
    }
    deps.keyUses.note(key, deps.clock());
    // What the key may call (auth.ts): a 403 naming its scope before any handler runs.
    c.set('scope', permit(key, c.req.method, c.req.path.replace(/^\/api\/2/, '')));
    c.set('params', params);
    c.set('key', key);
    await next();
  });
  clickApi(api, deps);
  leadApi(api, deps);
  erasureApi(api, deps);
  conversionApi(api, deps);
  postbackApi(api, deps);
  networkApi(api, deps);
  keyApi(api, deps);
  reportApi(api, deps);
  return api;
}

export function success(c: Context, body: Record<string, unknown>): Response {
  return c.json({ request_status: 'Success', ...body });
}

/** Rows per slice of a streamed list: a slice is well under a millisecond of work. */
const ROWS_PER_SLICE = 500;
const PLACE = '\u0000rows\u0000';

/** A success whose list (a page of up to 10,000 rows) is shaped, serialized and sent a slice at a
 * time, the event loop free between slices: a page of megabytes never holds the loop that answers
 * clicks for more than a slice. `body` puts the list where it goes; the JSON is success's. */
export function successList<T>(c: Context, body: (list: unknown) => Record<string, unknown>, rows: readonly T[], json: (row: T) => unknown): Response {
  if (rows.length <= ROWS_PER_SLICE) return success(c, body(rows.map(json)));
  const [head, tail] = JSON.stringify({ request_status: 'Success', ...body(PLACE) }).split(JSON.stringify(PLACE)) as [string, string];
  const encoder = new TextEncoder();
  let at = 0;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (at > 0) await yieldLoop();
      const slice = JSON.stringify(rows.slice(at, at + ROWS_PER_SLICE).map(json)).slice(1, -1);
      controller.enqueue(encoder.encode(`${at === 0 ? `${head}[` : ','}${slice}`));
      at += ROWS_PER_SLICE;
      if (at >= rows.length) {
        controller.enqueue(encoder.encode(`]${tail}`));
        controller.close();
      }
    },
  });
  return c.body(stream, 200, { 'Content-Type': 'application/json' });
}


/** The calling key, when it is an admin key; else a 403 naming the key's scope. (The middleware
 * has refused scoped keys already for every call auth.ts does not open to them.) */
export function requireAdmin(c: Context<ApiEnv>): ApiKey {
  const key = c.get('key');
  if (key.role !== 'admin') throw outOfScope(key, 'This call needs an admin key');
  return key;
}
