// GET /healthz and GET /readyz (PROTOCOL.md 12): up, ready, and not ready with the reason.
import { afterEach, describe, expect, it } from 'vitest';
import { readiness } from '../../server/ops/health.js';
import type { Store } from '../../server/store/types.js';
import { openSqliteStore } from '../../server/store/sqlite.js';
import { makeApp, tempDbPath, type TestApp } from '../support/app.js';
import { memoryLog } from '../support/log.js';
import { loadNetwork } from '../../server/network.js';
import { testNetworkFile } from '../support/network.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** A SQLite store whose ping fails (or never answers) while `broken.now` is set. */
function breakable() {
  const store = openSqliteStore({ path: tempDbPath() });
  const broken: { now?: 'fails' | 'hangs' } = {};
  const ping = store.ping.bind(store);
  store.ping = () => {
    if (broken.now === 'fails') return Promise.reject(new Error('SQLITE_IOERR: disk I/O error at /var/lib/crumb/crumb.db'));
    if (broken.now === 'hangs') return new Promise<void>(() => {});
    return ping();
  };
  return { store, broken };
}

describe('GET /healthz', () => {
  it('answers 200 ok while the process serves, without asking the store', async () => {
    const { store, broken } = breakable();
    broken.now = 'hangs';
    t = makeApp({ store });
    const res = await t.get('/healthz');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok\n');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
  });

  it('answers HEAD too (load balancers send it)', async () => {
    t = makeApp();
    expect((await t.get('/healthz', { method: 'HEAD' })).status).toBe(200);
  });
});

describe('GET /readyz', () => {
  it('answers 200 when the store answers and the network is loaded', async () => {
    t = makeApp();
    const res = await t.get('/readyz');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ready\n');
  });

  it('answers 503 with the reason when the store fails, and logs the error once per outage', async () => {
    const { store, broken } = breakable();
    const memory = memoryLog('info');
    t = makeApp({ store, ops: { log: memory.log } });
    broken.now = 'fails';
    for (let i = 0; i < 3; i++) {
      const res = await t.get('/readyz');
      expect(res.status).toBe(503);
      // Public: the reason in general terms, not the database's own words or paths.
      expect(await res.text()).toBe('not ready: the store does not answer\n');
    }
    const warnings = memory.records().filter((r) => r.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain('SQLITE_IOERR');

    broken.now = undefined;
    expect((await t.get('/readyz')).status).toBe(200);
    expect(memory.records().some((r) => r.msg === 'readiness: the store answers again')).toBe(true);
  });

  it('answers 503 when the store does not answer in time', async () => {
    const { store, broken } = breakable();
    t = makeApp({ store, ops: { log: memoryLog().log, readyTimeoutMs: 50 } });
    broken.now = 'hangs';
    const res = await t.get('/readyz');
    expect(res.status).toBe(503);
    expect(await res.text()).toBe('not ready: the store does not answer\n');
  });

  it('answers 503 while the server shuts down, so that balancers stop sending', async () => {
    let stopping = false;
    t = makeApp({ ops: { stopping: () => stopping } });
    expect((await t.get('/readyz')).status).toBe(200);
    stopping = true;
    const res = await t.get('/readyz');
    expect(res.status).toBe(503);
    expect(await res.text()).toBe('not ready: shutting down\n');
    expect((await t.get('/healthz')).status).toBe(200);
  });

  it('is not ready while no network is loaded', async () => {
    const store = openSqliteStore({ path: tempDbPath() });
    const log = memoryLog().log;
    const network = loadNetwork(testNetworkFile());
    let loaded: typeof network | undefined;
    const deps = {
      store,
      get network() {
        if (!loaded) throw new Error('the network is still loading');
        return loaded;
      },
    };
    const check = readiness(deps, { log });
    expect(await check()).toBe('the network is not loaded');
    loaded = network;
    expect(await check()).toBeUndefined();
    await store.close();
  });

  it('writes nothing to the store', async () => {
    const store = openSqliteStore({ path: tempDbPath() });
    const writes: string[] = [];
    const observed: Store = Object.create(store);
    for (const name of ['recordClick', 'insertLead', 'insertConversion', 'secret'] as const) {
      (observed as any)[name] = (...args: unknown[]) => {
        writes.push(name);
        return (store[name] as any)(...args);
      };
    }
    t = makeApp({ store: observed });
    for (let i = 0; i < 5; i++) await t.get('/readyz');
    expect(writes).toEqual([]);
  });
});
