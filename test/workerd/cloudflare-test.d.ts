// The part of @cloudflare/vitest-pool-workers' `cloudflare:test` module these tests use.
declare module 'cloudflare:test' {
  export interface D1Migration {
    name: string;
    queries: string[];
  }
  export const env: Record<string, unknown> & { TEST_MIGRATIONS: D1Migration[] };
  export function applyD1Migrations(db: object, migrations: D1Migration[], migrationsTableName?: string): Promise<void>;
}
