import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { clickKeyRange, generateSecret, legacyReqidFloor, REQID_LENGTH, reqidFloor, reqids, webCryptoMac } from '../../server/reqid.js';
import { legacyReqid } from '../support/legacy-reqid.js';

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

  it("never start with '-' or '_' (a spreadsheet formula, a command-line option), from 1970 to the year 6986", async () => {
    const YEAR = 365.2425 * 86_400_000;
    const times = [0, Date.now(), Date.UTC(2109, 4, 15), 2 ** 42 - 1, 2 ** 42, Date.UTC(3000, 0, 1), 36 * 2 ** 42 - 1];
    for (let i = 0; i < 200; i++) times.push(Math.floor(Math.random() * 36 * 2 ** 42));
    for (const at of times) {
      const id = await nodeIds.mint(at);
      expect(id[0], `minted at ${new Date(at).toISOString()}`).toMatch(/^[0-9A-Za-z]$/);
      expect(await nodeIds.verify(id)).toBe(at);
    }
    expect(1970 + (36 * 2 ** 42) / YEAR).toBeGreaterThan(6986);
    expect((await nodeIds.mint(Date.now()))[0]).toBe('0');
    expect((await nodeIds.mint(Date.UTC(2110, 0, 1)))[0]).toBe('1');
  });
});

describe('request ids minted before the first character changed (a leading "-")', () => {
  it('still verify, to the time they were minted', async () => {
    const at = Date.UTC(2026, 5, 1, 8, 30);
    const old = await legacyReqid(SECRET, at);
    expect(old[0]).toBe('-');
    expect(await webIds.verify(old)).toBe(at);
    expect(await nodeIds.verify(old)).toBe(at);
    expect(await reqids(webCryptoMac('another-secret-of-32-characters-x')).verify(old)).toBeNull();
    expect(await webIds.verify(old.slice(0, 31) + (old[31] === 'A' ? 'B' : 'A'))).toBeNull();
  });

  it("sort before every id of today's format, each kind in time order", async () => {
    const oldIds = await Promise.all([1, 2, 3].map((m) => legacyReqid(SECRET, Date.UTC(2026, 0, m))));
    const newIds = await Promise.all([4, 5].map((m) => webIds.mint(Date.UTC(2026, 0, m))));
    const all = [...oldIds, ...newIds];
    expect([...all].sort()).toEqual(all);
    expect(legacyReqidFloor(Date.UTC(2026, 0, 2)) <= oldIds[1]! && legacyReqidFloor(Date.UTC(2026, 0, 2)) > oldIds[0]!).toBe(true);
  });

  it('are found by clickKeyRange with at most two probes, and the range stays the tight one of a kind a store lacks', async () => {
    const from = Date.UTC(2026, 0, 2);
    const to = Date.UTC(2026, 0, 4);
    const probes: [string, string][] = [];
    const probe = (has: boolean) => async (lo: string, hi: string) => (probes.push([lo, hi]), has);
    expect(await clickKeyRange(from, to, probe(false))).toEqual({ lo: reqidFloor(from), hi: legacyReqidFloor(to) });
    expect(probes).toHaveLength(2);
    expect(await clickKeyRange(from, to, async (lo) => lo.startsWith('-'))).toEqual({ lo: legacyReqidFloor(from), hi: legacyReqidFloor(to) });
    expect(await clickKeyRange(from, to, async (lo) => !lo.startsWith('-'))).toEqual({ lo: reqidFloor(from), hi: reqidFloor(to) });
    expect(await clickKeyRange(undefined, undefined, probe(true))).toEqual({});
  });
});
