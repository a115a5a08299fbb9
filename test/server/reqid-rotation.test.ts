// Request-id key rotation (PROTOCOL.md 12): the network's reqid_keys. New ids use the current key;
// ids of a retired key still verify until the key is taken off the list; the keys never show.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reqids, webCryptoMac } from '../../server/reqid.js';
import { makeApp, type TestApp } from '../support/app.js';
import { call } from '../support/keys.js';
import { click } from '../support/leads.js';
import { API_KEY, SECRET } from '../support/network.js';

const NEW_KEY = 'the-new-request-id-key-of-at-least-32-chars';
const byBase = reqids(webCryptoMac(SECRET));
const byNew = reqids(webCryptoMac(NEW_KEY));

let t: TestApp;
beforeEach(() => {
  t = makeApp();
});
afterEach(() => t.close());

async function keys(list: unknown) {
  return call(t, 'PUT', 'network.json', API_KEY, { reqid_keys: list } as never);
}

/** Whether the app takes this reqid as one of its own: click.json refuses a click_id it did not mint. */
async function verifies(reqid: string): Promise<boolean> {
  const res = await call(t, "GET", "click.json", API_KEY, { click_id: reqid });
  return res.status === 200;
}

describe('reqid key rotation', () => {
  it('mints with the new key, verifies ids of the retired one, and stops when it is removed', async () => {
    const before = (await click(t)).reqid;
    expect(await byBase.verify(before)).not.toBeNull();

    expect((await keys([{ key_id: '2026-12', secret: NEW_KEY, status: 'current' }, { key_id: 'base', status: 'retired' }])).status).toBe(200);
    const after = (await click(t)).reqid;
    expect(await byNew.verify(after)).not.toBeNull();
    expect(await byBase.verify(after)).toBeNull();
    expect(await verifies(before)).toBe(true);
    expect(await verifies(after)).toBe(true);

    // The retired key removed: its ids are no longer ours; the new key's still are.
    expect((await keys([{ key_id: '2026-12', secret: NEW_KEY, status: 'current' }])).status).toBe(200);
    expect(await verifies(before)).toBe(false);
    expect(await verifies(after)).toBe(true);
  });

  it('can go back to the base key as the current one', async () => {
    await keys([{ key_id: '2026-12', secret: NEW_KEY, status: 'current' }, { key_id: 'base', status: 'retired' }]);
    const onNew = (await click(t)).reqid;
    await keys([{ key_id: 'base', status: 'current' }, { key_id: '2026-12', secret: NEW_KEY, status: 'retired' }]);
    const onBase = (await click(t)).reqid;
    expect(await byBase.verify(onBase)).not.toBeNull();
    expect(await verifies(onNew)).toBe(true);
  });

  it('refuses a list without exactly one current key, a key without its secret, a short secret, a key listed twice', async () => {
    const cases: [unknown, string][] = [
      [[{ key_id: 'a', secret: NEW_KEY, status: 'retired' }], 'exactly one key must be current'],
      [[{ key_id: 'a', secret: NEW_KEY, status: 'current' }, { key_id: 'b', secret: NEW_KEY, status: 'current' }], 'exactly one key must be current'],
      [[{ key_id: 'a', status: 'current' }], 'needs its secret'],
      [[{ key_id: 'base', secret: NEW_KEY, status: 'current' }], 'base has none'],
      [[{ key_id: 'a', secret: 'short', status: 'current' }], 'at least 32 characters'],
      [[{ key_id: 'a', secret: NEW_KEY, status: 'current' }, { key_id: 'a', secret: NEW_KEY, status: 'retired' }], 'listed once'],
    ];
    for (const [list, message] of cases) {
      const res = await keys(list);
      expect(res.status, JSON.stringify(list)).toBe(400);
      expect(JSON.stringify(res.body)).toContain(message);
    }
  });

  it('never shows the keys: not in the answer, the export or the change log', async () => {
    const put = await keys([{ key_id: '2026-12', secret: NEW_KEY, status: 'current' }, { key_id: 'base', status: 'retired' }]);
    const exported = await call(t, 'GET', 'network.json', API_KEY);
    const changes = await call(t, 'GET', 'changes.json', API_KEY, { entity: 'network' });
    expect(changes.status).toBe(200);
    for (const body of [put.body, exported.body, changes.body]) {
      expect(JSON.stringify(body)).not.toContain(NEW_KEY);
      expect(JSON.stringify(body)).not.toContain(SECRET);
    }
  });
});
