// The PostgreSQL side of the benchmark: a fresh schema per run of a path (dropped afterwards), the
// database URL the Crumb instances are given, the check that every answered id is in the database,
// and the database processes that serve Crumb's connections (for their CPU time).
import postgres from 'postgres';
import type { PathName } from './paths.js';

export interface PgInfo {
  version: string;
  synchronousCommit: string;
  maxConnections: number;
}

/** Where one run of a path writes (a SQLite file, or a PostgreSQL schema), and its checks. */
export interface BenchStore {
  /** What every instance gets as --db. On PostgreSQL: the schema in search_path, a name of its own
   * in pg_stat_activity, and the pool size when one was asked for. */
  url: string;
  /** How many of the answered ids are missing from the store; and how many rows the path wrote. */
  verify(path: PathName, ids: string[], answered: number): Promise<{ stored: number; missing: number }>;
  /** The process ids of the database backends serving this store's connections now (their CPU time
   * is read from /proc, so it counts only when the database runs on this machine); none on SQLite. */
  backendPids(): Promise<number[]>;
  /** Drops the schema (PostgreSQL). */
  drop(): Promise<void>;
}

type Sql = postgres.Sql<Record<string, unknown>>;

export async function connectAdmin(base: string): Promise<{ sql: Sql; info: PgInfo }> {
  const sql = postgres(base, { max: 2, onnotice: () => {}, connect_timeout: 10 });
  try {
    const [row] = await sql`SELECT current_setting('server_version') AS version, current_setting('synchronous_commit') AS sync,
      current_setting('max_connections')::int AS max`;
    return { sql, info: { version: String(row!.version), synchronousCommit: String(row!.sync), maxConnections: Number(row!.max) } };
  } catch (error) {
    await sql.end({ timeout: 1 });
    throw new Error(`Cannot connect to PostgreSQL at ${base.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@')} for --store postgres: ${(error as Error).message}`);
  }
}

/** Creates the schema `name` (replacing one left by an interrupted run). */
export async function postgresStore(sql: Sql, base: string, name: string, poolSize: number | undefined): Promise<BenchStore> {
  await sql`DROP SCHEMA IF EXISTS ${sql(name)} CASCADE`;
  await sql`CREATE SCHEMA ${sql(name)}`;
  const url = new URL(base);
  url.searchParams.set('search_path', name);
  url.searchParams.set('application_name', name);
  if (poolSize !== undefined) url.searchParams.set('max', String(poolSize));

  return {
    url: url.toString(),

    async verify(path, ids, answered) {
      const count = async (query: postgres.PendingQuery<postgres.Row[]>) => Number((await query)[0]!.n);
      // Each query names the schema, so the admin connection's own search_path does not matter.
      const s = sql(name);
      const stored = await count(
        path === 'click'
          ? sql`SELECT count(*) AS n FROM ${s}.clicks WHERE s1 = 'bench'`
          : path === 'lead'
            ? sql`SELECT count(*) AS n FROM ${s}.leads`
            : sql`SELECT count(*) AS n FROM ${s}.conversions WHERE source = ${path === 'conversion' ? 'api' : 'pixel'}`,
      );
      // The pixel answers a GIF without an id: only the count can be compared.
      if (path === 'pixel') return { stored, missing: Math.max(0, answered - stored) };
      // Each id is answered once (a reqid, lead or conversion id): the ones not found are missing.
      const unique = [...new Set(ids)];
      let found = 0;
      for (let i = 0; i < unique.length; i += 10_000) {
        const chunk = unique.slice(i, i + 10_000);
        if (path === 'click') {
          found += await count(sql`SELECT count(*) AS n FROM ${s}.clicks WHERE reqid = ANY(${chunk}::text[])`);
        } else if (path === 'lead') {
          found += await count(sql`SELECT count(*) AS n FROM ${s}.leads WHERE lead_id = ANY(${chunk.map((id) => parseInt(id, 16))}::bigint[])`);
        } else {
          found += await count(sql`SELECT count(*) AS n FROM ${s}.conversions WHERE conversion_id = ANY(${chunk.map(Number)}::bigint[])`);
        }
      }
      return { stored, missing: unique.length - found };
    },

    async backendPids() {
      const rows = await sql`SELECT pid FROM pg_stat_activity WHERE application_name = ${name}`;
      return rows.map((r) => Number(r.pid));
    },

    async drop() {
      await sql`DROP SCHEMA IF EXISTS ${sql(name)} CASCADE`;
    },
  };
}
