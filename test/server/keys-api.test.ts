// /api/2/api_keys.json (PROTOCOL.md 10): a key is shown once and kept only as its hash, listed
// without it, its last use recorded at most once a minute per key without a network change, and
// revoked at once.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../server/auth.js';
import { makeApp, type TestApp } from '../support/app.js';
import { call, createKey } from '../support/keys.js';
import { ADVERTISER, AFF, API_KEY } from '../support/network.js';

let t: TestApp;
afterEach(() => t?.close());

describe('POST api_keys.json', () => {
  it('makes a random key of 40 characters, shown once, scoped as asked', async () => {
    t = makeApp();
    const made = await call(t, 'POST', 'api_keys.json', API_KEY, { role: 'affiliate', affiliate_id: AFF.partner, label: 'MediaBridge reporting' });
    expect(made.status).toBe(200);
    expect(made.body.api_key).toMatchObject({
      key_id: expect.any(Number),
      role: 'affiliate',
      affiliate_id: AFF.partner,
      advertiser_id: null,
      scope: `affiliate ${AFF.partner}`,
      label: 'MediaBridge reporting',
      source: 'api',
      status: 'active',
      created_at: '2026-11-21 12:00:00',
      last_used_at: null,
      key: expect.stringMatching(/^[A-Za-z0-9]{40}$/),
    });
    const other = await createKey(t, 'affiliate', AFF.partner);
    expect(other).not.toBe(made.body.api_key.key);
    expect((await call(t, 'GET', 'click.json', made.body.api_key.key)).status).toBe(200);
  });

  it('keeps only the hash: the key is nowhere in the database files', async () => {
    t = makeApp();
    const key = await createKey(t, 'advertiser', ADVERTISER.acme);
    await t.close();
    const dir = dirname(t.dbPath);
    const bytes = readdirSync(dir).map((f) => readFileSync(join(dir, f)).toString('latin1')).join('');
    expect(bytes).not.toContain(key);
    expect(bytes).toContain(await sha256Hex(key));
    t = makeApp({ dbPath: t.dbPath });
    await t.network.ready;
    expect((await call(t, 'GET', 'click.json', key)).status).toBe(200);
  });

  it('makes admin keys too, which may manage the network', async () => {
    t = makeApp();
    const admin = await createKey(t, 'admin', undefined, 'ops');
    expect((await call(t, 'GET', 'network.json', admin)).status).toBe(200);
  });

  const bad: [Record<string, string | number>, string, string][] = [
    [{}, 'role', 'is required'],
    [{ role: 'owner' }, 'role', 'must be one of admin, advertiser, affiliate'],
    [{ role: 'affiliate' }, 'affiliate_id', 'is required for a key of role affiliate'],
    [{ role: 'affiliate', affiliate_id: 9999 }, 'affiliate_id', 'names no affiliate of this network (9999)'],
    [{ role: 'advertiser', advertiser_id: 77 }, 'advertiser_id', 'names no advertiser of this network (77)'],
    [{ role: 'advertiser', advertiser_id: ADVERTISER.acme, affiliate_id: AFF.partner }, 'affiliate_id', 'does not apply to a key of role advertiser: leave it out'],
    [{ role: 'admin', affiliate_id: AFF.partner }, 'affiliate_id', 'does not apply to a key of role admin: leave it out'],
    [{ role: 'admin', label: 'x'.repeat(201) }, 'label', 'must be at most 200 characters'],
  ];
  for (const [params, parameter, message] of bad) {
    it(`refuses ${JSON.stringify(params)}, naming ${parameter}, and makes no key`, async () => {
      t = makeApp();
      const answer = await call(t, 'POST', 'api_keys.json', API_KEY, params);
      expect(answer.status).toBe(400);
      expect(answer.body.errors).toContainEqual({ parameter, message });
      expect((await call(t, 'GET', 'api_keys.json', API_KEY)).body.total_rows).toBe(1);
    });
  }
});

describe('GET api_keys.json', () => {
  it('lists every key with its role, scope, label and dates, never the key or its hash', async () => {
    t = makeApp();
    const affiliate = await createKey(t, 'affiliate', AFF.partner, 'reports');
    const advertiser = await createKey(t, 'advertiser', ADVERTISER.acme);
    const listed = await call(t, 'GET', 'api_keys.json', API_KEY);
    expect(listed.status).toBe(200);
    expect(listed.body.total_rows).toBe(3);
    expect(listed.body.api_keys.map((k: any) => [k.role, k.scope, k.label, k.source])).toEqual([
      ['admin', 'the whole network', 'network file', 'file'],
      ['affiliate', `affiliate ${AFF.partner}`, 'reports', 'api'],
      ['advertiser', `advertiser ${ADVERTISER.acme}`, null, 'api'],
    ]);
    const text = JSON.stringify(listed.body);
    for (const secret of [API_KEY, affiliate, advertiser]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(await sha256Hex(secret));
    }
    expect(Object.keys(listed.body.api_keys[1]).sort()).toEqual(
      ['advertiser_id', 'affiliate_id', 'created_at', 'key_id', 'label', 'last_used_at', 'revoked_at', 'role', 'scope', 'source', 'status'].sort(),
    );
    const changes = await call(t, 'GET', 'changes.json', API_KEY, { entity: 'api_keys' });
    expect(JSON.stringify(changes.body)).not.toContain(await sha256Hex(affiliate));
  });

  it('shows when each key was last used, written at most once a minute per key and never as a network change', async () => {
    t = makeApp();
    const key = await createKey(t, 'affiliate', AFF.partner);
    const key_id = (await call(t, 'GET', 'api_keys.json', API_KEY)).body.api_keys[1].key_id;
    const version = t.network.current.version;
    const lastUse = async () => (await call(t, 'GET', 'api_keys.json', API_KEY, { key_id })).body.api_keys[0].last_used_at;
    const stored = async () => {
      await new Promise((r) => setTimeout(r, 20)); // the write is off the request path: let it commit
      return (await t.store.apiKeyUses()).get(key_id);
    };
    const start = t.clock.now;
    await call(t, 'GET', 'click.json', key);
    expect(await stored()).toBe(start);
    t.clock.now += 30_000;
    await call(t, 'GET', 'click.json', key);
    // Inside the minute: not written again, but this instance shows it.
    expect(await stored()).toBe(start);
    expect(await lastUse()).toBe('2026-11-21 12:00:30');
    t.clock.now += 31_000;
    await call(t, 'GET', 'click.json', key);
    expect(await stored()).toBe(start + 61_000);
    expect(t.network.current.version).toBe(version);
    expect((await t.store.networkVersion())).toBe(version);
  });

  it('filters by key_id, role and status', async () => {
    t = makeApp();
    await createKey(t, 'affiliate', AFF.partner);
    await createKey(t, 'advertiser', ADVERTISER.acme);
    expect((await call(t, 'GET', 'api_keys.json', API_KEY, { role: 'advertiser' })).body.api_keys.map((k: any) => k.role)).toEqual(['advertiser']);
    expect((await call(t, 'GET', 'api_keys.json', API_KEY, { status: 'revoked' })).body.total_rows).toBe(0);
    expect((await call(t, 'GET', 'api_keys.json', API_KEY, { key_id: 99 })).status).toBe(404);
  });
});

describe('DELETE api_keys.json', () => {
  it('revokes a key at once: its next call is refused, and it is listed as revoked', async () => {
    t = makeApp();
    const key = await createKey(t, 'affiliate', AFF.partner);
    expect((await call(t, 'GET', 'click.json', key)).status).toBe(200);
    const key_id = (await call(t, 'GET', 'api_keys.json', API_KEY)).body.api_keys[1].key_id;
    const revoked = await call(t, 'DELETE', 'api_keys.json', API_KEY, { key_id });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ request_status: 'Success', message: `Key ${key_id} is revoked`, api_key: { key_id, status: 'revoked', revoked_at: '2026-11-21 12:00:00' } });
    const after = await call(t, 'GET', 'click.json', key);
    expect(after.status).toBe(401);
    expect(after.body.message).toContain('not a valid API key');
    expect((await call(t, 'GET', 'api_keys.json', API_KEY, { status: 'revoked' })).body.api_keys.map((k: any) => k.key_id)).toEqual([key_id]);
    expect((await call(t, 'DELETE', 'api_keys.json', API_KEY, { key_id })).status).toBe(200);
  });

  it("refuses to revoke the network's last admin key, and revokes a file key once another admin key exists, for good", async () => {
    t = makeApp();
    const last = await call(t, 'DELETE', 'api_keys.json', API_KEY, { key_id: 1 });
    expect(last.status).toBe(409);
    expect(last.body.errors).toEqual([{ parameter: 'key_id', message: "key 1 is the network's last admin key: create another admin key first" }]);
    const admin = await createKey(t, 'admin');
    expect((await call(t, 'DELETE', 'api_keys.json', admin, { key_id: 1 })).status).toBe(200);
    expect((await call(t, 'GET', 'click.json', API_KEY)).status).toBe(401);
    // The same network file applied again does not bring its revoked key back.
    await t.close();
    t = makeApp({ dbPath: t.dbPath });
    await t.network.ready;
    expect((await call(t, 'GET', 'click.json', API_KEY)).status).toBe(401);
    expect((await call(t, 'GET', 'click.json', admin)).status).toBe(200);
  });

  it('answers 404 for a key that does not exist', async () => {
    t = makeApp();
    const answer = await call(t, 'DELETE', 'api_keys.json', API_KEY, { key_id: 42 });
    expect(answer.status).toBe(404);
    expect(answer.body.errors).toEqual([{ parameter: 'key_id', message: 'there is no key 42' }]);
  });
});
