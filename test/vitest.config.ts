import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['test/**/*.test.ts'],
    // Builds dist/ once: the built d.js and the Node entry are tested as shipped.
    globalSetup: ['test/support/build.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
