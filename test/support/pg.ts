// PostgreSQL for tests: finds the server, and gives each test its own schema (selected with
// ?search_path=), dropped afterwards, so test files and runs sharing the server never see each
// other's rows.
//
// The server: CRUMB_TEST_DATABASE_URL, else 127.0.0.1:5432, database `test`, as user postgres or as
// the user running the tests (trust auth, as in CI). With CI=true a suite that needs it fails when
// it cannot connect; elsewhere it is skipped with the reason printed.
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { describe, it } from 'vitest';
import { redact } from '../../server/store/url.js';

const CANDIDATES = process.env.CRUMB_TEST_DATABASE_URL
  ? [process.env.CRUMB_TEST_DATABASE_URL]
  : ['postgres://postgres@127.0.0.1:5432/test', 'postgres://127.0.0.1:5432/test'];

async function reachable(): Promise<{ url: string } | { reason: string }> {
  const reasons: string[] = [];
  for (const url of CANDIDATES) {
    const sql = postgres(url, { max: 1, connect_timeout: 5, onnotice: () => {} });
    try {
      await sql`SELECT 1`;
      return { url };
    } catch (error) {
      reasons.push(`${redact(url)}: ${(error as Error).message}`);
    } finally {
      await sql.end({ timeout: 1 });
    }
  }
  return { reason: reasons.join('; ') };
}

export interface Schemas {
  /** A new empty schema; answers the database URL that selects it. */
  create(name: string): Promise<string>;
  /** Drops every schema this suite created and closes its admin connection (call once, afterAll). */
  dropAll(): Promise<void>;
}

const server = await reachable();
const isCI = process.env.CI === 'true' || process.env.CI === '1';

/** describe() when PostgreSQL is reachable; a failing test in CI and a printed skip elsewhere when
 * it is not. `body` gets the schema factory of this suite. */
export function describePostgres(title: string, body: (schemas: Schemas) => void) {
  if ('reason' in server) {
    if (isCI) {
      describe(title, () => {
        it('connects to PostgreSQL (CI=true: the suite must run, not skip)', () => {
          throw new Error(`Cannot connect to PostgreSQL: ${server.reason}`);
        });
      });
    } else {
      console.warn(`Skipping "${title}", no PostgreSQL server to run it on: ${server.reason}`);
      describe.skip(title, () => {
        it('needs a PostgreSQL server', () => {});
      });
    }
    return;
  }
  const base = server.url;
  const prefix = `crumb_test_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = postgres(base, { max: 2, onnotice: () => {} });
  const created = new Map<string, Promise<unknown>>();
  describe(title, () =>
    body({
      async create(name) {
        const schema = `${prefix}_${name}`;
        if (!created.has(schema)) created.set(schema, admin`CREATE SCHEMA ${admin(schema)}`.execute());
        await created.get(schema);
        const url = new URL(base);
        url.searchParams.set('search_path', schema);
        url.searchParams.set('max', '4');
        return url.toString();
      },
      async dropAll() {
        for (const schema of created.keys()) await admin`DROP SCHEMA IF EXISTS ${admin(schema)} CASCADE`;
        created.clear();
        await admin.end({ timeout: 5 });
      },
    }),
  );
}
