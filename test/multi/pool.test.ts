// The connection pool each instance keeps (docs/postgres.md: `max` in the database URL). Instances ×
// max must stay below the server's max_connections, and a pool of one connection serialises every
// write of an instance, so the URL's `max` must be the pool's size: neither 1 nor the default.
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, expect, it } from 'vitest';
import { openStore } from '../../server/store/index.js';
import { describePostgres } from '../support/pg.js';

describePostgres('the connection pool of an instance on PostgreSQL', (schemas) => {
  afterAll(() => schemas.dropAll());

  it('opens as many connections as ?max= in the database URL asks for, under load', async () => {
    const url = new URL(await schemas.create('pool'));
    const name = `crumb_pool_${randomBytes(4).toString('hex')}`;
    url.searchParams.set('max', '3');
    url.searchParams.set('application_name', name);
    const store = await openStore(url.toString());
    const admin = postgres(url.toString().replace(/\?.*$/, ''), { max: 1, onnotice: () => {} });
    try {
      // More reads at once than the pool holds: each connection gets opened.
      await Promise.all(Array.from({ length: 30 }, () => store.listPostbacks({})));
      const [row] = await admin`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = ${name}`;
      expect(row!.n).toBe(3);
    } finally {
      await store.close();
      await admin.end({ timeout: 5 });
    }
  });

  it('refuses a max that is not a number of connections, naming it', async () => {
    const url = new URL(await schemas.create('pool_bad'));
    url.searchParams.set('max', 'ten');
    await expect(openStore(url.toString())).rejects.toThrow(/max must be a whole number of connections \(1 or more\), not "ten"/);
  });
});
