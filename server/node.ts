// The Node entry: command line, store, demo network, serve, graceful shutdown.
//   node dist/server/node.js [--config FILE] [--db PATH] [--port 3000] [--host HOST]
import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { createHmac, createSecretKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Context } from 'hono';
import { createApp } from './app.js';
import { DEMO_API_KEY, demoNetwork } from './demo/network.js';
import { ensureDemoPostback } from './demo/postback.js';
import { NetworkError, type Network } from './network.js';
import { openNetwork, syncNetwork, type FileSource } from './network/import.js';
import { targetsOf } from './postbacks/address.js';
import { errorRecord, repeatedErrors } from './ops/logging.js';
import { logSettings, nodeLog } from './ops/node-log.js';
import { nodeOps } from './ops/node-ops.js';
import { createDispatcher } from './postbacks/dispatcher.js';
import { createRetention } from './ops/retention.js';
import type { ConsoleAssets } from './console/routes.js';
import { foldJob } from './reports/fold.js';
import { nodeSend, resolveHost } from './postbacks/node-send.js';
import { generateSecret, type Mac } from './reqid.js';
import { DEFAULT_DB, DEMO_DB, openStore } from './store/index.js';
import type { Store } from './store/types.js';
import { redact } from './store/url.js';

const USAGE = `Usage: npm start -- [options]
  --config FILE   the network file (or CRUMB_CONFIG); without it, the built-in demo network
  --db PATH       SQLite file (default ${DEFAULT_DB}; ${DEMO_DB} for the demo), or DATABASE_URL
  --port N        port to listen on (default 3000, or PORT)
  --host HOST     address to listen on (default all interfaces)
  --sync full     sync SQLite's log on every commit (survives power loss, slower)
  --trust-proxy   take the client address from X-Forwarded-For, as the one load balancer in front added it
  --log-level L   trace, debug (every request), info (default: API calls, warnings, errors), warn, error, silent; or CRUMB_LOG_LEVEL
  --log-format F  json (one object a line) or pretty (default on a terminal); or CRUMB_LOG_FORMAT
  --retention-interval S  seconds between runs of the retention job (default 600)`;

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

function options() {
  try {
    return parseArgs({
      options: {
        config: { type: 'string' },
        db: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        sync: { type: 'string' },
        'trust-proxy': { type: 'boolean' },
        'log-level': { type: 'string' },
        'log-format': { type: 'string' },
        'retention-interval': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (error) {
    fail(`${(error as Error).message}\n${USAGE}`);
  }
}

/** The network file to apply at start: the --config file, the built-in demo (no --config, on a
 * store that holds none or holds the demo), or none (a store that holds a network of its own). */
async function networkFile(configFile: string | undefined, store: Store, base: string): Promise<FileSource | undefined> {
  if (configFile) {
    let text: string;
    try {
      text = readFileSync(configFile, 'utf8');
    } catch (error) {
      fail(`Cannot read the network file ${configFile}: ${(error as Error).message}`);
    }
    try {
      JSON.parse(text);
    } catch (error) {
      fail(`The network file ${configFile} is not valid JSON: ${(error as Error).message}`);
    }
    return { text, source: `file ${basename(configFile)}` };
  }
  const stored = await store.loadNetwork();
  return stored.settings === null || stored.file_source === 'demo' ? demoFile(base) : undefined;
}

function demoFile(base: string): FileSource {
  return { text: JSON.stringify(demoNetwork(base), null, 2), source: 'demo' };
}

async function open(store: Store, file: FileSource | undefined, configFile: string | undefined) {
  try {
    return await openNetwork(store, file);
  } catch (error) {
    if (error instanceof NetworkError) {
      fail(`The network file ${configFile ?? '(built-in demo)'} has problems; the server did not start.\n${error.problems.join('\n')}`);
    }
    throw error;
  }
}

/** The landing-page script, built by rollup beside this file's directory (dist/d.js). */
function readDJs(): string {
  const file = fileURLToPath(new URL('../d.js', import.meta.url));
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    fail(`Cannot read the landing-page script ${file} (${(error as Error).message}): run \`npm run build\` first`);
  }
}

/** The console's built script and style sheet (dist/console/), or undefined when not built: the
 * console then answers that it needs `npm run build`, and nothing else changes. */
function readConsole(): ConsoleAssets | undefined {
  try {
    return {
      js: readFileSync(fileURLToPath(new URL('../console/console.js', import.meta.url)), 'utf8'),
      css: readFileSync(fileURLToPath(new URL('../console/console.css', import.meta.url)), 'utf8'),
    };
  } catch {
    return undefined;
  }
}

/** Collects what opening the store and loading (or importing) the network left behind, once,
 * before the first request. V8 keeps it in the old generation until the heap nears a limit it
 * raised meanwhile: with a network of 70,000 entities, 300 MB of it for the first minutes, and
 * every scavenge on the click path about twice as long until then (bench/RESULTS.md, profile
 * finding 8). Node gives no collector without --expose-gc; the flag set at run time and read in a
 * new context gives the same function (as jest's leak detector does). */
function collectStartupGarbage() {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  setFlagsFromString('--no-expose-gc');
  gc();
}

function nodeMac(secret: string): Mac {
  // A key object made once: a string key is turned into one on every call (0.3 µs of a mint).
  const key = createSecretKey(Buffer.from(secret));
  return (data) => createHmac('sha256', key).update(data).digest();
}

async function main() {
  const args = options();
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const port = Number(args.port ?? process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be a port number, not ${args.port}`);
  if (args.sync !== undefined && args.sync !== 'full' && args.sync !== 'normal') fail('--sync must be full or normal');
  const host = args.host;
  const retentionEvery = Number(args['retention-interval'] ?? 600);
  if (!(retentionEvery > 0)) fail(`--retention-interval must be a number of seconds above 0, not ${args['retention-interval']}`);
  let logging;
  try {
    logging = logSettings(args['log-level'], args['log-format']);
  } catch (error) {
    fail((error as Error).message);
  }
  const log = nodeLog(logging);
  const shownHost = !host || host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  const configFile = args.config ?? process.env.CRUMB_CONFIG;
  const dbLocation = args.db ?? process.env.DATABASE_URL ?? (configFile ? DEFAULT_DB : DEMO_DB);

  // The demo network's links name this server, so it needs the port before it binds; with port 0
  // (any free port) the demo links are fixed up once the port is known.
  let base = `http://${shownHost}:${port}`;
  const dJs = readDJs();
  const opened = await openStore(dbLocation, { synchronous: args.sync === 'full' ? 'FULL' : 'NORMAL' });
  const { store, ops } = nodeOps({ store: opened, log, stopping: () => stopping });
  const file = await networkFile(configFile, store, base);
  const isDemo = file?.source === 'demo';
  const live = await open(store, file, configFile);
  // Changes made on other instances (and through the API here) arrive within half a second.
  live.start();
  const secret = live.current.reqid_secret ?? (await store.secret(generateSecret));
  const trustProxy = args['trust-proxy'] ?? false;
  // createApp puts the address in one form (::ffff:203.0.113.9 is 203.0.113.9), whichever it is.
  const clientIp = (c: Context) => {
    if (trustProxy) {
      // The last entry is the one our load balancer added; any before it came from the client,
      // which could write anything there (and walk past the suppression list).
      const forwarded = c.req.header('x-forwarded-for')?.split(',').pop()?.trim();
      if (forwarded) return forwarded;
    }
    return getConnInfo(c).remote.address;
  };

  // Delivers the postback outbox: what a previous run left, then whatever conversions queue, each
  // connection checked against the network's address rules on the address it is made to.
  const targets = () => targetsOf(live.current);
  const dispatcher = createDispatcher({ store, targets, fetch: nodeSend({ targets }), onError: repeatedErrors(log, 'postback dispatcher') });
  const onDeliveries = () => dispatcher.wake();
  // The built-in demo serves its pages under /demo/ (their tracking origin: the one they are asked on).
  const demo = isDemo ? { api_key: DEMO_API_KEY } : undefined;
  const app = createApp({ store, network: live, secret, mac: nodeMac(secret), macFor: nodeMac, clientIp, onDeliveries, testPostback: (url) => dispatcher.test(url), dJs, demo, resolveHost, ops, console: readConsole() });
  dispatcher.start();
  // Removes what the network's retention_days no longer keeps, a small batch at a time.
  const retention = createRetention({
    store,
    network: () => live.current,
    everyMs: retentionEvery * 1000,
    onError: repeatedErrors(log, 'retention job'),
    onRun: ({ removed, more }) => {
      if (removed.clicks || removed.delivery_attempts || removed.lead_fields) log.info({ removed, more }, 'Retention: removed what the network no longer keeps');
    },
  });
  retention.start();
  // Keeps the summary reports' rollups current, off the click path (reports/fold.ts).
  const folding = foldJob(store, { onError: repeatedErrors(log, 'report rollups') });
  folding.start();
  collectStartupGarbage();
  const server = serve({ fetch: (request, env) => app.fetch(request, env), port, hostname: host }, (info) => {
    base = `http://${shownHost}:${info.port}`;
    // The demo affiliate's postback, pointed at this server's stand-in for the affiliate's server,
    // is in place before the banner invites anyone to click. With port 0 the demo network's links
    // learn the port only now.
    const ready = !isDemo
      ? Promise.resolve()
      : (port === 0 ? syncNetwork(store, demoFile(base)).then(() => live.refresh()) : Promise.resolve())
          .then(() => ensureDemoPostback(store, base))
          .then(
            () => {},
            (error) => log.error({ err: errorRecord(error) }, 'Preparing the demo failed'),
          );
    void ready.then(() => console.log(banner(live.current, base, isDemo ? undefined : configFile ?? 'stored', dbLocation)));
  }) as Server;
  server.on('error', (error) => fail(`Cannot listen on ${host ?? '*'}:${port}: ${error.message}`));

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, `${signal}: finishing requests in flight, then closing the store`);
    // Stop accepting; requests in flight finish; idle keep-alive connections are closed.
    // Connections busy now go idle once their answer is sent: close those too, until none is left.
    const idle = setInterval(() => server.closeIdleConnections(), 50);
    const force = setTimeout(() => server.closeAllConnections(), 10_000);
    force.unref();
    // No new postback attempts; those in flight finish (and are logged) before the store closes.
    const dispatcherStopped = Promise.all([dispatcher.stop(), retention.stop()]);
    const foldingStopped = folding.stop();
    live.stop();
    server.close(async () => {
      clearInterval(idle);
      try {
        await dispatcherStopped;
        await foldingStopped;
        await store.close();
        process.exit(0);
      } catch (error) {
        log.error({ err: errorRecord(error) }, 'Closing the store failed');
        process.exit(1);
      }
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

function banner(network: Network, base: string, configFile: string | undefined, db: string): string {
  const store = redact(db);
  const from = configFile === 'stored' ? ' (kept in the store)' : configFile ? ` (${configFile})` : ' (built-in demo)';
  const lines = [`Crumb is listening on ${base}`, `  network: ${network.name}${from}`, `  store:   ${store}`, `  console: ${base}/console/`];
  if (!configFile) {
    lines.push(
      '',
      'Try the demo:',
      `  tracking link:  ${base}/?a=67890&c=1057&s1=demo`,
      `  click pixel:    <script src="${base}/?a=1&c=1057&cp=js"></script>`,
      `  click report:   ${base}/api/2/click.json?api_key=${DEMO_API_KEY}`,
      `  API key:        ${DEMO_API_KEY}`,
      `  demo pages:     ${base}/demo/  (landing, organic, thank-you pages)`,
      `  postbacks:      ${base}/demo/postbacks  (what the demo affiliate's server received)`,
    );
  }
  return lines.join('\n');
}

main().catch((error) => fail(`Crumb did not start: ${error instanceof Error ? error.message : String(error)}`));
