// List queries on PostgreSQL cannot stall the server (issue 14 point 7): each runs under a statement
// timeout and is stopped (ReadTimeout) when it runs out, and however many run at once they hold at
// most half of the pool, so clicks always find a connection. A table lock held by another session
// makes the lists wait: no data set large enough to be slow is needed.
import postgres from 'postgres';
import { afterAll, afterEach, expect, it } from 'vitest';
import { reqids, webCryptoMac } from '../../server/reqid.js';
import { openPostgresStore } from '../../server/store/postgres.js';
import { ReadTimeout, type Store } from '../../server/store/types.js';
import { makeApp } from '../support/app.js';
import { API_KEY } from '../support/network.js';
import { describePostgres } from '../support/pg.js';

const ids = reqids(webCryptoMac('postgres-reads-secret'));

describePostgres('list queries on PostgreSQL', (schemas) => {
  let store: Store | undefined;
  let admin: postgres.Sql | undefined;
  let count = 0;
  afterEach(async () => {
    await admin?.end({ timeout: 5 });
    await store?.close();
    admin = store = undefined;
  });
  afterAll(() => schemas.dropAll());

  /** A store with `max` connections and a read timeout, and an admin session that holds an
   * ACCESS EXCLUSIVE lock on `table` until `release` is called. */
  async function locked(table: string, options: { max: number; readTimeoutMs: number }) {
    const url = await schemas.create(`reads_${++count}`);
    store = await openPostgresStore({ url, max: options.max, readTimeoutMs: options.readTimeoutMs });
    admin = postgres(url, { max: 1, onnotice: () => {} });
    const lock = await admin.reserve();
    await lock`BEGIN`;
    await lock.unsafe(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
    return async () => {
      await lock`ROLLBACK`;
      lock.release();
    };
  }

  it('stops a list query that runs past the statement timeout with ReadTimeout, naming the limit', async () => {
    const release = await locked('clicks', { max: 4, readTimeoutMs: 300 });
    try {
      const error = await store!.listClicks({ offset: 0, limit: 10 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ReadTimeout);
      expect((error as ReadTimeout).message).toBe('the query ran longer than 300 ms and was stopped');
    } finally {
      await release();
    }
    // The connection it ran on was rolled back and works again.
    expect((await store!.listClicks({ offset: 0, limit: 10 })).total).toBe(0);
  });

  it('answers click.json with a 504 Failure when its query runs out of time', async () => {
    const release = await locked('clicks', { max: 4, readTimeoutMs: 300 });
    const t = makeApp({ store: store! });
    try {
      const res = await t.get(`/api/2/click.json?api_key=${API_KEY}`);
      expect(res.status).toBe(504);
      expect(((await res.json()) as { message: string }).message).toMatch(/^The query took longer than 0.3 s and was stopped: ask for fewer days/);
    } finally {
      await release();
    }
    expect((await t.get(`/api/2/click.json?api_key=${API_KEY}`)).status).toBe(200);
  });

  it('leaves connections to the click path however many slow lists are waiting', async () => {
    const release = await locked('conversions', { max: 4, readTimeoutMs: 20_000 });
    let settled = 0;
    const lists = Array.from({ length: 10 }, () =>
      store!.listConversions({ include_tests: true, sort: 'conversion_id', descending: false, offset: 0, limit: 10 }).finally(() => settled++),
    );
    try {
      const at = Date.now();
      const clicks = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const reqid = await ids.mint(at + i);
          await store!.recordClick({
            reqid, click_time: at + i, affiliate_id: 1, offer_id: 1, campaign_id: null, creative_id: null, s1: null, s2: null, s3: null,
            s4: null, s5: null, ip: null, country: null, user_agent: null, referrer: null, tracking_domain_id: null, visitor_id: null, disposition: 'redirect',
          });
          return reqid;
        }),
      );
      // Every click committed while all ten lists still wait on the lock.
      expect(settled).toBe(0);
      expect((await store!.getClick(clicks[19]!))?.reqid).toBe(clicks[19]);
    } finally {
      await release();
    }
    expect((await Promise.all(lists)).every((page) => page.total === 0)).toBe(true);
  });
});
