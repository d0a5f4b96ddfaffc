import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deleteThreadCheckpoints,
  listCheckpoints,
  putCheckpoint,
} from '../graph/checkpoint.repository.js';
import { checkpointRecord, removeTenantNodes, taskWithRun } from './utils/checkpoint-fixtures.js';
import { profiler } from './utils/profile.js';
import { startTestServer, type TestServer } from './utils/server.js';

/**
 * Issue 15: a run's first read of its thread (getTuple: the newest checkpoint of a thread and
 * namespace) and a put's pruning matched every checkpoint of every tenant when Neo4j planned
 * them on a database of few checkpoints (a label scan looked cheapest), and kept that plan
 * while checkpoints piled up: under bench:agents the read averaged 47–92 ms. Deleting a thread
 * (LangGraph's deleteThread) scanned them all on any database. Work is measured
 * as PROFILE db hits, never as time, planned afresh while the database holds few checkpoints.
 */
describe('checkpoint reads', () => {
  let server: TestServer;
  const other = `other-${randomUUID()}`;
  const prof = profiler();
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await removeTenantNodes(server.graph, other);
    await prof.close();
    await server.stop();
  });

  /**
   * A thread's newest checkpoint, a put on it, and the deletion of another thread of one
   * checkpoint, as the saver sends them: their db hits.
   */
  const work = async (tenantId: string, runId: string, threadId: string) => {
    const read = await prof.measure((tx) =>
      listCheckpoints(tx, tenantId, { threadId, ns: '', skip: 0, limit: 1 }),
    );
    expect(read.result).toHaveLength(1);
    const put = await prof.measure((tx) =>
      putCheckpoint(tx, tenantId, runId, checkpointRecord(threadId, `${Date.now()}-x`), 20),
    );
    const gone = `${threadId}-gone-${randomUUID()}`;
    await server.graph.write((tx) =>
      putCheckpoint(tx, tenantId, runId, checkpointRecord(gone, '0001'), 20),
    );
    const remove = await prof.measure((tx) => deleteThreadCheckpoints(tx, tenantId, gone));
    expect(remove.result).toBe(1);
    return { read, put, remove };
  };

  it('reads, prunes and deletes one thread, however many checkpoints other tenants hold', async () => {
    const mine = await taskWithRun(server.graph, server.tenantId);
    await server.graph.write((tx) =>
      putCheckpoint(tx, server.tenantId, mine.runId, checkpointRecord(mine.taskId, '0001'), 20),
    );
    await server.graph.write((tx) => tx.run({ cypher: 'CALL db.clearQueryCaches()' }));
    const before = await work(server.tenantId, mine.runId, mine.taskId);
    // 2,000 checkpoints of another tenant, on 100 threads.
    const theirs = await taskWithRun(server.graph, other);
    await server.graph.write((tx) =>
      tx.run({
        cypher: `MATCH (r:Run {id: $runId})
                 UNWIND range(1, 2000) AS i
                 CREATE (r)-[:CHECKPOINTED]->(:Checkpoint {id: randomUUID(), tenantId: $other,
                   threadId: 'thread-' + (i % 100), ns: '', checkpointId: toString(i),
                   createdAt: datetime()})`,
        params: { runId: theirs.runId, other },
      }),
    );
    const after = await work(server.tenantId, mine.runId, mine.taskId);
    for (const what of ['read', 'put', 'remove'] as const) {
      expect(
        after[what].dbHits,
        `${what} before:\n${before[what].plans}\nafter:\n${after[what].plans}`,
      ).toBeLessThan(before[what].dbHits + 100);
      expect(after[what].plans).not.toMatch(/NodeByLabelScan/);
      // A whole scan of the key's index also costs what every tenant holds.
      for (const plans of [before[what].plans, after[what].plans]) {
        expect(plans, plans).not.toMatch(/NodeIndexScan/);
      }
    }
  });
});
