// createApp: the whole HTTP surface, built from its store and network so that tests build it
// in-process and any runtime can serve it. Only web-standard APIs here; what differs per runtime
// (the store, a faster MAC, the client address and country) is passed in by the entry point (node.ts,
// worker.ts).
import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import { normalAddress } from './address.js';
import { apiRoutes } from './api/index.js';
import { referenceRoutes } from './api/reference.js';
import { mountClassic } from './classic/route.js';
import { keyUses, type KeyUses } from './auth.js';
import { consoleRoutes, type ConsoleAssets } from './console/routes.js';
import { consoleSessions, type Sessions } from './console/session.js';
import { demoRoutes, type DemoOptions } from './demo/pages.js';
import { NO_STORE } from './http.js';
import type { Network } from './network.js';
import { ChangeRefused } from './network/change.js';
import type { LiveNetwork } from './network/live.js';
import { mountOps, type OpsOptions } from './ops/index.js';
import { BadParams } from './params.js';
import { targetsOf, type Resolve } from './postbacks/address.js';
import { createDispatcher, type TestOutcome } from './postbacks/dispatcher.js';
import { keyring, webCryptoMac, type Mac, type Reqids } from './reqid.js';
import { dJsHandler } from './routes/assets.js';
import { clickRoutes } from './routes/click.js';
import { leadRoutes } from './routes/lead.js';
import { postingDocRoutes } from './routes/posting-doc.js';
import { pixelRoutes } from './routes/pixel.js';
import { crossOriginAnswer, crossOriginHeaders } from './security.js';
import { StoreOverloaded } from './store/errors.js';
import { ReadTimeout, type Store } from './store/types.js';

export interface AppOptions {
  store: Store;
  /** The network, kept current from the store (network/live.ts). */
  network: LiveNetwork;
  /** The reqid MAC key (the network file's, or the one kept in the store). */
  secret: string;
  /** A MAC over `secret` faster than Web Crypto's, where the runtime has one. */
  mac?: Mac;
  /** The same for the keys of the network's rotation list (`reqid_keys`); default Web Crypto's. */
  macFor?: (secret: string) => Mac;
  /** Milliseconds since the epoch; tests move it. */
  clock?: () => number;
  /** The client's address; from the runtime's connection info (put in one form here). */
  clientIp?: (c: Context) => string | undefined;
  /** The client's two-letter country, from the CDN in front (default: its CF-IPCountry or
   * X-Country-Code header; on Workers, request.cf). */
  country?: (c: Context) => string | undefined;
  /** Called when postbacks were queued, so a dispatcher delivers them without waiting. */
  onDeliveries?: () => void;
  /** Sends a postback URL once for the API's "send test": the entry's dispatcher's test(), so a
   * test goes through the sender and rules real deliveries use. Default: a dispatcher with the
   * runtime's fetch and the network's rules (what worker.ts delivers with). */
  testPostback?: (url: string) => Promise<TestOutcome>;
  /** The built landing-page script (dist/d.js), served at /d.js; the entry point reads it. */
  dJs?: string;
  /** Serve the demo's pages under /demo/ (the entry point does, for the built-in demo network). */
  demo?: DemoOptions;
  /** Resolves a host name (Node: dns.lookup), so that a postback whose name resolves to a private
   * address is refused when it is saved. Without it only literal addresses are refused then (the
   * dispatcher checks every address at delivery either way). */
  resolveHost?: Resolve;
  /** Health, metrics and the request log (server/ops/): what the runtime provides of them. */
  ops?: OpsOptions;
  /** The built console (dist/console/), served at /console/; the entry point reads it. */
  console?: ConsoleAssets;
}

/** What every route may use. */
export interface AppDeps {
  store: Store;
  /** The current snapshot: read it once per request (a getter; a change replaces it whole). */
  readonly network: Network;
  live: LiveNetwork;
  /** Mints and verifies request ids with the network's keys of the moment (a getter: a key
   * rotation replaces it). */
  readonly reqids: Reqids;
  clock: () => number;
  clientIp: (c: Context) => string | undefined;
  country: (c: Context) => string | undefined;
  onDeliveries: () => void;
  testPostback: (url: string) => Promise<TestOutcome>;
  resolveHost?: Resolve;
  /** API keys' last use, written at most once a minute per key. */
  keyUses: KeyUses;
  /** The console's sessions (console/session.ts), which the API accepts in place of api_key. */
  sessions: Sessions;
}

const sameOriginHeaders = secureHeaders();

const countryHeader = (c: Context) => c.req.header('cf-ipcountry') ?? c.req.header('x-country-code');

export function createApp(options: AppOptions) {
  const live = options.network;
  const clientIp = options.clientIp;
  const macFor = options.macFor ?? webCryptoMac;
  const keysOf = keyring(options.mac ?? macFor(options.secret), macFor);
  const deps: AppDeps = {
    store: options.store,
    get network() {
      return live.current;
    },
    live,
    get reqids() {
      return keysOf(live.current.state.settings.reqid_keys);
    },
    clock: options.clock ?? Date.now,
    // Every runtime's address in one form: ::ffff:203.0.113.9 is 203.0.113.9 (address.ts).
    clientIp: clientIp ? (c) => normalAddress(clientIp(c)) : () => undefined,
    country: options.country ?? countryHeader,
    onDeliveries: options.onDeliveries ?? (() => {}),
    testPostback: options.testPostback ?? createDispatcher({ store: options.store, targets: () => targetsOf(live.current) }).test,
    resolveHost: options.resolveHost,
    keyUses: keyUses(options.store),
    sessions: consoleSessions(options.secret, options.store),
  };

  const app = new Hono();
  const ops = mountOps(app, deps, options.ops);
  app.use('/api/*', sameOriginHeaders);
  app.route('/', clickRoutes(deps));
  app.route('/', leadRoutes(deps));
  app.route('/', postingDocRoutes(deps));
  app.route('/', pixelRoutes(deps));
  app.get('/d.js', crossOriginHeaders, dJsHandler(options.dJs));
  // CAKE's classic API (.asmx) before the v2 API: /api/2/export.asmx/Offers is classic.
  mountClassic(app, deps);
  app.route('/api/2', apiRoutes(deps));
  app.route('/api', referenceRoutes());
  app.route('/', consoleRoutes(deps, deps.sessions, options.console));
  if (options.demo) app.route('/', demoRoutes(deps.network, options.demo));


  // Any unknown path may be a mistyped pixel or script on someone's page: the same headers as those.
  app.notFound(
    (c) =>
      crossOriginAnswer(`Not found: ${c.req.method} ${new URL(c.req.url).pathname}`, 404, { 'Content-Type': 'text/plain; charset=utf-8' }),
  );
  app.onError((error, c) => {
    ops.failed(c, error);
    return errorAnswer(error, c);
  });
  return app;
}

/** The one error path: the API's Failure envelope under /api, plain text elsewhere. A store too
 * busy to take a write is a 503 with Retry-After; a request the client abandoned is a 400; anything
 * else not foreseen is answered 500 without details. The request's log line (ops/requests.ts)
 * carries the error, with its stack for a 500. */
function errorAnswer(error: Error, c: Context): Response {
  const api = new URL(c.req.url).pathname.startsWith('/api/');
  if (error instanceof BadParams) {
    return api
      ? c.json({ request_status: 'Failure', message: `Invalid parameters: ${error.message}`, errors: error.errors }, 400)
      : c.text(`Invalid parameters: ${error.message}`, 400);
  }
  if (error instanceof ChangeRefused) {
    const message = `The change was not made: ${error.message}`;
    return api ? c.json({ request_status: 'Failure', message, errors: error.problems }, error.status) : c.text(message, error.status);
  }
  if (error instanceof ReadTimeout) {
    const message = `The query took longer than ${error.ms / 1000} s and was stopped: ask for fewer days (start_date, end_date) or add filters (offer_id, affiliate_id), then retry`;
    return api ? c.json({ request_status: 'Failure', message }, 504) : c.text(message, 504);
  }
  if (error instanceof HTTPException) {
    const status = error.status;
    return api ? c.json({ request_status: 'Failure', message: error.message }, status) : c.text(error.message, status);
  }
  // The store's write queue is full: nothing was stored; the client tries again shortly.
  if (error instanceof StoreOverloaded) {
    c.header('Retry-After', String(error.retryAfter));
    c.header('Cache-Control', NO_STORE);
    return api ? c.json({ request_status: 'Failure', message: error.message }, 503) : c.text(error.message, 503);
  }
  // The client closed the connection before its request was read (a body cut short): nothing of
  // ours failed, and nobody is left to read the answer. One line, not an internal error.
  if (c.req.raw.signal.aborted) {
    const message = 'The request was cut short: the connection closed before all of it arrived';
    return api ? c.json({ request_status: 'Failure', message }, 400) : c.text(message, 400);
  }
  return api
    ? c.json({ request_status: 'Failure', message: 'Internal error: the request was not completed; retry it' }, 500)
    : c.text('Internal error: the request was not completed; retry it', 500);
}
