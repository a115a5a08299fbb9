// A change made through one instance is live on another instance of the same PostgreSQL database
// within 2 seconds (PROTOCOL.md 9), with no restart: two server processes, as behind a load
// balancer; every check is what a client of each sees.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { API_KEY, CREATIVE, OFFER, testNetworkFile } from '../support/network.js';
import { callApi, startInstances, within, writeNetworkFile, type Instances } from '../support/instances.js';
import { describePostgres } from '../support/pg.js';

describePostgres('a network change on two instances of one PostgreSQL database', (schemas) => {
  let instances: Instances | undefined;
  let count = 0;
  const config = writeNetworkFile(testNetworkFile());

  beforeEach(async () => {
    const db = await schemas.create(`network_${++count}`);
    instances = await startInstances(2, { config, db });
  });
  afterEach(async () => {
    await instances?.kill();
    instances = undefined;
  });


  const click = async (base: string, affiliate: number) => {
    const res = await fetch(`${base}/?a=${affiliate}&c=${CREATIVE.lead}&s1=live`, { redirect: 'manual' });
    await res.arrayBuffer();
    return res.headers.get('location') ?? '';
  };

  it('answers a tracking link on B for an affiliate and campaign created on A, and refuses it on A once B deactivates the campaign', async () => {
    const [a, b] = instances!.urls as [string, string];
    const affiliate = await callApi(a, 'affiliates.json', { api_key: API_KEY, affiliate_name: 'Live Partner' }, 'POST');
    expect(affiliate.status).toBe(200);
    const id = affiliate.body.affiliate.affiliate_id as number;
    const campaign = await callApi(a, 'campaigns.json', { api_key: API_KEY, affiliate_id: id, offer_id: OFFER.lead }, 'POST');
    expect(campaign.status).toBe(200);
    const campaign_id = campaign.body.campaign.campaign_id as number;
    // A has it at once (the next request), B within 2 s.
    expect(await click(a, id)).toContain(`&camp=${campaign_id}&`);
    const onB = await within(2000, async () => (await click(b, id)).includes(`&camp=${campaign_id}&`));

    const res = await fetch(`${b}/api/2/campaigns.json?api_key=${API_KEY}&campaign_id=${campaign_id}&status=inactive`, { method: 'PUT' });
    expect(res.status).toBe(200);
    expect(await click(b, id)).toBe('https://network.example/inactive');
    const onA = await within(2000, async () => (await click(a, id)) === 'https://network.example/inactive');

    // The attributed clicks, as either instance reports them.
    const clicks = await callApi(a, 'click.json', { api_key: API_KEY, affiliate_id: id });
    expect(clicks.body.response.clicks.length).toBeGreaterThanOrEqual(2);
    expect(clicks.body.response.clicks.every((c: { campaign_id: number }) => c.campaign_id === campaign_id)).toBe(true);
    console.log(`a change made on A was live on B after ${onB} ms; one made on B, on A after ${onA} ms`);
  });
});
