import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { claimReadyTasks } from '../graph/claim.repository.js';
import { connectGraph, type Graph } from '../graph/graph.js';
import { writeMessage } from '../graph/agent-work.repository.js';
import { changeStatuses } from '../graph/promotion.repository.js';
import { startRun } from '../graph/run.repository.js';
import { TaskStatus } from '../src/domain/task.js';
import { deleteTenant } from './utils/server.js';

/**
 * Issue 15: claims and promotions of one task by several workers at once deadlocked (Neo4j
 * detects it and the driver retries after a backoff): a transaction that took a node's lock
 * with `SET n.version = n.version + 1` and then touched the node again (`n.attempts =
 * n.attempts + 1`, a new relationship) deadlocked with the writers waiting for it. Locks are
 * now taken by lockAndBump (graph/locks.ts). Deadlocks are counted as the retries of a Graph
 * of the suite's own, which runs nothing else.
 */
const WORKERS = 4;
const ROUNDS = 150;

describe('workers racing for one task', () => {
  let graph: Graph;
  const tenantId = `deadlocks-${randomUUID()}`;

  const agentId = randomUUID();

  beforeAll(async () => {
    graph = await connectGraph(inject('neo4j'), { log: () => {}, attempts: 3 });
    await graph.write((tx) =>
      tx.run({
        cypher: `CREATE (:Agent {id: $agentId, tenantId: $tenantId, name: 'Racer',
                   role: 'MASTER_OPERATOR', status: 'IDLE', active: true,
                   createdAt: datetime(), updatedAt: datetime()})`,
        params: { agentId, tenantId },
      }),
    );
  });
  afterAll(async () => {
    await deleteTenant(graph, tenantId);
    await graph?.close();
  });

  /** ROUNDS tasks of the suite's tenant in `status`, orchestrated leaves; their ids. */
  const tasks = async (status: string) =>
    (
      await graph.write((tx) =>
        tx.run<{ id: string }>({
          cypher: `
            UNWIND range(1, $rounds) AS i
            CREATE (t:Task {id: randomUUID(), tenantId: $tenantId, title: 'race ' + i,
                            status: $status, orchestrated: true, priority: 'MEDIUM',
                            attempts: 0, maxAttempts: 3, version: 1,
                            createdAt: datetime(), updatedAt: datetime()})
            RETURN t.id AS id`,
          params: { tenantId, status, rounds: ROUNDS },
        }),
      )
    ).map((r) => r.id);

  /** Runs `work` by every worker at once, a round per task; what each round's workers got. */
  const race = async <T>(
    ids: string[],
    work: (id: string, worker: number) => Promise<T>,
    before: (id: string) => Promise<unknown> = async () => {},
  ) => {
    let deadlocks = 0;
    const rounds: T[][] = [];
    for (const id of ids) {
      await before(id);
      const retries = graph.retryCount;
      rounds.push(await Promise.all(Array.from({ length: WORKERS }, (_, w) => work(id, w))));
      deadlocks += graph.retryCount - retries;
    }
    return { rounds, deadlocks };
  };

  it('claims of the only READY task, each with its run as the engine records it: one worker gets it, and none deadlocks', async () => {
    const ids = await tasks('PENDING');
    const { rounds, deadlocks } = await race(
      ids,
      (_, w) =>
        graph.write(async (tx) => {
          const workerId = `worker-${w}`;
          const claimed = await claimReadyTasks(tx, workerId, 8, 30_000, [tenantId]);
          for (const c of claimed) {
            const run = { id: randomUUID(), taskId: c.task.id, agentId, workerId };
            await startRun(tx, { ...run, score: 1, reason: 'the only one' });
          }
          return claimed.map((c) => c.task.id);
        }),
      (id) =>
        graph.write((tx) =>
          changeStatuses(tx, [{ id, from: TaskStatus.PENDING, to: TaskStatus.READY }]),
        ),
    );
    // Each task went to one worker, once, with its attempt counted once.
    for (const [i, got] of rounds.entries()) expect(got.flat()).toEqual([ids[i]]);
    const [row] = await graph.read((tx) =>
      tx.run<{ once: number }>({
        cypher: `
          MATCH (t:Task {tenantId: $tenantId}) WHERE t.id IN $ids
            AND t.status = 'IN_PROGRESS' AND t.attempts = 1 AND COUNT { (t)<-[:OF]-(:Run) } = 1
          RETURN count(t) AS once`,
        params: { tenantId, ids },
      }),
    );
    expect(Number(row!.once)).toBe(ROUNDS);
    expect(deadlocks).toBe(0);
  });

  it('promotions of one task by every worker: one changes it, and none deadlocks', async () => {
    const ids = await tasks('PENDING');
    const { rounds, deadlocks } = await race(ids, (id) =>
      graph.write((tx) =>
        changeStatuses(tx, [
          { id, from: TaskStatus.PENDING, to: TaskStatus.READY, error: null, result: 'kept' },
        ]),
      ),
    );
    for (const changed of rounds) expect(changed.flat().length).toBe(1);
    expect(deadlocks).toBe(0);
  });

  it('messages sent to one conversation by every worker at once: gap-free places, and none deadlocks', async () => {
    const conversationId = randomUUID();
    const ids = Array.from({ length: ROUNDS / 3 }, () => randomUUID());
    const { deadlocks } = await race(ids, (round, w) =>
      graph.write((tx) =>
        writeMessage(tx, {
          id: `${round}-${w}`,
          tenantId,
          conversationId,
          conversationTitle: 'the race',
          kind: 'REPORT',
          content: `worker ${w}`,
          fromAgentId: agentId,
          toAgentIds: [agentId],
          broadcast: false,
          aboutTaskId: null,
        }),
      ),
    );
    const seqs = await graph.read((tx) =>
      tx.run<{ seq: number }>({
        cypher: `MATCH (:Conversation {id: $conversationId})<-[:IN]-(m:Message)
                 RETURN m.seq AS seq ORDER BY seq`,
        params: { conversationId },
      }),
    );
    expect(seqs.map((r) => Number(r.seq))).toEqual(
      Array.from({ length: ids.length * WORKERS }, (_, i) => i + 1),
    );
    expect(deadlocks).toBe(0);
  });
});
