import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from './utils/process.js';

/**
 * `npm run memory:reembed` reads its arguments before it touches the database: a Neo4j that
 * cannot be reached proves it (the old CLI took `--tenant` with no id as "every tenant").
 */
function reembed(...args: string[]) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/reembed.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
    env: {
      ...process.env,
      NEO4J_URI: 'bolt://127.0.0.1:1',
      NEO4J_PASSWORD: 'unused',
      EMBEDDINGS_PROVIDER: 'offline',
      LOG_LEVEL: 'silent',
    },
  });
  return { status: run.status, out: `${run.stdout}${run.stderr}` };
}

describe('npm run memory:reembed', () => {
  it('refuses --tenant without an id instead of re-embedding every tenant', () => {
    for (const args of [['--tenant'], ['--tenant', '--bogus'], ['--tenant', '']]) {
      const { status, out } = reembed(...args);
      expect(status).toBe(2);
      expect(out).toContain('--tenant needs a tenant id');
    }
  });

  it('names an argument it does not know', () => {
    const { status, out } = reembed('--tenants', 'acme');
    expect(status).toBe(2);
    expect(out).toContain('unknown argument "--tenants"');
  });
});
