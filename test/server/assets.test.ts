// GET /d.js: the landing-page script, cacheable (an unversioned URL), with a strong ETag and a 304
// for a matching If-None-Match, loadable from any landing page's origin.
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../server/app.js';
import { openNetworkFromFile } from '../../server/network/import.js';
import { openSqliteStore } from '../../server/store/sqlite.js';
import type { Store } from '../../server/store/types.js';
import { tempDbPath } from '../support/app.js';
import { HOST, SECRET, testNetworkFile } from '../support/network.js';

const SCRIPT = '(()=>{window.ckm=function(){}})();\n';
const stores: Store[] = [];
afterAll(async () => {
  await Promise.all(stores.map((store) => store.close()));
});

function app(dJs: string | undefined) {
  const store = openSqliteStore({ path: tempDbPath() });
  stores.push(store);
  const built = createApp({ store, network: openNetworkFromFile(store, testNetworkFile()), secret: SECRET, dJs });
  return (init: RequestInit = {}) => built.request(`http://${HOST}/d.js`, init);
}

describe('GET /d.js', () => {
  const get = app(SCRIPT);

  it('serves the script as JavaScript, cacheable, loadable from other origins', async () => {
    const res = await get();
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(SCRIPT);
    expect(res.headers.get('content-type')).toBe('application/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=86400, stale-while-revalidate=604800');
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('has a strong ETag, the same for the same script, another for another script', async () => {
    const etag = (await get()).headers.get('etag');
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect((await get()).headers.get('etag')).toBe(etag);
    expect((await app('/* v2 */' + SCRIPT)()).headers.get('etag')).not.toBe(etag);
  });

  it('answers 304 without a body to a matching If-None-Match, weak or in a list, and to *', async () => {
    const etag = (await get()).headers.get('etag')!;
    for (const header of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const res = await get({ headers: { 'If-None-Match': header } });
      expect(res.status, header).toBe(304);
      expect(await res.text()).toBe('');
      expect(res.headers.get('etag')).toBe(etag);
      expect(res.headers.get('cache-control')).toBe('public, max-age=86400, stale-while-revalidate=604800');
      expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    }
  });

  it('answers 200 with the script to an If-None-Match of an older script', async () => {
    const res = await get({ headers: { 'If-None-Match': '"0123456789abcdef0123456789abcdef"' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(SCRIPT);
  });

  it('answers HEAD with the headers and no body', async () => {
    const res = await get({ method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toMatch(/^"/);
    expect(await res.text()).toBe('');
  });

  it('says how to build it when the app was given no script', async () => {
    const res = await app(undefined)();
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('npm run build');
  });
});
