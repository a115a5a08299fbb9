import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { D1_DATABASES } from './workerd/databases.js';

const root = fileURLToPath(new URL('..', import.meta.url));

// Miniflare (under the workerd project and the worker tests) must not fetch Cloudflare's request
// metadata (cf.json) at start, and wrangler sends no metrics.
process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false';
process.env.WRANGLER_SEND_METRICS = 'false';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          root,
          include: ['test/**/*.test.ts'],
          exclude: ['test/workerd/**', '**/node_modules/**'],
          // Builds dist/ once: the built d.js, the Node entry and the worker bundle are tested as shipped.
          globalSetup: ['test/support/build.ts'],
          testTimeout: 30_000,
          hookTimeout: 120_000,
        },
      },
      {
        // Tests that run inside workerd (Cloudflare's runtime), through @cloudflare/vitest-pool-workers:
        // the store conformance suite on D1.
        plugins: [
          cloudflareTest(async () => ({
            miniflare: {
              compatibilityDate: '2026-04-20',
              // One D1 database per database the suite asks for (D1 bindings are fixed at start).
              d1Databases: D1_DATABASES,
              bindings: { TEST_MIGRATIONS: await readD1Migrations(fileURLToPath(new URL('../server/worker/migrations', import.meta.url))) },
            },
          })),
        ],
        test: {
          name: 'workerd',
          root,
          include: ['test/workerd/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
