// The Node entry as `npm start` runs it: a real process, a real port, a real SQLite file.
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../server/store/sqlite.js';
import { tempDbPath } from '../support/app.js';
import { API_KEY, testNetworkFile } from '../support/network.js';
import { runEntry, startServer, type ServerProcess } from '../support/process.js';

let server: ServerProcess | undefined;
afterEach(async () => {
  await server?.stop('SIGKILL');
  server = undefined;
});

describe('npm start (the Node entry)', () => {
  it('starts the demo network without a config and prints the URLs to try', async () => {
    server = await startServer(['--db', tempDbPath()]);
    const out = server.output();
    expect(out).toContain('network: Crumb Demo Network (built-in demo)');
    expect(out).toMatch(/tracking link: +http:\/\/127\.0\.0\.1:\d+\/\?a=67890&c=1057&s1=demo/);
    expect(out).toMatch(/click pixel: +<script src="http:\/\/127\.0\.0\.1:\d+\/\?a=1&c=1057&cp=js"><\/script>/);
    expect(out).toContain('API key:        demo-api-key');
    expect(out).toMatch(/console: +http:\/\/127\.0\.0\.1:\d+\/console\//);
  });

  it('serves the built console at the printed address', async () => {
    server = await startServer(['--db', tempDbPath()]);
    const address = /console: +(\S+)/.exec(server.output())![1]!;
    const page = await fetch(address);
    expect(page.status).toBe(200);
    const script = await fetch(new URL('console.js', address));
    expect(script.status).toBe(200);
    expect((await script.text()).length).toBeGreaterThan(10_000);
  });

  it('redirects the printed demo tracking link to the demo landing page', async () => {
    server = await startServer(['--db', tempDbPath()]);
    const link = /tracking link: +(\S+)/.exec(server.output())![1]!;
    const res = await fetch(link, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toMatch(new RegExp(`^${server.url}/demo/landing\\?reqid=[\\w-]{32}&aff=67890&sub=demo$`));
  });

  it('serves a network file given with --config', async () => {
    const file = `${tempDbPath()}.json`;
    writeFileSync(file, JSON.stringify(testNetworkFile()));
    server = await startServer(['--config', file, '--db', tempDbPath()]);
    expect(server.output()).toContain('network: Test Network');
    const res = await fetch(`${server.url}/?a=67890&c=1057`, { redirect: 'manual' });
    expect(res.headers.get('location')).toMatch(/^https:\/\/lp\.example\.com\/quote\?reqid=/);
  });

  it('refuses to start on an invalid network file, one line per problem', async () => {
    const file = `${tempDbPath()}.json`;
    const bad = testNetworkFile() as any;
    bad.offers[0].payout = 'eighteen';
    bad.campaigns[1].ckm_key = 'short';
    writeFileSync(file, JSON.stringify(bad));
    const { code, output } = await runEntry(['--config', file, '--port', '0', '--db', tempDbPath()]);
    expect(code).toBe(1);
    expect(output).toContain('has problems; the server did not start');
    expect(output).toMatch(/^offers\[0\] \(offer_id 12345\) payout: .+$/m);
    expect(output).toMatch(/^campaigns\[1\] \(campaign_id 3871\) ckm_key: must be at least 8 characters$/m);
    expect(output).not.toMatch(/listening/);
  });

  it('refuses a network file that is not JSON, and names the file', async () => {
    const file = `${tempDbPath()}.json`;
    writeFileSync(file, '{ "network": ');
    const { code, output } = await runEntry(['--config', file, '--port', '0']);
    expect(code).toBe(1);
    expect(output).toContain(`The network file ${file} is not valid JSON`);
  });

  it('reads the config from CRUMB_CONFIG', async () => {
    const file = `${tempDbPath()}.json`;
    writeFileSync(file, JSON.stringify(testNetworkFile()));
    server = await startServer(['--db', tempDbPath()], { env: { CRUMB_CONFIG: file } });
    expect(server.output()).toContain('network: Test Network');
  });

  it('refuses unknown options with the usage', async () => {
    const { code, output } = await runEntry(['--prot', '80']);
    expect(code).toBe(1);
    expect(output).toContain("Unknown option '--prot'");
    expect(output).toContain('Usage: npm start -- [options]');
  });

  it('stores an IPv4 client of a dual-stack socket, and one --trust-proxy reads as ::ffff:, as its IPv4 address', async () => {
    const file = `${tempDbPath()}.json`;
    writeFileSync(file, JSON.stringify(testNetworkFile()));
    const db = tempDbPath();
    // An IPv6 socket bound to loopback's IPv4-mapped address: it reports IPv4 clients as ::ffff:…,
    // as a server listening on :: does, without listening beyond this machine.
    server = await startServer(['--config', file, '--db', db, '--host', '::ffff:127.0.0.1']);
    await fetch(`http://127.0.0.1:${server.port}/?a=67890&c=1057&s1=socket`, { redirect: 'manual' });
    expect(await server.stop()).toBe(0);
    server = await startServer(['--config', file, '--db', db, '--trust-proxy']);
    await fetch(`${server.url}/?a=67890&c=1057&s1=proxy`, { redirect: 'manual', headers: { 'x-forwarded-for': '198.51.100.1, ::ffff:203.0.113.9' } });
    expect(await server.stop()).toBe(0);
    const store = openSqliteStore({ path: db });
    const { rows } = await store.listClicks({ offset: 0, limit: 10 });
    await store.close();
    expect(rows.map((r) => [r.s1, r.ip])).toEqual([
      ['socket', '127.0.0.1'],
      ['proxy', '203.0.113.9'],
    ]);
  });

  it('keeps its reqid secret in the database across restarts', async () => {
    const db = tempDbPath();
    server = await startServer(['--db', db]);
    const reqid = new URL((await fetch(`${server.url}/?a=67890&c=1057`, { redirect: 'manual' })).headers.get('location')!).searchParams.get('reqid')!;
    expect(await server.stop()).toBe(0);
    server = await startServer(['--db', db]);
    const res = await fetch(`${server.url}/api/2/click.json?api_key=demo-api-key&click_id=${reqid}`);
    expect(((await res.json()) as any).response.total_rows).toBe(1);
  });

  it('keeps the demo key to demo mode: started on the demo database with --config, the demo key is revoked', async () => {
    const db = tempDbPath();
    server = await startServer(['--db', db]);
    const clicks = (base: string, key: string) => fetch(`${base}/api/2/click.json?api_key=${key}`).then((r) => r.status);
    expect(await clicks(server.url, 'demo-api-key')).toBe(200);
    expect(await server.stop()).toBe(0);
    const file = `${tempDbPath()}.json`;
    writeFileSync(file, JSON.stringify(testNetworkFile()));
    server = await startServer(['--config', file, '--db', db]);
    expect(server.output()).toContain('network: Test Network');
    expect(server.output()).not.toContain('demo-api-key');
    expect(await clicks(server.url, 'demo-api-key')).toBe(401);
    expect(await clicks(server.url, API_KEY)).toBe(200);
    // And it stays revoked when the database is then served as it is, without --config.
    expect(await server.stop()).toBe(0);
    server = await startServer(['--db', db]);
    expect(server.output()).toContain('(kept in the store)');
    expect(await clicks(server.url, 'demo-api-key')).toBe(401);
  });

  it('on SIGTERM finishes the requests in flight, closes the store and exits 0', async () => {
    const db = tempDbPath();
    server = await startServer(['--db', db]);
    const inFlight = Array.from({ length: 300 }, (_, i) =>
      fetch(`${server!.url}/?a=67890&c=1057&s1=n${i}`, { redirect: 'manual' }).then(
        (res) => (res.status === 302 ? new URL(res.headers.get('location')!).searchParams.get('reqid') : null),
        () => null,
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    const code = await server.stop('SIGTERM');
    const answered = (await Promise.all(inFlight)).filter((id): id is string => id !== null);
    expect(code).toBe(0);
    expect(server.output()).toContain('SIGTERM: finishing requests in flight');
    expect(answered.length).toBeGreaterThan(0);
    const store = openSqliteStore({ path: db });
    const stored = new Set((await store.listClicks({ offset: 0, limit: 1000 })).rows.map((c) => c.reqid));
    await store.close();
    for (const id of answered) expect(stored.has(id)).toBe(true);
  });
});
