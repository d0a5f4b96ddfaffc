import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mergeEpisodes } from '../graph/memory/episode.repository.js';
import { EpisodeKind, MemoryScope } from '../src/domain/memory.js';
import { ROOT } from './utils/process.js';
import { startTestServer } from './utils/server.js';

const reembed = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/reembed.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, EMBEDDINGS_PROVIDER: 'offline', LOG_LEVEL: 'silent' },
  });

/** `npm run memory:reembed -- --tenant <id>` against the real Neo4j (the suite's). */
describe('npm run memory:reembed against Neo4j', () => {
  it('names a tenant that does not exist instead of reporting nothing to embed', () => {
    const id = `no-such-tenant-${randomUUID()}`;
    const run = reembed('--tenant', id);
    expect(`${run.stdout}${run.stderr}`).toContain(`no tenant "${id}"`);
    expect(run.status).toBe(2);
  });

  it('points at retryEpisodes for episodes whose ingestion FAILED: it embeds, it does not extract', async () => {
    const server = await startTestServer();
    try {
      await server.graph.write(async (tx) => {
        const [e] = await mergeEpisodes(tx, server.tenantId, [
          {
            kind: EpisodeKind.NOTE,
            sourceKey: `note:${randomUUID()}`,
            source: 'a note from an outage',
            content: 'Velmora Systems revenue is 4M.',
            occurredAt: null,
            scope: MemoryScope.TENANT,
            scopeId: null,
          },
        ]);
        await tx.run({
          cypher: "MATCH (e:Episode {id: $id}) SET e.status = 'FAILED', e.error = 'endpoint down'",
          params: { id: e!.id },
        });
      });
      const run = reembed('--tenant', server.tenantId);
      expect(run.stderr).toBe('');
      expect(run.stdout).toContain('Done: 0 entities, 0 facts, 1 episodes embedded');
      expect(run.stdout).toContain(
        '1 episode FAILED ingestion, so nothing was learnt from it: take it back with the ' +
          'retryEpisodes mutation (README, Memory ingestion)',
      );
      expect(run.status).toBe(0);
    } finally {
      await server.stop();
    }
  });
});
