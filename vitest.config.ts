import { defineConfig } from 'vitest/config';

export default defineConfig({
  // graphql 16 ships CJS and ESM copies. Node loads the CJS one for type-graphql and Apollo,
  // so our code must load it too, or instanceof checks fail across the two copies.
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['reflect-metadata'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Suites share one Neo4j; two workers keep the 2-core machines responsive.
    maxWorkers: 2,
  },
});
