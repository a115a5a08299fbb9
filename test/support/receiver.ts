// A real HTTP server on 127.0.0.1 (random port) standing in for an affiliate's postback endpoint.
// It records every request; it can be told which statuses to answer next (500, then 200), to
// hang without answering (timeouts), or to be down (nothing listening on its port).
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  /** Path and query, as sent. */
  url: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
}

export interface Receiver {
  /** http://127.0.0.1:PORT */
  readonly base: string;
  readonly requests: Received[];
  /** The statuses of the next answers, in order; after them, 200. */
  answer(...statuses: number[]): void;
  /** While on, requests are recorded and never answered. */
  hang(on: boolean): void;
  /** Stops listening: connections are refused until up(). */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  /** Resolves with the requests once there are at least `count` (bounded wait). */
  waitFor(count: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const requests: Received[] = [];
  let statuses: number[] = [];
  let hanging = false;
  const waiting = new Set<ServerResponse>();

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
    });
    req.resume();
    if (hanging) {
      waiting.add(res);
      res.on('close', () => waiting.delete(res));
      return;
    }
    const status = statuses.shift() ?? 200;
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(status < 300 ? 'ok' : 'error');
  });

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const stopListening = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    });

  const port = await listen(0);
  return {
    base: `http://127.0.0.1:${port}`,
    requests,
    answer(...next) {
      statuses = next;
    },
    hang(on) {
      hanging = on;
    },
    down: stopListening,
    async up() {
      await listen(port);
    },
    waitFor: (count, timeoutMs = 10_000) => eventually(() => (requests.length >= count ? requests : undefined), timeoutMs, `${count} requests at the receiver`),
    close: stopListening,
  };
}

/** Polls `check` until it answers something other than undefined or false, for at most
 * `timeoutMs`. A bounded wait for an event, not a timing assertion. */
export async function eventually<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000, what = 'the condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`gave up waiting for ${what} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
