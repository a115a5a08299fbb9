// The Cloudflare Workers entry: the same app (createApp) with what differs on the edge injected, as
// node.ts injects Node's. Bundled by `npm run build:worker` into dist/worker.js (rollup.config.mjs);
// deployed with server/worker/wrangler.jsonc (README, "Run on Cloudflare Workers").
//
// - Store: D1 (env.DB), migrated by `wrangler d1 migrations apply`.
// - reqid MAC: Web Crypto (createApp's default), keyed by the CRUMB_REQID_SECRET secret, else the
//   network file's reqid_secret, else one created once and kept in D1.
// - Client address: CF-Connecting-IP, which Cloudflare sets (a client cannot). Country: request.cf.
// - d.js: built by rollup first and bundled in as text.
// - Network: kept in D1 and managed through the API, as on Node. CRUMB_NETWORK (a network file as
//   JSON text, or a JSON value in wrangler.jsonc) is imported when its content is new, as
//   `--config` is. Each isolate looks for changes made elsewhere at most once a second, on a
//   request (Workers keep no timers between requests).
// - Postbacks: the outbox in D1 is delivered by the dispatcher's drain(): right after a request that
//   queued some (ctx.waitUntil, so the answer does not wait), and by the Cron trigger, which drains
//   what falls due later (retries) or what a lost isolate left.
// - Retention: the Cron trigger also runs the retention job, at most 20 batches of each kind a run.
import dJs from 'crumb:d.js';
import consoleCss from 'crumb:console.css';
import consoleJs from 'crumb:console.js';
import type { Context } from 'hono';
import { createApp } from './app.js';
import { NetworkError } from './network.js';
import { openNetwork, type FileSource } from './network/import.js';
import type { LiveNetwork } from './network/live.js';
import { targetsOf } from './postbacks/address.js';
import { createDispatcher, type Dispatcher } from './postbacks/dispatcher.js';
import { createRetention, type Retention } from './ops/retention.js';
import { generateSecret } from './reqid.js';
import { openD1Store, type D1Database } from './store/d1.js';

export interface Env {
  DB: D1Database;
  /** A network file to import: JSON text (a var, or a secret), or the JSON value itself (a var in
   * wrangler.jsonc). Without it, the network D1 holds. */
  CRUMB_NETWORK?: string | object;
  /** The reqid key, 32 characters or more (`wrangler secret put CRUMB_REQID_SECRET`). */
  CRUMB_REQID_SECRET?: string;
  /** Most postback attempts per invocation (a request's waitUntil, a cron run); default 16. */
  CRUMB_DELIVERIES_PER_RUN?: string;
}

/** The parts of the Workers runtime's handler arguments used here. */
interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}
type CfRequest = Request & { cf?: { country?: unknown } };

interface Crumb {
  app: ReturnType<typeof createApp>;
  live: LiveNetwork;
  /** When this isolate last looked for network changes. */
  checked: number;
  /** Counts requests that queued postbacks; a change across one request asks for a drain. */
  queued: number;
  deliver(): Promise<void>;
  /** The retention job, run by the Cron trigger (a bounded number of batches per run). */
  retention: Retention;
}

/** A misconfiguration (no network, bad network, missing migrations): answered 503 with the reason. */
class Unconfigured extends Error {}

// One app per isolate: bindings and vars do not change while an isolate lives (a deploy or a
// changed setting starts new ones). A failed start is retried by the next request.
let instance: Promise<Crumb> | undefined;

function crumbFor(env: Env): Promise<Crumb> {
  instance ??= start(env).catch((error: unknown) => {
    instance = undefined;
    throw error;
  });
  return instance;
}

async function start(env: Env): Promise<Crumb> {
  const file = networkFile(env.CRUMB_NETWORK);
  if (!env.DB) throw new Unconfigured('No D1 binding named DB: add it to wrangler.jsonc (d1_databases)');
  let store;
  try {
    store = await openD1Store(env.DB);
  } catch (error) {
    throw new Unconfigured((error as Error).message);
  }
  if (env.CRUMB_REQID_SECRET !== undefined && env.CRUMB_REQID_SECRET.length < 32) {
    throw new Unconfigured('CRUMB_REQID_SECRET must be at least 32 characters: set a longer one with `wrangler secret put CRUMB_REQID_SECRET`');
  }
  let live: LiveNetwork;
  try {
    live = await openNetwork(store, file);
  } catch (error) {
    if (error instanceof NetworkError) throw new Unconfigured(`The network in CRUMB_NETWORK has problems.\n${error.problems.join('\n')}`);
    throw new Unconfigured((error as Error).message.replace('start with --config FILE (the network file)', 'set CRUMB_NETWORK (a network file as JSON)'));
  }
  const secret = env.CRUMB_REQID_SECRET ?? live.current.reqid_secret ?? (await store.secret(generateSecret));
  const limit = Number(env.CRUMB_DELIVERIES_PER_RUN ?? 16);
  if (!Number.isInteger(limit) || limit < 1) throw new Unconfigured(`CRUMB_DELIVERIES_PER_RUN must be a whole number of 1 or more, not ${env.CRUMB_DELIVERIES_PER_RUN}`);
  // The URL and every redirect hop are checked against the network's rules; the connection itself
  // is Cloudflare's (no connect hook on Workers).
  const dispatcher: Dispatcher = createDispatcher({ store, targets: () => targetsOf(live.current) });

  const crumb: Crumb = {
    retention: createRetention({ store, network: () => live.current, maxBatches: 20, pauseMs: 0 }),
    queued: 0,
    live,
    checked: Date.now(),
    app: createApp({
      store,
      network: live,
      secret,
      clientIp: (c: Context) => c.req.header('cf-connecting-ip'),
      country: (c: Context) => {
        const country = (c.req.raw as CfRequest).cf?.country;
        return typeof country === 'string' ? country : undefined;
      },
      onDeliveries: () => void crumb.queued++,
      // "Send test" goes through the same dispatcher: the same rules and the runtime's fetch.
      testPostback: (url) => dispatcher.test(url),
      dJs,
      console: { js: consoleJs, css: consoleCss },
    }),
    deliver: () =>
      dispatcher.drain(limit).then(
        () => {},
        (error: unknown) => console.error('postback delivery:', error),
      ),
  };
  return crumb;
}

function networkFile(value: string | object | undefined): FileSource | undefined {
  if (value === undefined || value === '') return undefined;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  try {
    JSON.parse(text);
  } catch (error) {
    throw new Unconfigured(`CRUMB_NETWORK is not valid JSON: ${(error as Error).message}`);
  }
  return { text, source: 'file CRUMB_NETWORK' };
}

function unavailable(error: unknown): Response {
  if (!(error instanceof Unconfigured)) throw error;
  console.error(`Crumb cannot start: ${error.message}`);
  return new Response(`Crumb is not configured: ${error.message}\n`, {
    status: 503,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': '60' },
  });
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    let crumb: Crumb;
    try {
      crumb = await crumbFor(env);
    } catch (error) {
      return unavailable(error);
    }
    if (Date.now() - crumb.checked > 1000) {
      crumb.checked = Date.now();
      await crumb.live.refresh().catch((error: unknown) => console.error('network refresh:', error));
    }
    const before = crumb.queued;
    const response = await crumb.app.fetch(request, env, ctx as never);
    // This request (or one beside it in this isolate) committed outbox rows: the first attempt runs
    // after the answer, and the Cron trigger catches anything this one does not finish.
    if (crumb.queued !== before) ctx.waitUntil(crumb.deliver());
    return response;
  },

  async scheduled(_controller: unknown, env: Env): Promise<void> {
    let crumb: Crumb;
    try {
      crumb = await crumbFor(env);
    } catch (error) {
      unavailable(error);
      return;
    }
    // Postbacks first (they are due); then a bounded share of retention (what is left waits for
    // the next minute's run), by the network as it is now (a change made on another isolate).
    await crumb.deliver();
    await crumb.live.refresh().catch((error: unknown) => console.error('network refresh:', error));
    await crumb.retention.run().then(
      () => {},
      (error: unknown) => console.error('retention job:', error),
    );
  },
};
