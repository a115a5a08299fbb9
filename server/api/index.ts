// The v2 JSON API (PROTOCOL.md 7): every call takes api_key (query, form or JSON body) and answers
// { request_status: "Success", ... } or { request_status: "Failure", message, errors? } with a 4xx.
import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppDeps } from '../app.js';
import { limitBody, sameText } from '../http.js';
import { readParams, type Params } from '../params.js';
import { clickApi } from './clicks.js';
import { leadApi } from './leads.js';
import { conversionApi } from './conversions.js';
import { postbackApi } from './postbacks.js';
import { trackingDomainApi } from './tracking-domains.js';

export type ApiEnv = { Variables: { params: Params } };
export type Api = Hono<ApiEnv>;

export const MAX_API_BODY = 64 * 1024;

export function apiRoutes(deps: AppDeps): Api {
  const api: Api = new Hono<ApiEnv>();
  api.use(
    '*',
    limitBody(MAX_API_BODY, (c) => {
      // The rest of the body is not read, so this connection cannot carry another request.
      c.header('Connection', 'close');
      throw new HTTPException(413, { message: `Request body too large: at most ${MAX_API_BODY} bytes` });
    }),
  );
  api.use('*', async (c, next) => {
    const params = await readParams(c);
    const key = params.api_key;
    if (!key) throw new HTTPException(401, { message: 'api_key is required: pass your API key as the api_key parameter' });
    if (!knownKey(deps.network.api_keys, key)) {
      throw new HTTPException(401, { message: 'api_key is not a valid API key for this network: use one of the api_keys in the network file' });
    }
    c.set('params', params);
    await next();
  });
  clickApi(api, deps);
  leadApi(api, deps);
  conversionApi(api, deps);
  postbackApi(api, deps);
  trackingDomainApi(api, deps);
  return api;
}

export function success(c: Context, body: Record<string, unknown>): Response {
  return c.json({ request_status: 'Success', ...body });
}

/** Compares against every key (no early exit), each in time that depends only on the key's length. */
export function knownKey(keys: string[], given: string): boolean {
  let found = false;
  for (const key of keys) found = sameText(given, key) || found;
  return found;
}
