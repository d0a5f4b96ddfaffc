import { defineConfig } from 'vitest/config';

export default defineConfig({
  // graphql 16 ships CJS and ESM copies. Node loads the CJS one for type-graphql and Apollo,
  // so our code must load it too, or instanceof checks fail across the two copies.
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['reflect-metadata'],
    // Limits catch hangs, not slowness: with two copies of the suite on a 2-core machine
    // (issue 9's loaded rounds), a test's fixed work takes several times as long as alone.
    testTimeout: 90_000,
    hookTimeout: 300_000,
    // expect.poll's own default is 1 s: a console test whose agent took longer to be created on
    // a loaded round failed on it (round 9 of 2026-12-01). A wait for an answer gets a margin.
    expect: { poll: { timeout: 20_000 } },
    // Suites share one Neo4j; two workers keep the 2-core machines responsive.
    maxWorkers: 2,
  },
});
