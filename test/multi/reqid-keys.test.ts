// Request-id key rotation on two instances of one PostgreSQL database (PROTOCOL.md 12): a new key
// made current through A is the one B mints with within 2 seconds, without a restart; ids of the
// retired key verify on both until it is removed, then on neither.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { reqids, webCryptoMac } from '../../server/reqid.js';
import { AFF, API_KEY, CREATIVE, HOST, SECRET, testNetworkFile } from '../support/network.js';
import { callApi, startInstances, within, writeNetworkFile, type Instances } from '../support/instances.js';
import { describePostgres } from '../support/pg.js';

const NEW_KEY = 'rotated-request-id-key-of-32-characters-or-more';
const byNew = reqids(webCryptoMac(NEW_KEY));
const byBase = reqids(webCryptoMac(SECRET));

describePostgres('reqid key rotation on two instances of one PostgreSQL database', (schemas) => {
  let instances: Instances | undefined;
  let count = 0;
  const config = writeNetworkFile(testNetworkFile());

  beforeEach(async () => {
    const db = await schemas.create(`reqid_keys_${++count}`);
    instances = await startInstances(2, { config, db });
  });
  afterEach(async () => {
    await instances?.kill();
    instances = undefined;
  });


  async function click(base: string): Promise<string> {
    const res = await fetch(`${base}/?a=${AFF.partner}&c=${CREATIVE.lead}`, { redirect: 'manual', headers: { host: HOST } });
    return new URL(res.headers.get('location')!).searchParams.get('reqid')!;
  }
  const verifies = async (base: string, reqid: string) => (await callApi(base, 'click.json', { api_key: API_KEY, click_id: reqid })).status === 200;
  async function setKeys(base: string, list: unknown) {
    const res = await fetch(`${base}/api/2/network.json`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ api_key: API_KEY, reqid_keys: list }),
    });
    expect(res.status).toBe(200);
  }

  it('takes a key rotated on A on B within 2 s, and keeps the retired key verifying until it is removed', async () => {
    const [a, b] = instances!.urls as [string, string];
    const old = await click(b);
    expect(await byBase.verify(old)).not.toBeNull();

    await setKeys(a, [{ key_id: 'k2', secret: NEW_KEY, status: 'current' }, { key_id: 'base', status: 'retired' }]);
    expect(await byNew.verify(await click(a))).not.toBeNull();
    const onB = await within(2000, async () => (await byNew.verify(await click(b))) !== null);
    expect(await verifies(a, old)).toBe(true);
    expect(await verifies(b, old)).toBe(true);

    await setKeys(b, [{ key_id: 'k2', secret: NEW_KEY, status: 'current' }]);
    expect(await verifies(b, old)).toBe(false);
    const removedOnA = await within(2000, async () => !(await verifies(a, old)));
    expect(await verifies(a, await click(b))).toBe(true);
    console.log(`a key rotated on A minted on B after ${onB} ms; the retired key removed on B stopped verifying on A after ${removedOnA} ms`);
  });
});
