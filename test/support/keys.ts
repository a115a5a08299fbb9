// Scoped API keys for the route tests: one made through api_keys.json with the network's admin key,
// and a v2 API call with any key, as a client sends it.
import type { TestApp } from './app.js';
import { API_KEY, HOST } from './network.js';

export interface Answer {
  status: number;
  body: any;
}

/** A v2 API call on the in-process app: GET and DELETE carry the parameters in the query, POST
 * and PUT as a JSON body. */
export async function call(t: TestApp, method: string, path: string, key: string, params: Record<string, string | number> = {}): Promise<Answer> {
  const all = { api_key: key, ...params };
  const query = new URLSearchParams(Object.entries(all).map(([k, v]) => [k, String(v)]));
  const inQuery = method === 'GET' || method === 'DELETE';
  const res = await t.app.request(`http://${HOST}/api/2/${path}${inQuery ? `?${query}` : ''}`, {
    method,
    headers: { host: HOST, ...(inQuery ? {} : { 'content-type': 'application/json' }) },
    body: inQuery ? undefined : JSON.stringify(all),
  });
  return { status: res.status, body: await res.json() };
}

/** A new key of `role` for the advertiser or affiliate `id`, made with the admin key. */
export async function createKey(t: TestApp, role: 'admin' | 'advertiser' | 'affiliate', id?: number, label?: string): Promise<string> {
  const params: Record<string, string | number> = { role };
  if (role === 'advertiser') params.advertiser_id = id!;
  if (role === 'affiliate') params.affiliate_id = id!;
  if (label) params.label = label;
  const made = await call(t, 'POST', 'api_keys.json', API_KEY, params);
  if (made.status !== 200) throw new Error(`api_keys.json answered ${made.status}: ${JSON.stringify(made.body)}`);
  return made.body.api_key.key as string;
}
