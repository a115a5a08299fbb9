// The bench's network-change timing (bench/change.ts) against two real server processes on one
// PostgreSQL database, with the bench's own network: what it times must be what it claims.
import { afterEach, expect, it } from 'vitest';
import { changeReport, timeChanges } from '../../bench/change.js';
import { smallNetwork } from '../../bench/network.js';
import { BENCH_API_KEY } from '../../bench/paths.js';
import type { NetworkFile } from '../../server/network.js';
import { callApi, startInstances, writeNetworkFile, type Instances } from '../support/instances.js';
import { describePostgres } from '../support/pg.js';

describePostgres('the network-change timing of the bench', (schemas) => {
  let instances: Instances | undefined;
  afterEach(async () => {
    await instances?.kill();
    instances = undefined;
  });
  const network = smallNetwork();
  const pair = network.pairs[0]!;
  const config = writeNetworkFile(network.file as NetworkFile);

  it('creates an affiliate and a campaign per change, live at once where made and later on the other instance', async () => {
    instances = await startInstances(2, { config, db: await schemas.create('bench_change') });
    const [a, b] = instances.urls as [string, string];
    const samples = await timeChanges({ urls: [a, b], apiKey: BENCH_API_KEY, offer: pair.offer, creative: pair.c }, 2, 'test');

    expect(samples).toHaveLength(2);
    for (const s of samples) {
      expect(s.affiliate).toBeGreaterThan(0);
      expect(s.campaign).toBeGreaterThan(0);
      expect(s.live[0]).toBe(0);
      // B learns of it by polling the version (every 500 ms): later than A, within the 2 s the contract allows.
      expect(s.live[1]).toBeGreaterThan(0);
      expect(s.live[1]).toBeLessThan(2000);
    }
    // Each change is a new affiliate with one campaign for the offer, and its click on B is attributed to it.
    const affiliates = await callApi(a, 'affiliates.json', { api_key: BENCH_API_KEY });
    const created = (affiliates.body.affiliates as { affiliate_id: number; affiliate_name: string }[]).filter((x) => x.affiliate_name.startsWith('Bench change test'));
    expect(created.map((x) => x.affiliate_name).sort()).toEqual(['Bench change test 1', 'Bench change test 2']);
    const clicks = await callApi(b, 'click.json', { api_key: BENCH_API_KEY, affiliate_id: created[0]!.affiliate_id });
    expect(clicks.body.response.clicks.length).toBeGreaterThanOrEqual(1);
    expect(changeReport([{ network: 'small', instances: 2, samples }])).toMatch(/^\| small \| 2 \| 2 \| [\d.,]+ \/ [\d.,]+ \| [\d.,]+ \/ [\d.,]+ \| [\d.,]+ \/ [\d.,]+ \|$/m);
  });

  it('fails the run when the other instance does not have the change in time', async () => {
    // Two instances on two databases: B never sees A's change.
    instances = await startInstances(1, { config, db: await schemas.create('bench_change_a') });
    const other = await startInstances(1, { config, db: await schemas.create('bench_change_b') });
    try {
      const target = { urls: [instances.urls[0]!, other.urls[0]!], apiKey: BENCH_API_KEY, offer: pair.offer, creative: pair.c, liveWithinMs: 300 };
      await expect(timeChanges(target, 1, 'apart')).rejects.toThrow(/was not live on .* after 300 ms/);
    } finally {
      await other.kill();
    }
  });
});
