// The network file as an import (PROTOCOL.md 9): applied when its content is new, as an upsert of
// what it names; its keys are the admin keys; and the live network of another instance on the same
// database follows every change.
import { afterEach, describe, expect, it } from 'vitest';
import { authenticate } from '../../server/auth.js';
import { NetworkError, type NetworkFile } from '../../server/network.js';
import { changeNetwork } from '../../server/network/change.js';
import { openNetwork, syncNetwork } from '../../server/network/import.js';
import { openSqliteStore } from '../../server/store/sqlite.js';
import type { Store } from '../../server/store/types.js';
import { tempDbPath } from '../support/app.js';
import { AFF, API_KEY, OFFER, testNetworkFile } from '../support/network.js';

const stores: Store[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

function store(path = tempDbPath()): Store {
  const s = openSqliteStore({ path });
  stores.push(s);
  return s;
}

const asFile = (file: NetworkFile) => ({ text: JSON.stringify(file), source: 'file network.json' });

describe('--config FILE', () => {
  it('applies a file once: the same file again changes nothing', async () => {
    const s = store();
    const first = await syncNetwork(s, asFile(testNetworkFile()));
    expect(first.version).toBe(1);
    expect(first.offers.size).toBe(5);
    const again = await syncNetwork(s, asFile(testNetworkFile()));
    expect(again.version).toBe(1);
    expect((await s.listChanges({ offset: 0, limit: 1 })).rows[0]!.source).toBe('file network.json');
  });

  it('keeps changes made through the API when restarted with the same file', async () => {
    const s = store();
    const live = await openNetwork(s, asFile(testNetworkFile()));
    await changeNetwork(s, live, (n) => [{ entity: 'affiliates', id: AFF.partner, before: n.affiliates.get(AFF.partner)!, after: { ...n.affiliates.get(AFF.partner)!, affiliate_name: 'Renamed' } }], { source: 'key 1' });
    const restarted = await syncNetwork(s, asFile(testNetworkFile()));
    expect(restarted.affiliates.get(AFF.partner)!.affiliate_name).toBe('Renamed');
  });

  it('applies an edited file as an upsert: what it names is written, what it omits is kept, settings it names are merged', async () => {
    const s = store();
    const live = await openNetwork(s, asFile(testNetworkFile()));
    await changeNetwork(s, live, (n) => [{ entity: 'network', id: 1, before: n.state.settings, after: { ...n.state.settings, cors_origins: ['https://forms.example'] } }], { source: 'key 1' });
    const edited = testNetworkFile();
    edited.offers[0]!.payout = 21;
    edited.affiliates = edited.affiliates.filter((a) => a.affiliate_id !== AFF.noCampaign);
    edited.network.name = 'Edited Network';
    const after = await syncNetwork(s, asFile(edited));
    expect(after.offers.get(OFFER.lead)!.payout).toBe(21);
    expect(after.affiliates.has(AFF.noCampaign)).toBe(true);
    expect(after.name).toBe('Edited Network');
    expect(after.state.settings.cors_origins).toEqual(['https://forms.example']);
    // Only what differed was written.
    const changes = await s.networkChanges(2, after.version);
    expect(changes.map((c) => `${c.entity} ${c.entity_id}`)).toEqual(['network 1', `offers ${OFFER.lead}`]);
  });

  it("makes the file's keys admin keys, and revokes an earlier file's keys it no longer lists", async () => {
    const s = store();
    const one = await syncNetwork(s, asFile(testNetworkFile()));
    expect((await authenticate(one, API_KEY))?.role).toBe('admin');
    const next = { ...testNetworkFile(), api_keys: ['rotated-admin-key-2026'] };
    const two = await syncNetwork(s, asFile(next));
    expect(await authenticate(two, API_KEY)).toBeNull();
    expect((await authenticate(two, 'rotated-admin-key-2026'))?.role).toBe('admin');
  });

  it('refuses a file that does not fit the stored network, one line per problem, and writes nothing', async () => {
    const s = store();
    const live = await openNetwork(s, asFile(testNetworkFile()));
    await changeNetwork(s, live, () => [{ entity: 'affiliates', id: 9100, before: null, after: { affiliate_id: 9100, affiliate_name: 'API only', status: 'active' } }], { source: 'key 1' });
    await changeNetwork(s, live, (n) => [{ entity: 'campaigns', id: 9200, before: null, after: { campaign_id: 9200, affiliate_id: 9100, offer_id: OFFER.lastTouch, ckm_key: 'api-made-campaign-key', status: 'active' } }], { source: 'key 1' });
    const clash = testNetworkFile();
    clash.campaigns.push({ campaign_id: 9300, affiliate_id: 9100, offer_id: OFFER.lastTouch, ckm_key: 'clashing-campaign' });
    const error = await syncNetwork(s, asFile(clash)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).problems).toEqual([`campaigns (campaign_id 9300) offer_id: affiliate 9100 already has campaign 9200 for offer ${OFFER.lastTouch}`]);
    expect((await s.loadNetwork()).entities.campaigns).toHaveLength(8);
  });

  it('refuses to start on a database without a network and without a file, saying what to do', async () => {
    await expect(syncNetwork(store())).rejects.toThrow('The database holds no network yet: start with --config FILE (the network file) to load one');
  });

  it('refuses a network without an admin key', async () => {
    await expect(syncNetwork(store(), asFile({ ...testNetworkFile(), api_keys: [] }))).rejects.toThrow(/no admin API key/);
  });
});

describe('the live network', () => {
  it("follows another instance's changes on the same database, all of a change at once", async () => {
    const path = tempDbPath();
    const a = await openNetwork(store(path), asFile(testNetworkFile()));
    const bStore = store(path);
    const b = await openNetwork(bStore);
    b.start(20);
    try {
      const aStore = stores[0]!;
      // One change of three entities: B sees all of it or none of it, never a part.
      await changeNetwork(
        aStore,
        a,
        () => [
          { entity: 'affiliates', id: 9500, before: null, after: { affiliate_id: 9500, affiliate_name: 'New', status: 'active' } },
          { entity: 'creatives', id: 9501, before: null, after: { creative_id: 9501, offer_id: OFFER.lead, status: 'active' } },
          { entity: 'campaigns', id: 9502, before: null, after: { campaign_id: 9502, affiliate_id: 9500, offer_id: OFFER.lead, ckm_key: 'live-change-key', status: 'active' } },
        ],
        { source: 'key 1' },
      );
      const seen: boolean[] = [];
      const deadline = Date.now() + 2000;
      while (Date.now() < deadline && !b.current.campaigns.has(9502)) {
        const n = b.current;
        seen.push(n.affiliates.has(9500) === n.creatives.has(9501) && n.creatives.has(9501) === n.campaigns.has(9502));
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(b.current.campaignFor(9500, OFFER.lead)?.campaign_id).toBe(9502);
      expect(seen.every(Boolean)).toBe(true);
    } finally {
      b.stop();
    }
  });
});
