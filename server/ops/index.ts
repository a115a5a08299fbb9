// Operations (PROTOCOL.md 12): health, metrics and the request log, mounted on the app by one call.
// Web-standard like the rest of the app: the Node entry passes in what needs Node (pino's log,
// prom-client's metrics); without them the log is the console and there is no /metrics.
import type { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { authenticate } from '../auth.js';
import type { AppDeps } from '../app.js';
import { NO_STORE, sameText } from '../http.js';
import { healthRoutes } from './health.js';
import { consoleLog, type Log } from './logging.js';
import { observeRequests, type RequestObserver } from './requests.js';

export interface RequestMetrics {
  /** One answered request: the route that answered, its status, and how long it took. */
  request(route: string, status: number, seconds: number): void;
}

export interface AppMetrics extends RequestMetrics {
  /** The Prometheus text exposition, store figures read now. */
  expose(): Promise<{ contentType: string; body: string }>;
}

export interface OpsOptions {
  /** Where request lines and errors go (default: JSON lines on the console, warnings and errors only). */
  log?: Log;
  /** Counts requests and serves GET /metrics; without it there is no /metrics. */
  metrics?: AppMetrics;
  /** True once the server is shutting down (/readyz answers 503). */
  stopping?: () => boolean;
  /** How long the store has to answer /readyz (default 2 s). */
  readyTimeoutMs?: number;
}

/** Mounts the ops routes, and the request log and metrics around the app's fetch. The app's error
 * path reports what it answers to the observer it returns. */
export function mountOps(app: Hono, deps: AppDeps, options: OpsOptions = {}): RequestObserver {
  const log = options.log ?? consoleLog();
  const observer = observeRequests(app, log, options.metrics);
  app.use('/healthz', secureHeaders());
  app.use('/readyz', secureHeaders());
  app.route('/', healthRoutes(deps, { log, stopping: options.stopping, timeoutMs: options.readyTimeoutMs }));
  if (options.metrics) mountMetrics(app, deps, options.metrics);
  return observer;
}

function mountMetrics(app: Hono, deps: AppDeps, metrics: AppMetrics) {
  app.use('/metrics', secureHeaders());
  app.get('/metrics', async (c) => {
    // A scraper sends its credential as a bearer token (Prometheus `authorization`) or as api_key
    // (Prometheus `params`): an admin API key or the network's metrics token.
    const header = c.req.header('authorization');
    const given = (header && /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1]) || c.req.query('api_key');
    if (!given) return unauthorized('/metrics needs a credential: an admin API key or network.metrics_token, as "Authorization: Bearer KEY" or ?api_key=KEY');
    // The network's keys are the store's once it is loaded.
    await deps.live.ready.catch(() => {});
    const key = await authenticate(deps.network, given);
    const token = deps.network.metrics_token !== null && sameText(given, deps.network.metrics_token!);
    if (key?.role !== 'admin' && !token) return unauthorized('/metrics: that is neither an admin API key nor the network.metrics_token of this network');
    const { contentType, body } = await metrics.expose();
    return new Response(body, { headers: { 'Content-Type': contentType, 'Cache-Control': NO_STORE } });
  });
}

function unauthorized(message: string): Response {
  return new Response(`${message}\n`, {
    status: 401,
    headers: { 'WWW-Authenticate': 'Bearer realm="crumb metrics"', 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': NO_STORE },
  });
}
