import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ROOT } from './utils/process.js';

/** `npm run memory:reembed -- --tenant <id>` against the real Neo4j (the suite's). */
describe('npm run memory:reembed against Neo4j', () => {
  it('names a tenant that does not exist instead of reporting nothing to embed', () => {
    const id = `no-such-tenant-${randomUUID()}`;
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/reembed.ts', '--tenant', id],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, EMBEDDINGS_PROVIDER: 'offline', LOG_LEVEL: 'silent' },
      },
    );
    expect(`${run.stdout}${run.stderr}`).toContain(`no tenant "${id}"`);
    expect(run.status).toBe(2);
  });
});
