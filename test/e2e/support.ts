// The browser journeys' world: headless Chromium (Debian's, driven by playwright-core; never a
// downloaded browser), the built Crumb server as a process on http://127.0.0.1:PORT, and the demo
// landing pages served by ANOTHER site, http://localhost:PORT2 (a different host is a different
// site for cookies, CORS and SameSite: what an advertiser's landing page is to a tracking domain).
import { serve, type ServerType } from '@hono/node-server';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { chromium, type Browser, type BrowserContext, type LaunchOptions } from 'playwright-core';
import { describe, it } from 'vitest';
import { DEMO_API_KEY, demoNetwork } from '../../server/demo/network.js';
import { demoRoutes } from '../../server/demo/pages.js';
import { loadNetwork, type NetworkFile } from '../../server/network.js';
import { tempDbPath } from '../support/app.js';
import { ROOT, startServer, type ServerProcess } from '../support/process.js';

const CANDIDATES = process.env.CRUMB_CHROMIUM ? [process.env.CRUMB_CHROMIUM] : ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
export const CHROMIUM = CANDIDATES.find((path) => existsSync(path));
const isCI = process.env.CI === 'true' || process.env.CI === '1';

/** Flags for a headless run that touches nothing but the servers of the test. */
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** describe() when Chromium is installed; without it, a failing test when CI=true and a skip with
 * the reason printed elsewhere. */
export function describeChromium(title: string, body: () => void) {
  if (CHROMIUM) return describe(title, body);
  const reason = `no Chromium at ${CANDIDATES.join(' or ')}: install Debian's chromium (apt-get install chromium) or set CRUMB_CHROMIUM to its path`;
  if (isCI) {
    describe(title, () => {
      it('finds Chromium (CI=true: the browser journeys must run, not skip)', () => {
        throw new Error(`Cannot run the browser journeys: ${reason}`);
      });
    });
    return;
  }
  console.warn(`Skipping "${title}": ${reason}`);
  describe.skip(title, () => {
    it('needs Chromium', () => {});
  });
}

const launchOptions = (): LaunchOptions => ({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 });

export function launchChromium(): Promise<Browser> {
  return chromium.launch(launchOptions());
}

/** A browser whose user blocked cookies and site data: Chromium's own setting ("Block all
 * cookies", content setting 2 in the profile's Preferences), so document.cookie writes are
 * dropped, localStorage throws SecurityError and no cookie is stored from any response. */
export async function launchBlockingCookies(): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), 'crumb-chromium-'));
  mkdirSync(join(profile, 'Default'));
  writeFileSync(join(profile, 'Default', 'Preferences'), JSON.stringify({ profile: { default_content_setting_values: { cookies: 2 } } }));
  const context = await chromium.launchPersistentContext(profile, launchOptions());
  context.on('close', () => {
    // Chromium goes on writing into its profile for a moment after the context closes: retry for
    // a few seconds, in the background, and never let the clean-up of a temporary directory fail
    // a run.
    rm(profile, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 }).catch((error: Error) =>
      console.warn(`left the temporary Chromium profile ${profile}: ${error.message}`),
    );
  });
  return context;
}

export interface PageServer {
  /** http://localhost:PORT */
  base: string;
  close(): Promise<void>;
}

/** Serves the demo pages (server/demo/pages.ts) on 127.0.0.1, addressed as localhost, with their
 * tracking origin given by configuration: `tracking()` is read when the first page is asked. */
export async function startPageServer(network: () => NetworkFile, tracking: () => string): Promise<PageServer> {
  let app: Hono | undefined;
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: (request) => (app ??= pagesApp(network(), tracking())).fetch(request), port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  return {
    base: `http://localhost:${port}`,
    close: () =>
      new Promise((resolve) => {
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function pagesApp(file: NetworkFile, tracking: string): Hono {
  const app = new Hono();
  app.route('/', demoRoutes(loadNetwork(file), { tracking, api_key: DEMO_API_KEY }) as unknown as Hono);
  return app;
}

export interface World {
  /** The tracking server: http://127.0.0.1:PORT */
  tracking: string;
  /** The landing pages' site: http://localhost:PORT2 */
  pages: string;
  crumb: ServerProcess;
  close(): Promise<void>;
}

/** Crumb on the demo network, its offer's landing and thank-you pages on the page server. */
export async function startWorld(): Promise<World> {
  let tracking = '';
  let file: NetworkFile | undefined;
  const pageServer = await startPageServer(() => file!, () => tracking);
  file = demoNetwork('http://127.0.0.1', pageServer.base);
  const config = join(mkdtempSync(join(tmpdir(), 'crumb-e2e-')), 'network.json');
  writeFileSync(config, JSON.stringify(file));
  let crumb: ServerProcess;
  try {
    crumb = await startServer(['--config', config, '--db', tempDbPath()]);
  } catch (error) {
    await pageServer.close();
    throw error;
  }
  tracking = crumb.url;
  return {
    tracking,
    pages: pageServer.base,
    crumb,
    close: async () => {
      await pageServer.close();
      await stopProcess(crumb);
    },
  };
}

/** SIGTERM, and SIGKILL if it has not exited within 10 s. */
export async function stopProcess(server: ServerProcess | undefined): Promise<void> {
  if (!server) return;
  const kill = setTimeout(() => server.proc.kill('SIGKILL'), 10_000);
  try {
    await server.stop('SIGTERM');
  } finally {
    clearTimeout(kill);
  }
}

/** A v2 API GET on the tracking server; the parsed JSON. */
export async function api(tracking: string, call: string, params: Record<string, string | number> = {}): Promise<any> {
  const query = new URLSearchParams({ api_key: DEMO_API_KEY, ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])) });
  const res = await fetch(`${tracking}/api/2/${call}?${query}`);
  const body = await res.json();
  if (res.status !== 200) throw new Error(`${call} answered ${res.status}: ${JSON.stringify(body)}`);
  return body;
}

/** README screenshots go to docs/screenshots/ when CRUMB_SCREENSHOTS=1, or when the file is not
 * there yet; otherwise to a temporary directory, so a test run leaves the working tree as it was
 * (their content changes with every run: ports, request ids). */
export function screenshotPath(name: string): string {
  const docs = join(ROOT, 'docs', 'screenshots');
  const file = join(docs, name);
  if (process.env.CRUMB_SCREENSHOTS === '1' || !existsSync(file)) {
    mkdirSync(docs, { recursive: true });
    return file;
  }
  return join(mkdtempSync(join(tmpdir(), 'crumb-shots-')), name);
}
