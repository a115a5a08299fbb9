// Several server processes (the built Node entry) on one database, as a load balancer would see them:
// the same network file, the same --db. Started at the same moment, so that their migrations race
// (the advisory lock must sort that out), and stopped by process id.
//
// Used by test/multi/ and test/reliability/storms.test.ts; usable by any test that needs two
// instances on one PostgreSQL schema (pair it with describePostgres from ./pg.ts).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NetworkFile } from '../../server/network.js';
import { startServer, type ServerProcess } from './process.js';

/** Writes a network file into a fresh temporary directory; answers its path. */
export function writeNetworkFile(file: NetworkFile): string {
  const path = join(mkdtempSync(join(tmpdir(), 'crumb-network-')), 'network.json');
  writeFileSync(path, JSON.stringify(file));
  return path;
}

/** How long `check` takes to hold, polling every 25 ms; throws after `limitMs`. */
export async function within(limitMs: number, check: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > limitMs) throw new Error(`not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return Date.now() - start;
}

export interface Instances {
  readonly servers: ServerProcess[];
  /** The base URLs (http://127.0.0.1:PORT), one per instance, in start order. */
  readonly urls: string[];
  /** The instance for the i-th request of a spread: round robin over all of them. */
  at(i: number): string;
  /** SIGTERM every instance at once and wait for each to exit: requests in flight finish, postback
   * attempts in flight finish and are logged, the store is closed. Answers the exit codes; one that
   * has not exited within `timeoutMs` is killed (SIGKILL) and answers null. */
  stop(timeoutMs?: number): Promise<(number | null)[]>;
  /** SIGKILL whatever is still running (the fallback for afterEach/afterAll). */
  kill(): Promise<void>;
}

/** Starts `count` instances of the built entry on 127.0.0.1 with one network file and one --db.
 * If one fails to start, the others are killed and the error is thrown. */
export async function startInstances(count: number, options: { config: string; db: string; args?: string[] }): Promise<Instances> {
  const args = ['--config', options.config, '--db', options.db, ...(options.args ?? [])];
  const started = await Promise.allSettled(Array.from({ length: count }, () => startServer(args, { timeoutMs: 30_000 })));
  const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(servers.map((s) => s.stop('SIGKILL')));
    throw failed.reason;
  }
  const urls = servers.map((s) => s.url);
  return {
    servers,
    urls,
    at: (i) => urls[i % urls.length]!,
    stop: (timeoutMs = 20_000) =>
      Promise.all(
        servers.map(async (s) => {
          const timer = setTimeout(() => s.proc.kill('SIGKILL'), timeoutMs);
          try {
            return await s.stop('SIGTERM');
          } finally {
            clearTimeout(timer);
          }
        }),
      ),
    kill: async () => {
      await Promise.all(servers.map((s) => s.stop('SIGKILL')));
    },
  };
}

// ---- talking to an instance over HTTP (what a browser, a lead router or an advertiser sends) -------

/** Clicks a tracking link on `base` (not following the redirect); answers the reqid its 302 carries. */
export async function clickAt(base: string, affiliate: number, creative: number, s1: string): Promise<string> {
  const res = await fetch(`${base}/?a=${affiliate}&c=${creative}&s1=${encodeURIComponent(s1)}`, { redirect: 'manual' });
  await res.arrayBuffer();
  const location = res.headers.get('location') ?? '';
  const reqid = /[?&](?:reqid|r)=([\w-]+)/.exec(location)?.[1];
  if (res.status !== 302 || !reqid) throw new Error(`the click was not taken: ${res.status} ${location}`);
  return reqid;
}

export interface Answer<T = any> {
  status: number;
  body: T;
  text: string;
}

/** A v2 API call on `base` (GET with a query string, or POST form-encoded); the body parsed as
 * JSON when it is JSON. Never throws for an HTTP status: the caller looks at it. */
export async function callApi(
  base: string,
  path: string,
  params: Record<string, string | number>,
  method: 'GET' | 'POST' = 'GET',
): Promise<Answer> {
  const query = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString();
  const res =
    method === 'GET'
      ? await fetch(`${base}/api/2/${path}?${query}`)
      : await fetch(`${base}/api/2/${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: query });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: the caller sees `text`
  }
  return { status: res.status, body, text };
}

/** A form-encoded lead post to `base`/d.ashx; answers the raw response (read it with xmlAnswer). */
export function postLead(base: string, fields: Record<string, string | number>): Promise<Response> {
  return fetch(`${base}/d.ashx`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(Object.entries(fields).map(([k, v]) => [k, String(v)])).toString(),
  });
}

/** YYYY-MM-DD, `days` from today (UTC): report windows that hold whatever this run recorded. */
export function day(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

export interface BurstRequest {
  base: string;
  method: 'GET' | 'POST';
  /** Path and query. */
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface BurstAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** Sends every request at the same moment. A plain Promise.all of fetches spreads a storm over the
 * time its connections take to open, so the first copy is often committed before the last one
 * arrives; here a keep-alive connection per request is opened (and used once) beforehand, then
 * every request is written in the same turn of the event loop. Each request is bounded by
 * `timeoutMs`; a request that fails answers status 0 with the error as text. */
export async function burst(requests: BurstRequest[], timeoutMs = 60_000): Promise<BurstAnswer[]> {
  const agents = new Map<string, Agent>();
  for (const r of requests) if (!agents.has(r.base)) agents.set(r.base, new Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: Infinity, keepAliveMsecs: 10_000 }));
  const send = (r: BurstRequest): Promise<BurstAnswer> =>
    new Promise((resolve) => {
      const req = httpRequest(new URL(r.path, r.base), { method: r.method, headers: r.headers, agent: agents.get(r.base) }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
        res.on('error', (e) => resolve({ status: 0, headers: {}, text: String(e) }));
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (e) => resolve({ status: 0, headers: {}, text: String(e) }));
      req.end(r.body);
    });
  try {
    // As many idle connections to each instance as it will get requests: a cheap answer each.
    await Promise.all(requests.map((r) => send({ base: r.base, method: 'GET', path: '/api/2/tracking_domains.json' })));
    return await Promise.all(requests.map(send));
  } finally {
    for (const agent of agents.values()) agent.destroy();
  }
}
