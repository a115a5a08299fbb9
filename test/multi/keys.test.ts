// API keys on two instances of one PostgreSQL database (PROTOCOL.md 10): a key created on one
// instance works on the other within 2 seconds, and one revoked there is refused on the first
// within 2 seconds. Two server processes, as behind a load balancer.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { AFF, API_KEY, testNetworkFile } from '../support/network.js';
import { callApi, startInstances, within, writeNetworkFile, type Instances } from '../support/instances.js';
import { describePostgres } from '../support/pg.js';

describePostgres('API keys on two instances of one PostgreSQL database', (schemas) => {
  let instances: Instances | undefined;
  let count = 0;
  const config = writeNetworkFile(testNetworkFile());

  beforeEach(async () => {
    const db = await schemas.create(`keys_${++count}`);
    instances = await startInstances(2, { config, db });
  });
  afterEach(async () => {
    await instances?.kill();
    instances = undefined;
  });


  const status = async (base: string, key: string) => (await callApi(base, 'click.json', { api_key: key })).status;

  it('takes a key created on A on B within 2 s, and refuses it on A within 2 s of its revocation on B', async () => {
    const [a, b] = instances!.urls as [string, string];
    const made = await callApi(a, 'api_keys.json', { api_key: API_KEY, role: 'affiliate', affiliate_id: AFF.partner, label: 'two instances' }, 'POST');
    expect(made.status).toBe(200);
    const { key, key_id } = made.body.api_key as { key: string; key_id: number };
    expect(await status(a, key)).toBe(200);
    const onB = await within(2000, async () => (await status(b, key)) === 200);
    // Scoped on B as on A.
    const other = await callApi(b, 'click.json', { api_key: key, affiliate_id: AFF.second });
    expect(other.status).toBe(403);
    expect(other.body.message).toBe(`affiliate_id ${AFF.second} is outside this key's scope: this key is scoped to affiliate ${AFF.partner}`);

    const revoked = await fetch(`${b}/api/2/api_keys.json?api_key=${API_KEY}&key_id=${key_id}`, { method: 'DELETE' });
    expect(revoked.status).toBe(200);
    expect(await status(b, key)).toBe(401);
    const onA = await within(2000, async () => (await status(a, key)) === 401);
    console.log(`a key created on A worked on B after ${onB} ms; revoked on B, it was refused on A after ${onA} ms`);
  });
});
