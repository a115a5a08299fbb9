// Builds the app in-process on a real SQLite store (a fresh file per call unless one is given),
// with a clock the test can move.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp, type AppOptions } from '../../server/app.js';
import type { ConsoleAssets } from '../../server/console/routes.js';
import type { DemoOptions } from '../../server/demo/pages.js';
import type { NetworkFile } from '../../server/network.js';
import { openNetworkFromFile } from '../../server/network/import.js';
import type { LiveNetwork } from '../../server/network/live.js';
import type { Resolve } from '../../server/postbacks/address.js';
import type { Mac } from '../../server/reqid.js';
import type { OpsOptions } from '../../server/ops/index.js';
import { openSqliteStore } from '../../server/store/sqlite.js';
import type { Store } from '../../server/store/types.js';
import { HOST, SECRET, testNetworkFile } from './network.js';

export interface TestApp {
  app: ReturnType<typeof createApp>;
  store: Store;
  /** The app's network: the file's at once, the store's once `network.ready` settles. */
  network: LiveNetwork;
  dbPath: string;
  /** The app's clock: read `now`, or move it. */
  clock: { now: number };
  /** app.request with the tracking domain's Host and a client address. */
  get(path: string, init?: RequestInit & { ip?: string }): Promise<Response>;
  post(path: string, body: BodyInit, contentType: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export function tempDbPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'crumb-test-')), 'crumb.db');
}

/** The built d.js (the vitest global setup builds it), as the Node entry serves it. */
export function builtDJs(): string | undefined {
  const file = fileURLToPath(new URL('../../dist/d.js', import.meta.url));
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}

export function makeApp(
  options: {
    file?: NetworkFile;
    dbPath?: string;
    store?: Store;
    onDeliveries?: () => void;
    /** Serve /d.js (e.g. builtDJs()) and the demo pages, as the Node entry can. */
    dJs?: string;
    demo?: DemoOptions;
    /** The resolver for postback hosts; tests inject one (never the network's DNS). */
    resolveHost?: Resolve;
    /** A synchronous MAC, as the Node entry gives (node:crypto), instead of Web Crypto's. */
    mac?: Mac;
    /** Health, metrics and log options, as the Node entry passes them. */
    ops?: OpsOptions;
    /** The console's assets, served at /console/ (test/server/console.test.ts). */
    console?: ConsoleAssets;
    /** The "send test" sender (a dispatcher's test(); default the app's own). */
    testPostback?: AppOptions['testPostback'];
  } = {},
): TestApp {
  const dbPath = options.dbPath ?? tempDbPath();
  const store = options.store ?? openSqliteStore({ path: dbPath });
  const clock = { now: Date.UTC(2026, 10, 21, 12, 0, 0) };
  // The file is applied to the store as `--config` would, in the background: the app answers from
  // the file's snapshot meanwhile (the API waits for the store).
  const network = openNetworkFromFile(store, options.file ?? testNetworkFile());
  const app = createApp({
    store,
    network,
    secret: SECRET,
    clock: () => clock.now,
    clientIp: (c) => c.req.header('x-test-ip') ?? '198.51.100.7',
    onDeliveries: options.onDeliveries,
    dJs: options.dJs,
    demo: options.demo,
    resolveHost: options.resolveHost,
    mac: options.mac,
    ops: options.ops,
    console: options.console,
    testPostback: options.testPostback,
  });
  const withHost = (init: RequestInit & { ip?: string } = {}) => {
    const headers = new Headers(init.headers);
    if (!headers.has('host')) headers.set('host', HOST);
    if (init.ip) headers.set('x-test-ip', init.ip);
    return { ...init, headers };
  };
  return {
    app,
    store,
    network,
    dbPath,
    clock,
    get: async (path, init) => app.request(`http://${HOST}${path}`, withHost(init)),
    post: async (path, body, contentType, init = {}) => {
      const prepared = withHost(init);
      prepared.headers.set('content-type', contentType);
      return app.request(`http://${HOST}${path}`, { ...prepared, method: 'POST', body });
    },
    close: () => store.close(),
  };
}

/** The value of a cookie the answer set, or undefined. */
export function setCookie(res: Response, name: string): string | undefined {
  for (const line of res.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const eq = pair!.indexOf('=');
    if (pair!.slice(0, eq) === name) return pair!.slice(eq + 1);
  }
  return undefined;
}
