import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateSecret, REQID_LENGTH, reqidFloor, reqids, webCryptoMac } from '../../server/reqid.js';

const SECRET = 'a-secret-for-reqid-tests-0123456789';
const webIds = reqids(webCryptoMac(SECRET));
const nodeIds = reqids((data) => createHmac('sha256', SECRET).update(data).digest());

describe('request ids', () => {
  it('are 32 URL-safe characters', async () => {
    const id = await webIds.mint(Date.now());
    expect(id).toHaveLength(REQID_LENGTH);
    expect(id).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(encodeURIComponent(id)).toBe(id);
  });

  it('verify to the time they were minted', async () => {
    const at = Date.UTC(2026, 0, 15, 9, 42, 11, 123);
    expect(await webIds.verify(await webIds.mint(at))).toBe(at);
  });

  it('are the same whether the MAC comes from Web Crypto or node:crypto', async () => {
    const id = await nodeIds.mint(Date.now());
    expect(await webIds.verify(id)).not.toBeNull();
    expect(await nodeIds.verify(await webIds.mint(Date.now()))).not.toBeNull();
  });

  it('are unique', async () => {
    const now = Date.now();
    const ids = new Set(await Promise.all(Array.from({ length: 2000 }, () => nodeIds.mint(now))));
    expect(ids.size).toBe(2000);
  });

  it('sort as text in the order of their times', async () => {
    const times = [0, 1, 255, 256, 65_535, 1_700_000_000_000, 1_700_000_000_001, Date.UTC(2100, 0, 1)];
    const ids = await Promise.all(times.map((t) => nodeIds.mint(t)));
    expect([...ids].sort()).toEqual(ids);
    expect(reqidFloor(1_700_000_000_001) > ids[5]!).toBe(true);
    expect(reqidFloor(1_700_000_000_001) <= ids[6]!).toBe(true);
  });

  it('are invalid when any one character changes', async () => {
    const id = await nodeIds.mint(Date.now());
    const alphabet = '-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz';
    for (let i = 0; i < id.length; i++) {
      const other = alphabet[(alphabet.indexOf(id[i]!) + 1 + i) % 64]!;
      const changed = id.slice(0, i) + other + id.slice(i + 1);
      expect(await nodeIds.verify(changed), `position ${i}`).toBeNull();
    }
  });

  it('do not verify under another secret', async () => {
    const other = reqids(webCryptoMac(generateSecret()));
    expect(await other.verify(await webIds.mint(Date.now()))).toBeNull();
  });

  it('reject malformed input without throwing', async () => {
    for (const bad of ['', 'abc', 'x'.repeat(32), '!'.repeat(32), 'é'.repeat(32), `"${'A'.repeat(30)}"`, 'A'.repeat(33)]) {
      expect(await webIds.verify(bad)).toBeNull();
    }
  });
});
