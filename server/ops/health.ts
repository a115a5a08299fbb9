// GET /healthz (the process serves) and GET /readyz (it can do its work: the store answers and the
// network is loaded; not while shutting down). Public and cheap, for a load balancer every second.
import { Hono } from 'hono';
import type { AppDeps } from '../app.js';
import { NO_STORE } from '../http.js';
import { errorRecord, type Log } from './logging.js';

export interface HealthOptions {
  /** True once the server is shutting down: /readyz answers 503 so that balancers stop sending. */
  stopping?: () => boolean;
  /** How long the store has to answer /readyz. */
  timeoutMs?: number;
  log: Log;
}

const TEXT = { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': NO_STORE };

export function healthRoutes(deps: Pick<AppDeps, 'store' | 'network'>, options: HealthOptions) {
  const app = new Hono();
  const check = readiness(deps, options);
  app.get('/healthz', () => new Response('ok\n', { headers: TEXT }));
  app.get('/readyz', async () => {
    const reason = await check();
    return reason ? new Response(`not ready: ${reason}\n`, { status: 503, headers: TEXT }) : new Response('ready\n', { headers: TEXT });
  });
  return app;
}

/** Answers why the server is not ready, or undefined when it is. The reason is said in general
 * terms (the answer is public); the store's own error goes to the log, once per outage. */
export function readiness(deps: Pick<AppDeps, 'store' | 'network'>, options: HealthOptions): () => Promise<string | undefined> {
  const timeoutMs = options.timeoutMs ?? 2000;
  let failing: string | undefined;
  return async () => {
    if (options.stopping?.()) return 'shutting down';
    try {
      const network = deps.network;
      if (!network || !network.tracking_domains.length) return 'the network is not loaded';
    } catch {
      return 'the network is not loaded';
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        deps.store.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (error) {
      const record = errorRecord(error);
      if (failing !== record.message) options.log.warn({ err: record }, `readiness: the store did not answer: ${record.message}`);
      failing = record.message;
      return 'the store does not answer';
    } finally {
      clearTimeout(timer);
    }
    if (failing !== undefined) options.log.info({}, 'readiness: the store answers again');
    failing = undefined;
    return undefined;
  };
}
